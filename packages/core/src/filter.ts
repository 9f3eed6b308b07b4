import { InvalidArgumentError } from './errors.js';

/** A scalar a filter compares against. */
export type FilterScalar = string | number | boolean;

/** Every operator of the portable filter language. */
export type FilterOperator =
  | 'eq'
  | 'ne'
  | 'gt'
  | 'gte'
  | 'lt'
  | 'lte'
  | 'in'
  | 'nin'
  | 'contains'
  | 'exists'
  | 'and'
  | 'or'
  | 'not';

/** All operators, in a stable order. */
export const filterOperators: readonly FilterOperator[] = [
  'eq',
  'ne',
  'gt',
  'gte',
  'lt',
  'lte',
  'in',
  'nin',
  'contains',
  'exists',
  'and',
  'or',
  'not',
];

/**
 * The portable filter AST. Fields name metadata keys; nested keys use dots (`address.city`).
 *
 * Semantics every adapter follows (and the conformance suite checks):
 * - `eq`/`in` match a scalar field equal to the value (no type coercion: `1` is not `"1"`);
 * - `ne`/`nin` also match records where the field is missing;
 * - `gt`/`gte`/`lt`/`lte` compare numbers with numbers and strings with strings;
 * - `contains` matches an array field holding the value, or a string field holding it as a
 *   substring (case-sensitive);
 * - `exists` matches a field that is present and not null.
 */
export type FilterExpression =
  | { op: 'eq' | 'ne'; field: string; value: FilterScalar }
  | { op: 'gt' | 'gte' | 'lt' | 'lte'; field: string; value: number | string }
  | { op: 'in' | 'nin'; field: string; values: FilterScalar[] }
  | { op: 'contains'; field: string; value: FilterScalar }
  | { op: 'exists'; field: string }
  | { op: 'and' | 'or'; filters: FilterExpression[] }
  | { op: 'not'; filter: FilterExpression };

/** Comparison operators of the shorthand form, e.g. `{ age: { gte: 30 } }`. */
export type FilterShorthandCondition = Partial<{
  eq: FilterScalar;
  ne: FilterScalar;
  gt: number | string;
  gte: number | string;
  lt: number | string;
  lte: number | string;
  in: FilterScalar[];
  nin: FilterScalar[];
  contains: FilterScalar;
  exists: boolean;
}>;

/**
 * The mem0-style shorthand: `{ category: 'food', age: { gte: 30 }, OR: [...], NOT: {...} }`.
 * Keys are ANDed together.
 */
export interface FilterShorthand {
  [field: string]:
    | FilterScalar
    | FilterShorthandCondition
    | FilterShorthand
    | FilterShorthand[]
    | undefined;
}

/** Filters as accepted by the engine: the AST or the shorthand. */
export type FilterInput = FilterExpression | FilterShorthand;

const fieldPattern = /^[A-Za-z_][A-Za-z0-9_-]{0,63}(\.[A-Za-z_][A-Za-z0-9_-]{0,63}){0,7}$/;
const maxDepth = 16;
const maxListLength = 1000;

function fail(message: string): never {
  throw new InvalidArgumentError({ message: `Invalid filter: ${message}` });
}

function isScalar(value: unknown): value is FilterScalar {
  return (
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

function checkField(field: unknown, path: string): asserts field is string {
  if (typeof field !== 'string' || !fieldPattern.test(field)) {
    fail(
      `${path}.field must be a metadata key of letters, digits, "_" or "-" (dots for nested keys), got ${JSON.stringify(field)}.`,
    );
  }
}

/**
 * Checks a filter AST and returns it unchanged; throws `InvalidArgumentError` naming the first
 * problem (unknown operator, bad field name, value of the wrong type, too deep, too long).
 */
export function validateFilter(filter: unknown, path = 'filter', depth = 0): FilterExpression {
  if (depth > maxDepth) fail(`nested deeper than ${maxDepth} levels at ${path}.`);
  if (filter == null || typeof filter !== 'object' || Array.isArray(filter)) {
    fail(`${path} must be an object with an "op", got ${JSON.stringify(filter)}.`);
  }
  const node = filter as Record<string, unknown>;
  switch (node.op) {
    case 'eq':
    case 'ne':
    case 'contains':
      checkField(node.field, path);
      if (!isScalar(node.value)) {
        fail(`${path}.value of "${node.op}" must be a string, finite number or boolean.`);
      }
      return node as FilterExpression;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      checkField(node.field, path);
      if (
        !(
          typeof node.value === 'string' ||
          (typeof node.value === 'number' && Number.isFinite(node.value))
        )
      ) {
        fail(`${path}.value of "${node.op}" must be a finite number or a string.`);
      }
      return node as FilterExpression;
    case 'in':
    case 'nin':
      checkField(node.field, path);
      if (!Array.isArray(node.values) || !node.values.every(isScalar)) {
        fail(`${path}.values of "${node.op}" must be an array of strings, numbers or booleans.`);
      }
      if (node.values.length > maxListLength) {
        fail(
          `${path}.values has ${node.values.length} entries; at most ${maxListLength} are allowed.`,
        );
      }
      return node as FilterExpression;
    case 'exists':
      checkField(node.field, path);
      return node as FilterExpression;
    case 'and':
    case 'or':
      if (!Array.isArray(node.filters) || node.filters.length === 0) {
        fail(`${path}.filters of "${node.op}" must be a non-empty array.`);
      }
      if (node.filters.length > maxListLength) {
        fail(
          `${path}.filters has ${node.filters.length} entries; at most ${maxListLength} are allowed.`,
        );
      }
      for (const [index, child] of node.filters.entries()) {
        validateFilter(child, `${path}.filters[${index}]`, depth + 1);
      }
      return node as FilterExpression;
    case 'not':
      validateFilter(node.filter, `${path}.filter`, depth + 1);
      return node as FilterExpression;
    default:
      fail(`${path}.op ${JSON.stringify(node.op)} is not one of ${filterOperators.join(', ')}.`);
  }
}

const logicalOperators = new Set<string>(['and', 'or', 'not']);
const shorthandOperators = new Set<string>(
  filterOperators.filter((operator) => !logicalOperators.has(operator)),
);

function isAstNode(input: object): boolean {
  const op = (input as { op?: unknown }).op;
  if (typeof op !== 'string') return false;
  return (
    (filterOperators as readonly string[]).includes(op) ||
    'field' in input ||
    'filters' in input ||
    'filter' in input
  );
}

function shorthandToExpression(
  input: FilterShorthand,
  path: string,
  depth: number,
): FilterExpression {
  if (depth > maxDepth) fail(`nested deeper than ${maxDepth} levels at ${path}.`);
  const parts: FilterExpression[] = [];
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue;
    if (key === 'AND' || key === 'OR') {
      if (!Array.isArray(value) || value.length === 0)
        fail(`${path}.${key} must be a non-empty array.`);
      const filters = value.map((child, index) =>
        normalizeFilterAt(child, `${path}.${key}[${index}]`, depth + 1),
      );
      parts.push({ op: key === 'AND' ? 'and' : 'or', filters });
      continue;
    }
    if (key === 'NOT') {
      parts.push({ op: 'not', filter: normalizeFilterAt(value, `${path}.NOT`, depth + 1) });
      continue;
    }
    checkField(key, `${path}[${JSON.stringify(key)}]`);
    if (isScalar(value)) {
      parts.push({ op: 'eq', field: key, value });
      continue;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      fail(
        `${path}.${key} must be a string, number, boolean or an object of operators (eq, ne, gt, gte, lt, lte, in, nin, contains, exists).`,
      );
    }
    for (const [operator, operand] of Object.entries(value)) {
      if (!shorthandOperators.has(operator)) {
        fail(
          `${path}.${key}.${operator} is not an operator; use one of ${[...shorthandOperators].join(', ')}.`,
        );
      }
      if (operator === 'exists') {
        const exists: FilterExpression = { op: 'exists', field: key };
        parts.push(operand === false ? { op: 'not', filter: exists } : exists);
      } else if (operator === 'in' || operator === 'nin') {
        parts.push({ op: operator, field: key, values: operand as FilterScalar[] });
      } else {
        parts.push({ op: operator, field: key, value: operand } as FilterExpression);
      }
    }
  }
  if (parts.length === 0) fail(`${path} has no conditions.`);
  return parts.length === 1 ? parts[0]! : { op: 'and', filters: parts };
}

function normalizeFilterAt(input: unknown, path: string, depth: number): FilterExpression {
  if (input == null || typeof input !== 'object' || Array.isArray(input)) {
    fail(`${path} must be an object, got ${JSON.stringify(input)}.`);
  }
  const expression = isAstNode(input)
    ? (input as FilterExpression)
    : shorthandToExpression(input as FilterShorthand, path, depth);
  return validateFilter(expression, path, depth);
}

/**
 * Turns either filter form into a validated AST. Returns `undefined` for an absent or empty
 * filter.
 */
export function normalizeFilter(
  input: FilterInput | undefined | null,
): FilterExpression | undefined {
  if (input == null) return undefined;
  if (typeof input === 'object' && !Array.isArray(input) && Object.keys(input).length === 0) {
    return undefined;
  }
  return normalizeFilterAt(input, 'filter', 0);
}

/** Collects the operators a filter uses, to check them against an adapter's capabilities. */
export function filterOperatorsUsed(filter: FilterExpression, into = new Set<FilterOperator>()) {
  into.add(filter.op);
  if (filter.op === 'and' || filter.op === 'or') {
    for (const child of filter.filters) filterOperatorsUsed(child, into);
  } else if (filter.op === 'not') {
    filterOperatorsUsed(filter.filter, into);
  }
  return into;
}

/** Reads a dotted path from a metadata object. */
export function readField(metadata: Record<string, unknown> | undefined, field: string): unknown {
  let current: unknown = metadata;
  for (const key of field.split('.')) {
    if (current == null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function compare(actual: unknown, expected: number | string): number | undefined {
  if (typeof actual === 'number' && typeof expected === 'number') return actual - expected;
  if (typeof actual === 'string' && typeof expected === 'string') {
    return actual < expected ? -1 : actual > expected ? 1 : 0;
  }
  return undefined;
}

/**
 * Evaluates a filter against a metadata object: the reference semantics that the in-memory
 * store uses and that the conformance suite holds every adapter to.
 */
export function matchesFilter(
  filter: FilterExpression,
  metadata: Record<string, unknown>,
): boolean {
  switch (filter.op) {
    case 'and':
      return filter.filters.every((child) => matchesFilter(child, metadata));
    case 'or':
      return filter.filters.some((child) => matchesFilter(child, metadata));
    case 'not':
      return !matchesFilter(filter.filter, metadata);
    case 'exists':
      return readField(metadata, filter.field) != null;
    case 'eq':
      return readField(metadata, filter.field) === filter.value;
    case 'ne':
      return readField(metadata, filter.field) !== filter.value;
    case 'in':
      return filter.values.includes(readField(metadata, filter.field) as FilterScalar);
    case 'nin':
      return !filter.values.includes(readField(metadata, filter.field) as FilterScalar);
    case 'contains': {
      const actual = readField(metadata, filter.field);
      if (Array.isArray(actual)) return actual.includes(filter.value);
      return typeof actual === 'string' && typeof filter.value === 'string'
        ? actual.includes(filter.value)
        : false;
    }
    default: {
      const difference = compare(readField(metadata, filter.field), filter.value);
      if (difference === undefined) return false;
      if (filter.op === 'gt') return difference > 0;
      if (filter.op === 'gte') return difference >= 0;
      if (filter.op === 'lt') return difference < 0;
      return difference <= 0;
    }
  }
}
