import {
  type FilterExpression,
  type FilterScalar,
  normalizeFilter,
  type Scope,
  type ScopeField,
} from '@engram/core';
import { ApiError } from './http-errors.js';

/** What a mem0 platform `filters` object selects: one Engram scope and a metadata filter. */
export interface Mem0Selection {
  /** The scope every matching memory belongs to. */
  scope: Scope;
  /** Conditions on metadata (`app_id` included), when the filters hold any. */
  filter?: FilterExpression;
}

/** mem0's entity fields that are Engram scope fields. */
const scopeFieldOf: Record<string, ScopeField> = {
  user_id: 'userId',
  agent_id: 'agentId',
  run_id: 'runId',
};

/** Filter fields of the mem0 platform that Engram has no equivalent for. */
const unsupportedFields = new Set([
  'created_at',
  'updated_at',
  'timestamp',
  'expiration_date',
  'text',
  'categories',
  'keywords',
  'keywords_search',
  'memory_ids',
]);

const comparisonOperators = new Set(['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'contains']);
const listOperators = new Set(['in', 'nin']);

function refuse(message: string): never {
  throw new ApiError(400, 'invalid_argument', message);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isScalar(value: unknown): value is FilterScalar {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/** The condition `{ field: value }` or `{ field: { operator: operand, ... } }` on metadata. */
function condition(field: string, value: unknown, path: string): FilterExpression {
  if (value === '*') return { op: 'exists', field };
  if (isScalar(value)) return { op: 'eq', field, value };
  if (!isPlainObject(value) || Object.keys(value).length === 0) {
    refuse(
      `${path} must be a string, number, boolean or an object of operators (eq, ne, gt, gte, lt, lte, in, nin, contains), got ${JSON.stringify(value)}.`,
    );
  }
  const parts = Object.entries(value).map(([operator, operand]): FilterExpression => {
    if (listOperators.has(operator)) {
      if (!Array.isArray(operand)) refuse(`${path}.${operator} must be an array of values.`);
      return { op: operator as 'in' | 'nin', field, values: operand as FilterScalar[] };
    }
    if (comparisonOperators.has(operator)) {
      return { op: operator, field, value: operand } as FilterExpression;
    }
    if (operator === 'icontains') {
      refuse(
        `${path}: the operator "icontains" is not supported (Engram's "contains" is case-sensitive); use "contains".`,
      );
    }
    return refuse(
      `${path}: the operator ${JSON.stringify(operator)} is not supported; use one of eq, ne, gt, gte, lt, lte, in, nin, contains (or "*" for any value).`,
    );
  });
  return parts.length === 1 ? parts[0]! : { op: 'and', filters: parts };
}

function refuseUnsupportedField(key: string, path: string): void {
  if (unsupportedFields.has(key)) {
    refuse(
      `${path}: filtering on "${key}" is not supported by Engram; filter on user_id, agent_id, run_id, app_id and metadata.`,
    );
  }
}

const maxDepth = 16;

/** A filter below OR or NOT: metadata and `app_id` only. */
function expression(node: unknown, path: string, depth = 0): FilterExpression {
  if (depth > maxDepth) refuse(`${path}: filters are nested deeper than ${maxDepth} levels.`);
  if (!isPlainObject(node) || Object.keys(node).length === 0) {
    refuse(`${path} must be a non-empty object of conditions.`);
  }
  const parts: FilterExpression[] = [];
  for (const [key, value] of Object.entries(node)) {
    const at = `${path}.${key}`;
    if (key === 'AND' || key === 'OR') {
      if (!Array.isArray(value) || value.length === 0) refuse(`${at} must be a non-empty array.`);
      parts.push({
        op: key === 'AND' ? 'and' : 'or',
        filters: value.map((child, index) => expression(child, `${at}[${index}]`, depth + 1)),
      });
    } else if (key === 'NOT') {
      const inner = Array.isArray(value)
        ? {
            op: 'and' as const,
            filters: value.map((child, index) => expression(child, `${at}[${index}]`, depth + 1)),
          }
        : expression(value, at, depth + 1);
      parts.push({ op: 'not', filter: inner });
    } else if (key in scopeFieldOf) {
      refuse(
        `${at}: ${key} can only narrow the whole call (at the top level of filters or in a top-level AND), not inside OR or NOT; make one call per ${key}.`,
      );
    } else if (key === 'metadata') {
      if (!isPlainObject(value) || Object.keys(value).length === 0) {
        refuse(`${at} must be a non-empty object such as {"topic": "food"}.`);
      }
      for (const [field, operand] of Object.entries(value)) {
        parts.push(condition(field, operand, `${at}.${field}`));
      }
    } else {
      refuseUnsupportedField(key, at);
      parts.push(condition(key, value, at));
    }
  }
  return parts.length === 1 ? parts[0]! : { op: 'and', filters: parts };
}

/** Sets a scope field, refusing a second, different value for it. */
function narrow(scope: Scope, key: string, value: unknown, path: string): void {
  let id = value;
  if (isPlainObject(value)) {
    const entries = Object.entries(value);
    const [operator, operand] = entries[0] ?? [];
    if (entries.length === 1 && operator === 'eq') id = operand;
    else if (entries.length === 1 && operator === 'in' && Array.isArray(operand)) {
      if (operand.length !== 1) {
        refuse(
          `${path}: "in" with ${operand.length} values is not supported; a call reads one ${key} at a time, so make one call per ${key}.`,
        );
      }
      id = operand[0];
    } else {
      refuse(
        `${path}: ${JSON.stringify(operator)} is not supported on ${key}; give one id, as in {"${key}": "alice"}.`,
      );
    }
  }
  if (id === '*') return;
  if (typeof id !== 'string' || id.trim().length === 0) {
    refuse(`${path} must be a non-empty string id, got ${JSON.stringify(id)}.`);
  }
  const field = scopeFieldOf[key]!;
  if (scope[field] !== undefined && scope[field] !== id) {
    refuse(`${path}: ${key} is given twice with different values ("${scope[field]}" and "${id}").`);
  }
  scope[field] = id;
}

/**
 * Translates the `filters` of a mem0 platform request (and the entity ids a request may also give
 * beside them) into one Engram scope and a portable metadata filter. Top-level keys and the
 * members of a top-level `AND` are ANDed; `user_id`, `agent_id` and `run_id` there become the
 * scope (`"*"` leaves one open). `app_id` and every other key are metadata conditions, as are the
 * keys under `metadata`. What has no Engram equivalent (entity ids inside `OR`/`NOT` or with
 * `in`/`ne`, `icontains`, `created_at`, `categories`, ...) is a 400 naming it.
 */
export function translateMem0Filters(
  filters: Record<string, unknown> | undefined,
  entities: Record<string, unknown> = {},
): Mem0Selection {
  const scope: Scope = {};
  const parts: FilterExpression[] = [];
  for (const [key, value] of Object.entries(entities)) {
    if (value === undefined || value === null) continue;
    if (key in scopeFieldOf) narrow(scope, key, value, key);
    else if (key === 'app_id') parts.push(condition('app_id', value, key));
  }
  const visit = (node: Record<string, unknown>, path: string, depth: number) => {
    if (depth > maxDepth) refuse(`${path}: filters are nested deeper than ${maxDepth} levels.`);
    for (const [key, value] of Object.entries(node)) {
      const at = `${path}.${key}`;
      if (value === undefined) continue;
      if (key === 'AND') {
        if (!Array.isArray(value) || value.length === 0) refuse(`${at} must be a non-empty array.`);
        value.forEach((child, index) => {
          if (!isPlainObject(child)) refuse(`${at}[${index}] must be an object of conditions.`);
          visit(child, `${at}[${index}]`, depth + 1);
        });
      } else if (key in scopeFieldOf) {
        narrow(scope, key, value, at);
      } else {
        parts.push(expression({ [key]: value }, path, depth));
      }
    }
  };
  if (filters !== undefined) {
    if (!isPlainObject(filters)) refuse('filters must be an object such as {"user_id": "alice"}.');
    visit(filters, 'filters', 0);
  }
  const combined: FilterExpression | undefined =
    parts.length === 0 ? undefined : parts.length === 1 ? parts[0] : { op: 'and', filters: parts };
  try {
    const filter = normalizeFilter(combined);
    return filter ? { scope, filter } : { scope };
  } catch (error) {
    refuse(`filters: ${(error as Error).message}`);
  }
}

/** Refuses a selection without a scope: Engram reads and deletes one scope at a time. */
export function requireScope(selection: Mem0Selection): Mem0Selection {
  if (Object.keys(selection.scope).length === 0) {
    refuse(
      'filters must name at least one of user_id, agent_id or run_id with one id, as in {"user_id": "alice"} (Engram reads and deletes one scope at a time; "*" alone is not a scope).',
    );
  }
  return selection;
}
