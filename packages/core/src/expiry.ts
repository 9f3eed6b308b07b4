import { InvalidArgumentError } from './errors.js';
import type { FilterExpression, FilterOperator } from './filter.js';
import type { JsonValue, StoredRecord, VectorStore } from './vector-store.js';

/**
 * The metadata key that holds a memory's expiry time, in milliseconds since the epoch. Kept in
 * metadata so every store can filter on it with the portable filter language; callers see it as
 * `expiresAt` and never in `metadata`.
 */
export const expiresAtField = 'engram_expires_at';

/** Operators the store must translate for the expiry filter to run in the store's query. */
const expiryOperators: readonly FilterOperator[] = ['not', 'lte'];

/** Milliseconds since the epoch of an `expiresAt` given as an ISO-8601 time or a `Date`. */
export function checkExpiresAt(value: unknown, name: string): number {
  const time =
    value instanceof Date
      ? value.getTime()
      : typeof value === 'string' && /^\d{4}-\d\d-\d\d/.test(value.trim())
        ? Date.parse(value)
        : Number.NaN;
  if (!Number.isFinite(time)) {
    throw new InvalidArgumentError({
      source: 'core',
      message: `${name} must be an ISO-8601 time such as 2030-01-31T12:00:00Z, got ${JSON.stringify(value)}.`,
    });
  }
  return time;
}

/** The expiry time of a record, in milliseconds, or undefined when it never expires. */
export function expiryOf(record: Pick<StoredRecord, 'metadata'>): number | undefined {
  const value = record.metadata?.[expiresAtField];
  return typeof value === 'number' ? value : undefined;
}

/** Whether the record has expired at `now`. */
export function isExpired(record: Pick<StoredRecord, 'metadata'>, now: Date): boolean {
  const expiry = expiryOf(record);
  return expiry !== undefined && expiry <= now.getTime();
}

/** The filter matching records that have not expired at `now` (records without expiry included). */
export function unexpiredFilter(now: Date): FilterExpression {
  return { op: 'not', filter: { op: 'lte', field: expiresAtField, value: now.getTime() } };
}

/** The filter matching records that have expired at `now`. */
export function expiredFilter(now: Date): FilterExpression {
  return { op: 'lte', field: expiresAtField, value: now.getTime() };
}

/**
 * The caller's filter with the expiry condition added when the store can run it; otherwise the
 * caller's filter alone (core then drops expired records from what the store returns).
 */
export function withUnexpiredFilter(
  store: VectorStore,
  filter: FilterExpression | undefined,
  now: Date,
): FilterExpression | undefined {
  const supported = new Set(store.capabilities.filterOperators);
  const needed = filter ? [...expiryOperators, 'and' as const] : expiryOperators;
  if (!needed.every((operator) => supported.has(operator))) return filter;
  const expiry = unexpiredFilter(now);
  return filter ? { op: 'and', filters: [filter, expiry] } : expiry;
}

/** Metadata with the expiry set (a number) or removed (null); unchanged when undefined. */
export function withExpiry(
  metadata: Record<string, JsonValue>,
  expiresAt: number | null | undefined,
): Record<string, JsonValue> {
  if (expiresAt === undefined) return metadata;
  const { [expiresAtField]: _previous, ...rest } = metadata;
  return expiresAt === null ? rest : { ...rest, [expiresAtField]: expiresAt };
}
