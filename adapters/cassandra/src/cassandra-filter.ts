import { createHash } from 'node:crypto';
import { filterableKeyPattern, maxFilterPathDepth } from '@engram/adapter-kit';
import {
  type FilterExpression,
  type FilterOperator,
  type FilterScalar,
  filterOperatorsUsed,
  type JsonValue,
  UnsupportedFunctionalityError,
} from '@engram/core';

const source = 'cassandra';

/** Set column holding one tag per scalar metadata value (`eq`). */
export const valuesColumn = 'm_values';
/** Set column holding the path of every present, non-null metadata value (`exists`). */
export const pathsColumn = 'm_paths';

/**
 * What CQL with Storage-Attached Indexes (Cassandra 5.0) can answer exactly: equality through
 * `CONTAINS` on an indexed set, ranges on typed, SAI-indexed columns (one `double` and one
 * `text` column per metadata path, added when a value first appears), and `AND`. SAI in 5.0 has
 * no `OR`, `NOT`, `!=` or `IN` on indexed columns, so `ne`, `in`, `nin`, `or`, `not` and
 * substring `contains` are declared unsupported: they throw `UnsupportedFunctionalityError`, and
 * the engine filters those itself.
 */
export const cassandraFilterOperators: readonly FilterOperator[] = [
  'eq',
  'gt',
  'gte',
  'lt',
  'lte',
  'exists',
  'and',
];

/** The SAI-indexed column holding the numbers (`n_...`) or strings (`s_...`) of a metadata path. */
export function rangeColumn(path: string, type: 'number' | 'string'): string {
  const digest = createHash('sha256').update(path).digest('hex').slice(0, 16);
  return `${type === 'number' ? 'n' : 's'}_${digest}`;
}

/** The tag of a scalar at a metadata path: path, type and value, so `1`, `"1"` and `true` differ. */
export function scalarTag(path: string, value: FilterScalar): string {
  if (typeof value === 'string') return `${path}\u001fs${value}`;
  if (typeof value === 'number') return `${path}\u001fn${String(Object.is(value, -0) ? 0 : value)}`;
  return `${path}\u001fb${value}`;
}

/** The tags of a record's metadata: its scalar values and its present paths. */
export function metadataTags(metadata: Record<string, JsonValue>) {
  const values: string[] = [];
  const paths: string[] = [];
  const ranges = new Map<string, number | string>();
  const visit = (object: Record<string, JsonValue>, prefix: string, depth: number) => {
    for (const [key, value] of Object.entries(object)) {
      if (!filterableKeyPattern.test(key) || value === null || value === undefined) continue;
      const path = prefix ? `${prefix}.${key}` : key;
      paths.push(path);
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
        values.push(scalarTag(path, value));
        if (typeof value !== 'boolean') {
          ranges.set(rangeColumn(path, typeof value === 'number' ? 'number' : 'string'), value);
        }
      } else if (!Array.isArray(value) && depth + 1 < maxFilterPathDepth) {
        visit(value, path, depth + 1);
      }
    }
  };
  visit(metadata, '', 0);
  return { values, paths, ranges };
}

/** A CQL condition: clauses joined by `AND`, with their bound values. */
export interface CassandraCondition {
  /** The `WHERE` clauses (`m_values CONTAINS ?`, `n_... >= ?`), each with one `?`. */
  clauses: string[];
  /** The bound values, in the order of the markers. */
  params: unknown[];
  /**
   * Set when a clause is a string range: SAI indexes text for equality only, so Cassandra
   * evaluates it row by row and the statement needs `ALLOW FILTERING`.
   */
  filtering?: boolean;
}

/** Throws `UnsupportedFunctionalityError` when the filter uses an operator CQL cannot answer. */
export function assertCassandraFilter(filter: FilterExpression): void {
  const unsupported = [...filterOperatorsUsed(filter)].filter(
    (operator) => !cassandraFilterOperators.includes(operator),
  );
  if (unsupported.length === 0) return;
  throw new UnsupportedFunctionalityError({
    source,
    message: `The filter operator${unsupported.length > 1 ? 's' : ''} ${unsupported.map((operator) => `"${operator}"`).join(', ')} cannot be expressed in CQL with Storage-Attached Indexes (Cassandra 5.0 supports equality and AND only); supported: ${cassandraFilterOperators.join(', ')}. Filter on those, or let the engine filter the results.`,
  });
}

/**
 * Translates core's portable filter into CQL conditions on the indexed tag sets and range
 * columns; `false` when it can match nothing (a range on a path whose column does not exist yet,
 * since no record ever held such a value there). Every supported operator is exact; anything else
 * throws `UnsupportedFunctionalityError` (checked first, so nothing is sent).
 */
export function translateCassandraFilter(
  filter: FilterExpression,
  columns: ReadonlySet<string>,
): CassandraCondition | false {
  assertCassandraFilter(filter);
  const condition: CassandraCondition = { clauses: [], params: [] };
  // CQL takes one lower and one upper bound per column, so bounds on one column are merged.
  const bounds = new Map<string, { lower?: Bound; upper?: Bound }>();
  const visit = (node: FilterExpression): boolean => {
    switch (node.op) {
      case 'and':
        return node.filters.every(visit);
      case 'eq':
        condition.clauses.push(`${valuesColumn} CONTAINS ?`);
        condition.params.push(scalarTag(node.field, node.value));
        return true;
      case 'exists':
        condition.clauses.push(`${pathsColumn} CONTAINS ?`);
        condition.params.push(node.field);
        return true;
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte': {
        const column = rangeColumn(
          node.field,
          typeof node.value === 'number' ? 'number' : 'string',
        );
        if (!columns.has(column)) return false;
        if (typeof node.value === 'string') condition.filtering = true;
        const side = node.op.startsWith('g') ? 'lower' : 'upper';
        const bound: Bound = { value: node.value, inclusive: node.op.endsWith('e') };
        const current = bounds.get(column) ?? {};
        current[side] = tighter(side, current[side], bound);
        bounds.set(column, current);
        return true;
      }
      default:
        return false;
    }
  };
  if (!visit(filter)) return false;
  for (const [column, { lower, upper }] of bounds) {
    for (const [bound, operators] of [
      [lower, ['>', '>=']],
      [upper, ['<', '<=']],
    ] as const) {
      if (!bound) continue;
      condition.clauses.push(`${column} ${operators[bound.inclusive ? 1 : 0]} ?`);
      condition.params.push(bound.value);
    }
  }
  return condition;
}

interface Bound {
  value: number | string;
  inclusive: boolean;
}

function tighter(side: 'lower' | 'upper', current: Bound | undefined, next: Bound): Bound {
  if (!current) return next;
  if (current.value === next.value) return current.inclusive ? next : current;
  const nextIsHigher = next.value > current.value;
  return (side === 'lower') === nextIsHigher ? next : current;
}
