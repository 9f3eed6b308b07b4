import {
  type FilterExpression,
  type FilterOperator,
  filterOperators,
  type JsonValue,
} from '@engram/core';
import type { Document } from 'mongodb';

/**
 * Result of {@link translateMongoDBFilter}: a query document, or a constant when the portable
 * filter always (`true`) or never (`false`) matches.
 */
export type MongoDBFilterTranslation = Document | boolean;

/** Every portable operator is translated exactly, for `find`, `countDocuments` and `$match`. */
export const mongoDBFilterOperators: readonly FilterOperator[] = filterOperators;

/** Document field holding the filter-only projection of the metadata (see {@link mongoDBFilterFields}). */
export const filterField = '_filter';

/** The filterable projection of one record's metadata, stored under {@link filterField}. */
export interface MongoDBFilterFields {
  /** Scalars (strings, numbers, booleans) at their path; arrays and nulls removed. */
  values: Record<string, JsonValue>;
  /** Scalar elements of arrays, at the array's path. */
  arrays: Record<string, JsonValue>;
  /** Every dotted path whose value is present and not null. */
  paths: string[];
}

const keyPattern = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
const maxPathDepth = 8;

function setAt(tree: Record<string, JsonValue>, path: readonly string[], value: JsonValue): void {
  let node = tree;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === undefined || next === null || typeof next !== 'object' || Array.isArray(next)) {
      node[key] = {};
    }
    node = node[key] as Record<string, JsonValue>;
  }
  node[path.at(-1)!] = value;
}

/**
 * Projects metadata into trees that MQL evaluates exactly as core's `matchesFilter` does. Query
 * operators on `metadata.x` would also match array elements (`{ tags: 'red' }` matches
 * `['red']`) and walk through arrays of objects along a dotted path; the portable semantics do
 * neither. So scalars and array elements live in separate trees without arrays on the way, and
 * only keys a filter can name are projected; the metadata itself is stored unchanged beside them.
 */
export function mongoDBFilterFields(metadata: Record<string, JsonValue>): MongoDBFilterFields {
  const fields: MongoDBFilterFields = { values: {}, arrays: {}, paths: [] };
  const visit = (object: Record<string, JsonValue>, prefix: string[]) => {
    for (const [key, value] of Object.entries(object)) {
      if (!keyPattern.test(key) || value === null) continue;
      const path = [...prefix, key];
      fields.paths.push(path.join('.'));
      if (Array.isArray(value)) {
        setAt(
          fields.arrays,
          path,
          value.filter((element) => element !== null && typeof element !== 'object'),
        );
      } else if (typeof value === 'object') {
        if (path.length < maxPathDepth) visit(value, path);
      } else {
        setAt(fields.values, path, value);
      }
    }
  };
  visit(metadata, []);
  return fields;
}

type Node = Document | boolean;

/** `$and` or `$or` of nodes, folding constants: `false` decides an and, `true` an or. */
function join(operator: '$and' | '$or', nodes: Node[]): Node {
  const decisive = operator === '$or';
  const documents: Document[] = [];
  for (const node of nodes) {
    if (node === decisive) return decisive;
    if (typeof node !== 'boolean') documents.push(node);
  }
  if (documents.length === 0) return !decisive;
  return documents.length === 1 ? documents[0]! : { [operator]: documents };
}

const and = (nodes: Node[]) => join('$and', nodes);
const or = (nodes: Node[]) => join('$or', nodes);

function not(node: Node): Node {
  return typeof node === 'boolean' ? !node : { $nor: [node] };
}

/** Escapes a string for a case-sensitive literal substring `$regex`. */
export function literalRegex(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function translate(filter: FilterExpression): Node {
  const values = (field: string) => `${filterField}.values.${field}`;
  switch (filter.op) {
    case 'and':
      return and(filter.filters.map(translate));
    case 'or':
      return or(filter.filters.map(translate));
    case 'not':
      return not(translate(filter.filter));
    case 'eq':
      return { [values(filter.field)]: { $eq: filter.value } };
    case 'ne':
      // $ne also matches documents without the field, as the portable `ne` requires.
      return { [values(filter.field)]: { $ne: filter.value } };
    case 'in':
      return filter.values.length === 0
        ? false
        : { [values(filter.field)]: { $in: filter.values } };
    case 'nin':
      return filter.values.length === 0
        ? true
        : { [values(filter.field)]: { $nin: filter.values } };
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      // MQL comparisons only compare within a type (numbers with numbers, strings with strings).
      return { [values(filter.field)]: { [`$${filter.op}`]: filter.value } };
    case 'contains': {
      const element = { [`${filterField}.arrays.${filter.field}`]: { $eq: filter.value } };
      if (typeof filter.value !== 'string') return element;
      return or([element, { [values(filter.field)]: { $regex: literalRegex(filter.value) } }]);
    }
    case 'exists':
      return { [`${filterField}.paths`]: { $eq: filter.field } };
  }
}

/**
 * Translates a portable filter into an MQL query document over the fields this adapter writes.
 * Returns `true` or `false` when the filter is constant (e.g. `in []`).
 */
export function translateMongoDBFilter(filter: FilterExpression): MongoDBFilterTranslation {
  return translate(filter);
}
