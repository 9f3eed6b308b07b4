import {
  chunkwiseOrder,
  type FilterNode,
  filterableKeyPattern,
  joinFilterNodes,
  maxFilterPathDepth,
  negateFilterNode,
  stringOrderKey as orderKey,
  setAtPath,
} from '@engram/adapter-kit';
import {
  type FilterExpression,
  type FilterOperator,
  type FilterScalar,
  filterOperators,
  type JsonValue,
  UnsupportedFunctionalityError,
} from '@engram/core';
import type { Schemas } from '@qdrant/js-client-rest';

/** A Qdrant filter condition (field condition or nested filter), as sent over REST. */
export type QdrantCondition = Schemas['Condition'];

/** A Qdrant filter, as sent over REST. */
export type QdrantFilter = Schemas['Filter'];

/**
 * Result of {@link translateQdrantFilter}: a native filter, or a constant when the portable
 * filter always (`true`) or never (`false`) matches, so that no ambiguous empty clause is sent.
 */
export type QdrantFilterTranslation = QdrantCondition | boolean;

/**
 * Operators translated exactly. `contains` is left out: Qdrant has array-element matching but no
 * exact, case-sensitive substring condition (`match.text` tokenizes and lowercases).
 */
export const qdrantFilterOperators: readonly FilterOperator[] = filterOperators.filter(
  (operator) => operator !== 'contains',
);

const source = 'qdrant';

/** Payload key holding the filter-only projection of the metadata (see {@link qdrantFilterFields}). */
export const filterPayloadKey = '_filter';

/**
 * String comparisons run on integers: each group of three UTF-16 code units becomes one integer
 * (digits `code unit + 1` in base 65,537, 0 after the end), which keeps JavaScript's string order
 * and stays below 2^53. Stored strings keep this many groups, so comparisons are exact for
 * filter values shorter than `3 * stringOrderChunks` code units.
 */
export const stringOrderChunks = 32;

/** The order-preserving integers of a string (see {@link stringOrderChunks}). */
export function stringOrderKey(value: string, chunks?: number): number[] {
  return orderKey(value, stringOrderChunks, chunks);
}

/** The filterable projection of one record's metadata, stored under {@link filterPayloadKey}. */
export interface QdrantFilterFields {
  /** Scalars (strings, numbers, booleans) at their path; arrays and nulls removed. */
  values: Record<string, JsonValue>;
  /** Scalar elements of arrays, at the array's path. */
  arrays: Record<string, JsonValue>;
  /** Order keys of strings (`{ c0, c1, ... }`), at the string's path. */
  strings: Record<string, JsonValue>;
  /** Every dotted path whose value is present and not null. */
  paths: string[];
}

/**
 * Projects metadata into trees that Qdrant's conditions evaluate exactly as core's `matchesFilter`
 * does: Qdrant matches an array if any element matches and reaches into arrays along a path,
 * while the portable semantics compare whole values and never cross arrays. So scalars, array
 * elements and string order keys live in separate trees, and only keys a filter can name (the
 * portable field pattern) are projected; the metadata itself is stored unchanged beside them.
 */
export function qdrantFilterFields(metadata: Record<string, JsonValue>): QdrantFilterFields {
  const fields: QdrantFilterFields = { values: {}, arrays: {}, strings: {}, paths: [] };
  const visit = (object: Record<string, JsonValue>, prefix: string[]) => {
    for (const [key, value] of Object.entries(object)) {
      if (!filterableKeyPattern.test(key) || value === null) continue;
      const path = [...prefix, key];
      fields.paths.push(path.join('.'));
      if (typeof value === 'string') {
        setAtPath(fields.values, path, value);
        const order: Record<string, number> = {};
        for (const [index, number] of stringOrderKey(value).entries()) order[`c${index}`] = number;
        setAtPath(fields.strings, path, order);
      } else if (typeof value === 'number' || typeof value === 'boolean') {
        setAtPath(fields.values, path, value);
      } else if (Array.isArray(value)) {
        setAtPath(
          fields.arrays,
          path,
          value.filter((element) => element !== null && typeof element !== 'object'),
        );
      } else if (path.length < maxFilterPathDepth) {
        visit(value, path);
      }
    }
  };
  visit(metadata, []);
  return fields;
}

type Node = FilterNode<QdrantCondition>;

const and = (nodes: Node[]) => joinFilterNodes('and', nodes, (must) => ({ must }));
const or = (nodes: Node[]) => joinFilterNodes('or', nodes, (should) => ({ should }));
const not = (node: Node) => negateFilterNode(node, (condition) => ({ must_not: [condition] }));

function valuesKey(field: string): string {
  return `${filterPayloadKey}.values.${field}`;
}

/** Qdrant's `match.value` takes strings, integers and booleans; other numbers use a closed range. */
function equals(key: string, value: FilterScalar): QdrantCondition {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    return { key, range: { gte: value, lte: value } };
  }
  return { key, match: { value } };
}

function anyOf(key: string, values: readonly FilterScalar[]): Node {
  const strings = [...new Set(values.filter((value) => typeof value === 'string'))];
  const integers = [
    ...new Set(
      values.filter(
        (value): value is number => typeof value === 'number' && Number.isSafeInteger(value),
      ),
    ),
  ];
  const others = [
    ...new Set(
      values.filter(
        (value) =>
          typeof value === 'boolean' || (typeof value === 'number' && !Number.isSafeInteger(value)),
      ),
    ),
  ];
  // `match.any` holds one type at a time, so strings and integers each get their own condition.
  return or([
    ...(strings.length > 0 ? [{ key, match: { any: strings } }] : []),
    ...(integers.length > 0 ? [{ key, match: { any: integers } }] : []),
    ...others.map((value) => equals(key, value)),
  ]);
}

function compareNumber(field: string, op: 'gt' | 'gte' | 'lt' | 'lte', value: number): Node {
  return { key: valuesKey(field), range: { [op]: value } };
}

function compareString(field: string, op: 'gt' | 'gte' | 'lt' | 'lte', value: string): Node {
  if (value.length >= 3 * stringOrderChunks) {
    throw new UnsupportedFunctionalityError({
      source,
      message: `"${op}" compares strings of fewer than ${3 * stringOrderChunks} characters; the value for "${field}" has ${value.length}.`,
    });
  }
  const key = (index: number) => `${filterPayloadKey}.strings.${field}.c${index}`;
  const strict = op === 'gt' || op === 'gte' ? 'gt' : 'lt';
  return chunkwiseOrder<QdrantCondition>(stringOrderKey(value), {
    inclusive: op === 'gte' || op === 'lte',
    equal: (index, chunk) => ({ key: key(index), match: { value: chunk } }),
    beyond: (index, chunk) => ({ key: key(index), range: { [strict]: chunk } }),
    and: (must) => ({ must }),
    or: (should) => ({ should }),
  });
}

function unsupported(op: FilterOperator): never {
  throw new UnsupportedFunctionalityError({
    source,
    message: `The filter operator "${op}" cannot be expressed exactly in Qdrant; supported: ${qdrantFilterOperators.join(', ')}.`,
  });
}

function translate(filter: FilterExpression): Node {
  switch (filter.op) {
    case 'and':
      return and(filter.filters.map(translate));
    case 'or':
      return or(filter.filters.map(translate));
    case 'not':
      return not(translate(filter.filter));
    case 'eq':
      return equals(valuesKey(filter.field), filter.value);
    case 'ne':
      // must_not also matches points without the field, as the portable `ne` requires.
      return not(equals(valuesKey(filter.field), filter.value));
    case 'in':
      return anyOf(valuesKey(filter.field), filter.values);
    case 'nin':
      return not(anyOf(valuesKey(filter.field), filter.values));
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return typeof filter.value === 'number'
        ? compareNumber(filter.field, filter.op, filter.value)
        : compareString(filter.field, filter.op, filter.value);
    case 'exists':
      return { key: `${filterPayloadKey}.paths`, match: { value: filter.field } };
    default:
      return unsupported(filter.op);
  }
}

/**
 * Translates a portable filter into a Qdrant condition over the payload written by this adapter.
 * Returns `true` or `false` when the filter is constant (e.g. `in []`). Throws
 * `UnsupportedFunctionalityError` for `contains`, and for a string comparison whose value is
 * longer than the stored order keys cover.
 */
export function translateQdrantFilter(filter: FilterExpression): QdrantFilterTranslation {
  return translate(filter);
}
