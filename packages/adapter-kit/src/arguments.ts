import { DimensionMismatchError, InvalidArgumentError, type VectorRecord } from '@engram/core';

/** Throws `InvalidArgumentError` unless `value` is a whole number above zero. */
export function assertPositiveInteger(value: number, name: string, source: string): void {
  if (!Number.isInteger(value) || value <= 0) {
    throw new InvalidArgumentError({
      source,
      message: `${name} must be a positive integer, got ${value}.`,
    });
  }
}

/** Throws `DimensionMismatchError` when `vector` is not `expected` numbers long. */
export function assertVectorLength(
  vector: readonly number[],
  expected: number,
  options: { source: string; what: string; collection?: string },
): void {
  if (vector.length === expected) return;
  const where =
    options.collection === undefined
      ? `${expected} are expected`
      : `collection "${options.collection}" holds ${expected}`;
  throw new DimensionMismatchError({
    source: options.source,
    expected,
    actual: vector.length,
    message: `${options.what} has ${vector.length} dimensions; ${where}.`,
  });
}

/**
 * Checks records before a write: every id a non-empty string, every vector finite and (when
 * `dimensions` is given) of that length.
 */
export function assertRecords(
  records: readonly VectorRecord[],
  options: { source: string; dimensions?: number; collection?: string },
): void {
  for (const record of records) {
    if (typeof record.id !== 'string' || record.id.length === 0) {
      throw new InvalidArgumentError({
        source: options.source,
        message: 'Every record needs a non-empty string id.',
      });
    }
    if (!Array.isArray(record.vector) || record.vector.some((value) => !Number.isFinite(value))) {
      throw new InvalidArgumentError({
        source: options.source,
        message: `Record "${record.id}" needs a vector of finite numbers.`,
      });
    }
    if (options.dimensions !== undefined) {
      assertVectorLength(record.vector, options.dimensions, {
        source: options.source,
        what: `Record "${record.id}"`,
        ...(options.collection === undefined ? {} : { collection: options.collection }),
      });
    }
  }
}

/** Splits `items` into consecutive slices of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) {
    chunks.push(items.slice(start, start + size));
  }
  return chunks;
}
