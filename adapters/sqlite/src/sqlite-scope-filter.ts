import { expiresAtField, type FilterExpression, validateFilter } from '@engram/core';

/** A filter split into the expiry conditions a cached scope applies itself, and the rest. */
export interface ScopeFilterParts {
  /**
   * Times `t` of the conditions `not (engram_expires_at <= t)` (core's "not expired at `t`"): a
   * row passes when its expiry is not a number, or is after every one of them.
   */
  unexpiredAt: number[];
  /** The other conditions, for SQL; undefined when there are none. */
  rest: FilterExpression | undefined;
}

/**
 * The time of a "not expired at `t`" condition, or undefined for any other filter. Times beyond
 * the exactly representable integers are left to SQL, so that comparing in JavaScript gives
 * the answer SQLite's integer/real comparison gives.
 */
function unexpiredTime(filter: FilterExpression): number | undefined {
  if (filter.op !== 'not' || filter.filter.op !== 'lte') return undefined;
  const { field, value } = filter.filter;
  return field === expiresAtField &&
    typeof value === 'number' &&
    Math.abs(value) <= Number.MAX_SAFE_INTEGER
    ? value
    : undefined;
}

/**
 * Splits a filter's top-level conditions into the expiry conditions core adds to every search
 * and list (answered from a cached scope's expiries) and the rest (answered by SQL).
 */
export function splitScopeFilter(filter: FilterExpression): ScopeFilterParts {
  const checked = validateFilter(filter, 'filter');
  const conditions = checked.op === 'and' ? checked.filters : [checked];
  const unexpiredAt: number[] = [];
  const others: FilterExpression[] = [];
  for (const condition of conditions) {
    const time = unexpiredTime(condition);
    if (time === undefined) others.push(condition);
    else unexpiredAt.push(time);
  }
  const rest = others.length > 1 ? { op: 'and' as const, filters: others } : others[0];
  return { unexpiredAt, rest };
}

/** Whether a row of expiry `expiry` (NaN: none) passes every "not expired at `t`" condition. */
export function unexpired(expiry: number, unexpiredAt: readonly number[]): boolean {
  for (const time of unexpiredAt) if (expiry <= time) return false;
  return true;
}
