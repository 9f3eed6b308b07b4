import { createHash } from 'node:crypto';
import {
  chunkwiseOrder,
  type FilterNode,
  filterableKeyPattern,
  joinFilterNodes,
  maxFilterPathDepth,
  stringOrderKey,
} from '@engram/adapter-kit';
import {
  type FilterExpression,
  type FilterOperator,
  type FilterScalar,
  filterOperators,
  type JsonValue,
  UnsupportedFunctionalityError,
} from '@engram/core';

/** An S3 Vectors metadata filter (a JSON document of `$eq`, `$in`, `$and`, ...). */
export type S3VectorsFilter = Record<string, unknown>;

/**
 * Result of {@link translateS3VectorsFilter}: a native filter, or a constant when the portable
 * filter always (`true`) or never (`false`) matches, so that no empty `$in` or `$or` is sent.
 */
export type S3VectorsFilterTranslation = S3VectorsFilter | boolean;

/**
 * Operators translated exactly. `contains` is left out: S3 Vectors has no substring operator,
 * and the portable `contains` also matches substrings of string fields. `not` is pushed down to
 * complementary conditions, since S3 Vectors has no `$not`.
 */
export const s3VectorsFilterOperators: readonly FilterOperator[] = filterOperators.filter(
  (operator) => operator !== 'contains',
);

const source = 's3-vectors';

/**
 * Groups of three UTF-16 code units kept per string for range comparisons (S3 Vectors compares
 * numbers only, and filterable metadata is limited to 2 KB per vector): string bounds must be
 * shorter than `3 * stringOrderChunks` code units.
 */
export const stringOrderChunks = 6;
/** Strings longer than this are stored in their equality token as a 128-bit SHA-256 prefix, to stay small. */
export const maxTokenStringLength = 24;

// Keys are flat (S3 Vectors metadata has no objects); `/` separates path segments, which the
// portable field pattern never contains.
const valueKey = (path: string) => `v/${path.replaceAll('.', '/')}`;
const numberKey = (path: string) => `n/${path.replaceAll('.', '/')}`;
const stringKey = (path: string, index: number) => `s${index}/${path.replaceAll('.', '/')}`;
/** The key listing the dotted paths of objects and arrays (scalars have their own `v/` key). */
export const pathsKey = 'p';

/** The typed token of a scalar, so that `1`, `"1"` and `true` never compare equal. */
export function scalarToken(value: FilterScalar): string {
  if (typeof value === 'string') {
    return value.length <= maxTokenStringLength
      ? `s:${value}`
      : `h:${createHash('sha256').update(value, 'utf8').digest('base64url').slice(0, 22)}`;
  }
  if (typeof value === 'number') return `n:${String(value)}`;
  return `b:${String(value)}`;
}

/** Flattens metadata onto the filterable keys this adapter writes. */
export function s3VectorsFilterFields(
  metadata: Record<string, JsonValue>,
): Record<string, string | number | string[]> {
  const fields: Record<string, string | number | string[]> = {};
  const paths: string[] = [];
  const visit = (object: Record<string, JsonValue>, prefix: string) => {
    for (const [key, value] of Object.entries(object)) {
      if (!filterableKeyPattern.test(key) || value === null) continue;
      const path = prefix ? `${prefix}.${key}` : key;
      if (typeof value === 'object') paths.push(path);
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
        fields[valueKey(path)] = scalarToken(value);
        if (typeof value === 'number') fields[numberKey(path)] = value;
        if (typeof value === 'string') {
          for (const [index, chunk] of stringOrderKey(value, stringOrderChunks).entries()) {
            fields[stringKey(path, index)] = chunk;
          }
        }
      } else if (!Array.isArray(value) && path.split('.').length < maxFilterPathDepth) {
        visit(value, path);
      }
    }
  };
  visit(metadata, '');
  if (paths.length > 0) fields[pathsKey] = paths;
  return fields;
}

type Node = FilterNode<S3VectorsFilter>;

const and = (nodes: Node[]) => joinFilterNodes('and', nodes, ($and) => ({ $and }));
const or = (nodes: Node[]) => joinFilterNodes('or', nodes, ($or) => ({ $or }));
const missing = (key: string): S3VectorsFilter => ({ [key]: { $exists: false } });

type Comparison = 'gt' | 'gte' | 'lt' | 'lte';
const complement: Record<Comparison, Comparison> = { gt: 'lte', gte: 'lt', lt: 'gte', lte: 'gt' };

function compareString(field: string, op: Comparison, value: string): Node {
  if (value.length >= 3 * stringOrderChunks) {
    throw new UnsupportedFunctionalityError({
      source,
      message: `"${op}" compares strings of fewer than ${3 * stringOrderChunks} characters in S3 Vectors (it compares numbers only, so strings are stored as order keys); the value for "${field}" has ${value.length}.`,
    });
  }
  const strict = op === 'gt' || op === 'gte' ? '$gt' : '$lt';
  return chunkwiseOrder<S3VectorsFilter>(stringOrderKey(value, stringOrderChunks), {
    inclusive: op === 'gte' || op === 'lte',
    equal: (index, chunk) => ({ [stringKey(field, index)]: { $eq: chunk } }),
    beyond: (index, chunk) => ({ [stringKey(field, index)]: { [strict]: chunk } }),
    and: ($and) => ({ $and }),
    or: ($or) => ({ $or }),
  });
}

/** Translates `filter`, or its negation when `negated`. */
function translate(filter: FilterExpression, negated: boolean): Node {
  switch (filter.op) {
    case 'and':
    case 'or': {
      const children = filter.filters.map((child) => translate(child, negated));
      return (filter.op === 'and') !== negated ? and(children) : or(children);
    }
    case 'not':
      return translate(filter.filter, !negated);
    case 'eq':
    case 'ne':
    case 'in':
    case 'nin': {
      const key = valueKey(filter.field);
      const values: FilterScalar[] = 'values' in filter ? filter.values : [filter.value];
      const tokens = [...new Set(values.map(scalarToken))];
      const positive = (filter.op === 'eq' || filter.op === 'in') !== negated;
      if (tokens.length === 0) return !positive;
      const condition = positive
        ? { $in: tokens }
        : tokens.length === 1
          ? { $ne: tokens[0] }
          : { $nin: tokens };
      // "missing" is written out so as not to depend on how $ne / $nin treat absent keys
      return positive ? { [key]: condition } : or([missing(key), { [key]: condition }]);
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const op = negated ? complement[filter.op] : filter.op;
      if (typeof filter.value === 'number') {
        const key = numberKey(filter.field);
        const range = { [key]: { [`$${op}`]: filter.value } };
        return negated ? or([missing(key), range]) : range;
      }
      const range = compareString(filter.field, op, filter.value);
      return negated ? or([missing(stringKey(filter.field, 0)), range]) : range;
    }
    case 'exists': {
      const key = valueKey(filter.field);
      return negated
        ? and([missing(key), or([missing(pathsKey), { [pathsKey]: { $nin: [filter.field] } }])])
        : or([{ [key]: { $exists: true } }, { [pathsKey]: { $in: [filter.field] } }]);
    }
    case 'contains':
      throw new UnsupportedFunctionalityError({
        source,
        message: `The filter operator "contains" cannot be expressed exactly in S3 Vectors (no substring match); supported: ${s3VectorsFilterOperators.join(', ')}.`,
      });
  }
}

/**
 * Translates a portable filter into an S3 Vectors metadata filter over the flat keys this
 * adapter writes. Returns `true` or `false` when the filter is constant (e.g. `in []`). Throws
 * `UnsupportedFunctionalityError` for `contains`, and for a string range whose bound is longer
 * than the stored order keys cover.
 */
export function translateS3VectorsFilter(filter: FilterExpression): S3VectorsFilterTranslation {
  return translate(filter, false);
}
