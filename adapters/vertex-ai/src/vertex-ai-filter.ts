import { createHash } from 'node:crypto';
import { filterableKeyPattern, maxFilterPathDepth } from '@engram/adapter-kit';
import {
  type FilterExpression,
  type FilterOperator,
  type FilterScalar,
  type JsonValue,
  UnsupportedFunctionalityError,
} from '@engram/core';

/** A token restrict of a datapoint or a query (`namespace` with allowed and denied tokens). */
export interface VertexAiRestrict {
  /** Namespace of the tokens. */
  namespace: string;
  /** Tokens: on a datapoint, the ones it carries; on a query, one of them must be carried. */
  allowList?: string[];
  /** Query only: datapoints carrying one of these tokens are excluded. */
  denyList?: string[];
}

/** A numeric restrict of a datapoint (a value) or a query (a value and an operator). */
export interface VertexAiNumericRestrict {
  /** Namespace of the value. */
  namespace: string;
  /** The value (double precision). */
  valueDouble: number;
  /** Query only: how the datapoint's value must compare with `valueDouble`. */
  op?: 'LESS' | 'LESS_EQUAL' | 'EQUAL' | 'GREATER_EQUAL' | 'GREATER' | 'NOT_EQUAL';
}

/** The restricts of a query: every token restrict and every numeric restrict must hold. */
export interface VertexAiFilter {
  /** Token restricts, one per namespace. */
  restricts: VertexAiRestrict[];
  /** Numeric restricts. */
  numericRestricts: VertexAiNumericRestrict[];
}

/**
 * Operators translated exactly. Vector Search ANDs its restricts and has no disjunction across
 * namespaces and no negation of a numeric restrict, so `or`, `not` and `contains` are refused
 * rather than approximated.
 */
export const vertexAiFilterOperators: readonly FilterOperator[] = [
  'eq',
  'ne',
  'in',
  'nin',
  'gt',
  'gte',
  'lt',
  'lte',
  'exists',
  'and',
];

const source = 'vertex-ai';

/** Strings longer than this are tokenized as a 128-bit SHA-256 prefix, to keep tokens small. */
export const maxTokenStringLength = 48;
/** The namespace every datapoint carries: `path=token` for each scalar, `?path` for each present path, `*` always. */
export const valuesNamespace = 'v';
const everyDatapoint = '*';
const valueNamespace = (path: string) => `f/${path}`;
const presentNamespace = (path: string) => `e/${path}`;
const numberNamespace = (path: string) => `n/${path}`;

/** The typed token of a scalar, so that `1`, `"1"` and `true` never compare equal. */
export function vertexAiScalarToken(value: FilterScalar): string {
  if (typeof value === 'string') {
    return value.length <= maxTokenStringLength
      ? `s:${value}`
      : `h:${createHash('sha256').update(value, 'utf8').digest('base64url').slice(0, 22)}`;
  }
  return typeof value === 'number' ? `n:${String(value)}` : `b:${String(value)}`;
}

/** The restricts a datapoint carries so that {@link translateVertexAiFilter} can select it. */
export function vertexAiFilterRestricts(metadata: Record<string, JsonValue>): VertexAiFilter {
  const restricts: VertexAiRestrict[] = [];
  const numericRestricts: VertexAiNumericRestrict[] = [];
  const values = [everyDatapoint];
  const visit = (object: Record<string, JsonValue>, prefix: string) => {
    for (const [key, value] of Object.entries(object)) {
      if (!filterableKeyPattern.test(key) || value === null) continue;
      const path = prefix ? `${prefix}.${key}` : key;
      values.push(`?${path}`);
      restricts.push({ namespace: presentNamespace(path), allowList: ['1'] });
      if (typeof value === 'object') {
        if (!Array.isArray(value) && path.split('.').length < maxFilterPathDepth)
          visit(value, path);
        continue;
      }
      const token = vertexAiScalarToken(value);
      values.push(`${path}=${token}`);
      restricts.push({ namespace: valueNamespace(path), allowList: [token] });
      if (typeof value === 'number') {
        numericRestricts.push({ namespace: numberNamespace(path), valueDouble: value });
      }
    }
  };
  visit(metadata, '');
  restricts.unshift({ namespace: valuesNamespace, allowList: values });
  return { restricts, numericRestricts };
}

/** Accumulates a conjunction: allowed tokens per namespace (intersected), denied value tokens, numeric restricts. */
interface Conjunction {
  allow: Map<string, Set<string>>;
  deny: Set<string>;
  numeric: VertexAiNumericRestrict[];
  never: boolean;
}

const numericOperator = {
  gt: 'GREATER',
  gte: 'GREATER_EQUAL',
  lt: 'LESS',
  lte: 'LESS_EQUAL',
} as const;

function refusal(message: string): UnsupportedFunctionalityError {
  return new UnsupportedFunctionalityError({
    source,
    message: `${message} Vector Search restricts are a conjunction; supported: ${vertexAiFilterOperators.join(', ')}.`,
  });
}

function allow(conjunction: Conjunction, namespace: string, tokens: Iterable<string>) {
  const given = new Set(tokens);
  const existing = conjunction.allow.get(namespace);
  const kept = existing ? new Set([...existing].filter((token) => given.has(token))) : given;
  if (kept.size === 0) conjunction.never = true;
  conjunction.allow.set(namespace, kept);
}

function add(conjunction: Conjunction, filter: FilterExpression): void {
  switch (filter.op) {
    case 'and':
      for (const child of filter.filters) add(conjunction, child);
      return;
    case 'or':
    case 'not':
    case 'contains':
      throw refusal(
        `The filter operator "${filter.op}" cannot be expressed in Vertex AI Vector Search.`,
      );
    case 'eq':
    case 'in':
      allow(
        conjunction,
        valueNamespace(filter.field),
        ('values' in filter ? filter.values : [filter.value]).map(vertexAiScalarToken),
      );
      return;
    case 'ne':
    case 'nin':
      for (const value of 'values' in filter ? filter.values : [filter.value]) {
        conjunction.deny.add(`${filter.field}=${vertexAiScalarToken(value)}`);
      }
      return;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      if (typeof filter.value !== 'number') {
        throw refusal(
          `"${filter.op}" on "${filter.field}" compares with a string; Vertex AI numeric restricts compare numbers only.`,
        );
      }
      conjunction.numeric.push({
        namespace: numberNamespace(filter.field),
        valueDouble: filter.value,
        op: numericOperator[filter.op],
      });
      return;
    case 'exists':
      allow(conjunction, presentNamespace(filter.field), ['1']);
      return;
  }
}

/**
 * Translates a portable filter into Vertex AI Vector Search query restricts over the
 * namespaces {@link vertexAiFilterRestricts} writes, or `false` when nothing can match (e.g.
 * `in []`, or two `eq` on one field with different values). Throws
 * `UnsupportedFunctionalityError` for `or`, `not`, `contains` and string ranges.
 */
export function translateVertexAiFilter(filter: FilterExpression): VertexAiFilter | false {
  const conjunction: Conjunction = { allow: new Map(), deny: new Set(), numeric: [], never: false };
  add(conjunction, filter);
  if (conjunction.never) return false;
  return vertexAiConjunction(conjunction);
}

function vertexAiConjunction({ allow: allowed, deny, numeric }: Conjunction): VertexAiFilter {
  const restricts: VertexAiRestrict[] = [...allowed].map(([namespace, tokens]) => ({
    namespace,
    allowList: [...tokens],
  }));
  if (deny.size > 0) {
    restricts.push({
      namespace: valuesNamespace,
      allowList: [everyDatapoint],
      denyList: [...deny],
    });
  }
  return { restricts, numericRestricts: numeric };
}
