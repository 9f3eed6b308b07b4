import type { FilterExpression, FilterScalar, JsonValue } from '@engram/core';

/**
 * Metadata is indexed in three fixed TAG fields, so any key can be filtered without changing the
 * index schema. Every tag is `hex(path) + "z" + type + payload` in lowercase hex: no character
 * needs escaping in a query, case never folds, and `1`, `"1"` and `true` stay distinct.
 */
export const valuesField = 'm_values';
/** TAG field holding one tag per scalar element of every metadata array. */
export const elementsField = 'm_elements';
/** TAG field holding `hex(path)` of every present, non-null metadata path (for `exists`). */
export const pathsField = 'm_paths';

/** Lowercase hex of the UTF-8 bytes: the only form text takes inside a TAG field here. */
export function hex(value: string): string {
  return Buffer.from(value, 'utf8').toString('hex');
}

function unhex(value: string): string {
  return Buffer.from(value, 'hex').toString('utf8');
}

function pathPrefix(path: string): string {
  return `${hex(path)}z`;
}

function canonicalNumber(value: number): string {
  return String(Object.is(value, -0) ? 0 : value);
}

/** The tag of a scalar at a metadata path. */
export function scalarTag(path: string, value: FilterScalar): string {
  if (typeof value === 'string') return `${pathPrefix(path)}s${hex(value)}`;
  if (typeof value === 'number') return `${pathPrefix(path)}n${hex(canonicalNumber(value))}`;
  return `${pathPrefix(path)}${value ? 't' : 'f'}`;
}

function decodeTag(tag: string, path: string): FilterScalar | undefined {
  const prefix = pathPrefix(path);
  if (!tag.startsWith(prefix)) return undefined;
  const type = tag[prefix.length];
  const payload = tag.slice(prefix.length + 1);
  if (type === 's') return unhex(payload);
  if (type === 'n') return Number(unhex(payload));
  if (type === 't') return true;
  if (type === 'f') return false;
  return undefined;
}

const fieldKeyPattern = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
const maxPathDepth = 8;

/** The metadata tags of one record, as comma-separated TAG field values. */
export interface MetadataTags {
  [valuesField]: string[];
  [elementsField]: string[];
  [pathsField]: string[];
}

/**
 * Tags for every metadata key a filter can address (letters, digits, `_` and `-`, at most eight
 * levels deep); the JSON copy of the metadata keeps everything else.
 */
export function metadataTags(metadata: Record<string, JsonValue>): MetadataTags {
  const tags: MetadataTags = { [valuesField]: [], [elementsField]: [], [pathsField]: [] };
  const visit = (object: Record<string, JsonValue>, prefix: string, depth: number) => {
    for (const [key, value] of Object.entries(object)) {
      if (!fieldKeyPattern.test(key) || value === null || value === undefined) continue;
      const path = prefix ? `${prefix}.${key}` : key;
      tags[pathsField].push(hex(path));
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
        tags[valuesField].push(scalarTag(path, value));
      } else if (Array.isArray(value)) {
        for (const element of value) {
          if (
            typeof element === 'string' ||
            typeof element === 'number' ||
            typeof element === 'boolean'
          ) {
            tags[elementsField].push(scalarTag(path, element));
          }
        }
      } else if (depth + 1 < maxPathDepth) {
        visit(value, path, depth + 1);
      }
    }
  };
  visit(metadata, '', 0);
  tags[elementsField] = [...new Set(tags[elementsField])];
  return tags;
}

/** Whether translating the filter needs the distinct metadata tags (see {@link RedisFilterContext}). */
export function needsValueTags(filter: FilterExpression): boolean {
  switch (filter.op) {
    case 'and':
    case 'or':
      return filter.filters.some(needsValueTags);
    case 'not':
      return needsValueTags(filter.filter);
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return true;
    case 'contains':
      return typeof filter.value === 'string';
    default:
      return false;
  }
}

/** What the translator may need from the index. */
export interface RedisFilterContext {
  /**
   * The distinct tags of the metadata values field (`FT.TAGVALS`). RediSearch has no range or
   * substring operator on TAG fields, so `gt`/`gte`/`lt`/`lte` and substring `contains` are
   * answered by choosing the exact values that satisfy the comparison from the index's own
   * value dictionary and matching those tags.
   */
  valueTags?: readonly string[];
}

/** A query fragment, or a constant: `true` restricts nothing, `false` matches nothing. */
export type RedisFilter = string | boolean;

function tagQuery(field: string, tags: readonly string[]): RedisFilter {
  if (tags.length === 0) return false;
  return `@${field}:{${[...new Set(tags)].join(' | ')}}`;
}

/** Intersection of fragments, folding constants. */
export function andQueries(parts: readonly RedisFilter[]): RedisFilter {
  const rest: string[] = [];
  for (const part of parts) {
    if (part === false) return false;
    if (part !== true) rest.push(part);
  }
  if (rest.length === 0) return true;
  if (rest.length === 1) return rest[0]!;
  return `(${rest.join(' ')})`;
}

function orQueries(parts: readonly RedisFilter[]): RedisFilter {
  const rest: string[] = [];
  for (const part of parts) {
    if (part === true) return true;
    if (part !== false) rest.push(part);
  }
  if (rest.length === 0) return false;
  if (rest.length === 1) return rest[0]!;
  return `(${rest.join(' | ')})`;
}

function notQuery(part: RedisFilter): RedisFilter {
  if (typeof part === 'boolean') return !part;
  return `-(${part})`;
}

function compare(actual: FilterScalar, expected: number | string): number | undefined {
  if (typeof actual === 'number' && typeof expected === 'number') return actual - expected;
  if (typeof actual === 'string' && typeof expected === 'string') {
    return actual < expected ? -1 : actual > expected ? 1 : 0;
  }
  return undefined;
}

function matchingValueTags(
  context: RedisFilterContext,
  path: string,
  predicate: (value: FilterScalar) => boolean,
): string[] {
  if (!context.valueTags) {
    throw new Error('translateRedisFilter needs context.valueTags for this filter.');
  }
  return context.valueTags.filter((tag) => {
    const value = decodeTag(tag, path);
    return value !== undefined && predicate(value);
  });
}

/**
 * Translates core's portable filter AST into a RediSearch query fragment (DIALECT 2) over the
 * tags written by {@link metadataTags}. Every operator is exact; `ne`, `nin` and `not` are
 * RediSearch negations, which also match records without the key.
 */
export function translateRedisFilter(
  filter: FilterExpression,
  context: RedisFilterContext = {},
): RedisFilter {
  switch (filter.op) {
    case 'and':
      return andQueries(filter.filters.map((child) => translateRedisFilter(child, context)));
    case 'or':
      return orQueries(filter.filters.map((child) => translateRedisFilter(child, context)));
    case 'not':
      return notQuery(translateRedisFilter(filter.filter, context));
    case 'eq':
      return tagQuery(valuesField, [scalarTag(filter.field, filter.value)]);
    case 'ne':
      return notQuery(tagQuery(valuesField, [scalarTag(filter.field, filter.value)]));
    case 'in':
      return tagQuery(
        valuesField,
        filter.values.map((value) => scalarTag(filter.field, value)),
      );
    case 'nin':
      return notQuery(
        tagQuery(
          valuesField,
          filter.values.map((value) => scalarTag(filter.field, value)),
        ),
      );
    case 'exists':
      return tagQuery(pathsField, [hex(filter.field)]);
    case 'contains': {
      const inArray = tagQuery(elementsField, [scalarTag(filter.field, filter.value)]);
      const needle = filter.value;
      if (typeof needle !== 'string') return inArray;
      const inString = tagQuery(
        valuesField,
        matchingValueTags(
          context,
          filter.field,
          (value) => typeof value === 'string' && value.includes(needle),
        ),
      );
      return orQueries([inString, inArray]);
    }
    default: {
      const { op, value: expected } = filter;
      return tagQuery(
        valuesField,
        matchingValueTags(context, filter.field, (value) => {
          const difference = compare(value, expected);
          if (difference === undefined) return false;
          if (op === 'gt') return difference > 0;
          if (op === 'gte') return difference >= 0;
          if (op === 'lt') return difference < 0;
          return difference <= 0;
        }),
      );
    }
  }
}
