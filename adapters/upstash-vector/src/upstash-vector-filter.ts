import {
  type FilterNode,
  filterableKeyPattern,
  joinFilterNodes,
  maxFilterPathDepth,
  orderedHex,
} from '@engram/adapter-kit';
import {
  type FilterExpression,
  type FilterOperator,
  type FilterScalar,
  filterOperators,
  type JsonValue,
  UnsupportedFunctionalityError,
} from '@engram/core';

/**
 * Result of {@link translateUpstashVectorFilter}: an Upstash filter string, or a constant when
 * the portable filter always (`true`) or never (`false`) matches.
 */
export type UpstashVectorFilterTranslation = string | boolean;

/** The filterable projection of a record's metadata, stored beside it in Upstash metadata. */
export interface UpstashVectorFilterFields {
  /** Hex of `<path>=<typed token>` per scalar, plus `''` so the array is never empty. */
  t: string[];
  /** Hex of each dotted path present and not null, plus `''`. */
  p: string[];
  /** Numbers per path, under {@link pathKey}. */
  n: Record<string, number>;
  /** Strings per path as {@link orderedHex}, under {@link pathKey}. */
  s: Record<string, string>;
}

/**
 * Operators translated exactly. `contains` is left out: Upstash's `CONTAINS` tests array
 * elements only, and its `GLOB` reads `*`, `?` and `[` in the value, while the portable
 * `contains` also matches literal substrings of strings.
 */
export const upstashVectorFilterOperators: readonly FilterOperator[] = filterOperators.filter(
  (operator) => operator !== 'contains',
);

const source = 'upstash-vector';

/** The metadata key of a dotted path inside `n` and `s`: an identifier whatever the path holds. */
export function pathKey(path: string): string {
  return `f${orderedHex(path)}`;
}

/** The typed token of a scalar, so that `1`, `"1"` and `true` never compare equal. */
export function scalarToken(value: FilterScalar): string {
  if (typeof value === 'string') return `s:${value}`;
  if (typeof value === 'number') return `n:${String(value)}`;
  return `b:${String(value)}`;
}

const token = (field: string, value: FilterScalar) => orderedHex(`${field}=${scalarToken(value)}`);

/** Projects metadata onto the filter fields (arrays are not walked into, objects are). */
export function upstashVectorFilterFields(
  metadata: Record<string, JsonValue>,
): UpstashVectorFilterFields {
  const fields: UpstashVectorFilterFields = { t: [''], p: [''], n: {}, s: {} };
  const visit = (object: Record<string, JsonValue>, prefix: string) => {
    for (const [key, value] of Object.entries(object)) {
      if (!filterableKeyPattern.test(key) || value === null) continue;
      const path = prefix ? `${prefix}.${key}` : key;
      fields.p.push(orderedHex(path));
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
        fields.t.push(token(path, value));
        if (typeof value === 'number') fields.n[pathKey(path)] = value;
        if (typeof value === 'string') fields.s[pathKey(path)] = orderedHex(value);
      } else if (!Array.isArray(value) && path.split('.').length < maxFilterPathDepth) {
        visit(value, path);
      }
    }
  };
  visit(metadata, '');
  return fields;
}

type Node = FilterNode<string>;

const and = (nodes: Node[]) =>
  joinFilterNodes('and', nodes, (clauses) => `(${clauses.join(' AND ')})`);
const or = (nodes: Node[]) =>
  joinFilterNodes('or', nodes, (clauses) => `(${clauses.join(' OR ')})`);

type Comparison = 'gt' | 'gte' | 'lt' | 'lte';
const symbol: Record<Comparison, string> = { gt: '>', gte: '>=', lt: '<', lte: '<=' };
const complement: Record<Comparison, Comparison> = { gt: 'lte', gte: 'lt', lt: 'gte', lte: 'gt' };

/** Translates `filter`, or its negation when `negated` (the filter language has no `NOT`). */
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
      const values: FilterScalar[] = 'values' in filter ? filter.values : [filter.value];
      const tokens = [...new Set(values.map((value) => token(filter.field, value)))];
      const positive = (filter.op === 'eq' || filter.op === 'in') !== negated;
      return positive
        ? or(tokens.map((hex) => `t CONTAINS '${hex}'`))
        : and(tokens.map((hex) => `t NOT CONTAINS '${hex}'`));
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const op = negated ? complement[filter.op] : filter.op;
      const isNumber = typeof filter.value === 'number';
      const key = `${isNumber ? 'n' : 's'}.${pathKey(filter.field)}`;
      const literal = isNumber ? String(filter.value) : `'${orderedHex(String(filter.value))}'`;
      if (isNumber && /e/i.test(literal)) {
        throw new UnsupportedFunctionalityError({
          source,
          message: `"${filter.op}" on "${filter.field}" compares with ${literal}, which has no plain decimal form of the same value, and the documented filter syntax has no exponent notation. Use a bound between 1e-7 and 1e21 in magnitude.`,
        });
      }
      const comparison = `${key} ${symbol[op]} ${literal}`;
      // Written out so as not to depend on how a comparison treats a missing key.
      return negated
        ? or([`HAS NOT FIELD ${key}`, comparison])
        : and([`HAS FIELD ${key}`, comparison]);
    }
    case 'exists':
      return `p ${negated ? 'NOT CONTAINS' : 'CONTAINS'} '${orderedHex(filter.field)}'`;
    case 'contains':
      throw new UnsupportedFunctionalityError({
        source,
        message: `The filter operator "contains" cannot be expressed exactly in Upstash Vector (CONTAINS tests array elements only, GLOB reads wildcards); supported: ${upstashVectorFilterOperators.join(', ')}.`,
      });
  }
}

/**
 * Translates a portable filter into Upstash Vector's SQL-like metadata filter over the
 * projection this adapter writes (see {@link upstashVectorFilterFields}). Returns `true` or
 * `false` when the filter is constant (e.g. `in []`). Throws `UnsupportedFunctionalityError`
 * for `contains`.
 */
export function translateUpstashVectorFilter(
  filter: FilterExpression,
): UpstashVectorFilterTranslation {
  return translate(filter, false);
}
