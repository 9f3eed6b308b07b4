import { type FilterExpression, type FilterScalar, validateFilter } from '@engram/core';

/** A SQL boolean expression with its positional (`?`) parameters, in order. */
export interface SqliteFilterClause {
  /** SQL that evaluates to 0 or 1 (never NULL), safe to put under `NOT`. */
  sql: string;
  /** Values for the `?` placeholders of `sql`, in order. */
  parameters: (string | number)[];
}

/**
 * JSON path of a dotted metadata field: every key is double-quoted so that `-` and other
 * characters are taken literally, and passed as a bound parameter, never spliced into SQL.
 */
export function sqliteJsonPath(field: string): string {
  return `$${field
    .split('.')
    .map((key) => `."${key.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`)
    .join('')}`;
}

const numberTypes = "('integer','real')";

/**
 * Translates a portable filter into a SQL expression over a JSON metadata column, with the exact
 * semantics of core's `matchesFilter`: no type coercion (SQLite's `json_extract` returns 1 for
 * `true`, so `json_type` tells them apart), `ne`/`nin` match missing fields, `contains` matches
 * an array element or a substring, `exists` means present and not null.
 */
export function translateSqliteFilter(
  filter: FilterExpression,
  column = 'metadata',
): SqliteFilterClause {
  const parameters: (string | number)[] = [];

  // Every leaf is wrapped so it yields 0 rather than NULL for a missing field; otherwise
  // `NOT (...)` would drop the very records `ne`, `nin` and `not` must keep.
  const leaf = (sql: string) => `coalesce((${sql}), 0)`;
  const type = (path: string) => {
    parameters.push(path);
    return `json_type(${column}, ?)`;
  };
  const value = (path: string) => {
    parameters.push(path);
    return `json_extract(${column}, ?)`;
  };

  const equals = (path: string, expected: FilterScalar): string => {
    if (typeof expected === 'boolean') return `${type(path)} = '${expected ? 'true' : 'false'}'`;
    const typeSql = type(path);
    const valueSql = value(path);
    parameters.push(expected);
    return typeof expected === 'string'
      ? `${typeSql} = 'text' AND ${valueSql} = ?`
      : `${typeSql} IN ${numberTypes} AND ${valueSql} = ?`;
  };

  const oneOf = (path: string, values: FilterScalar[]): string => {
    const strings = values.filter((entry): entry is string => typeof entry === 'string');
    const numbers = values.filter((entry): entry is number => typeof entry === 'number');
    const booleans = [...new Set(values.filter((entry) => typeof entry === 'boolean'))];
    const alternatives: string[] = [];
    if (strings.length > 0) {
      const typeSql = type(path);
      const valueSql = value(path);
      parameters.push(...strings);
      alternatives.push(
        `(${typeSql} = 'text' AND ${valueSql} IN (${strings.map(() => '?').join(', ')}))`,
      );
    }
    if (numbers.length > 0) {
      const typeSql = type(path);
      const valueSql = value(path);
      parameters.push(...numbers);
      alternatives.push(
        `(${typeSql} IN ${numberTypes} AND ${valueSql} IN (${numbers.map(() => '?').join(', ')}))`,
      );
    }
    if (booleans.length > 0) {
      alternatives.push(
        `${type(path)} IN (${booleans.map((entry) => `'${entry ? 'true' : 'false'}'`).join(', ')})`,
      );
    }
    return alternatives.length === 0 ? '0' : alternatives.join(' OR ');
  };

  const elementEquals = (expected: FilterScalar): string => {
    if (typeof expected === 'boolean') return `element.type = '${expected ? 'true' : 'false'}'`;
    parameters.push(expected);
    return typeof expected === 'string'
      ? `element.type = 'text' AND element.value = ?`
      : `element.type IN ${numberTypes} AND element.value = ?`;
  };

  const translate = (node: FilterExpression): string => {
    switch (node.op) {
      case 'and':
      case 'or':
        return `(${node.filters.map(translate).join(node.op === 'and' ? ' AND ' : ' OR ')})`;
      case 'not':
        return `(NOT ${translate(node.filter)})`;
      case 'exists': {
        const path = sqliteJsonPath(node.field);
        return leaf(`${type(path)} IS NOT NULL AND ${type(path)} <> 'null'`);
      }
      case 'eq':
        return leaf(equals(sqliteJsonPath(node.field), node.value));
      case 'ne':
        return `(NOT ${leaf(equals(sqliteJsonPath(node.field), node.value))})`;
      case 'in':
        return leaf(oneOf(sqliteJsonPath(node.field), node.values));
      case 'nin':
        return `(NOT ${leaf(oneOf(sqliteJsonPath(node.field), node.values))})`;
      case 'contains': {
        const path = sqliteJsonPath(node.field);
        const arrayType = type(path);
        parameters.push(path);
        const arrayMatch = `${arrayType} = 'array' AND EXISTS (SELECT 1 FROM json_each(${column}, ?) AS element WHERE ${elementEquals(node.value)})`;
        if (typeof node.value !== 'string') return leaf(arrayMatch);
        const textType = type(path);
        const textValue = value(path);
        parameters.push(node.value);
        return leaf(`(${arrayMatch}) OR (${textType} = 'text' AND instr(${textValue}, ?) > 0)`);
      }
      default: {
        const path = sqliteJsonPath(node.field);
        const operator = { gt: '>', gte: '>=', lt: '<', lte: '<=' }[node.op];
        const typeSql = type(path);
        const valueSql = value(path);
        parameters.push(node.value);
        const wanted = typeof node.value === 'string' ? "= 'text'" : `IN ${numberTypes}`;
        return leaf(`${typeSql} ${wanted} AND ${valueSql} ${operator} ?`);
      }
    }
  };

  const sql = translate(validateFilter(filter, 'filter'));
  return { sql, parameters };
}
