import { chunkwiseOrder, joinFilterNodes } from '@engram/adapter-kit';
import {
  type FilterExpression,
  type FilterOperator,
  type FilterScalar,
  filterOperators,
  type JsonValue,
  UnsupportedFunctionalityError,
  validateFilter,
} from '@engram/core';
import type { Where } from 'chromadb';

const source = 'chroma';

/** Chroma metadata key every record carries (value `true`), so "every record" is a `where`. */
export const chromaRecordKey = 'engram:record';

/**
 * Prefix of the Chroma metadata keys naming the JSON type of every metadata path that holds a
 * non-null value: `t:<path>` is `string`, `number`, `boolean`, `object` or `array`. Scalar keys
 * are used rather than a list of paths because Chroma 1.5 keeps list values of deleted records
 * and hands them to records created later in their place.
 */
export const chromaTypePrefix = 't:';

const jsonTypes = ['string', 'number', 'boolean', 'object', 'array'];

/**
 * Prefix of the Chroma metadata keys that hold flattened strings, booleans and safe integers.
 */
export const chromaMetadataPrefix = 'm:';

/**
 * Prefix of the Chroma metadata keys that hold flattened numbers other than safe integers. Chroma
 * truncates a float operand compared with an integer value (`{ $eq: 3.75 }` matches 3), so the
 * two kinds live under different keys and each gets operands it compares exactly.
 */
export const chromaFloatPrefix = 'f:';

/**
 * Chroma metadata keys of the order-preserving numeric chunks of a string value: key
 * `s:<index>:<path>`. Chroma compares only numbers with `$gt`/`$lt`, so string ranges are
 * evaluated over these.
 */
export const chromaStringChunkPrefix = 's:';

/**
 * Chunks stored per string value (three UTF-16 code units each). A range filter compares
 * strings exactly when its value is shorter than three times this many code units.
 */
export const chromaStringChunkLimit = 64;

const unitsPerChunk = 3;
// Each code unit is stored plus one, so that 0 stands for "past the end" and sorts first;
// 65537^3 < 2^53, so a chunk is an exact integer in JSON and in Chroma.
const chunkBase = 65_537;

/** Filter operators Chroma can evaluate with exactly core's semantics. */
export const chromaFilterOperators: readonly FilterOperator[] = filterOperators.filter(
  (operator) => operator !== 'contains',
);

/** A `where` clause that matches every record the adapter wrote. */
export const chromaMatchAll: Where = { [chromaRecordKey]: { $eq: true } };

/** A `where` clause that matches no record. */
export const chromaMatchNone: Where = { [chromaRecordKey]: { $ne: true } };

const segmentPattern = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
const maxSegments = 8;

/**
 * What the adapter stores beside the exact JSON so that Chroma can filter on metadata, by Chroma
 * metadata key: `m:<path>` for strings, booleans and safe integers, `f:<path>` for other numbers,
 * `s:<index>:<path>` for the numeric chunks of strings, `t:<path>` for the JSON type of every
 * non-null value, and the record marker.
 */
export type FlattenedMetadata = Record<string, string | number | boolean>;

/**
 * The order-preserving chunks of a string: comparing two strings' chunk sequences element by
 * element (a missing chunk counting as 0) orders them exactly as JavaScript's `<` does. The
 * chunk holding the end of the string is always included, up to `limit` chunks.
 */
export function chromaStringChunks(value: string, limit = chromaStringChunkLimit): number[] {
  const count = Math.min(Math.floor(value.length / unitsPerChunk) + 1, limit);
  const chunks: number[] = [];
  for (let chunk = 0; chunk < count; chunk++) {
    let encoded = 0;
    for (let unit = 0; unit < unitsPerChunk; unit++) {
      const index = chunk * unitsPerChunk + unit;
      encoded = encoded * chunkBase + (index < value.length ? value.charCodeAt(index) + 1 : 0);
    }
    chunks.push(encoded);
  }
  return chunks;
}

function chunkKey(index: number, field: string): string {
  return `${chromaStringChunkPrefix}${index}:${field}`;
}

/**
 * Flattens metadata into what Chroma's `where` can address: one key per scalar at a path a filter
 * can name (plus the numeric chunks of strings), and the JSON type of every path that holds a
 * value. Arrays are not descended into (a filter's dotted path never reaches into an array), and
 * nulls are left out (for every operator a null behaves like a missing field).
 */
export function flattenChromaMetadata(metadata: Record<string, JsonValue>): FlattenedMetadata {
  const flattened: FlattenedMetadata = { [chromaRecordKey]: true };
  const walk = (object: Record<string, JsonValue>, prefix: string, depth: number) => {
    for (const [key, value] of Object.entries(object)) {
      if (value === null || !segmentPattern.test(key)) continue;
      const path = prefix ? `${prefix}.${key}` : key;
      if (typeof value === 'object') {
        const isArray = Array.isArray(value);
        flattened[`${chromaTypePrefix}${path}`] = isArray ? 'array' : 'object';
        if (!isArray && depth + 1 < maxSegments) walk(value, path, depth + 1);
        continue;
      }
      flattened[`${chromaTypePrefix}${path}`] = typeof value;
      flattened[`${isFloat(value) ? chromaFloatPrefix : chromaMetadataPrefix}${path}`] = value;
      if (typeof value === 'string') {
        for (const [index, chunk] of chromaStringChunks(value).entries()) {
          flattened[chunkKey(index, path)] = chunk;
        }
      }
    }
  };
  walk(metadata, '', 0);
  return flattened;
}

type Condition = Where | boolean;

function isFloat(value: unknown): value is number {
  return typeof value === 'number' && !Number.isSafeInteger(value);
}

/** The key a scalar value of this kind is stored under. */
function key(field: string, value?: FilterScalar): string {
  return `${isFloat(value) ? chromaFloatPrefix : chromaMetadataPrefix}${field}`;
}

/** `$and` or `$or` of parts, folding constants and flattening nested clauses of the same operator. */
function combine(operator: '$and' | '$or', parts: Condition[]): Condition {
  return joinFilterNodes(
    operator === '$and' ? 'and' : 'or',
    parts,
    (kept) =>
      ({
        [operator]: kept.flatMap((part) => {
          const nested = (part as Record<string, unknown>)[operator];
          return Array.isArray(nested) ? (nested as Where[]) : [part];
        }),
      }) as Where,
  );
}

// Chroma's `$in` wants one value type per list, and tells integers from floats.
function groupByType(values: readonly FilterScalar[]): FilterScalar[][] {
  const groups = new Map<string, FilterScalar[]>();
  for (const value of values) {
    const type = typeof value === 'number' ? (isFloat(value) ? 'float' : 'integer') : typeof value;
    const group = groups.get(type) ?? [];
    if (!group.includes(value)) group.push(value);
    groups.set(type, group);
  }
  return [...groups.values()];
}

function unsupported(op: string): never {
  throw new UnsupportedFunctionalityError({
    source,
    message: `The filter operator "${op}" is not supported by the Chroma store: Chroma cannot match a substring of a metadata value. Supported: ${chromaFilterOperators.join(', ')}.`,
  });
}

type RangeOperator = 'gt' | 'gte' | 'lt' | 'lte';

const complementOf: Record<RangeOperator, RangeOperator> = {
  gt: 'lte',
  gte: 'lt',
  lt: 'gte',
  lte: 'gt',
};

/**
 * A string field strictly above (or below) a value: the first chunk where they differ decides,
 * so it is an `or` over each chunk index of "every earlier chunk equal and this one greater".
 * Only chunks up to the one holding the value's end are needed, and a record that satisfies the
 * equalities always has the chunk being compared.
 */
function stringBeyond(field: string, value: string, above: boolean): Condition {
  const chunks = chromaStringChunks(value, Number.POSITIVE_INFINITY);
  if (chunks.length > chromaStringChunkLimit) {
    throw new UnsupportedFunctionalityError({
      source,
      message: `A string compared with gt, gte, lt or lte may have at most ${chromaStringChunkLimit * unitsPerChunk - 1} UTF-16 code units in the Chroma store; got ${value.length}.`,
    });
  }
  return chunkwiseOrder<Where>(chunks, {
    inclusive: false,
    equal: (index, chunk) => ({ [chunkKey(index, field)]: { $eq: chunk } }),
    beyond: (index, chunk) => ({
      [chunkKey(index, field)]: above ? { $gt: chunk } : { $lt: chunk },
    }),
    and: (parts) => combine('$and', parts) as Where,
    or: (parts) => combine('$or', parts) as Where,
  });
}

/**
 * A number range over both number keys. Integers are compared with integer operands only: a
 * fractional bound becomes the nearest integer bound that selects the same integers.
 */
function numberRange(op: RangeOperator, field: string, value: number): Condition {
  const floats = { [`${chromaFloatPrefix}${field}`]: { [`$${op}`]: value } } as Where;
  if (!Number.isFinite(value) || Math.abs(value) > Number.MAX_SAFE_INTEGER) return floats;
  let integerOperator: string = op;
  let integerBound = value;
  if (!Number.isInteger(value)) {
    const above = op === 'gt' || op === 'gte';
    integerOperator = above ? 'gte' : 'lte';
    integerBound = above ? Math.ceil(value) : Math.floor(value);
  }
  return combine('$or', [
    { [`${chromaMetadataPrefix}${field}`]: { [`$${integerOperator}`]: integerBound } } as Where,
    floats,
  ]);
}

function range(op: RangeOperator, field: string, value: number | string): Condition {
  if (typeof value === 'number') return numberRange(op, field, value);
  const strict = stringBeyond(field, value, op === 'gt' || op === 'gte');
  if (op === 'gt' || op === 'lt') return strict;
  return combine('$or', [strict, { [key(field)]: { $eq: value } }]);
}

/**
 * Translates a portable filter into a Chroma `where` clause over the flattened metadata keys that
 * {@link flattenChromaMetadata} writes, with exactly core's semantics. `not` is pushed down to the
 * leaves, where each operator has an exact complement in Chroma (`$ne` and `$nin` match records
 * without the key; and `$nin` over the type key means "missing or null"). Values are compared
 * without type coercion, as Chroma does. String ranges are evaluated over order-preserving numeric
 * chunks ({@link chromaStringChunks}), since Chroma's `$gt`/`$lt` accept only numbers. Throws
 * `UnsupportedFunctionalityError` for `contains`, which Chroma cannot evaluate exactly (it has no
 * substring match on metadata).
 */
export function translateChromaFilter(filter: FilterExpression): Where {
  const translate = (node: FilterExpression, negated: boolean): Condition => {
    switch (node.op) {
      case 'and':
      case 'or': {
        const parts = node.filters.map((child) => translate(child, negated));
        return combine((node.op === 'and') !== negated ? '$and' : '$or', parts);
      }
      case 'not':
        return translate(node.filter, !negated);
      case 'eq':
      case 'ne':
        return {
          [key(node.field, node.value)]: {
            [(node.op === 'eq') !== negated ? '$eq' : '$ne']: node.value,
          },
        } as Where;
      case 'in':
      case 'nin': {
        const positive = (node.op === 'in') !== negated;
        const parts = groupByType(node.values).map(
          (group) =>
            ({ [key(node.field, group[0])]: { [positive ? '$in' : '$nin']: group } }) as Where,
        );
        return combine(positive ? '$or' : '$and', parts);
      }
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte': {
        if (!negated) return range(node.op, node.field, node.value);
        // Not above a number: not a number at all, or a number at most the value.
        const type = typeof node.value === 'number' ? 'number' : 'string';
        return combine('$or', [
          { [`${chromaTypePrefix}${node.field}`]: { $ne: type } },
          range(complementOf[node.op], node.field, node.value),
        ]);
      }
      case 'exists':
        return {
          [`${chromaTypePrefix}${node.field}`]: negated ? { $nin: jsonTypes } : { $in: jsonTypes },
        };
      default:
        return unsupported(node.op);
    }
  };
  const condition = translate(validateFilter(filter), false);
  if (condition === true) return chromaMatchAll;
  if (condition === false) return chromaMatchNone;
  return condition;
}
