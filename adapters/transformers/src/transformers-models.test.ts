import { InvalidArgumentError } from '@engram/core';
import { describe, expect, it } from 'vitest';
import { resolveTransformersModel } from './transformers-models.js';

describe('resolveTransformersModel', () => {
  it.each([
    [undefined, 'all-MiniLM-L6-v2', 'Xenova/all-MiniLM-L6-v2', 384],
    ['local', 'all-MiniLM-L6-v2', 'Xenova/all-MiniLM-L6-v2', 384],
    ['local:bge-small-en-v1.5', 'bge-small-en-v1.5', 'Xenova/bge-small-en-v1.5', 384],
    ['Xenova/multilingual-e5-small', 'multilingual-e5-small', 'Xenova/multilingual-e5-small', 384],
    ['local:acme/tiny-embed?dimensions=256', 'tiny-embed', 'acme/tiny-embed', 256],
  ])('%s is %s (%s, %i dimensions)', (name, short, hubId, dimensions) => {
    expect(resolveTransformersModel(name)).toMatchObject({ name: short, hubId, dimensions });
  });

  it('knows the prefixes and pooling of e5 and bge models', () => {
    expect(resolveTransformersModel('multilingual-e5-small')).toMatchObject({
      queryPrefix: 'query: ',
      documentPrefix: 'passage: ',
      pooling: 'mean',
    });
    const bge = resolveTransformersModel('bge-small-en-v1.5');
    expect(bge.pooling).toBe('cls');
    expect(bge.queryPrefix).toMatch(/^Represent this sentence/);
    expect(bge.documentPrefix).toBeUndefined();
  });

  it('asks for the dimensions of a model it does not know', () => {
    expect(() => resolveTransformersModel('acme/unknown')).toThrow(/dimensions=<n>/);
  });

  it.each(['../etc', 'a/b/c', 'has space', 'acme/..'])('refuses the name %s', (name) => {
    expect(() => resolveTransformersModel(name)).toThrow(InvalidArgumentError);
  });
});
