import {
  DimensionMismatchError,
  InvalidArgumentError,
  UnsupportedFunctionalityError,
} from '@engram/core';

/** The message of a delete that selects nothing, the same for every store. */
export const deleteNeedsSelectionMessage =
  'delete needs ids, a non-empty scope or a filter; use dropCollection to empty a collection.';

/**
 * What a delete by scope or filter selects: the normalised scope (or the backend's scope
 * expression, empty when there is none) and the filter (or its translation).
 */
export interface DeleteSelection {
  /** The normalised scope, or a backend expression of it. */
  scope?: Readonly<object> | string | undefined;
  /** The portable filter, or a backend expression of it. */
  filter?: unknown;
}

/**
 * Throws `InvalidArgumentError` unless a delete without ids selects something: a filter or a
 * non-empty scope. Pass `true` or `false` when the backend already knows whether its condition is
 * selective.
 */
export function assertDeleteSelection(selection: DeleteSelection | boolean, source: string): void {
  if (typeof selection === 'boolean' ? selection : selects(selection)) return;
  throw new InvalidArgumentError({ source, message: deleteNeedsSelectionMessage });
}

function selects({ scope, filter }: DeleteSelection): boolean {
  if (filter) return true;
  if (typeof scope === 'string') return scope.length > 0;
  return scope !== undefined && Object.keys(scope).length > 0;
}

/** What a query was given to search with. */
export interface QueryInput {
  /** The query vector. */
  vector?: number[] | undefined;
  /** The keyword text. */
  text?: string | undefined;
}

/**
 * The vector of a query on a store without keyword search. A text-only query throws
 * `UnsupportedFunctionalityError` with `noKeywordSearch` (which says why and what to do
 * instead); a query with neither throws `InvalidArgumentError`.
 */
export function requireQueryVector(
  query: QueryInput,
  options: { source: string; noKeywordSearch: string },
): number[] {
  if (query.vector) return query.vector;
  if (query.text !== undefined) {
    throw new UnsupportedFunctionalityError({
      source: options.source,
      message: options.noKeywordSearch,
    });
  }
  throw new InvalidArgumentError({ source: options.source, message: 'query needs a vector.' });
}

/**
 * Throws `InvalidArgumentError` when a query on a store with keyword search has neither a vector
 * nor a text.
 */
export function assertQueryInput(query: QueryInput, source: string): void {
  if (query.vector || query.text !== undefined) return;
  throw new InvalidArgumentError({ source, message: 'query needs a vector or a text.' });
}

/** Where {@link collectionDimensionMismatch} happened and what it found. */
export interface CollectionDimensions {
  /** The adapter name. */
  source: string;
  /** The collection asked for. */
  collection: string;
  /** Dimensions the existing collection holds. */
  existing: number;
  /** Dimensions `ensureCollection` was asked for. */
  requested: number;
}

/**
 * The `DimensionMismatchError` of `ensureCollection` on an existing collection of another
 * dimension, with the same advice from every store.
 */
export function collectionDimensionMismatch(found: CollectionDimensions): DimensionMismatchError {
  return new DimensionMismatchError({
    source: found.source,
    expected: found.existing,
    actual: found.requested,
    message: `Collection "${found.collection}" holds ${found.existing}-dimensional vectors, not ${found.requested}. Use the embedder it was created with, or another collection.`,
  });
}

/** Throws {@link collectionDimensionMismatch} when the dimensions differ. */
export function assertCollectionDimensions(found: CollectionDimensions): void {
  if (found.existing !== found.requested) throw collectionDimensionMismatch(found);
}
