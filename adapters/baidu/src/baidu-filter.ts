import { orderedHex } from '@engram/adapter-kit';
import {
  type FilterExpression,
  type FilterOperator,
  type FilterScalar,
  filterOperators,
  InvalidArgumentError,
  type JsonValue,
  readField,
  UnsupportedFunctionalityError,
} from '@engram/core';

/**
 * Every portable operator but `contains`: Mochow's filter expressions have no substring or
 * array-membership test. The others are exact on declared filter paths.
 */
export const baiduFilterOperators: readonly FilterOperator[] = filterOperators.filter(
  (operator) => operator !== 'contains',
);

const source = 'baidu';
const pathPattern = /^[A-Za-z_][A-Za-z0-9_]{0,40}(?:\.[A-Za-z_][A-Za-z0-9_]{0,40}){0,3}$/;

/** The column stem of a declared path (`nested.city` → `nested__city`). */
const stem = (path: string) => path.replaceAll('.', '__');
/** `s` + hex of a string value, `''` otherwise: literals need no escaping and keep JavaScript's order. */
export const baiduStringColumn = (path: string) => `s_${stem(path)}`;
/** The number, `0` otherwise. */
export const baiduNumberColumn = (path: string) => `n_${stem(path)}`;
/** The type: `s`, `n`, `t` (true), `f` (false), `o` (object or array) or `''` (absent or null). */
export const baiduTypeColumn = (path: string) => `t_${stem(path)}`;

/** Checks the declared filter paths (letters, digits and `_`, at most four levels). */
export function assertBaiduFilterPaths(paths: readonly string[]): void {
  for (const path of paths) {
    if (!pathPattern.test(path) || path.includes('__')) {
      throw new InvalidArgumentError({
        source,
        message: `filterFields entry "${path}" is not a metadata path of letters, digits and "_" (no "__"), at most four levels.`,
      });
    }
  }
}

/** A string as a filter literal: `s` + hex, which holds no quote. */
export const baiduStringLiteral = (value: string) => `s${orderedHex(value)}`;

/** The typed columns of a record's declared paths; every column always holds a value (no nulls). */
export function baiduFilterColumnValues(
  metadata: Record<string, JsonValue>,
  paths: readonly string[],
): Record<string, string | number> {
  const values: Record<string, string | number> = {};
  for (const path of paths) {
    const value = readField(metadata, path) as JsonValue | undefined;
    values[baiduStringColumn(path)] = typeof value === 'string' ? baiduStringLiteral(value) : '';
    values[baiduNumberColumn(path)] = typeof value === 'number' ? value : 0;
    values[baiduTypeColumn(path)] =
      value === undefined || value === null
        ? ''
        : typeof value === 'string'
          ? 's'
          : typeof value === 'number'
            ? 'n'
            : typeof value === 'boolean'
              ? value
                ? 't'
                : 'f'
              : 'o';
  }
  return values;
}

const quoted = (text: string) => `'${text}'`;

function number(value: number): string {
  if (!Number.isFinite(value)) {
    throw new InvalidArgumentError({
      source,
      message: `Filter numbers must be finite, got ${value}.`,
    });
  }
  return String(value);
}

function equals(path: string, value: FilterScalar): string {
  if (typeof value === 'string')
    return `${baiduStringColumn(path)} = ${quoted(baiduStringLiteral(value))}`;
  if (typeof value === 'boolean') return `${baiduTypeColumn(path)} = ${quoted(value ? 't' : 'f')}`;
  return `(${baiduTypeColumn(path)} = 'n' AND ${baiduNumberColumn(path)} = ${number(value)})`;
}

type Node = string | boolean;

const join = (kind: 'AND' | 'OR', nodes: Node[]): Node => {
  const decisive = kind === 'OR';
  const clauses: string[] = [];
  for (const node of nodes) {
    if (node === decisive) return decisive;
    if (typeof node === 'string') clauses.push(node);
  }
  if (clauses.length === 0) return !decisive;
  return clauses.length === 1 ? clauses[0]! : `(${clauses.join(` ${kind} `)})`;
};
const not = (node: Node): Node => (typeof node === 'boolean' ? !node : `NOT ${node}`);

type FieldFilter = Extract<FilterExpression, { field: string }>;

function translate(filter: FilterExpression, paths: ReadonlySet<string>): Node {
  if (filter.op === 'and' || filter.op === 'or') {
    return join(
      filter.op === 'and' ? 'AND' : 'OR',
      filter.filters.map((child) => translate(child, paths)),
    );
  }
  if (filter.op === 'not') return not(translate(filter.filter, paths));
  return translateField(filter as FieldFilter, paths);
}

function translateField(filter: FieldFilter, paths: ReadonlySet<string>): Node {
  if (filter.op === 'contains') {
    throw new UnsupportedFunctionalityError({
      source,
      message: `The filter operator "contains" cannot be expressed in Baidu VectorDB filters (no substring or array-membership test); supported: ${baiduFilterOperators.join(', ')}.`,
    });
  }
  if (!paths.has(filter.field)) {
    throw new UnsupportedFunctionalityError({
      source,
      message: `Metadata path "${filter.field}" is not a declared filter path; add it to filterFields before the table is created.`,
    });
  }
  const path = filter.field;
  switch (filter.op) {
    case 'eq':
      return equals(path, filter.value);
    case 'ne':
      return not(equals(path, filter.value));
    case 'in':
    case 'nin': {
      const any = join(
        'OR',
        filter.values.map((value) => equals(path, value)),
      );
      return filter.op === 'in' ? any : not(any);
    }
    case 'exists':
      return `${baiduTypeColumn(path)} != ''`;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const operator = { gt: '>', gte: '>=', lt: '<', lte: '<=' }[filter.op];
      return typeof filter.value === 'number'
        ? `(${baiduTypeColumn(path)} = 'n' AND ${baiduNumberColumn(path)} ${operator} ${number(filter.value)})`
        : `(${baiduTypeColumn(path)} = 's' AND ${baiduStringColumn(path)} ${operator} ${quoted(baiduStringLiteral(filter.value))})`;
    }
  }
}

/**
 * Translates a portable filter into a Mochow filter expression over the typed columns of the
 * declared paths, or `true` / `false` when it is constant. Throws `UnsupportedFunctionalityError`
 * for `contains` and for paths that were not declared.
 */
export function translateBaiduFilter(
  filter: FilterExpression,
  paths: readonly string[],
): string | boolean {
  return translate(filter, new Set(paths));
}
