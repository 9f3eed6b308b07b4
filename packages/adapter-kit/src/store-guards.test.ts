import {
  DimensionMismatchError,
  InvalidArgumentError,
  UnsupportedFunctionalityError,
} from '@engram/core';
import { describe, expect, it } from 'vitest';
import {
  assertCollectionDimensions,
  assertDeleteSelection,
  assertQueryInput,
  collectionDimensionMismatch,
  deleteNeedsSelectionMessage,
  requireQueryVector,
} from './index.js';

describe('delete selection', () => {
  it.each([
    [{}, false],
    [{ scope: {} }, false],
    [{ scope: '' }, false],
    [{ scope: { userId: 'u' } }, true],
    [{ scope: 'user_id == "u"' }, true],
    [{ filter: { op: 'exists', field: 'a' } }, true],
    [false, false],
    [true, true],
  ])('%j selects: %s', (selection, selects) => {
    const check = () => assertDeleteSelection(selection, 'test');
    if (selects) expect(check).not.toThrow();
    else
      expect(check).toThrow(
        new InvalidArgumentError({ source: 'test', message: deleteNeedsSelectionMessage }),
      );
  });
});

describe('query input', () => {
  const options = { source: 'test', noKeywordSearch: 'no keywords here' };

  it('returns the vector, refuses text-only queries as unsupported and empty ones as invalid', () => {
    expect(requireQueryVector({ vector: [1, 2], text: 'a' }, options)).toEqual([1, 2]);
    expect(() => requireQueryVector({ text: 'a' }, options)).toThrow(UnsupportedFunctionalityError);
    expect(() => requireQueryVector({ text: 'a' }, options)).toThrow('no keywords here');
    expect(() => requireQueryVector({}, options)).toThrow(InvalidArgumentError);
    expect(() => requireQueryVector({}, options)).toThrow('query needs a vector.');
  });

  it('accepts a vector or a text on stores with keyword search', () => {
    expect(() => assertQueryInput({ vector: [1] }, 'test')).not.toThrow();
    expect(() => assertQueryInput({ text: '' }, 'test')).not.toThrow();
    expect(() => assertQueryInput({}, 'test')).toThrow('query needs a vector or a text.');
  });
});

describe('collection dimensions', () => {
  it('builds the mismatch error with the same advice everywhere', () => {
    const found = { source: 'test', collection: 'memories', existing: 3, requested: 4 };
    const error = collectionDimensionMismatch(found);
    expect(DimensionMismatchError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ source: 'test', expected: 3, actual: 4 });
    expect(error.message).toBe(
      'Collection "memories" holds 3-dimensional vectors, not 4. Use the embedder it was created with, or another collection.',
    );
    expect(() => assertCollectionDimensions(found)).toThrow(DimensionMismatchError);
    expect(() => assertCollectionDimensions({ ...found, requested: 3 })).not.toThrow();
  });
});
