import { filterableKeyPattern, maxFilterPathDepth, orderedHex } from '@engram/adapter-kit';
import {
  type FilterExpression,
  type FilterOperator,
  type FilterScalar,
  type JsonValue,
  UnsupportedFunctionalityError,
} from '@engram/core';

/** The type of a declared filter column (a top-level metadata key). */
export type DatabricksColumnType = 'string' | 'double' | 'boolean';

/** A standard endpoint's `filters_json` document: keys `"column"` or `"column <op>"`, ANDed. */
export type DatabricksFilter = Record<string, FilterScalar | FilterScalar[]>;

/** Operators translated exactly on any metadata field: `eq` through the equality-token column. */
export const databricksTokenFilterOperators: readonly FilterOperator[] = ['eq', 'and'];

/**
 * Operators translated exactly when filter columns are declared (`in` and ranges on those
 * columns only). Standard endpoints AND the keys of one document and have no general `OR`, no
 * `NOT` that keeps rows where the column is null, no existence test and no substring match of a
 * value, so `or`, `not`, `ne`, `nin`, `exists` and `contains` are refused; so are string ranges.
 */
export const databricksFilterOperators: readonly FilterOperator[] = [
  'eq',
  'in',
  'gt',
  'gte',
  'lt',
  'lte',
  'and',
];

/** The string column holding one `(path=value)` token per scalar metadata leaf, sorted. */
export const databricksTokenColumn = 'm_tokens';

/**
 * The equality token of a metadata leaf: path and typed value as hex, so a token holds only
 * `[0-9a-f=]` (no `LIKE` wildcard) between its parentheses, and `1`, `"1"` and `true` differ.
 */
export function databricksEqualityToken(path: string, value: FilterScalar): string {
  const typed =
    typeof value === 'string'
      ? `s:${value}`
      : typeof value === 'number'
        ? `n:${String(value)}`
        : `b:${String(value)}`;
  return `(${orderedHex(path)}=${orderedHex(typed)})`;
}

/** The sorted equality tokens of a record's scalar metadata leaves (nested objects, not arrays). */
export function databricksEqualityTokens(metadata: Record<string, JsonValue>): string {
  const tokens: string[] = [];
  const visit = (object: Record<string, JsonValue>, prefix: string) => {
    for (const [key, value] of Object.entries(object)) {
      if (!filterableKeyPattern.test(key) || value === null) continue;
      const path = prefix ? `${prefix}.${key}` : key;
      if (typeof value !== 'object') tokens.push(databricksEqualityToken(path, value));
      else if (!Array.isArray(value) && path.split('.').length < maxFilterPathDepth) {
        visit(value, path);
      }
    }
  };
  visit(metadata, '');
  return tokens.sort().join('');
}

const source = 'databricks';

/** The column of a declared metadata key. */
export const databricksColumn = (key: string) => `m_${key}`;

const matchesType = (value: FilterScalar, type: DatabricksColumnType) =>
  type === 'double' ? typeof value === 'number' : typeof value === type;

function refuse(message: string): never {
  throw new UnsupportedFunctionalityError({ source, message });
}

/** The column values of a record's declared metadata keys; `InvalidArgument`-worthy problems are returned. */
export function databricksFilterColumnValues(
  metadata: Record<string, JsonValue>,
  columns: Readonly<Record<string, DatabricksColumnType>>,
): { values: Record<string, FilterScalar | null>; problem?: string } {
  const values: Record<string, FilterScalar | null> = {};
  for (const [key, type] of Object.entries(columns)) {
    const value = metadata[key];
    if (value === undefined || value === null) {
      values[databricksColumn(key)] = null;
    } else if (typeof value !== 'object' && matchesType(value, type)) {
      values[databricksColumn(key)] = value;
    } else {
      return {
        values,
        problem: `metadata.${key} must be a ${type} (or absent): it is a declared filter column`,
      };
    }
  }
  return { values };
}

type Range = '<' | '<=' | '>' | '>=';
const ranges: Record<'gt' | 'gte' | 'lt' | 'lte', Range> = {
  gt: '>',
  gte: '>=',
  lt: '<',
  lte: '<=',
};

/**
 * Translates a portable filter into a `filters_json` document over the token and declared columns, or
 * `false` when it can match nothing (e.g. `in []`, or a value of another type than the column).
 * Throws `UnsupportedFunctionalityError` for `in` or ranges on undeclared fields, for operators outside
 * {@link databricksFilterOperators} and for string ranges.
 */
export function translateDatabricksFilter(
  filter: FilterExpression,
  columns: Readonly<Record<string, DatabricksColumnType>>,
): DatabricksFilter | false {
  const equal = new Map<string, FilterScalar[]>();
  const tokens = new Set<string>();
  const bounds: { key: string; value: number }[] = [];
  const visit = (node: FilterExpression): boolean => {
    if (node.op === 'and') return node.filters.every(visit);
    if (node.op === 'eq') {
      tokens.add(databricksEqualityToken(node.field, node.value));
      return true;
    }
    if (!databricksFilterOperators.includes(node.op)) {
      refuse(
        `The filter operator "${node.op}" cannot be expressed exactly in a Databricks standard endpoint filter; supported: ${databricksFilterOperators.join(', ')}.`,
      );
    }
    const { field } = node as { field: string };
    const type = columns[field];
    if (!type) {
      refuse(
        `"${node.op}" on metadata field "${field}" needs a declared filter column; declare it in filterColumns (a top-level key with its type) before the index is created.`,
      );
    }
    const column = databricksColumn(field);
    if (node.op === 'in') {
      const values = node.values.filter((value) => matchesType(value, type));
      const previous = equal.get(column);
      const kept = previous ? values.filter((value) => previous.includes(value)) : values;
      equal.set(column, [...new Set(kept)]);
      return kept.length > 0;
    }
    if (node.op === 'gt' || node.op === 'gte' || node.op === 'lt' || node.op === 'lte') {
      if (typeof node.value === 'string') {
        refuse(
          `"${node.op}" on strings is not supported by Databricks standard endpoint filters (ranges compare numbers); the value for "${field}" is a string.`,
        );
      }
      if (type !== 'double') return false;
      bounds.push({ key: `${column} ${ranges[node.op]}`, value: node.value });
      return true;
    }
    return refuse(`Unexpected filter operator "${node.op}".`);
  };
  if (!visit(filter)) return false;
  const document: DatabricksFilter = {};
  // Tokens are stored sorted, so one pattern with the wanted tokens in order finds them all.
  if (tokens.size > 0)
    document[`${databricksTokenColumn} LIKE`] = `%${[...tokens].sort().join('%')}%`;
  for (const [column, values] of equal)
    document[column] = values.length === 1 ? values[0]! : values;
  for (const { key, value } of bounds) {
    const previous = document[key] as number | undefined;
    const tighter = key.endsWith('>') || key.endsWith('>=') ? Math.max : Math.min;
    document[key] = previous === undefined ? value : tighter(previous, value);
  }
  return document;
}
