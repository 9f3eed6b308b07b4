import { describe, expect, it } from 'vitest';
import {
  assertSpecificationVersion,
  defineAdapter,
  loadAdapter,
  specificationVersion,
} from './adapter-descriptor.js';
import { EngramError, InvalidArgumentError, UnsupportedFunctionalityError } from './errors.js';
import { createInMemoryHistoryStore } from './in-memory-history-store.js';
import { createInMemoryVectorStore } from './in-memory-vector-store.js';

const vector = defineAdapter({
  kind: 'vector',
  name: 'example',
  description: 'in-memory vectors',
  create: () => createInMemoryVectorStore(),
});
const history = defineAdapter({
  kind: 'history',
  name: 'example',
  description: 'in-memory history',
  create: () => createInMemoryHistoryStore(),
});

function importing(module: Record<string, unknown>) {
  return async (specifier: string) => {
    if (specifier !== '@engram/example') throw new Error(`unexpected ${specifier}`);
    return module;
  };
}

describe('adapter descriptors', () => {
  it('finds the descriptor of a kind among several', async () => {
    const importModule = importing({ engramAdapters: [vector, history] });
    const found = await loadAdapter('history', 'example', { importModule });
    expect(found).toBe(history);
    expect(found.specificationVersion).toBe(specificationVersion);
    const single = await loadAdapter('vector', 'example', {
      importModule: importing({ engramAdapter: vector }),
    });
    expect(single.create({ env: {}, dataDir: '/tmp' }).provider).toBe('memory');
  });

  it('says what a package provides when the kind is missing', async () => {
    const error = await loadAdapter('graph', 'example', {
      importModule: importing({ engramAdapter: vector }),
    }).catch((caught: unknown) => caught);
    expect(EngramError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/provides no graph adapter \(it provides vector\)/);
  });

  it('refuses malformed names and unknown contract versions', async () => {
    await expect(loadAdapter('vector', 'Bad Name')).rejects.toThrow(InvalidArgumentError);
    const future = { ...vector, specificationVersion: 'v2' };
    await expect(
      loadAdapter('vector', 'example', { importModule: importing({ engramAdapter: future }) }),
    ).rejects.toThrow(UnsupportedFunctionalityError);
    expect(() =>
      assertSpecificationVersion({ specificationVersion: 'v0' }, 'The store "old"'),
    ).toThrow(/contract version "v0"/);
  });
});
