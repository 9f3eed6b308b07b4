import { AdapterCallError, ClosedError, InvalidArgumentError } from '@engram/core';
import { describe, expect, it } from 'vitest';
import { parseCassandraUrl } from './cassandra-connection.js';
import {
  collectionSchema,
  createCassandraVectorStore,
  tableName,
  whereClause,
} from './cassandra-vector-store.js';

describe('createCassandraVectorStore', () => {
  it('does no I/O until the first call and declares what CQL with SAI answers', () => {
    const store = createCassandraVectorStore({ url: 'cassandra://127.0.0.1:1/dc1' });
    expect(store.provider).toBe('cassandra');
    expect(store.capabilities).toMatchObject({ keywordSearch: false, metric: 'cosine' });
    expect([...store.capabilities.filterOperators].sort()).toEqual(
      ['and', 'eq', 'exists', 'gt', 'gte', 'lt', 'lte'].sort(),
    );
    expect(store.commit).toBeUndefined();
  });

  it('rejects a keyspace that is not a CQL name', () => {
    expect(() => createCassandraVectorStore({ keyspace: 'no-dashes' })).toThrow(
      InvalidArgumentError,
    );
  });

  it('reports an unreachable node as a retryable AdapterCallError', async () => {
    const store = createCassandraVectorStore({ url: 'cassandra://127.0.0.1:1/dc1' });
    const error = await store.count({ collection: 'memories' }).catch((caught) => caught);
    expect(AdapterCallError.isInstance(error), String(error)).toBe(true);
    expect((error as AdapterCallError).isRetryable).toBe(true);
    await store.close();
  });

  it('rejects every call after close(), which is idempotent', async () => {
    const store = createCassandraVectorStore({ url: 'cassandra://127.0.0.1:1/dc1' });
    await store.close();
    await store.close();
    await expect(store.count({ collection: 'memories' })).rejects.toSatisfy(ClosedError.isInstance);
  });
});

describe('tableName', () => {
  it('keeps short lowercase names and hashes the rest into distinct CQL names', () => {
    expect(tableName('memories')).toBe('memories');
    const names = [
      'Memories',
      'memories-v2',
      'engram_conformance_filters_0123456789abcdef',
      '東京',
    ];
    const tables = names.map(tableName);
    for (const table of tables) expect(table).toMatch(/^[a-z][a-z0-9_]{0,29}$/);
    expect(new Set(tables).size).toBe(names.length);
  });
});

describe('collectionSchema', () => {
  it('creates a vector column with a cosine SAI index and SAI indexes on scope and tags', () => {
    const [table, ...indexes] = collectionSchema('engram', 'memories', 384);
    expect(table).toContain('vector vector<float, 384>');
    expect(indexes[0]).toContain(
      "(vector) USING 'sai' WITH OPTIONS = {'similarity_function': 'cosine'}",
    );
    for (const column of ['user_id', 'agent_id', 'run_id', 'hash', 'm_values', 'm_paths']) {
      expect(indexes.some((index) => index.includes(`(${column}) USING 'sai'`))).toBe(true);
    }
  });
});

describe('whereClause', () => {
  it('puts the scope first, then the filter; nothing for neither', () => {
    expect(whereClause(undefined, undefined, new Set())).toEqual({
      where: '',
      params: [],
      filtering: false,
    });
    expect(
      whereClause({ userId: 'alice', runId: 'r1' }, { op: 'exists', field: 'kind' }, new Set()),
    ).toEqual({
      where: ' WHERE user_id = ? AND run_id = ? AND m_paths CONTAINS ?',
      params: ['alice', 'r1', 'kind'],
      filtering: false,
    });
  });
});

describe('parseCassandraUrl', () => {
  it('reads contact points and the local data center', () => {
    expect(parseCassandraUrl('cassandra://a:9043,b/dc2')).toEqual({
      contactPoints: ['a:9043', 'b:9042'],
      localDataCenter: 'dc2',
    });
    expect(parseCassandraUrl('cassandra://127.0.0.1:9042')).toEqual({
      contactPoints: ['127.0.0.1:9042'],
      localDataCenter: 'datacenter1',
    });
    expect(() => parseCassandraUrl('http://x')).toThrow(InvalidArgumentError);
  });
});
