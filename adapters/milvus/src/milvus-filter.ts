import {
  type FilterExpression,
  type FilterOperator,
  type FilterScalar,
  filterOperators,
  UnsupportedFunctionalityError,
} from '@engram/core';

/** Name of the JSON field that holds a record's metadata. */
export const metadataField = 'metadata';

/**
 * Name of the JSON field that lists where the metadata holds `null`: `{ "paths": ['["a","b"]'] }`,
 * each path a JSON-encoded array of keys. Milvus's `exists` is true for a key whose value is
 * `null`, while Engram's `exists` means "present and not null"; this list is what tells them apart.
 */
export const nullPathsField = 'metadata_null_paths';

/**
 * Operators translated natively. `contains` is left out: Engram's `contains` also matches a
 * substring of a string field, and Milvus 2.3 `like` accepts prefix patterns only, so it cannot be
 * expressed exactly.
 */
export const milvusFilterOperators: readonly FilterOperator[] = filterOperators.filter(
  (operator) => operator !== 'contains',
);

const supported = new Set<FilterOperator>(milvusFilterOperators);

/**
 * A string literal of a Milvus boolean expression. Milvus unquotes double-quoted literals with C
 * escape rules (`\"`, `\\`, `\n`, `\uXXXX`), which every escape JSON produces is a part of, so a
 * JSON string is a safe literal: nothing in the value can end the literal early.
 */
export function milvusStringLiteral(value: string): string {
  return JSON.stringify(value);
}

function numberLiteral(value: number): string {
  if (!Number.isFinite(value)) {
    throw new UnsupportedFunctionalityError({
      source: 'milvus',
      message: `Filter value ${value} is not a finite number.`,
    });
  }
  // String(-0) is "0"; exponents ("1e-7", "1e+21") are valid Milvus float literals.
  return String(value);
}

function scalarLiteral(value: FilterScalar): string {
  if (typeof value === 'string') return milvusStringLiteral(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return numberLiteral(value);
}

/** The JSON path of a dotted metadata field: `address.city` -> `metadata["address"]["city"]`. */
export function milvusJsonPath(field: string): string {
  return `${metadataField}${field
    .split('.')
    .map((key) => `[${milvusStringLiteral(key)}]`)
    .join('')}`;
}

function equals(field: string, value: FilterScalar): string {
  return `${milvusJsonPath(field)} == ${scalarLiteral(value)}`;
}

/**
 * `field in [...]`, split by value type: Milvus compares a JSON value only with literals of its
 * own type and rejects a list mixing strings and numbers.
 */
function isIn(field: string, values: readonly FilterScalar[]): string {
  const path = milvusJsonPath(field);
  const unique = [...new Set(values)];
  if (unique.length === 0) return `${path} in []`;
  const integers = unique.filter(
    (value): value is number => typeof value === 'number' && Number.isSafeInteger(value),
  );
  const floats = unique.filter(
    (value): value is number => typeof value === 'number' && !Number.isSafeInteger(value),
  );
  const strings = unique.filter((value): value is string => typeof value === 'string');
  const booleans = unique.filter((value): value is boolean => typeof value === 'boolean');
  const parts: string[] = [];
  if (integers.length > 0) parts.push(`${path} in [${integers.map(numberLiteral).join(', ')}]`);
  if (floats.length > 0) parts.push(`${path} in [${floats.map(numberLiteral).join(', ')}]`);
  if (strings.length > 0) {
    parts.push(`${path} in [${strings.map(milvusStringLiteral).join(', ')}]`);
  }
  for (const value of booleans) parts.push(equals(field, value));
  return parts.length === 1 ? parts[0]! : parts.map((part) => `(${part})`).join(' or ');
}

function exists(field: string): string {
  const nullPath = milvusStringLiteral(JSON.stringify(field.split('.')));
  return `(exists ${milvusJsonPath(field)}) and (not json_contains(${nullPathsField}["paths"], ${nullPath}))`;
}

/**
 * Translates a portable filter into a Milvus boolean expression over the `metadata` JSON field.
 * Throws `UnsupportedFunctionalityError` for operators outside {@link milvusFilterOperators}.
 *
 * Semantics follow core's `matchesFilter`: `eq`/`in` compare without type coercion (Milvus only
 * matches JSON values of the literal's type), `ne`/`nin` are the negation of `eq`/`in` and so
 * match records without the field, and `exists` excludes `null` values.
 */
export function translateMilvusFilter(filter: FilterExpression): string {
  if (!supported.has(filter.op)) {
    throw new UnsupportedFunctionalityError({
      source: 'milvus',
      message: `The filter operator "${filter.op}" is not supported by the Milvus store: Milvus 2.3 expressions cannot match a substring anywhere in a string. Supported: ${milvusFilterOperators.join(', ')}.`,
    });
  }
  switch (filter.op) {
    case 'eq':
      return equals(filter.field, filter.value);
    case 'ne':
      return `not (${equals(filter.field, filter.value)})`;
    case 'gt':
      return `${milvusJsonPath(filter.field)} > ${scalarLiteral(filter.value)}`;
    case 'gte':
      return `${milvusJsonPath(filter.field)} >= ${scalarLiteral(filter.value)}`;
    case 'lt':
      return `${milvusJsonPath(filter.field)} < ${scalarLiteral(filter.value)}`;
    case 'lte':
      return `${milvusJsonPath(filter.field)} <= ${scalarLiteral(filter.value)}`;
    case 'in':
      return isIn(filter.field, filter.values);
    case 'nin':
      return `not (${isIn(filter.field, filter.values)})`;
    case 'exists':
      return exists(filter.field);
    case 'and':
    case 'or':
      if (filter.filters.length === 1) return translateMilvusFilter(filter.filters[0]!);
      return filter.filters
        .map((child) => `(${translateMilvusFilter(child)})`)
        .join(` ${filter.op} `);
    case 'not':
      return `not (${translateMilvusFilter(filter.filter)})`;
    default:
      throw new UnsupportedFunctionalityError({
        source: 'milvus',
        message: `The filter operator "${(filter as { op: string }).op}" is not supported by the Milvus store.`,
      });
  }
}

/**
 * Collects the `null` paths of a metadata object (through nested objects, not arrays, and no
 * deeper than a filter field can address), JSON-encoded for {@link nullPathsField}.
 */
export function metadataNullPaths(metadata: Record<string, unknown>): string[] {
  const paths: string[] = [];
  const visit = (value: Record<string, unknown>, prefix: string[]) => {
    for (const [key, child] of Object.entries(value)) {
      const path = [...prefix, key];
      if (child === null) {
        paths.push(JSON.stringify(path));
      } else if (typeof child === 'object' && !Array.isArray(child) && path.length < 8) {
        visit(child as Record<string, unknown>, path);
      }
    }
  };
  visit(metadata, []);
  return paths;
}
