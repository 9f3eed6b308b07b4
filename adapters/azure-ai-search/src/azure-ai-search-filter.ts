import { createHash } from 'node:crypto';
import {
  type FilterNode,
  filterableKeyPattern,
  joinFilterNodes,
  maxFilterPathDepth,
  negateFilterNode,
  orderedHex,
} from '@engram/adapter-kit';
import {
  type FilterExpression,
  type FilterOperator,
  type FilterScalar,
  filterOperators,
  type JsonValue,
  UnsupportedFunctionalityError,
} from '@engram/core';

/**
 * Result of {@link translateAzureAiSearchFilter}: an OData `$filter` expression, or a constant
 * when the portable filter always (`true`) or never (`false`) matches.
 */
export type AzureAiSearchFilterTranslation = string | boolean;

/** One element of the `filterNumbers` complex collection: a number at a dotted path. */
export interface AzureAiSearchNumberEntry {
  /** Dotted metadata path. */
  path: string;
  /** The number stored there. */
  value: number;
}

/** One element of the `filterStrings` complex collection: a string at a dotted path, order-encoded. */
export interface AzureAiSearchStringEntry {
  /** Dotted metadata path. */
  path: string;
  /** The string's UTF-16 code units as 4-digit lowercase hex ({@link orderedHex}). */
  value: string;
}

/** The filterable projection of a record's metadata, as stored in the index. */
export interface AzureAiSearchFilterFields {
  /** `<path>=<typed token>` per scalar: the target of `eq`, `ne`, `in` and `nin`. */
  filterTokens: string[];
  /** Dotted paths present and not null: the target of `exists`. */
  filterPaths: string[];
  /** Numbers per path, for range comparisons. */
  filterNumbers: AzureAiSearchNumberEntry[];
  /** Strings per path, for range comparisons. */
  filterStrings: AzureAiSearchStringEntry[];
}

/**
 * Operators translated exactly. `contains` is left out: OData in Azure AI Search has no
 * substring match on filterable fields (`search.ismatch` is full-text, not substring), and the
 * portable `contains` also matches substrings of string fields.
 */
export const azureAiSearchFilterOperators: readonly FilterOperator[] = filterOperators.filter(
  (operator) => operator !== 'contains',
);

const source = 'azure-ai-search';

/**
 * Strings longer than this (in UTF-16 code units) are stored as a hash in their equality token
 * and as this prefix in `filterStrings`, so no filterable term nears Azure's 32 KB term limit.
 * Range bounds must then be shorter than the prefix, which keeps comparisons exact.
 */
export const maxFilterStringLength = 1000;

function stringToken(value: string): string {
  if (value.length <= maxFilterStringLength) return `s:${value}`;
  return `h:${createHash('sha256').update(value, 'utf8').digest('hex')}`;
}

/** The typed token of a scalar, so that `1`, `"1"` and `true` never compare equal. */
export function scalarToken(value: FilterScalar): string {
  if (typeof value === 'string') return stringToken(value);
  if (typeof value === 'number') return `n:${String(value)}`;
  return `b:${String(value)}`;
}

/**
 * Projects metadata onto the index's filter fields: only paths a portable filter can name
 * (arrays are not walked into, nested objects are, up to the path depth limit).
 */
export function azureAiSearchFilterFields(
  metadata: Record<string, JsonValue>,
): AzureAiSearchFilterFields {
  const fields: AzureAiSearchFilterFields = {
    filterTokens: [],
    filterPaths: [],
    filterNumbers: [],
    filterStrings: [],
  };
  const visit = (object: Record<string, JsonValue>, prefix: string) => {
    for (const [key, value] of Object.entries(object)) {
      if (!filterableKeyPattern.test(key) || value === null) continue;
      const path = prefix ? `${prefix}.${key}` : key;
      fields.filterPaths.push(path);
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
        fields.filterTokens.push(`${path}=${scalarToken(value)}`);
        if (typeof value === 'number') fields.filterNumbers.push({ path, value });
        if (typeof value === 'string') {
          fields.filterStrings.push({
            path,
            value: orderedHex(value.slice(0, maxFilterStringLength + 1)),
          });
        }
      } else if (!Array.isArray(value) && path.split('.').length < maxFilterPathDepth) {
        visit(value, path);
      }
    }
  };
  visit(metadata, '');
  return fields;
}

/** An OData string literal. */
export function odataString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

type Node = FilterNode<string>;

const and = (nodes: Node[]) =>
  joinFilterNodes('and', nodes, (clauses) => clauses.map((clause) => `(${clause})`).join(' and '));
const or = (nodes: Node[]) =>
  joinFilterNodes('or', nodes, (clauses) => clauses.map((clause) => `(${clause})`).join(' or '));
const not = (node: Node) => negateFilterNode(node, (clause) => `not (${clause})`);

const rangeOperator = { gt: 'gt', gte: 'ge', lt: 'lt', lte: 'le' } as const;

function anyToken(tokens: readonly string[]): Node {
  if (tokens.length === 0) return false;
  return `filterTokens/any(t: ${tokens.map((token) => `t eq ${odataString(token)}`).join(' or ')})`;
}

function translate(filter: FilterExpression): Node {
  switch (filter.op) {
    case 'and':
      return and(filter.filters.map(translate));
    case 'or':
      return or(filter.filters.map(translate));
    case 'not':
      return not(translate(filter.filter));
    case 'eq':
    case 'ne': {
      const node = anyToken([`${filter.field}=${scalarToken(filter.value)}`]);
      return filter.op === 'eq' ? node : not(node);
    }
    case 'in':
    case 'nin': {
      const tokens = [
        ...new Set(filter.values.map((value) => `${filter.field}=${scalarToken(value)}`)),
      ];
      const node = anyToken(tokens);
      return filter.op === 'in' ? node : not(node);
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const operator = rangeOperator[filter.op];
      const path = `x/path eq ${odataString(filter.field)}`;
      if (typeof filter.value === 'number') {
        return `filterNumbers/any(x: ${path} and x/value ${operator} ${String(filter.value)})`;
      }
      if (filter.value.length >= maxFilterStringLength) {
        throw new UnsupportedFunctionalityError({
          source,
          message: `"${filter.op}" compares strings of fewer than ${maxFilterStringLength} characters; the value for "${filter.field}" has ${filter.value.length}.`,
        });
      }
      return `filterStrings/any(x: ${path} and x/value ${operator} ${odataString(orderedHex(filter.value))})`;
    }
    case 'exists':
      return `filterPaths/any(p: p eq ${odataString(filter.field)})`;
    case 'contains':
      throw new UnsupportedFunctionalityError({
        source,
        message: `The filter operator "contains" cannot be expressed exactly in Azure AI Search (no substring match in $filter); supported: ${azureAiSearchFilterOperators.join(', ')}.`,
      });
  }
}

/**
 * Translates a portable filter into an OData `$filter` over the filter fields this adapter
 * writes (see {@link azureAiSearchFilterFields}). Returns `true` or `false` when the filter is
 * constant (e.g. `in []`). Throws `UnsupportedFunctionalityError` for `contains`, and for a
 * string range whose bound has {@link maxFilterStringLength} characters or more.
 */
export function translateAzureAiSearchFilter(
  filter: FilterExpression,
): AzureAiSearchFilterTranslation {
  return translate(filter);
}
