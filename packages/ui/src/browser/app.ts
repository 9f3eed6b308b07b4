import { ApiFailure, call, credential, download, query, signIn, signOut } from './api.js';
import { field, h, replace, svg, time } from './dom.js';
import {
  formatNumber,
  type GraphRelation,
  layoutGraph,
  type MemoryItem,
  type MemoryOrder,
  parseFilterText,
  parseRoute,
  routeHash,
  type Scope,
  scopeFromParams,
  sortMemories,
  visibleRange,
} from './model.js';

interface ScopeCount {
  id: string;
  memories: number;
  lastUpdatedAt: string;
}

interface Usage {
  project: string;
  since: string;
  [count: string]: string | number;
}

interface HistoryEvent {
  id: string;
  event: string;
  previousText: string | null;
  newText: string | null;
  actor?: string;
  detail?: string;
  createdAt: string;
}

interface ScoreContribution {
  signal: string;
  raw: number;
  normalized: number;
  weight: number;
  contribution: number;
}

interface SearchHit extends MemoryItem {
  score: number;
  explanation?: { rankedBy: string; threshold: number; contributions: ScoreContribution[] };
}

const rowHeight = 64;
const main = document.getElementById('main') as HTMLElement;
const status = document.getElementById('status') as HTMLElement;
const projectLabel = document.getElementById('project') as HTMLElement;
const signOutButton = document.getElementById('sign-out') as HTMLButtonElement;
const navigation = document.getElementById('navigation') as HTMLElement;
let project: string | undefined;
/** Bumped on every render, so that late answers of a left view are dropped. */
let generation = 0;

function announce(text: string): void {
  status.textContent = text;
}

function scopeParams(scope: Scope): Record<string, string | undefined> {
  return { userId: scope.userId, agentId: scope.agentId, runId: scope.runId };
}

function describeScope(scope: Scope): string {
  const parts = [
    scope.userId ? `user ${scope.userId}` : '',
    scope.agentId ? `agent ${scope.agentId}` : '',
    scope.runId ? `run ${scope.runId}` : '',
  ].filter(Boolean);
  return parts.join(', ') || 'no scope';
}

function heading(text: string): HTMLHeadingElement {
  return h('h2', { id: 'view-title', tabindex: -1 }, text);
}

function failure(error: unknown): HTMLElement {
  const message = error instanceof Error ? error.message : String(error);
  return h('p', { class: 'error', role: 'alert' }, message);
}

function show(title: string, ...content: Array<Node | null>): void {
  replace(main, heading(title), ...content);
  document.title = `${title} · Engram`;
}

function focusTitle(): void {
  document.getElementById('view-title')?.focus({ preventScroll: false });
}

function input(
  id: string,
  attributes: Record<string, string | number | boolean | undefined> = {},
): HTMLInputElement {
  return h('input', { id, name: id, type: 'text', autocomplete: 'off', ...attributes });
}

function scopeLinks(scope: Scope): HTMLElement {
  const params = scopeParams(scope);
  return h(
    'p',
    { class: 'scope-links' },
    h('a', { href: routeHash('memories', params) }, 'Memories'),
    h('a', { href: routeHash('search', params) }, 'Search'),
    h('a', { href: routeHash('graph', params) }, 'Graph'),
  );
}

function askForScope(title: string): void {
  show(
    title,
    h(
      'p',
      {},
      'Choose a user, agent or run on the ',
      h('a', { href: '#/scopes' }, 'scopes page'),
      '.',
    ),
  );
}

// ---- sign in ----------------------------------------------------------------------------

function renderSignIn(message?: string): void {
  project = undefined;
  projectLabel.textContent = '';
  signOutButton.hidden = true;
  navigation.hidden = true;
  const secret = input('credential', { type: 'password', spellcheck: false });
  const form = h(
    'form',
    { class: 'card sign-in', 'aria-labelledby': 'view-title' },
    field(
      'API key or OIDC token',
      secret,
      'Kept in this tab only (session storage) and sent as the bearer header; you see the memories of its project only. Leave it empty on a server started with --insecure-local.',
    ),
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
    message ? h('p', { class: 'error', role: 'alert' }, message) : null,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    signIn(secret.value.trim());
    try {
      await identify();
      if (!location.hash || location.hash === '#/sign-in') location.hash = '#/scopes';
      else void render();
    } catch (error) {
      signOut();
      renderSignIn(error instanceof Error ? error.message : String(error));
    }
  });
  show('Sign in', form);
  secret.focus();
}

async function identify(): Promise<void> {
  const usage = await call<Usage>('/v1/usage');
  project = usage.project;
  projectLabel.textContent = `Project ${project}`;
  signOutButton.hidden = false;
  navigation.hidden = false;
}

// ---- scopes -----------------------------------------------------------------------------

function scopeTable(
  title: string,
  key: keyof Scope,
  rows: ScopeCount[],
  tableId: string,
): HTMLElement {
  if (rows.length === 0) {
    return h(
      'section',
      { 'aria-labelledby': tableId },
      h('h3', { id: tableId }, title),
      h('p', {}, 'None.'),
    );
  }
  return h(
    'section',
    { 'aria-labelledby': tableId },
    h('h3', { id: tableId }, title),
    h(
      'table',
      {},
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'Id'),
          h('th', { scope: 'col', class: 'number' }, 'Memories'),
          h('th', { scope: 'col' }, 'Last change'),
          h('th', { scope: 'col' }, 'Open'),
        ),
      ),
      h(
        'tbody',
        {},
        ...rows.map((row) => {
          const scope = { [key]: row.id } as Scope;
          return h(
            'tr',
            {},
            h(
              'th',
              { scope: 'row' },
              h('a', { href: routeHash('memories', scopeParams(scope)) }, row.id),
            ),
            h('td', { class: 'number' }, formatNumber(row.memories)),
            h('td', {}, time(row.lastUpdatedAt)),
            h('td', {}, scopeLinks(scope)),
          );
        }),
      ),
    ),
  );
}

async function renderScopes(current: number): Promise<void> {
  show('Users, agents and runs', h('p', { class: 'muted' }, 'Counting memories…'));
  const scopes = await call<{
    users: ScopeCount[];
    agents: ScopeCount[];
    runs: ScopeCount[];
    memories: number;
    complete: boolean;
  }>('/v1/scopes');
  if (current !== generation) return;
  show(
    'Users, agents and runs',
    h(
      'p',
      {},
      `${formatNumber(scopes.memories)} memories in project ${project ?? ''}`,
      scopes.complete ? '' : ' (counted over the first part of the project only)',
      '.',
    ),
    scopeTable('Users', 'userId', scopes.users, 'users-title'),
    scopeTable('Agents', 'agentId', scopes.agents, 'agents-title'),
    scopeTable('Runs', 'runId', scopes.runs, 'runs-title'),
  );
  announce(
    `${scopes.users.length} users, ${scopes.agents.length} agents, ${scopes.runs.length} runs.`,
  );
}

// ---- memories (virtualised list) --------------------------------------------------------

function memoryRow(item: MemoryItem, index: number, count: number, scope: Scope): HTMLElement {
  const metadata = Object.entries(item.metadata)
    .slice(0, 4)
    .map(([key, value]) => h('span', { class: 'tag' }, `${key}: ${JSON.stringify(value)}`));
  return h(
    'div',
    {
      role: 'listitem',
      class: 'row',
      'aria-setsize': count,
      'aria-posinset': index + 1,
      style: `top:${index * rowHeight}px`,
    },
    h(
      'a',
      {
        href: routeHash('memory', scopeParams(scope), item.id),
        class: 'row-link',
        'data-index': index,
      },
      h('span', { class: 'row-text' }, item.memory),
      h('span', { class: 'row-meta' }, time(item.updatedAt), ...metadata),
    ),
  );
}

async function renderMemories(current: number, params: URLSearchParams): Promise<void> {
  const scope = scopeFromParams(params);
  if (Object.keys(scope).length === 0) {
    askForScope('Memories');
    return;
  }
  const filterText = params.get('filter') ?? '';
  const order = (params.get('order') ?? 'updated-desc') as MemoryOrder;
  const filterInput = input('memory-filter', {
    value: filterText,
    placeholder: 'topic=food or {"score": {"gte": 3}}',
  });
  const orderSelect = h(
    'select',
    { id: 'memory-order', name: 'memory-order' },
    ...(
      [
        ['updated-desc', 'Changed, newest first'],
        ['updated-asc', 'Changed, oldest first'],
        ['created-desc', 'Created, newest first'],
        ['created-asc', 'Created, oldest first'],
      ] as const
    ).map(([value, label]) =>
      h('option', { value, ...(value === order ? { selected: true } : {}) }, label),
    ),
  );
  const toolbar = h(
    'form',
    { class: 'toolbar', 'aria-label': 'Filter and order' },
    field('Metadata filter', filterInput, 'key=value pairs or the API\u2019s JSON filter.'),
    field('Order', orderSelect),
    h('button', { type: 'submit' }, 'Apply'),
  );
  toolbar.addEventListener('submit', (event) => {
    event.preventDefault();
    location.hash = routeHash('memories', {
      ...scopeParams(scope),
      filter: filterInput.value.trim(),
      order: orderSelect.value,
    });
  });
  orderSelect.addEventListener('change', () => toolbar.requestSubmit());
  const exportButton = h('button', { type: 'button', id: 'export' }, 'Export JSONL');
  exportButton.addEventListener('click', () => void exportScope(scope));
  const summary = h('p', { id: 'memory-count', class: 'muted' }, 'Loading…');
  const spacer = h('div', { class: 'spacer' });
  const list = h(
    'div',
    {
      class: 'virtual-list',
      role: 'list',
      'aria-label': `Memories of ${describeScope(scope)}`,
      'aria-describedby': 'memory-count',
    },
    spacer,
  );
  show(
    `Memories of ${describeScope(scope)}`,
    scopeLinks(scope),
    toolbar,
    h('p', {}, exportButton),
    summary,
    list,
  );

  const parsed = parseFilterText(filterText);
  if (!parsed.ok) {
    summary.replaceWith(h('p', { class: 'error', role: 'alert' }, parsed.message));
    return;
  }
  let items: MemoryItem[] = [];
  let sorted: MemoryItem[] = [];
  let drawn = '';
  const draw = (force = false) => {
    const range = visibleRange(list.scrollTop, list.clientHeight || 600, rowHeight, sorted.length);
    const key = `${range.start}:${range.end}:${sorted.length}`;
    if (!force && key === drawn) return;
    drawn = key;
    const focused = (document.activeElement as HTMLElement | null)?.dataset?.index;
    spacer.style.height = `${sorted.length * rowHeight}px`;
    replace(
      spacer,
      ...sorted
        .slice(range.start, range.end)
        .map((item, offset) => memoryRow(item, range.start + offset, sorted.length, scope)),
    );
    // A focused row that is still drawn keeps the focus across the redraw.
    if (focused !== undefined) {
      spacer
        .querySelector<HTMLElement>(`[data-index="${focused}"]`)
        ?.focus({ preventScroll: true });
    }
  };
  const focusRow = (index: number) => {
    const bounded = Math.max(0, Math.min(sorted.length - 1, index));
    const top = bounded * rowHeight;
    if (top < list.scrollTop) list.scrollTop = top;
    else if (top + rowHeight > list.scrollTop + list.clientHeight) {
      list.scrollTop = top + rowHeight - list.clientHeight;
    }
    let row = spacer.querySelector<HTMLElement>(`[data-index="${bounded}"]`);
    if (!row) {
      draw(true);
      row = spacer.querySelector<HTMLElement>(`[data-index="${bounded}"]`);
    }
    row?.focus();
  };
  // Scroll events come once a frame: drawing at once paints the new rows in that same frame.
  list.addEventListener('scroll', () => draw(), { passive: true });
  list.addEventListener('keydown', (event) => {
    const index = Number((event.target as HTMLElement).dataset?.index);
    if (Number.isNaN(index)) return;
    const page = Math.max(1, Math.floor(list.clientHeight / rowHeight) - 1);
    const moves: Record<string, number> = {
      ArrowDown: index + 1,
      ArrowUp: index - 1,
      PageDown: index + page,
      PageUp: index - page,
      Home: 0,
      End: sorted.length - 1,
    };
    const target = moves[event.key];
    if (target === undefined) return;
    event.preventDefault();
    focusRow(target);
  });

  let cursor: string | undefined;
  do {
    const page = await call<{ results: MemoryItem[]; nextCursor?: string }>(
      `/v1/memories${query({
        ...scopeParams(scope),
        limit: 1000,
        cursor,
        filters: parsed.filters ? JSON.stringify(parsed.filters) : undefined,
      })}`,
    );
    if (current !== generation) return;
    items = items.concat(page.results);
    sorted = sortMemories(items, order);
    cursor = page.nextCursor;
    summary.textContent = `${formatNumber(items.length)} memories${cursor ? ', loading more…' : ''}`;
    draw(true);
  } while (cursor);
  announce(`${formatNumber(items.length)} memories of ${describeScope(scope)}.`);
}

async function exportScope(scope: Scope): Promise<void> {
  try {
    const blob = await download(`/v1/export${query({ ...scopeParams(scope), format: 'jsonl' })}`);
    const url = URL.createObjectURL(blob);
    const name = `engram-${project ?? 'project'}-${Object.values(scope).join('-')}.jsonl`.replace(
      /[^A-Za-z0-9._-]+/g,
      '_',
    );
    const link = h('a', { href: url, download: name, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    announce(`Exported ${name}.`);
  } catch (error) {
    announce(error instanceof Error ? error.message : String(error));
  }
}

// ---- one memory: details, edit, delete, history ------------------------------------------

function timeline(events: HistoryEvent[]): HTMLElement {
  const text = (value: string | null, label: string, className: string) =>
    value === null
      ? null
      : h(
          'div',
          { class: className },
          h('span', { class: 'label' }, label),
          value === '' ? h('em', {}, '(erased)') : value,
        );
  return h(
    'ol',
    { class: 'timeline', 'aria-label': 'History, oldest first' },
    ...events.map((event) =>
      h(
        'li',
        { class: `event event-${event.event.toLowerCase()}` },
        h(
          'p',
          { class: 'event-head' },
          h('strong', { class: 'badge' }, event.event),
          ' ',
          time(event.createdAt),
          event.actor ? ` by ${event.actor}` : '',
        ),
        text(event.previousText, 'Before', 'before'),
        text(event.newText, 'After', 'after'),
        event.detail ? h('p', { class: 'muted' }, event.detail) : null,
      ),
    ),
  );
}

async function renderMemory(current: number, id: string, params: URLSearchParams): Promise<void> {
  const scope = scopeFromParams(params);
  const scopeQuery = query(scopeParams(scope));
  const path = `/v1/memories/${encodeURIComponent(id)}`;
  const [item, history] = await Promise.all([
    call<MemoryItem>(`${path}${scopeQuery}`).catch((error: unknown) => {
      if (error instanceof ApiFailure && error.status === 404) return null;
      throw error;
    }),
    call<{ results: HistoryEvent[] }>(`${path}/history${scopeQuery}`).catch(() => ({
      results: [] as HistoryEvent[],
    })),
  ]);
  if (current !== generation) return;
  const back = h(
    'p',
    {},
    h(
      'a',
      { href: routeHash('memories', scopeParams(scope)) },
      `Back to the memories of ${describeScope(scope)}`,
    ),
  );
  const historySection = h(
    'section',
    { 'aria-labelledby': 'history-title' },
    h('h3', { id: 'history-title' }, 'History'),
    history.results.length ? timeline(history.results) : h('p', {}, 'No recorded changes.'),
  );
  if (!item) {
    const known = history.results.length > 0;
    show(
      known ? 'Memory deleted' : 'No such memory',
      back,
      h(
        'p',
        {},
        known
          ? `Memory ${id} was deleted; its history follows.`
          : `This project has no memory ${id}.`,
      ),
      historySection,
    );
    return;
  }
  const textArea = h('textarea', { id: 'edit-text', name: 'edit-text', rows: 3, required: true });
  textArea.value = item.memory;
  const metadataArea = h('textarea', {
    id: 'edit-metadata',
    name: 'edit-metadata',
    rows: 3,
    spellcheck: false,
  });
  metadataArea.value = JSON.stringify(item.metadata, null, 2);
  const editMessage = h('p', { class: 'muted', 'aria-live': 'polite' });
  const editForm = h(
    'form',
    { class: 'card', 'aria-labelledby': 'edit-title' },
    h('h3', { id: 'edit-title' }, 'Edit'),
    field('Text', textArea, 'Changing the text re-embeds the memory.'),
    field('Metadata (JSON, merged into the current metadata)', metadataArea),
    h('button', { type: 'submit', class: 'primary' }, 'Save'),
    editMessage,
  );
  editForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    let metadata: unknown;
    try {
      metadata = metadataArea.value.trim() ? JSON.parse(metadataArea.value) : undefined;
    } catch {
      editMessage.textContent = 'The metadata is not valid JSON.';
      return;
    }
    try {
      await call(`${path}${scopeQuery}`, {
        method: 'PATCH',
        body: {
          ...(textArea.value !== item.memory ? { text: textArea.value } : {}),
          ...(metadata !== undefined && JSON.stringify(metadata) !== JSON.stringify(item.metadata)
            ? { metadata }
            : {}),
        },
      });
      announce('Saved.');
      await render();
      focusTitle();
    } catch (error) {
      editMessage.textContent = error instanceof Error ? error.message : String(error);
    }
  });

  const erase = h('input', { id: 'delete-erase', name: 'delete-erase', type: 'checkbox' });
  const deleteButton = h('button', { type: 'button', class: 'danger', id: 'delete' }, 'Delete…');
  const confirmButton = h(
    'button',
    { type: 'submit', class: 'danger', id: 'delete-confirm', hidden: true },
    'Delete for good',
  );
  const deleteMessage = h('p', { class: 'muted', 'aria-live': 'polite' });
  const deleteForm = h(
    'form',
    { class: 'card', 'aria-labelledby': 'delete-title' },
    h('h3', { id: 'delete-title' }, 'Delete'),
    h(
      'div',
      { class: 'check' },
      erase,
      h('label', { for: 'delete-erase' }, 'Also erase the texts of its history'),
    ),
    deleteButton,
    confirmButton,
    deleteMessage,
  );
  deleteButton.addEventListener('click', () => {
    confirmButton.hidden = false;
    deleteMessage.textContent = 'Press “Delete for good” to delete this memory.';
    confirmButton.focus();
  });
  deleteForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await call(
        `${path}${query({ ...scopeParams(scope), erase: erase.checked ? 'true' : undefined })}`,
        {
          method: 'DELETE',
        },
      );
      announce('Deleted.');
      await render();
      focusTitle();
    } catch (error) {
      deleteMessage.textContent = error instanceof Error ? error.message : String(error);
    }
  });

  show(
    'Memory',
    back,
    h(
      'dl',
      { class: 'details' },
      h('dt', {}, 'Text'),
      h('dd', { id: 'memory-text' }, item.memory),
      h('dt', {}, 'Id'),
      h('dd', {}, h('code', {}, item.id)),
      h('dt', {}, 'Scope'),
      h('dd', {}, describeScope(item)),
      h('dt', {}, 'Created'),
      h('dd', {}, time(item.createdAt)),
      h('dt', {}, 'Changed'),
      h('dd', {}, time(item.updatedAt)),
      h('dt', {}, 'Metadata'),
      h('dd', {}, h('code', {}, JSON.stringify(item.metadata))),
    ),
    historySection,
    h('div', { class: 'columns' }, editForm, deleteForm),
  );
}

// ---- search -----------------------------------------------------------------------------

function explanationTable(hit: SearchHit): HTMLElement | null {
  if (!hit.explanation) return null;
  return h(
    'table',
    { class: 'explain' },
    h('caption', {}, `Score ${formatNumber(hit.score)}, ranked by ${hit.explanation.rankedBy}`),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...['Signal', 'Raw', 'Normalized', 'Weight', 'Contribution'].map((name, index) =>
          h('th', { scope: 'col', class: index ? 'number' : undefined }, name),
        ),
      ),
    ),
    h(
      'tbody',
      {},
      ...hit.explanation.contributions.map((part) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row' }, part.signal),
          h('td', { class: 'number' }, formatNumber(part.raw)),
          h('td', { class: 'number' }, formatNumber(part.normalized)),
          h('td', { class: 'number' }, formatNumber(part.weight)),
          h(
            'td',
            { class: 'number' },
            h('span', {
              class: 'bar',
              style: `width:${Math.round(Math.max(0, Math.min(1, part.contribution)) * 60)}px`,
              'aria-hidden': 'true',
            }),
            formatNumber(part.contribution),
          ),
        ),
      ),
    ),
  );
}

async function renderSearch(current: number, params: URLSearchParams): Promise<void> {
  const scope = scopeFromParams(params);
  const text = params.get('q') ?? '';
  const queryInput = input('search-query', {
    type: 'search',
    value: text,
    required: true,
    placeholder: 'What does she like to eat?',
  });
  const userInput = input('search-user', { value: scope.userId ?? '' });
  const agentInput = input('search-agent', { value: scope.agentId ?? '' });
  const runInput = input('search-run', { value: scope.runId ?? '' });
  const filterInput = input('search-filter', {
    value: params.get('filter') ?? '',
    placeholder: 'topic=food',
  });
  const limitInput = input('search-limit', {
    type: 'number',
    min: 1,
    max: 100,
    value: params.get('limit') ?? '10',
  });
  const rerank = h('input', {
    id: 'search-rerank',
    type: 'checkbox',
    checked: params.get('rerank') !== 'false',
  });
  const keyword = h('input', {
    id: 'search-keyword',
    type: 'checkbox',
    checked: params.get('keyword') !== 'false',
  });
  const form = h(
    'form',
    { class: 'card search-form', role: 'search', 'aria-label': 'Search memories' },
    field('Query', queryInput, 'Press / anywhere to come here.'),
    h(
      'div',
      { class: 'columns' },
      field('User', userInput),
      field('Agent', agentInput),
      field('Run', runInput),
    ),
    h(
      'div',
      { class: 'columns' },
      field('Metadata filter', filterInput, 'As on the memories page.'),
      field('Results', limitInput),
    ),
    h(
      'div',
      { class: 'columns' },
      h(
        'div',
        { class: 'check' },
        keyword,
        h('label', { for: 'search-keyword' }, 'Keyword relevance'),
      ),
      h(
        'div',
        { class: 'check' },
        rerank,
        h('label', { for: 'search-rerank' }, 'Reranker (when configured)'),
      ),
    ),
    h('button', { type: 'submit', class: 'primary' }, 'Search'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    location.hash = routeHash('search', {
      q: queryInput.value.trim(),
      userId: userInput.value.trim(),
      agentId: agentInput.value.trim(),
      runId: runInput.value.trim(),
      filter: filterInput.value.trim(),
      limit: limitInput.value,
      rerank: rerank.checked ? undefined : 'false',
      keyword: keyword.checked ? undefined : 'false',
    });
  });
  const summary = h('p', { id: 'search-summary', 'aria-live': 'polite' });
  const results = h('ol', { class: 'results', 'aria-labelledby': 'search-summary' });
  show('Search', form, summary, results);
  if (!text) return;
  if (Object.keys(scope).length === 0) {
    summary.textContent = 'Name a user, agent or run to search in.';
    return;
  }
  const parsed = parseFilterText(params.get('filter') ?? '');
  if (!parsed.ok) {
    summary.textContent = parsed.message;
    return;
  }
  summary.textContent = 'Searching…';
  const answer = await call<{ results: SearchHit[] }>('/v1/search', {
    method: 'POST',
    body: {
      query: text,
      ...scope,
      limit: Number(limitInput.value) || 10,
      explain: true,
      ...(parsed.filters ? { filters: parsed.filters } : {}),
      ...(rerank.checked ? {} : { rerank: false }),
      ...(keyword.checked ? {} : { keywordSearch: false }),
    },
  });
  if (current !== generation) return;
  summary.textContent = `${answer.results.length} result${answer.results.length === 1 ? '' : 's'} for “${text}”.`;
  replace(
    results,
    ...answer.results.map((hit) =>
      h(
        'li',
        { class: 'card result' },
        h('p', {}, h('a', { href: routeHash('memory', scopeParams(scope), hit.id) }, hit.memory)),
        h('p', { class: 'muted' }, time(hit.updatedAt), ` · ${describeScope(hit)}`),
        explanationTable(hit),
      ),
    ),
  );
}

// ---- graph ------------------------------------------------------------------------------

function graphDrawing(relations: GraphRelation[]): SVGElement {
  const width = 720;
  const height = 480;
  const placed = layoutGraph(relations, width, height);
  const edges = relations.map((relation) => {
    const from = placed.get(relation.source)!;
    const to = placed.get(relation.destination)!;
    const invalid = relation.invalidatedAt !== undefined;
    return svg(
      'g',
      { class: invalid ? 'edge invalid' : 'edge' },
      svg('line', { x1: from.x, y1: from.y, x2: to.x, y2: to.y, 'marker-end': 'url(#arrow)' }),
      svg(
        'text',
        { x: (from.x + to.x) / 2, y: (from.y + to.y) / 2 - 4, 'text-anchor': 'middle' },
        relation.relationship,
      ),
    );
  });
  const nodes = [...placed.values()].map((entity) =>
    svg(
      'g',
      {
        class: entity.valid ? 'node' : 'node invalid',
        transform: `translate(${entity.x} ${entity.y})`,
      },
      svg('circle', { r: 26 }),
      svg(
        'text',
        { y: 4, 'text-anchor': 'middle' },
        entity.name.length > 14 ? `${entity.name.slice(0, 13)}…` : entity.name,
      ),
      svg('text', { y: 42, 'text-anchor': 'middle', class: 'kind' }, entity.type),
    ),
  );
  return svg(
    'svg',
    {
      viewBox: `0 0 ${width} ${height}`,
      role: 'img',
      'aria-labelledby': 'graph-svg-title',
      class: 'graph',
    },
    svg(
      'title',
      { id: 'graph-svg-title' },
      `${placed.size} entities and ${relations.length} relations; invalidated ones are grey and dashed.`,
    ),
    svg(
      'defs',
      {},
      svg(
        'marker',
        {
          id: 'arrow',
          viewBox: '0 0 10 10',
          refX: 36,
          refY: 5,
          markerWidth: 8,
          markerHeight: 8,
          orient: 'auto-start-reverse',
        },
        svg('path', { d: 'M 0 0 L 10 5 L 0 10 z' }),
      ),
    ),
    ...edges,
    ...nodes,
  );
}

async function renderGraph(current: number, params: URLSearchParams): Promise<void> {
  const scope = scopeFromParams(params);
  if (Object.keys(scope).length === 0) {
    askForScope('Knowledge graph');
    return;
  }
  const graph = await call<{ enabled: boolean; relations: GraphRelation[] }>(
    `/v1/graph${query({ ...scopeParams(scope), includeInvalidated: 'true', limit: 500 })}`,
  );
  if (current !== generation) return;
  const title = `Knowledge graph of ${describeScope(scope)}`;
  if (!graph.enabled) {
    show(
      title,
      scopeLinks(scope),
      h(
        'p',
        {},
        'Graph memory is off on this server: start it with ENGRAM_GRAPH set (for example ENGRAM_GRAPH=kuzu).',
      ),
    );
    return;
  }
  if (graph.relations.length === 0) {
    show(title, scopeLinks(scope), h('p', {}, 'No relations yet.'));
    return;
  }
  const table = h(
    'table',
    {},
    h('caption', {}, 'Relations'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...['Source', 'Relationship', 'Destination', 'State'].map((name) =>
          h('th', { scope: 'col' }, name),
        ),
      ),
    ),
    h(
      'tbody',
      {},
      ...graph.relations.map((relation) =>
        h(
          'tr',
          { class: relation.invalidatedAt ? 'invalid' : undefined },
          h('td', {}, relation.source),
          h('td', {}, relation.relationship),
          h('td', {}, relation.destination),
          h(
            'td',
            {},
            relation.invalidatedAt
              ? h('span', {}, 'invalidated ', time(relation.invalidatedAt))
              : 'valid',
          ),
        ),
      ),
    ),
  );
  show(title, scopeLinks(scope), h('figure', {}, graphDrawing(graph.relations)), table);
  announce(`${graph.relations.length} relations.`);
}

// ---- usage ------------------------------------------------------------------------------

async function renderUsage(current: number): Promise<void> {
  const usage = await call<Usage>('/v1/usage');
  if (current !== generation) return;
  const rows: Array<[string, string]> = [
    ['adds', 'Adds'],
    ['memoriesAdded', 'Memories created'],
    ['searches', 'Searches'],
    ['llmCalls', 'LLM calls'],
    ['inputTokens', 'LLM input tokens'],
    ['outputTokens', 'LLM output tokens'],
    ['embeddingCalls', 'Embedding calls'],
    ['embeddingTokens', 'Embedding tokens'],
    ['rerankCalls', 'Reranker calls'],
    ['rerankTokens', 'Reranker tokens'],
  ];
  show(
    `Usage of project ${usage.project}`,
    h(
      'p',
      { class: 'muted' },
      'Counted by the server process that answered, since ',
      time(usage.since),
      '.',
    ),
    h(
      'table',
      { class: 'usage' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'What'),
          h('th', { scope: 'col', class: 'number' }, 'Count'),
        ),
      ),
      h(
        'tbody',
        {},
        ...rows.map(([key, label]) =>
          h(
            'tr',
            {},
            h('th', { scope: 'row' }, label),
            h('td', { class: 'number' }, formatNumber(Number(usage[key] ?? 0))),
          ),
        ),
      ),
    ),
  );
}

// ---- routing ----------------------------------------------------------------------------

function markCurrentLink(view: string): void {
  for (const link of navigation.querySelectorAll('a')) {
    const target = link.getAttribute('href')?.replace(/^#\//, '');
    if (target === view) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

async function render(): Promise<void> {
  const current = ++generation;
  if (credential() === null) {
    renderSignIn();
    return;
  }
  try {
    if (!project) await identify();
    const route = parseRoute(location.hash);
    markCurrentLink(route.view);
    if (route.view === 'memories') await renderMemories(current, route.params);
    else if (route.view === 'memory' && route.id)
      await renderMemory(current, route.id, route.params);
    else if (route.view === 'search') await renderSearch(current, route.params);
    else if (route.view === 'graph') await renderGraph(current, route.params);
    else if (route.view === 'usage') await renderUsage(current);
    else await renderScopes(current);
  } catch (error) {
    if (current !== generation) return;
    if (error instanceof ApiFailure && error.status === 401) {
      signOut();
      renderSignIn(error.message);
      return;
    }
    replace(main, heading('Something went wrong'), failure(error));
  }
}

function typing(target: EventTarget | null): boolean {
  const element = target as HTMLElement | null;
  return (
    !!element &&
    (element.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(element.tagName))
  );
}

document.addEventListener('keydown', (event) => {
  if (event.key !== '/' || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) {
    return;
  }
  if (credential() === null) return;
  event.preventDefault();
  const field = document.getElementById('search-query');
  if (field) {
    field.focus();
    return;
  }
  const scope = scopeFromParams(parseRoute(location.hash).params);
  location.hash = routeHash('search', scopeParams(scope));
  window.addEventListener(
    'hashchange',
    () => setTimeout(() => document.getElementById('search-query')?.focus(), 0),
    {
      once: true,
    },
  );
});

signOutButton.addEventListener('click', () => {
  signOut();
  location.hash = '';
  renderSignIn();
  announce('Signed out.');
});

window.addEventListener('hashchange', () => {
  void render().then(() => {
    if (!document.activeElement || document.activeElement === document.body) focusTitle();
  });
});
void render();
