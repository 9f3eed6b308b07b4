import {
  chunkwiseOrder,
  type FilterNode,
  filterableKeyPattern,
  joinFilterNodes,
  maxFilterPathDepth,
  stringOrderKey as orderKey,
} from '@engram/adapter-kit';
import {
  type FilterExpression,
  type FilterOperator,
  type FilterScalar,
  filterOperators,
  type JsonValue,
  UnsupportedFunctionalityError,
} from '@engram/core';

/** A Pinecone metadata filter (the MongoDB-like query language of `query`, `deleteMany`, ...). */
export type PineconeFilter = Record<string, unknown>;

/**
 * Result of {@link translatePineconeFilter}: a native filter, or a constant when the portable
 * filter always (`true`) or never (`false`) matches, so that no empty `$in` or `$or` is sent.
 */
export type PineconeFilterTranslation = PineconeFilter | boolean;

/**
 * Operators translated exactly. `contains` is left out: Pinecone has no substring operator, and
 * the portable `contains` also matches substrings of string fields. `not` is supported by
 * pushing the negation down to complementary conditions, since Pinecone has no `$not`.
 */
export const pineconeFilterOperators: readonly FilterOperator[] = filterOperators.filter(
  (operator) => operator !== 'contains',
);

const source = 'pinecone';

/** Metadata key of the typed scalar tokens (`s:text`, `n:1.5`, `b:true`) per dotted path. */
export const valueKeyPrefix = '_v.';
/** Metadata key of numbers per dotted path, for range comparisons. */
export const numberKeyPrefix = '_n.';
/** Metadata key prefix of string order keys per dotted path (`_s.<path>.<chunk>`). */
export const stringKeyPrefix = '_s.';
/** Metadata key of the list of dotted paths that are present and not null. */
export const pathsKey = '_p';

/**
 * String comparisons run on numbers: each group of three UTF-16 code units becomes one integer
 * (digits `code unit + 1` in base 65,537, 0 after the end), which keeps JavaScript's string order
 * and stays below 2^53 (Pinecone stores numbers as 64-bit floats). Stored strings keep this many
 * groups, so comparisons are exact for values shorter than `3 * stringOrderChunks` code units.
 */
export const stringOrderChunks = 16;

/** The order-preserving integers of a string (see {@link stringOrderChunks}). */
export function stringOrderKey(value: string, chunks?: number): number[] {
  return orderKey(value, stringOrderChunks, chunks);
}

/** The typed token of a scalar: Pinecone's own equality would not keep `1`, `"1"` and `true` apart in lists. */
export function scalarToken(value: FilterScalar): string {
  if (typeof value === 'string') return `s:${value}`;
  if (typeof value === 'number') return `n:${String(value)}`;
  return `b:${String(value)}`;
}

/**
 * Flattens metadata into the flat keys Pinecone filters on (strings, numbers, booleans and lists
 * of strings only): a typed token per scalar, the number itself for ranges, order keys per
 * string, and the list of present paths. Only keys a portable filter can name are projected;
 * arrays are not (no `contains`), and the metadata itself is stored as exact JSON beside them.
 */
export function pineconeFilterFields(
  metadata: Record<string, JsonValue>,
): Record<string, string | number | string[]> {
  const fields: Record<string, string | number | string[]> = {};
  const paths: string[] = [];
  const visit = (object: Record<string, JsonValue>, prefix: string) => {
    for (const [key, value] of Object.entries(object)) {
      if (!filterableKeyPattern.test(key) || value === null) continue;
      const path = prefix ? `${prefix}.${key}` : key;
      paths.push(path);
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
        fields[`${valueKeyPrefix}${path}`] = scalarToken(value);
        if (typeof value === 'number') fields[`${numberKeyPrefix}${path}`] = value;
        if (typeof value === 'string') {
          for (const [index, number] of stringOrderKey(value).entries()) {
            fields[`${stringKeyPrefix}${path}.${index}`] = number;
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

type Node = FilterNode<PineconeFilter>;

const and = (nodes: Node[]) => joinFilterNodes('and', nodes, ($and) => ({ $and }));
const or = (nodes: Node[]) => joinFilterNodes('or', nodes, ($or) => ({ $or }));

/** Matches records without the key; written out so as not to depend on how `$ne` treats them. */
function missing(key: string): PineconeFilter {
  return { [key]: { $exists: false } };
}

type Comparison = 'gt' | 'gte' | 'lt' | 'lte';
const complement: Record<Comparison, Comparison> = { gt: 'lte', gte: 'lt', lt: 'gte', lte: 'gt' };

function compareString(field: string, op: Comparison, value: string): Node {
  if (value.length >= 3 * stringOrderChunks) {
    throw new UnsupportedFunctionalityError({
      source,
      message: `"${op}" compares strings of fewer than ${3 * stringOrderChunks} characters; the value for "${field}" has ${value.length}.`,
    });
  }
  const key = (index: number) => `${stringKeyPrefix}${field}.${index}`;
  const strict = op === 'gt' || op === 'gte' ? '$gt' : '$lt';
  return chunkwiseOrder<PineconeFilter>(stringOrderKey(value), {
    inclusive: op === 'gte' || op === 'lte',
    equal: (index, chunk) => ({ [key(index)]: { $eq: chunk } }),
    beyond: (index, chunk) => ({ [key(index)]: { [strict]: chunk } }),
    and: ($and) => ({ $and }),
    or: ($or) => ({ $or }),
  });
}

/** Translates `filter`, or its negation when `negated` (Pinecone has no `$not`). */
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
    case 'ne': {
      const key = `${valueKeyPrefix}${filter.field}`;
      const token = scalarToken(filter.value);
      return (filter.op === 'eq') !== negated
        ? { [key]: { $eq: token } }
        : or([missing(key), { [key]: { $ne: token } }]);
    }
    case 'in':
    case 'nin': {
      const key = `${valueKeyPrefix}${filter.field}`;
      const tokens = [...new Set(filter.values.map(scalarToken))];
      if ((filter.op === 'in') !== negated) {
        return tokens.length === 0 ? false : { [key]: { $in: tokens } };
      }
      return tokens.length === 0 ? true : or([missing(key), { [key]: { $nin: tokens } }]);
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const op = negated ? complement[filter.op] : filter.op;
      if (typeof filter.value === 'number') {
        const key = `${numberKeyPrefix}${filter.field}`;
        const range = { [key]: { [`$${op}`]: filter.value } };
        // the negation of "a number above v" also holds for records without a number there
        return negated ? or([missing(key), range]) : range;
      }
      const range = compareString(filter.field, op, filter.value);
      return negated ? or([missing(`${stringKeyPrefix}${filter.field}.0`), range]) : range;
    }
    case 'exists':
      return negated
        ? or([missing(pathsKey), { [pathsKey]: { $nin: [filter.field] } }])
        : { [pathsKey]: { $in: [filter.field] } };
    case 'contains':
      throw new UnsupportedFunctionalityError({
        source,
        message: `The filter operator "contains" cannot be expressed exactly in Pinecone (no substring match); supported: ${pineconeFilterOperators.join(', ')}.`,
      });
  }
}

/**
 * Translates a portable filter into a Pinecone metadata filter over the flat keys written by
 * this adapter. Returns `true` or `false` when the filter is constant (e.g. `in []`). Throws
 * `UnsupportedFunctionalityError` for `contains`, and for a string comparison whose value is
 * longer than the stored order keys cover.
 */
export function translatePineconeFilter(filter: FilterExpression): PineconeFilterTranslation {
  return translate(filter, false);
}
