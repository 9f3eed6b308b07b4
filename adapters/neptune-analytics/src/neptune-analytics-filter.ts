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
} from '@engram/core';

/**
 * A condition of an openCypher `WHERE` over the node `n`, before rendering. Every comparison is
 * wrapped in `coalesce(..., false)`, so conditions are two-valued and `NOT` is exact even where a
 * property is missing (openCypher's `NOT null` is `null`).
 */
export type NeptuneAnalyticsCondition =
  | {
      kind: 'compare';
      property: string;
      operator: '=' | '<' | '<=' | '>' | '>=' | 'IN' | 'CONTAINS';
      value: unknown;
    }
  | { kind: 'present'; property: string }
  | { kind: 'and' | 'or'; children: NeptuneAnalyticsCondition[] }
  | { kind: 'not'; child: NeptuneAnalyticsCondition };

/** A rendered `WHERE` condition and the query parameters it names. */
export interface NeptuneAnalyticsWhere {
  /** The condition over `n`; `true` or `false` for a constant. */
  cypher: string;
  /** Values of the `$` parameters the condition names. */
  parameters: Record<string, unknown>;
}

/** Every portable operator: each has an exact openCypher form over the properties written. */
export const neptuneAnalyticsFilterOperators: readonly FilterOperator[] = filterOperators;

// Metadata is stored as typed scalar node properties (Neptune Analytics properties hold no maps),
// one name per type, so no comparison ever mixes types: `1`, `"1"` and `true` stay apart.
const stringProperty = (path: string) => `s:${path}`;
const numberProperty = (path: string) => `n:${path}`;
const booleanProperty = (path: string) => `b:${path}`;
/** 4-digit hex per UTF-16 unit: ranges in JavaScript's string order under any collation. */
const orderProperty = (path: string) => `h:${path}`;
/** Array elements as `|token|token|` (typed tokens, `%` and `|` percent-encoded). */
const arrayProperty = (path: string) => `a:${path}`;
const objectProperty = (path: string) => `o:${path}`;

/** The typed token of an array element, free of `|` so that `|token|` matches whole elements. */
export function arrayElementToken(value: FilterScalar): string {
  const typed =
    typeof value === 'string'
      ? `s:${value}`
      : typeof value === 'number'
        ? `n:${String(value)}`
        : `b:${String(value)}`;
  return typed.replaceAll('%', '%25').replaceAll('|', '%7C');
}

/** The node properties that make `metadata` filterable (nulls, odd keys and deep paths left out). */
export function neptuneAnalyticsFilterProperties(
  metadata: Record<string, JsonValue>,
): Record<string, string | number | boolean> {
  const properties: Record<string, string | number | boolean> = {};
  const visit = (object: Record<string, JsonValue>, prefix: string) => {
    for (const [key, value] of Object.entries(object)) {
      if (!filterableKeyPattern.test(key) || value === null) continue;
      const path = prefix ? `${prefix}.${key}` : key;
      if (typeof value === 'string') {
        properties[stringProperty(path)] = value;
        properties[orderProperty(path)] = orderedHex(value);
      } else if (typeof value === 'number') {
        properties[numberProperty(path)] = value;
      } else if (typeof value === 'boolean') {
        properties[booleanProperty(path)] = value;
      } else if (Array.isArray(value)) {
        const tokens = value.flatMap((element) =>
          element !== null && typeof element !== 'object' ? [arrayElementToken(element)] : [],
        );
        properties[arrayProperty(path)] = `|${tokens.join('|')}|`;
      } else {
        properties[objectProperty(path)] = true;
        if (path.split('.').length < maxFilterPathDepth) visit(value, path);
      }
    }
  };
  visit(metadata, '');
  return properties;
}

type Node = FilterNode<NeptuneAnalyticsCondition>;
type Compare = Extract<NeptuneAnalyticsCondition, { kind: 'compare' }>;

const and = (nodes: Node[]) =>
  joinFilterNodes(
    'and',
    nodes,
    (children): NeptuneAnalyticsCondition => ({ kind: 'and', children }),
  );
const or = (nodes: Node[]) =>
  joinFilterNodes('or', nodes, (children): NeptuneAnalyticsCondition => ({ kind: 'or', children }));
const compare = (property: string, operator: Compare['operator'], value: unknown): Compare => ({
  kind: 'compare',
  property,
  operator,
  value,
});

function scalarProperty(path: string, value: FilterScalar): string {
  if (typeof value === 'string') return stringProperty(path);
  return typeof value === 'number' ? numberProperty(path) : booleanProperty(path);
}

function equalsAny(path: string, values: readonly FilterScalar[]): Node {
  const byProperty = new Map<string, FilterScalar[]>();
  for (const value of values) {
    const property = scalarProperty(path, value);
    byProperty.set(property, [...(byProperty.get(property) ?? []), value]);
  }
  return or(
    [...byProperty].map(([property, group]) =>
      group.length === 1 ? compare(property, '=', group[0]) : compare(property, 'IN', group),
    ),
  );
}

function translate(filter: FilterExpression): Node {
  switch (filter.op) {
    case 'and':
      return and(filter.filters.map(translate));
    case 'or':
      return or(filter.filters.map(translate));
    case 'not':
      return negateFilterNode(translate(filter.filter), (child) => ({ kind: 'not', child }));
    case 'eq':
      return equalsAny(filter.field, [filter.value]);
    case 'in':
      return equalsAny(filter.field, filter.values);
    case 'ne':
    case 'nin': {
      const values = 'values' in filter ? filter.values : [filter.value];
      return negateFilterNode(equalsAny(filter.field, values), (child) => ({ kind: 'not', child }));
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const operator = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;
      return typeof filter.value === 'number'
        ? compare(numberProperty(filter.field), operator[filter.op], filter.value)
        : compare(orderProperty(filter.field), operator[filter.op], orderedHex(filter.value));
    }
    case 'contains': {
      const element = compare(
        arrayProperty(filter.field),
        'CONTAINS',
        `|${arrayElementToken(filter.value)}|`,
      );
      return typeof filter.value === 'string'
        ? or([element, compare(stringProperty(filter.field), 'CONTAINS', filter.value)])
        : element;
    }
    case 'exists':
      return or(
        [stringProperty, numberProperty, booleanProperty, arrayProperty, objectProperty].map(
          (property) => ({ kind: 'present', property: property(filter.field) }),
        ),
      );
  }
}

/**
 * Translates a portable filter into a condition over the typed node properties this adapter
 * writes. Returns `true` or `false` when the filter is constant (e.g. `in []`).
 */
export function translateNeptuneAnalyticsFilter(filter: FilterExpression): Node {
  return translate(filter);
}

/** Quotes a property name or label for openCypher (backticks, doubled inside). */
export function cypherName(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``;
}

/**
 * Renders a condition over the node `n`, naming its values as parameters `<prefix>0`, `<prefix>1`,
 * ... (added to `parameters`).
 */
export function renderNeptuneAnalyticsCondition(
  node: Node,
  parameters: Record<string, unknown>,
  prefix = 'f',
): string {
  if (typeof node === 'boolean') return String(node);
  switch (node.kind) {
    case 'compare': {
      const name = `${prefix}${Object.keys(parameters).length}`;
      parameters[name] = node.value;
      return `coalesce(n.${cypherName(node.property)} ${node.operator} $${name}, false)`;
    }
    case 'present':
      return `n.${cypherName(node.property)} IS NOT NULL`;
    case 'not':
      return `NOT ${renderNeptuneAnalyticsCondition(node.child, parameters, prefix)}`;
    default:
      return `(${node.children
        .map((child) => renderNeptuneAnalyticsCondition(child, parameters, prefix))
        .join(node.kind === 'and' ? ' AND ' : ' OR ')})`;
  }
}
