// Pure helpers of the memory browser: no DOM, so they are unit-tested in Node.

/** A memory as the API answers it. */
export interface MemoryItem {
  /** Memory id. */
  id: string;
  /** The memory text. */
  memory: string;
  /** User scope id. */
  userId?: string;
  /** Agent scope id. */
  agentId?: string;
  /** Run scope id. */
  runId?: string;
  /** Free-form JSON metadata. */
  metadata: Record<string, unknown>;
  /** ISO-8601 creation time. */
  createdAt: string;
  /** ISO-8601 time of the last change. */
  updatedAt: string;
}

/** The scope a view shows. */
export interface Scope {
  /** User id. */
  userId?: string;
  /** Agent id. */
  agentId?: string;
  /** Run id. */
  runId?: string;
}

/** Orders of the memory list. */
export type MemoryOrder = 'created-desc' | 'created-asc' | 'updated-desc' | 'updated-asc';

/** The memories in the chosen time order (a new array; ties keep the id order). */
export function sortMemories(items: readonly MemoryItem[], order: MemoryOrder): MemoryItem[] {
  const field = order.startsWith('created') ? 'createdAt' : 'updatedAt';
  const sign = order.endsWith('desc') ? -1 : 1;
  return [...items].sort(
    (left, right) =>
      sign * left[field].localeCompare(right[field]) || left.id.localeCompare(right.id),
  );
}

/** Rows of a virtualised list to render: `[start, end)`, plus the offset of the first. */
export interface VisibleRange {
  /** First row rendered. */
  start: number;
  /** One past the last row rendered. */
  end: number;
  /** Pixels from the list's top to the first rendered row. */
  offset: number;
}

/** Which rows of fixed height a scrolled viewport shows, with `overscan` rows either side. */
export function visibleRange(
  scrollTop: number,
  viewportHeight: number,
  rowHeight: number,
  count: number,
  overscan = 8,
): VisibleRange {
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const shown = Math.ceil(Math.max(0, viewportHeight) / rowHeight) + 1;
  const start = Math.max(0, Math.min(count, first - overscan));
  const end = Math.max(start, Math.min(count, first + shown + overscan));
  return { start, end, offset: start * rowHeight };
}

/** A metadata filter typed into a form: parsed, or the reason it cannot be. */
export type ParsedFilter =
  | { ok: true; filters: Record<string, unknown> | undefined }
  | { ok: false; message: string };

function scalar(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed === 'true') return true;
  if (trimmed === 'false') return false;
  if (trimmed !== '' && /^-?\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  return trimmed.replace(/^"(.*)"$/, '$1');
}

/**
 * Reads a filter as typed: a JSON object (the API's filter, operators included), or
 * `key=value` pairs separated by commas (equalities, all of which must hold). Empty: no filter.
 */
export function parseFilterText(text: string): ParsedFilter {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: true, filters: undefined };
  if (trimmed.startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        return { ok: true, filters: parsed as Record<string, unknown> };
      }
    } catch {
      // Reported below.
    }
    return { ok: false, message: 'The filter is not a JSON object, e.g. {"topic": "food"}.' };
  }
  const filters: Record<string, unknown> = {};
  for (const part of trimmed.split(',')) {
    const match = /^\s*([^=\s][^=]*?)\s*=\s*(.*)$/.exec(part);
    if (!match) {
      return {
        ok: false,
        message: `"${part.trim()}" is not key=value; write topic=food, or a JSON filter.`,
      };
    }
    filters[match[1]!] = scalar(match[2]!);
  }
  return { ok: true, filters };
}

/** A graph relation as the API answers it. */
export interface GraphRelation {
  /** Relation id. */
  id: string;
  /** Source entity name. */
  source: string;
  /** Source entity kind. */
  sourceType: string;
  /** Verb phrase, e.g. `works_at`. */
  relationship: string;
  /** Destination entity name. */
  destination: string;
  /** Destination entity kind. */
  destinationType: string;
  /** Set when later messages contradicted it. */
  invalidatedAt?: string;
}

/** An entity placed on the drawing. */
export interface PlacedEntity {
  /** Entity name. */
  name: string;
  /** Entity kind. */
  type: string;
  /** Centre, x. */
  x: number;
  /** Centre, y. */
  y: number;
  /** False when every relation touching it was invalidated. */
  valid: boolean;
}

/**
 * Places the entities of the relations on a circle (most connected first), so that every
 * relation is a chord; deterministic, which keeps screenshots and tests stable.
 */
export function layoutGraph(
  relations: readonly GraphRelation[],
  width: number,
  height: number,
): Map<string, PlacedEntity> {
  const degree = new Map<string, { type: string; count: number; valid: boolean }>();
  for (const relation of relations) {
    for (const [name, type] of [
      [relation.source, relation.sourceType],
      [relation.destination, relation.destinationType],
    ] as const) {
      const entry = degree.get(name) ?? { type, count: 0, valid: false };
      entry.count += 1;
      entry.valid ||= relation.invalidatedAt === undefined;
      degree.set(name, entry);
    }
  }
  const names = [...degree.keys()].sort(
    (left, right) =>
      degree.get(right)!.count - degree.get(left)!.count || left.localeCompare(right),
  );
  const placed = new Map<string, PlacedEntity>();
  const radius = Math.max(0, Math.min(width, height) / 2 - 70);
  names.forEach((name, index) => {
    const entry = degree.get(name)!;
    const angle = names.length === 1 ? 0 : (2 * Math.PI * index) / names.length - Math.PI / 2;
    placed.set(name, {
      name,
      type: entry.type,
      x: width / 2 + (names.length === 1 ? 0 : radius * Math.cos(angle)),
      y: height / 2 + (names.length === 1 ? 0 : radius * Math.sin(angle)),
      valid: entry.valid,
    });
  });
  return placed;
}

/** The route of the page: a view name and its parameters, from the location's hash. */
export interface Route {
  /** `scopes`, `memories`, `memory`, `search`, `graph`, `usage`. */
  view: string;
  /** The memory id of the `memory` view. */
  id?: string;
  /** Query parameters (scope ids, ...). */
  params: URLSearchParams;
}

/** Reads `#/view[/id][?query]`. Unknown or empty: the scopes view. */
export function parseRoute(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#\/?/, '').split('?', 2);
  const [view = '', id] = path.split('/', 2).map((part) => decodeURIComponent(part));
  const known = ['scopes', 'memories', 'memory', 'search', 'graph', 'usage'];
  return {
    view: known.includes(view) ? view : 'scopes',
    ...(id ? { id } : {}),
    params: new URLSearchParams(query),
  };
}

/** The hash of a view with parameters (empty values left out). */
export function routeHash(
  view: string,
  params: Record<string, string | undefined> = {},
  id?: string,
) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) query.set(key, value);
  const text = query.toString();
  return `#/${view}${id ? `/${encodeURIComponent(id)}` : ''}${text ? `?${text}` : ''}`;
}

/** The scope named by route parameters. */
export function scopeFromParams(params: URLSearchParams): Scope {
  const scope: Scope = {};
  for (const key of ['userId', 'agentId', 'runId'] as const) {
    const value = params.get(key);
    if (value) scope[key] = value;
  }
  return scope;
}

/** A number as people read it: `12,345`, `0.734`. */
export function formatNumber(value: number): string {
  return Number.isInteger(value)
    ? value.toLocaleString('en-US')
    : value.toLocaleString('en-US', { maximumFractionDigits: 3, minimumFractionDigits: 3 });
}
