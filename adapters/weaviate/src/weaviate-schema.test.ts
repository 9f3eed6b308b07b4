import { describe, expect, it } from 'vitest';
import {
  collectionDefinition,
  dimensionsOfDescription,
  keywordTextFilled,
  withKeywordTextFilled,
} from './weaviate-schema.js';

describe('collection description', () => {
  it('marks new collections filled and keeps their dimensions', () => {
    const { description } = collectionDefinition('Engram_notes', 'notes', 3);
    expect(dimensionsOfDescription(description)).toBe(3);
    expect(keywordTextFilled(description)).toBe(true);
  });

  it('marks a collection made before keywordText existed once it is filled', () => {
    const old = `engram:${JSON.stringify({ collection: 'notes', dimensions: 8 })}`;
    expect(keywordTextFilled(old)).toBe(false);
    const filled = withKeywordTextFilled(old);
    expect(keywordTextFilled(filled)).toBe(true);
    expect(dimensionsOfDescription(filled)).toBe(8);
  });

  it('reads nothing from descriptions Engram did not write', () => {
    for (const description of [undefined, '', 'my class', 'engram:{', 'engram:3']) {
      expect(keywordTextFilled(description)).toBe(false);
      expect(dimensionsOfDescription(description)).toBeUndefined();
    }
  });
});
