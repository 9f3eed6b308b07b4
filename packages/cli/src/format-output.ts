import type {
  HistoryEvent,
  MemoryChange,
  MemoryItem,
  RelationItem,
  SearchResultItem,
} from '@engram/core';

/** Where the CLI writes: `process.stdout`/`process.stderr`, or a test double. */
export interface OutputStream {
  write(chunk: string): boolean;
  /** Whether the stream is a terminal (progress bars and truncation only happen there). */
  isTTY?: boolean;
  /** Terminal width, when a terminal. */
  columns?: number;
  once?(event: 'drain', listener: () => void): unknown;
}

/** Writes a chunk and waits when the stream asks the writer to slow down. */
export async function writeWithBackpressure(stream: OutputStream, chunk: string): Promise<void> {
  if (!stream.write(chunk) && stream.once) {
    await new Promise<void>((resolve) => stream.once!('drain', resolve));
  }
}

const namedEscapes: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

// Control characters (C0, DEL, C1), line and paragraph separators, bidirectional overrides and
// isolates, and lone surrogates: what can move the cursor, retitle or reprogram a terminal, or
// make text read differently from what it is.
const unprintable =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * A string safe to write to a terminal: every character that is not printable is shown as an
 * escape (`\x1b`, `\n`, `\u202e`), so a stored string cannot move the cursor, change the
 * terminal or hide text.
 */
export function escapeForTerminal(text: string): string {
  return text.replace(unprintable, (character) => {
    const named = namedEscapes[character];
    if (named) return named;
    const code = character.charCodeAt(0);
    return code < 0x100
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

function oneLine(text: string): string {
  return escapeForTerminal(text.replace(/\s+/g, ' ').trim());
}

function truncate(text: string, width: number): string {
  if (width < 4 || text.length <= width) return text;
  return `${text.slice(0, width - 1)}…`;
}

/**
 * Aligned columns; the last column is left ragged and, on a terminal, cut to the screen width
 * so each row stays on one line.
 */
export function formatTable(headers: string[], rows: string[][], terminalWidth?: number): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const render = (cells: string[]) => {
    const padded = cells.map((cell, column) =>
      column === cells.length - 1 ? cell : cell.padEnd(widths[column]!),
    );
    const line = padded.join('  ');
    return terminalWidth ? truncate(line, terminalWidth) : line;
  };
  return [render(headers), ...rows.map(render)].join('\n') + '\n';
}

function shortDate(iso: string): string {
  return iso.replace('T', ' ').slice(0, 16);
}

function scopeLabel(item: { userId?: string; agentId?: string; runId?: string }): string {
  return [
    item.userId === undefined ? '' : `user=${item.userId}`,
    item.agentId === undefined ? '' : `agent=${item.agentId}`,
    item.runId === undefined ? '' : `run=${item.runId}`,
  ]
    .filter(Boolean)
    .join(' ');
}

/**
 * `search` results as a table, best first: the score that ordered them, then the vector
 * similarity and keyword relevance behind it; a neighbour of a hit (search `context`) is marked ↳. With `explain`, each result is followed by one line
 * per signal: raw value, normalized value, weight and contribution.
 */
export function formatSearchResults(
  results: SearchResultItem[],
  terminalWidth?: number,
  { explain = false }: { explain?: boolean } = {},
): string {
  if (results.length === 0) return 'No matching memories.\n';
  const table = formatTable(
    ['SCORE', 'VECTOR', 'KEYWORD', 'ID', 'MEMORY'],
    results.map((result) => [
      result.score.toFixed(3),
      result.scores.vector.toFixed(3),
      result.keywordScore === undefined ? '-' : result.keywordScore.toFixed(3),
      escapeForTerminal(result.id),
      // A neighbour added by search context, placed after its hit.
      `${result.neighbourOf === undefined ? '' : '↳ '}${oneLine(result.memory)}`,
    ]),
    terminalWidth,
  );
  if (!explain) return table;
  const lines = results.map((result) => {
    const explanation = result.explanation;
    if (!explanation) return '';
    const signals = explanation.contributions.map(
      (part) =>
        `  ${part.signal.padEnd(8)} raw ${part.raw.toFixed(3)}  normalized ${part.normalized.toFixed(3)}  weight ${part.weight.toFixed(2)}  contribution ${part.contribution.toFixed(3)}\n`,
    );
    const cutoff = explanation.threshold > 0 ? `, cut-off ${explanation.threshold}` : '';
    return `${escapeForTerminal(result.id)}: score ${result.score.toFixed(3)} (ranked by ${explanation.rankedBy}${cutoff})\n${signals.join('')}`;
  });
  return `${table}\n${lines.join('')}`;
}

/** Graph relations, `source -[relationship]-> destination`, best first when scored. */
export function formatRelations(
  relations: RelationItem[] | undefined,
  title = 'Relations',
): string {
  if (!relations || relations.length === 0) return '';
  const lines = relations.map((relation) => {
    const score = relation.score === undefined ? '' : `${relation.score.toFixed(3)}  `;
    return `  ${score}${oneLine(relation.source)} -[${oneLine(relation.relationship)}]-> ${oneLine(relation.destination)}\n`;
  });
  return `\n${title}:\n${lines.join('')}`;
}

/** One page of `list` as a table. */
export function formatMemoryList(items: MemoryItem[], terminalWidth?: number): string {
  if (items.length === 0) return 'No memories.\n';
  return formatTable(
    ['ID', 'UPDATED', 'MEMORY'],
    items.map((item) => [
      escapeForTerminal(item.id),
      oneLine(shortDate(item.updatedAt)),
      oneLine(item.memory),
    ]),
    terminalWidth,
  );
}

/** The changes `add` made, one per line. */
export function formatChanges(changes: MemoryChange[]): string {
  if (changes.length === 0) return 'Nothing new to remember.\n';
  return changes
    .map((change) => {
      const text =
        change.event === 'UPDATE' && change.previousMemory !== undefined
          ? `${oneLine(change.previousMemory)} -> ${oneLine(change.memory)}`
          : oneLine(change.memory);
      return `${oneLine(change.event).padEnd(6)}  ${escapeForTerminal(change.id)}  ${text}\n`;
    })
    .join('');
}

/** One memory, field by field. */
export function formatMemory(item: MemoryItem): string {
  const fields: [string, string][] = [
    ['id', item.id],
    ['memory', item.memory],
    ['scope', scopeLabel(item)],
    ['metadata', JSON.stringify(item.metadata)],
    ['created', item.createdAt],
    ['updated', item.updatedAt],
  ];
  return fields
    .map(([name, value]) => `${`${name}:`.padEnd(10)}${escapeForTerminal(value)}\n`)
    .join('');
}

/** The history of one memory, oldest first. */
export function formatHistory(events: HistoryEvent[], terminalWidth?: number): string {
  if (events.length === 0) return 'No history for this id.\n';
  return formatTable(
    ['TIME', 'EVENT', 'CHANGE'],
    events.map((event) => {
      const change =
        event.event === 'UPDATE'
          ? `${oneLine(event.previousText ?? '')} -> ${oneLine(event.newText ?? '')}`
          : event.event === 'DELETE'
            ? oneLine(event.previousText ?? '')
            : oneLine(event.newText ?? '');
      return [oneLine(shortDate(event.createdAt)), oneLine(event.event), change];
    }),
    terminalWidth,
  );
}

/**
 * A JSON document on one line. `JSON.stringify` escapes C0 controls and lone surrogates; the
 * other characters a terminal acts on are escaped too, which leaves the JSON equal.
 */
export function formatJson(value: unknown): string {
  const text = JSON.stringify(value).replace(
    /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return `${text}\n`;
}
