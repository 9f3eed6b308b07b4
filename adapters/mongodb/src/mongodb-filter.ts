import {
  type FilterNode,
  filterableKeyPattern,
  joinFilterNodes,
  maxFilterPathDepth,
  negateFilterNode,
  setAtPath,
} from '@engram/adapter-kit';
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
      if (!filterableKeyPattern.test(key) || value === null) continue;
      const path = [...prefix, key];
      fields.paths.push(path.join('.'));
      if (Array.isArray(value)) {
        setAtPath(
          fields.arrays,
          path,
          value.filter((element) => element !== null && typeof element !== 'object'),
        );
      } else if (typeof value === 'object') {
        if (path.length < maxFilterPathDepth) visit(value, path);
      } else {
        setAtPath(fields.values, path, value);
      }
    }
  };
  visit(metadata, []);
  return fields;
}

type Node = FilterNode<Document>;

const and = (nodes: Node[]) => joinFilterNodes('and', nodes, ($and) => ({ $and }));
const or = (nodes: Node[]) => joinFilterNodes('or', nodes, ($or) => ({ $or }));
const not = (node: Node) => negateFilterNode(node, (document) => ({ $nor: [document] }));

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
