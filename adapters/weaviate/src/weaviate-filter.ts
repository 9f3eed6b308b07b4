import {
  type FilterExpression,
  type FilterScalar,
  type JsonValue,
  UnsupportedFunctionalityError,
} from '@engram/core';
import type { FilterValue, Operator } from 'weaviate-client';

/**
 * Weaviate's `field` tokenization trims whitespace and drops empty strings, so exact-match text
 * is stored between two U+001F marks: `" a "` and `""` stay distinct from `"a"` and from nothing.
 * U+001F sorts below every printable character, so range comparisons keep their order.
 */
const mark = '\u001f';

/** Wraps a string so that Weaviate's `field` tokenization keeps it exactly. */
export function wrapExact(value: string): string {
  return `${mark}${likeSafe(value)}${mark}`;
}

/** Reverses {@link wrapExact} for scope ids and hashes read back from Weaviate. */
export function unwrapExact(value: string): string {
  return value.slice(1, -1);
}

/**
 * `Like` compiles to a Go regular expression whose `.` never crosses a newline, so the indexed
 * copy holds U+0000 where the string had a newline (the stored JSON keeps the original).
 */
function likeSafe(value: string): string {
  return value.replaceAll('\n', '\u0000');
}

/** Name of the property holding every present, non-null metadata path (for `exists`). */
export const pathsProperty = 'metaPaths';

/** The Weaviate data type of each generated metadata property. */
export type MetadataPropertyType = 'text' | 'number' | 'boolean' | 'text[]';

const fieldKeyPattern = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
const maxPathDepth = 8;

function encodePath(path: string): string {
  let encoded = '';
  for (const character of path) {
    if (character === '_') encoded += '__';
    else if (character === '-') encoded += '_h';
    else if (character === '.') encoded += '_d';
    else encoded += character;
  }
  return encoded;
}

/** Property holding a string scalar at `path`, for eq/ne/in/nin, ranges and substrings. */
export function stringProperty(path: string): string {
  return `ms_${encodePath(path)}`;
}

/** Property holding a number scalar at `path`. */
export function numberProperty(path: string): string {
  return `mn_${encodePath(path)}`;
}

/** Property holding a boolean scalar at `path`. */
export function booleanProperty(path: string): string {
  return `mb_${encodePath(path)}`;
}

/** Property holding the scalar elements of an array at `path`, each tagged with its type. */
export function elementsProperty(path: string): string {
  return `ma_${encodePath(path)}`;
}

/** An array element as stored in {@link elementsProperty}: the type tag keeps `1` and `"1"` apart. */
export function elementToken(value: FilterScalar): string {
  if (typeof value === 'string') return `s${likeSafe(value)}${mark}`;
  if (typeof value === 'number') return `n${canonicalNumber(value)}`;
  return `b${value}`;
}

function canonicalNumber(value: number): string {
  return String(Object.is(value, -0) ? 0 : value);
}

/** Filterable copies of a record's metadata, and the type of every property they use. */
export interface IndexedMetadata {
  properties: Record<string, string | number | boolean | string[]>;
  types: Map<string, MetadataPropertyType>;
}

/**
 * Flattens metadata into typed, filterable properties. Only keys a filter can address (letters,
 * digits, `_` and `-`, at most eight levels) are indexed; the JSON copy keeps everything.
 */
export function indexMetadata(metadata: Record<string, JsonValue>): IndexedMetadata {
  const properties: IndexedMetadata['properties'] = {};
  const types = new Map<string, MetadataPropertyType>();
  const paths: string[] = [];

  const visit = (object: Record<string, JsonValue>, prefix: string, depth: number) => {
    for (const [key, value] of Object.entries(object)) {
      if (!fieldKeyPattern.test(key) || value === null || value === undefined) continue;
      const path = prefix ? `${prefix}.${key}` : key;
      paths.push(path);
      if (typeof value === 'string') {
        properties[stringProperty(path)] = wrapExact(value);
        types.set(stringProperty(path), 'text');
      } else if (typeof value === 'number') {
        properties[numberProperty(path)] = Object.is(value, -0) ? 0 : value;
        types.set(numberProperty(path), 'number');
      } else if (typeof value === 'boolean') {
        properties[booleanProperty(path)] = value;
        types.set(booleanProperty(path), 'boolean');
      } else if (Array.isArray(value)) {
        const tokens = value
          .filter(
            (element): element is FilterScalar =>
              typeof element === 'string' ||
              typeof element === 'number' ||
              typeof element === 'boolean',
          )
          .map(elementToken);
        if (tokens.length > 0) {
          properties[elementsProperty(path)] = [...new Set(tokens)];
          types.set(elementsProperty(path), 'text[]');
        }
      } else if (depth + 1 < maxPathDepth) {
        visit(value, path, depth + 1);
      }
    }
  };
  visit(metadata, '', 0);
  if (paths.length > 0) {
    properties[pathsProperty] = paths;
    types.set(pathsProperty, 'text[]');
  }
  return { properties, types };
}

/** What the translator knows about the collection: which generated properties exist. */
export interface WeaviateFilterSchema {
  /** Whether the collection has this property (a property no record ever used is absent). */
  hasProperty(name: string): boolean;
}

/**
 * A translated filter: a Weaviate filter, or a constant when the answer is known without asking
 * (`true`: no restriction, `false`: nothing matches, e.g. `in []` or a key no record ever had).
 */
export type WeaviateFilter = FilterValue | boolean;

function leaf(property: string, operator: Operator, value: unknown): FilterValue {
  return { operator, target: { property }, value } as FilterValue;
}

function and(filters: WeaviateFilter[]): WeaviateFilter {
  const rest: FilterValue[] = [];
  for (const filter of filters) {
    if (filter === false) return false;
    if (filter !== true) rest.push(filter);
  }
  if (rest.length === 0) return true;
  if (rest.length === 1) return rest[0]!;
  return { operator: 'And', filters: rest, value: null };
}

function or(filters: WeaviateFilter[]): WeaviateFilter {
  const rest: FilterValue[] = [];
  for (const filter of filters) {
    if (filter === true) return true;
    if (filter !== false) rest.push(filter);
  }
  if (rest.length === 0) return false;
  if (rest.length === 1) return rest[0]!;
  return { operator: 'Or', filters: rest, value: null };
}

function not(filter: WeaviateFilter): WeaviateFilter {
  if (typeof filter === 'boolean') return !filter;
  return { operator: 'Not', filters: [filter], value: null };
}

/** Combines translated filters with AND, folding constants. */
export function andFilters(...filters: WeaviateFilter[]): WeaviateFilter {
  return and(filters);
}

function equals(schema: WeaviateFilterSchema, field: string, value: FilterScalar): WeaviateFilter {
  if (typeof value === 'string') {
    const property = stringProperty(field);
    return schema.hasProperty(property) ? leaf(property, 'Equal', wrapExact(value)) : false;
  }
  if (typeof value === 'number') {
    const property = numberProperty(field);
    return schema.hasProperty(property)
      ? leaf(property, 'Equal', Object.is(value, -0) ? 0 : value)
      : false;
  }
  const property = booleanProperty(field);
  return schema.hasProperty(property) ? leaf(property, 'Equal', value) : false;
}

const rangeOperators: Record<'gt' | 'gte' | 'lt' | 'lte', Operator> = {
  gt: 'GreaterThan',
  gte: 'GreaterThanEqual',
  lt: 'LessThan',
  lte: 'LessThanEqual',
};

function unsupported(message: string): never {
  throw new UnsupportedFunctionalityError({ source: 'weaviate', message });
}

/**
 * Translates core's portable filter AST into a Weaviate filter over the typed metadata
 * properties written by {@link indexMetadata}. Every operator is exact: `ne`/`nin`/`not` use
 * Weaviate's `Not`, which also matches records without the property.
 */
export function translateWeaviateFilter(
  filter: FilterExpression,
  schema: WeaviateFilterSchema,
): WeaviateFilter {
  switch (filter.op) {
    case 'and':
      return and(filter.filters.map((child) => translateWeaviateFilter(child, schema)));
    case 'or':
      return or(filter.filters.map((child) => translateWeaviateFilter(child, schema)));
    case 'not':
      return not(translateWeaviateFilter(filter.filter, schema));
    case 'eq':
      return equals(schema, filter.field, filter.value);
    case 'ne':
      return not(equals(schema, filter.field, filter.value));
    case 'in':
      return or(filter.values.map((value) => equals(schema, filter.field, value)));
    case 'nin':
      return not(or(filter.values.map((value) => equals(schema, filter.field, value))));
    case 'exists':
      return schema.hasProperty(pathsProperty) ? leaf(pathsProperty, 'Equal', filter.field) : false;
    case 'contains': {
      const elements = elementsProperty(filter.field);
      const inArray = schema.hasProperty(elements)
        ? leaf(elements, 'Equal', elementToken(filter.value))
        : false;
      if (typeof filter.value !== 'string') return inArray;
      if (/[*?]/.test(filter.value)) {
        unsupported(
          `contains with "*" or "?" in the value (${JSON.stringify(filter.value)}) cannot be expressed exactly: Weaviate's Like treats them as wildcards and has no escape.`,
        );
      }
      const property = stringProperty(filter.field);
      const inString = schema.hasProperty(property)
        ? leaf(property, 'Like', `${mark}*${likeSafe(filter.value)}*${mark}`)
        : false;
      return or([inString, inArray]);
    }
    default: {
      const operator = rangeOperators[filter.op];
      const property =
        typeof filter.value === 'string'
          ? stringProperty(filter.field)
          : numberProperty(filter.field);
      if (!schema.hasProperty(property)) return false;
      const value = typeof filter.value === 'string' ? wrapExact(filter.value) : filter.value;
      return leaf(property, operator, value);
    }
  }
}
