import {
  type FilterExpression,
  type FilterScalar,
  type JsonValue,
  validateFilter,
} from '@engram/core';

/**
 * Kinds of the columns that hold flattened metadata, one column per metadata path and kind:
 * `x` 1 when the path holds a non-null value, `s` a string, `n` a number, `b` a boolean, and
 * `as`/`an`/`ab` the string, number and boolean elements of an array. Booleans are stored as the
 * integers 1 and 0 (LanceDB 0.31's merge-insert fails on boolean columns); each kind has its own
 * column, so `true` is still never equal to the number 1.
 */
export type LanceDBMetadataColumnKind = 'x' | 's' | 'n' | 'b' | 'as' | 'an' | 'ab';

/** Prefix of every flattened metadata column; the other columns never start with it. */
export const lanceDBMetadataColumnPrefix = 'm:';

/**
 * Name of the column holding one kind of value at a metadata path. Dots become slashes because
 * Lance reads a dot in a column name as a struct field access.
 */
export function lanceDBMetadataColumn(kind: LanceDBMetadataColumnKind, path: string): string {
  return `${lanceDBMetadataColumnPrefix}${kind}:${path.replaceAll('.', '/')}`;
}

/** Flattened metadata values by column name, as {@link flattenLanceDBMetadata} returns them. */
export type LanceDBFlattenedMetadata = Record<string, string | number | string[] | number[]>;

const segmentPattern = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
const maxSegments = 8;

/**
 * Flattens metadata into typed columns that a filter can address: every path a filter can name
 * (objects are descended into, arrays are not, as core's `readField` does) gets an existence
 * column, and scalars and array elements go to the column of their type. Nulls are left out: for
 * every operator a null behaves like a missing field.
 */
export function flattenLanceDBMetadata(
  metadata: Record<string, JsonValue>,
): LanceDBFlattenedMetadata {
  const columns: LanceDBFlattenedMetadata = {};
  const walk = (object: Record<string, JsonValue>, prefix: string, depth: number) => {
    for (const [key, value] of Object.entries(object)) {
      if (value === null || !segmentPattern.test(key)) continue;
      const path = prefix ? `${prefix}.${key}` : key;
      columns[lanceDBMetadataColumn('x', path)] = 1;
      if (Array.isArray(value)) {
        const strings = value.filter((entry) => typeof entry === 'string');
        const numbers = value.filter((entry) => typeof entry === 'number');
        const booleans = value
          .filter((entry) => typeof entry === 'boolean')
          .map((entry) => (entry ? 1 : 0));
        if (strings.length > 0) columns[lanceDBMetadataColumn('as', path)] = strings;
        if (numbers.length > 0) columns[lanceDBMetadataColumn('an', path)] = numbers;
        if (booleans.length > 0) columns[lanceDBMetadataColumn('ab', path)] = booleans;
      } else if (typeof value === 'object') {
        if (depth + 1 < maxSegments) walk(value, path, depth + 1);
      } else if (typeof value === 'string') {
        columns[lanceDBMetadataColumn('s', path)] = value;
      } else if (typeof value === 'number') {
        columns[lanceDBMetadataColumn('n', path)] = value;
      } else {
        columns[lanceDBMetadataColumn('b', path)] = value ? 1 : 0;
      }
    }
  };
  walk(metadata, '', 0);
  return columns;
}

/** A SQL string literal: quotes are doubled, nothing else is special. */
export function lanceDBString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** A SQL identifier in backticks, as Lance's filter parser expects for unusual names. */
export function lanceDBIdentifier(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``;
}

function literal(value: FilterScalar): string {
  if (typeof value === 'string') return lanceDBString(value);
  if (typeof value === 'boolean') return value ? '1' : '0';
  return String(value);
}

function scalarKind(value: FilterScalar): 's' | 'n' | 'b' {
  return typeof value === 'string' ? 's' : typeof value === 'number' ? 'n' : 'b';
}

/**
 * Translates a portable filter into a Lance SQL predicate over the columns that
 * {@link flattenLanceDBMetadata} writes, with exactly core's semantics: values are compared only
 * with values of their own type (each type has its own column), `ne`/`nin` match missing fields,
 * `contains` matches an array element or a case-sensitive substring, `exists` means present and
 * not null. Every leaf is wrapped in `coalesce(..., false)`, so `NOT` never meets a NULL.
 *
 * `columns`, when given, are the columns the table has: a leaf on a column the table lacks (no
 * record ever held that path and type) is `false` rather than an unknown column.
 */
export function translateLanceDBFilter(
  filter: FilterExpression,
  columns?: ReadonlySet<string>,
): string {
  const column = (kind: LanceDBMetadataColumnKind, field: string): string | undefined => {
    const name = lanceDBMetadataColumn(kind, field);
    if (columns && !columns.has(name)) return undefined;
    return lanceDBIdentifier(name);
  };
  const leaf = (parts: (string | undefined)[]): string => {
    const present = parts.filter((part): part is string => part !== undefined);
    if (present.length === 0) return 'false';
    return `coalesce(${present.length === 1 ? present[0] : present.map((part) => `(${part})`).join(' OR ')}, false)`;
  };
  const comparison = (field: string, value: FilterScalar, operator: string) => {
    const name = column(scalarKind(value), field);
    return name === undefined ? undefined : `${name} ${operator} ${literal(value)}`;
  };
  const oneOf = (field: string, values: readonly FilterScalar[]) => {
    const byKind = new Map<'s' | 'n' | 'b', FilterScalar[]>();
    for (const value of values) {
      const kind = scalarKind(value);
      byKind.set(kind, [...(byKind.get(kind) ?? []), value]);
    }
    return leaf(
      [...byKind].map(([kind, group]) => {
        const name = column(kind, field);
        return name === undefined ? undefined : `${name} IN (${group.map(literal).join(', ')})`;
      }),
    );
  };

  const translate = (node: FilterExpression): string => {
    switch (node.op) {
      case 'and':
      case 'or':
        return `(${node.filters.map(translate).join(node.op === 'and' ? ' AND ' : ' OR ')})`;
      case 'not':
        return `(NOT ${translate(node.filter)})`;
      case 'eq':
        return leaf([comparison(node.field, node.value, '=')]);
      case 'ne':
        return `(NOT ${leaf([comparison(node.field, node.value, '=')])})`;
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte': {
        const operator = { gt: '>', gte: '>=', lt: '<', lte: '<=' }[node.op];
        return leaf([comparison(node.field, node.value, operator)]);
      }
      case 'in':
        return oneOf(node.field, node.values);
      case 'nin':
        return `(NOT ${oneOf(node.field, node.values)})`;
      case 'exists': {
        const name = column('x', node.field);
        return leaf([name === undefined ? undefined : `${name} = 1`]);
      }
      case 'contains': {
        const kind = scalarKind(node.value);
        const list = column(`a${kind}` as LanceDBMetadataColumnKind, node.field);
        const text = kind === 's' ? column('s', node.field) : undefined;
        return leaf([
          list === undefined ? undefined : `array_has(${list}, ${literal(node.value)})`,
          text === undefined ? undefined : `strpos(${text}, ${literal(node.value)}) > 0`,
        ]);
      }
    }
  };
  return translate(validateFilter(filter));
}
