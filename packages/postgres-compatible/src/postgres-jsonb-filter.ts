import { type FilterExpression, type FilterScalar, validateFilter } from '@engram/core';

/** A value bound to a `$n` placeholder: JSON text, plain text, or a text array (a JSON path). */
export type PgvectorParameter = string | number | boolean | null | string[];

/** A SQL boolean expression over the metadata column, with the values of its placeholders. */
export interface PgvectorFilterClause {
  /** SQL that evaluates to true or false (never NULL), safe to put under `NOT`. */
  sql: string;
  /**
   * Every parameter of the statement so far: the ones passed in as `parameters`, then the
   * filter's. Placeholders in `sql` are numbered accordingly (`$<index + 1>`).
   */
  parameters: PgvectorParameter[];
}

/** Options of {@link translatePgvectorFilter}. */
export interface PgvectorFilterOptions {
  /** SQL expression of the JSONB metadata column. Default `metadata`. */
  column?: string;
  /**
   * Parameters the surrounding statement already binds; the filter's placeholders continue
   * after them and the filter's values are appended to a copy.
   */
  parameters?: readonly PgvectorParameter[];
}

/** `{"a":{"b":<leaf>}}` for the field `a.b`, written as text so no key can touch a prototype. */
function nestedJson(field: string, leafJson: string): string {
  const keys = field.split('.');
  let json = leafJson;
  for (let index = keys.length - 1; index >= 0; index--) {
    json = `{${JSON.stringify(keys[index])}:${json}}`;
  }
  return json;
}

const rangeOperators = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

/**
 * Translates a portable filter into a SQL condition over a JSONB metadata column, with bound
 * parameters only, and the exact semantics of core's `matchesFilter`:
 * - `eq`/`ne`/`in`/`nin` use JSONB containment (`metadata @> '{"a":{"b":1}}'`), which compares
 *   types exactly (`1`, `"1"` and `true` differ, `1` equals `1.0`), never looks into an array
 *   below the top level, and can use the GIN (`jsonb_path_ops`) index; `ne`/`nin` are its
 *   negation, so records without the field match them;
 * - `gt`/`gte`/`lt`/`lte` compare numbers with numbers (JSONB numeric order) and strings with
 *   strings in code point order (`COLLATE "C"`, whatever the database's collation);
 * - `contains` is containment of a one-element array (an array field holding the value), or for
 *   a string value also a case-sensitive substring (`strpos`) of a string field;
 * - `exists` is a field that is present and not JSON `null`.
 */
export function translatePgvectorFilter(
  filter: FilterExpression,
  options: PgvectorFilterOptions = {},
): PgvectorFilterClause {
  const column = options.column ?? 'metadata';
  const parameters: PgvectorParameter[] = [...(options.parameters ?? [])];
  const bind = (value: PgvectorParameter) => `$${parameters.push(value)}`;

  const contained = (field: string, leaf: FilterScalar | [FilterScalar]) =>
    `${column} @> ${bind(nestedJson(field, JSON.stringify(leaf)))}::jsonb`;

  const oneOf = (field: string, values: FilterScalar[]) => {
    const unique = [...new Set(values)];
    if (unique.length === 0) return 'false';
    return `(${unique.map((value) => contained(field, value)).join(' OR ')})`;
  };

  // `#>` yields NULL for a missing field, so every condition built on it is wrapped in
  // coalesce: a NULL under NOT would drop the very records `ne`, `nin` and `not` must keep.
  const valueAt = (field: string) => `(${column} #> ${bind(field.split('.'))}::text[])`;

  const translate = (node: FilterExpression): string => {
    switch (node.op) {
      case 'and':
      case 'or':
        return `(${node.filters.map(translate).join(node.op === 'and' ? ' AND ' : ' OR ')})`;
      case 'not':
        return `(NOT ${translate(node.filter)})`;
      case 'eq':
        return `(${contained(node.field, node.value)})`;
      case 'ne':
        return `(NOT ${contained(node.field, node.value)})`;
      case 'in':
        return oneOf(node.field, node.values);
      case 'nin':
        return `(NOT ${oneOf(node.field, node.values)})`;
      case 'exists':
        return `coalesce(jsonb_typeof(${valueAt(node.field)}) <> 'null', false)`;
      case 'contains': {
        const inArray = contained(node.field, [node.value]);
        if (typeof node.value !== 'string') return `(${inArray})`;
        const value = valueAt(node.field);
        const substring = `coalesce(jsonb_typeof(${value}) = 'string' AND strpos(${value} #>> '{}', ${bind(node.value)}::text) > 0, false)`;
        return `(${inArray} OR ${substring})`;
      }
      default: {
        const operator = rangeOperators[node.op];
        const value = valueAt(node.field);
        if (typeof node.value === 'number') {
          return `coalesce(jsonb_typeof(${value}) = 'number' AND ${value} ${operator} ${bind(JSON.stringify(node.value))}::jsonb, false)`;
        }
        return `coalesce(jsonb_typeof(${value}) = 'string' AND (${value} #>> '{}') COLLATE "C" ${operator} ${bind(node.value)}::text, false)`;
      }
    }
  };

  const sql = translate(validateFilter(filter, 'filter'));
  return { sql, parameters };
}
