import { invalid } from './memory-input.js';
import type {
  AdjacentOptions,
  AdjacentRecords,
  StoredRecord,
  VectorStore,
} from './vector-store.js';

/**
 * Neighbouring memories added to search results (sentence-window, or prev/next, expansion): for
 * each of the first `hits` results, the memories of the same scope written just before and after
 * it. In a conversation stored turn by turn, the answer is often the reply to the turn that
 * matches the question best.
 */
export interface SearchContext {
  /** Memories written just before each hit. Default 0. */
  before?: number;
  /** Memories written just after each hit. Default 1. */
  after?: number;
  /** How many of the first results get their neighbours. Default 2. */
  hits?: number;
}

/** {@link SearchContext} with every field decided. */
export type ResolvedSearchContext = Required<SearchContext>;

/**
 * What `context: true` (or a partial object) adds: the next memory of each of the first two
 * results (LoCoMo R@10 .678 -> .709 with all-MiniLM-L6-v2; see the benchmarks). Off unless asked
 * for: a neighbour is kept whatever its relevance to the query, which the cut-off would drop.
 */
export const defaultSearchContext: ResolvedSearchContext = { before: 0, after: 1, hits: 2 };

/** Largest `before`, `after` and `hits`. */
const maxContext = 10;

/**
 * Scopes up to this size are read whole to find neighbours when the store has no `adjacent`;
 * larger ones need the store's own.
 */
export const maxScopeReadForContext = 2_000;

/** A `context` option checked and completed; `undefined` for `false` or nothing to add. */
export function checkSearchContext(
  value: SearchContext | boolean | undefined,
  name = 'context',
): ResolvedSearchContext | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return { ...defaultSearchContext };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    invalid(`${name} must be true, false or an object { before?, after?, hits? }.`);
  }
  const resolved = { ...defaultSearchContext, ...value };
  for (const field of ['before', 'after', 'hits'] as const) {
    const count = resolved[field];
    if (!Number.isInteger(count) || count < 0 || count > maxContext) {
      invalid(`${name}.${field} must be an integer from 0 to ${maxContext}, got ${String(count)}.`);
    }
  }
  const unknown = Object.keys(value).filter((key) => !['before', 'after', 'hits'].includes(key));
  if (unknown.length > 0) {
    invalid(`${name} takes before, after and hits; remove ${unknown.join(', ')}.`);
  }
  return resolved.hits === 0 || resolved.before + resolved.after === 0 ? undefined : resolved;
}

const byWriteOrder = (left: StoredRecord, right: StoredRecord) =>
  left.createdAt < right.createdAt
    ? -1
    : left.createdAt > right.createdAt
      ? 1
      : left.id < right.id
        ? -1
        : left.id > right.id
          ? 1
          : 0;

/**
 * The neighbours of each of `ids` among `records` (one scope, already filtered), in the order
 * they were written: by `createdAt`, then id. Ids not among the records are left out.
 */
export function neighboursInWriteOrder(
  records: readonly StoredRecord[],
  options: Pick<AdjacentOptions, 'ids' | 'before' | 'after'>,
): AdjacentRecords[] {
  const ordered = [...records].sort(byWriteOrder);
  const position = new Map(ordered.map((record, index) => [record.id, index]));
  return options.ids.flatMap((id) => {
    const index = position.get(id);
    if (index === undefined) return [];
    return [
      {
        id,
        before: ordered.slice(Math.max(0, index - options.before), index),
        after: ordered.slice(index + 1, index + 1 + options.after),
      },
    ];
  });
}

/**
 * The store's `adjacent` when it has one; otherwise the scope is read page by page and ordered
 * here, when it holds at most {@link maxScopeReadForContext} records (`undefined` when larger).
 */
export async function adjacentRecords(
  store: VectorStore,
  options: AdjacentOptions,
): Promise<AdjacentRecords[] | undefined> {
  if (store.adjacent) return store.adjacent(options);
  const { collection, scope, filter, abortSignal } = options;
  const selection = {
    collection,
    ...(scope ? { scope } : {}),
    ...(filter ? { filter } : {}),
    ...(abortSignal ? { abortSignal } : {}),
  };
  if ((await store.count(selection)) > maxScopeReadForContext) return undefined;
  const records: StoredRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({
      ...selection,
      limit: 1000,
      ...(options.includeVectors ? { includeVectors: true } : {}),
      ...(cursor ? { cursor } : {}),
    });
    records.push(...page.records);
    cursor = page.nextCursor;
  } while (cursor && records.length <= maxScopeReadForContext);
  return neighboursInWriteOrder(records, options);
}

/** One entry of a ranking, with the anchor it was placed after when it is a neighbour. */
export interface PlacedEntry<T> {
  entry: T;
  neighbourOf?: string;
}

/**
 * Puts the neighbours of the first `hits` entries right after them (after-neighbours nearest
 * first, then before-neighbours nearest first), keeps every memory once, and cuts to `limit`: a
 * neighbour ranked lower moves up, one ranked higher stays where it was.
 */
export function placeNeighbours<T>(
  ranked: readonly T[],
  neighbours: ReadonlyMap<string, { before: readonly T[]; after: readonly T[] }>,
  { idOf, hits, limit }: { idOf: (entry: T) => string; hits: number; limit: number },
): PlacedEntry<T>[] {
  const placed: PlacedEntry<T>[] = [];
  const seen = new Set<string>();
  const place = (entry: T, neighbourOf?: string) => {
    const id = idOf(entry);
    if (seen.has(id) || placed.length >= limit) return;
    seen.add(id);
    placed.push(neighbourOf === undefined ? { entry } : { entry, neighbourOf });
  };
  for (const [index, entry] of ranked.entries()) {
    if (placed.length >= limit) break;
    const id = idOf(entry);
    place(entry);
    if (index >= hits) continue;
    const around = neighbours.get(id);
    if (!around) continue;
    for (const neighbour of around.after) place(neighbour, id);
    for (const neighbour of [...around.before].reverse()) place(neighbour, id);
  }
  return placed;
}
