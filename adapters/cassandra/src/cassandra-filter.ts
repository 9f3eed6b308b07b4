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
 * `CONTAINS` on an indexed set, and `AND`. SAI in 5.0 has no `OR`, `NOT`, `!=` or `IN` on
 * indexed columns, and only equality on map entries, so `ne`, `in`, `nin`, `or`, `not`, the
 * range operators and substring `contains` are declared unsupported: they throw
 * `UnsupportedFunctionalityError`, and the engine filters those itself.
 */
export const cassandraFilterOperators: readonly FilterOperator[] = ['eq', 'exists', 'and'];

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
  const visit = (object: Record<string, JsonValue>, prefix: string, depth: number) => {
    for (const [key, value] of Object.entries(object)) {
      if (!filterableKeyPattern.test(key) || value === null || value === undefined) continue;
      const path = prefix ? `${prefix}.${key}` : key;
      paths.push(path);
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
        values.push(scalarTag(path, value));
      } else if (!Array.isArray(value) && depth + 1 < maxFilterPathDepth) {
        visit(value, path, depth + 1);
      }
    }
  };
  visit(metadata, '', 0);
  return { values, paths };
}

/** A CQL condition: `column CONTAINS ?` clauses joined by `AND`, with their bound values. */
export interface CassandraCondition {
  /** The `WHERE` clauses, each with one `?`. */
  clauses: string[];
  /** The bound values, in the order of the markers. */
  params: unknown[];
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
 * Translates core's portable filter into CQL conditions on the indexed tag sets. Every
 * supported operator is exact; anything else throws `UnsupportedFunctionalityError` (checked
 * first, so nothing is sent).
 */
export function translateCassandraFilter(filter: FilterExpression): CassandraCondition {
  assertCassandraFilter(filter);
  const condition: CassandraCondition = { clauses: [], params: [] };
  const visit = (node: FilterExpression) => {
    if (node.op === 'and') {
      for (const child of node.filters) visit(child);
    } else if (node.op === 'eq') {
      condition.clauses.push(`${valuesColumn} CONTAINS ?`);
      condition.params.push(scalarTag(node.field, node.value));
    } else if (node.op === 'exists') {
      condition.clauses.push(`${pathsColumn} CONTAINS ?`);
      condition.params.push(node.field);
    }
  };
  visit(filter);
  return condition;
}
