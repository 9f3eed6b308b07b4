import type { JsonValue } from '@engram/core';

/**
 * A translated filter node: a native clause, or `true` / `false` when the portable filter always
 * or never matches, so that no ambiguous empty clause is sent to the backend.
 */
export type FilterNode<Clause> = Clause | boolean;

/**
 * Joins translated nodes with `and` or `or`, folding constants: `false` decides an `and`, `true`
 * an `or`, the other constant drops out, no clause left gives the neutral constant, and a single
 * clause stands alone. `combine` builds the native clause of two or more.
 */
export function joinFilterNodes<Clause>(
  kind: 'and' | 'or',
  nodes: readonly FilterNode<Clause>[],
  combine: (clauses: Clause[]) => Clause,
): FilterNode<Clause> {
  const decisive = kind === 'or';
  const clauses: Clause[] = [];
  for (const node of nodes) {
    if (node === decisive) return decisive;
    if (typeof node !== 'boolean') clauses.push(node);
  }
  if (clauses.length === 0) return !decisive;
  return clauses.length === 1 ? clauses[0]! : combine(clauses);
}

/** Negates a translated node: a constant flips, a clause goes through `negate`. */
export function negateFilterNode<Clause>(
  node: FilterNode<Clause>,
  negate: (clause: Clause) => Clause,
): FilterNode<Clause> {
  return typeof node === 'boolean' ? !node : negate(node);
}

/** The metadata keys a portable filter can name (one segment of core's field pattern). */
export const filterableKeyPattern = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

/** How many dotted segments a portable filter field may have. */
export const maxFilterPathDepth = 8;

/** Sets `value` at `path` in a tree of objects, replacing whatever is not an object on the way. */
export function setAtPath(
  tree: Record<string, JsonValue>,
  path: readonly string[],
  value: JsonValue,
): void {
  let node = tree;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === undefined || next === null || typeof next !== 'object' || Array.isArray(next)) {
      node[key] = {};
    }
    node = node[key] as Record<string, JsonValue>;
  }
  node[path.at(-1)!] = value;
}

const stringOrderBase = 65_537;

/**
 * The order-preserving integers of a string, for backends that compare only numbers: each group
 * of three UTF-16 code units becomes one integer (digits `code unit + 1` in base 65,537, 0 after
 * the end), which keeps JavaScript's string order and stays below 2^53. At most `maxChunks`
 * integers; `chunks` (default: enough for the whole string) asks for fewer.
 */
export function stringOrderKey(
  value: string,
  maxChunks: number,
  chunks = Math.floor(value.length / 3) + 1,
): number[] {
  const result: number[] = [];
  for (let chunk = 0; chunk < Math.min(chunks, maxChunks); chunk++) {
    let number = 0;
    for (let offset = 0; offset < 3; offset++) {
      const index = chunk * 3 + offset;
      number = number * stringOrderBase + (index < value.length ? value.charCodeAt(index) + 1 : 0);
    }
    result.push(number);
  }
  return result;
}

/** What {@link chunkwiseOrder} builds its clauses with. */
export interface ChunkwiseOrderOptions<Clause> {
  /** Whether equal strings are in the range too (`gte`, `lte`). */
  inclusive: boolean;
  /** The clause "chunk `index` of the field equals `chunk`". */
  equal: (index: number, chunk: number) => Clause;
  /** The clause "chunk `index` of the field is strictly beyond `chunk`" (above or below). */
  beyond: (index: number, chunk: number) => Clause;
  /** The native clause of two or more clauses that all hold. */
  and: (clauses: Clause[]) => Clause;
  /** The native clause of two or more clauses of which one holds. */
  or: (clauses: Clause[]) => Clause;
}

/**
 * A string range over order keys ({@link stringOrderKey}): lexicographic order over the chunks,
 * so an `or` over each chunk index of "every earlier chunk equal and this one strictly beyond",
 * plus "every chunk equal" when the range is inclusive.
 */
export function chunkwiseOrder<Clause>(
  chunks: readonly number[],
  options: ChunkwiseOrderOptions<Clause>,
): FilterNode<Clause> {
  const equalUpTo = (end: number) =>
    chunks.slice(0, end).map((chunk, index) => options.equal(index, chunk));
  const ordered = chunks.map((chunk, index) =>
    joinFilterNodes('and', [...equalUpTo(index), options.beyond(index, chunk)], options.and),
  );
  if (options.inclusive)
    ordered.push(joinFilterNodes('and', equalUpTo(chunks.length), options.and));
  return joinFilterNodes('or', ordered, options.or);
}

/**
 * A string as 4-digit lowercase hex per UTF-16 code unit, for backends whose filter literals or
 * string order cannot be trusted: hex digits need no quoting and sort the same under any ordinal
 * or culture collation, and fixed-width digits keep JavaScript's code-unit order (a prefix sorts
 * first), so a range over the hex is a range over the strings.
 */
export function orderedHex(value: string): string {
  let hex = '';
  for (let index = 0; index < value.length; index++) {
    hex += value.charCodeAt(index).toString(16).padStart(4, '0');
  }
  return hex;
}
