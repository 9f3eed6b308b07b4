import { InvalidArgumentError } from '@engram/core';
import { describe, expect, it } from 'vitest';
import { quoteIdentifier } from './postgres-identifiers.js';
import {
  checkCollectionName,
  checkSchemaName,
  checkTablePrefix,
  checkTextSearchConfig,
  collectionTableName,
  collectionTableSql,
  defaultIvfflatLists,
  defaultIvfflatProbes,
  ivfflatIndexSql,
  vectorFeatures,
} from './postgres-vector-schema.js';

function invalid(action: () => unknown) {
  try {
    action();
  } catch (error) {
    return InvalidArgumentError.isInstance(error);
  }
  return false;
}

describe('collectionTableName', () => {
  it('keeps a short lowercase name readable', () => {
    expect(collectionTableName('engram_', 'memories')).toBe('engram_memories_memories');
  });

  it('hashes names that differ only in case or characters, so they never share a table', () => {
    const names = ['Notes', 'notes!', 'notes ', 'NOTES', 'nötes', 'a"b', 'x'.repeat(200)];
    const tables = names.map((name) => collectionTableName('engram_', name));
    expect(new Set([...tables, collectionTableName('engram_', 'notes')]).size).toBe(
      names.length + 1,
    );
    for (const table of tables) {
      expect(table).toMatch(/^engram_memories_[a-z0-9_]*[0-9a-f]{10}$/);
      // room for the longest index suffix within PostgreSQL's 63-byte identifiers
      expect(table.length + '_metadata'.length).toBeLessThanOrEqual(63);
    }
  });

  it('stays within the identifier limit with the longest prefix', () => {
    const prefix = 'p'.repeat(20);
    expect(collectionTableName(prefix, 'c'.repeat(60)).length).toBeLessThanOrEqual(54);
  });
});

describe('names and options', () => {
  it('quotes identifiers', () => {
    expect(quoteIdentifier('a "b"')).toBe('"a ""b"""');
  });

  it('rejects prefixes, schemas, configurations and collections it cannot use', () => {
    expect(invalid(() => checkTablePrefix('Engram'))).toBe(true);
    expect(invalid(() => checkTablePrefix('a-b'))).toBe(true);
    expect(invalid(() => checkTablePrefix('x'.repeat(21)))).toBe(true);
    expect(checkTablePrefix('engram_')).toBe('engram_');
    expect(invalid(() => checkSchemaName(''))).toBe(true);
    expect(invalid(() => checkSchemaName('s'.repeat(64)))).toBe(true);
    expect(checkSchemaName('My Schema')).toBe('My Schema');
    expect(invalid(() => checkTextSearchConfig("english'; --"))).toBe(true);
    expect(checkTextSearchConfig('pg_catalog.simple')).toBe('pg_catalog.simple');
    expect(invalid(() => checkCollectionName(''))).toBe(true);
    expect(invalid(() => checkCollectionName('a\u0000b'))).toBe(true);
    expect(invalid(() => checkCollectionName(42))).toBe(true);
  });
});

describe('collectionTableSql', () => {
  const base = {
    schema: 'public',
    table: 'engram_memories_notes',
    textSearchConfig: 'english',
    extension: { schema: 'extensions', version: '0.8.0' },
  };

  it('creates the table, the scope, metadata and keyword indexes, and an HNSW cosine index', () => {
    const statements = collectionTableSql({
      ...base,
      dimensions: 384,
      hnsw: { m: 16, efConstruction: 64 },
    });
    expect(statements[0]).toContain('embedding "extensions".vector(384) NOT NULL');
    expect(statements[0]).toContain(
      "to_tsvector('english'::regconfig, coalesce(keyword_text, text))",
    );
    expect(statements.join('\n')).toContain('USING gin (metadata jsonb_path_ops)');
    expect(statements.at(-1)).toBe(
      'CREATE INDEX IF NOT EXISTS "engram_memories_notes_vector" ON "public"."engram_memories_notes" USING hnsw (embedding "extensions".vector_cosine_ops) WITH (m = 16, ef_construction = 64)',
    );
  });

  it('leaves out the HNSW index above 2,000 dimensions or without HNSW support', () => {
    const wide = collectionTableSql({
      ...base,
      dimensions: 3072,
      hnsw: { m: 16, efConstruction: 64 },
    });
    expect(wide.join('\n')).not.toContain('hnsw');
    const old = collectionTableSql({ ...base, dimensions: 8, hnsw: undefined });
    expect(old.join('\n')).not.toContain('hnsw');
  });
});

describe('IVFFlat', () => {
  it("starts from pgvector's guidance: rows / 1,000 lists up to 1M rows, their square root above", () => {
    expect(defaultIvfflatLists(0)).toBe(1);
    expect(defaultIvfflatLists(100_000)).toBe(100);
    expect(defaultIvfflatLists(1_000_000)).toBe(1000);
    expect(defaultIvfflatLists(4_000_000)).toBe(2000);
    expect(defaultIvfflatLists(10 ** 12)).toBe(32_768);
    expect(defaultIvfflatProbes(1000)).toBe(32);
    expect(defaultIvfflatProbes(1)).toBe(1);
  });

  it('indexes vectors an index takes, with the lists given', () => {
    const extension = { schema: 'public', version: '0.8.0' };
    const sql = ivfflatIndexSql({
      schema: 's',
      table: 't',
      dimensions: 1536,
      extension,
      lists: 1000,
    });
    expect(sql).toBe(
      'CREATE INDEX IF NOT EXISTS "t_vector" ON "s"."t" USING ivfflat (embedding "public".vector_cosine_ops) WITH (lists = 1000)',
    );
    expect(
      ivfflatIndexSql({ schema: 's', table: 't', dimensions: 3072, extension, lists: 10 }),
    ).toBeUndefined();
  });
});

describe('vectorFeatures', () => {
  it.each([
    ['0.4.4', false, false],
    ['0.5.0', true, false],
    ['0.7.4', true, false],
    ['0.8.0', true, true],
    ['0.10.1', true, true],
    ['1.0.0', true, true],
  ])('pgvector %s: hnsw %s, iterative scan %s', (version, hnsw, iterativeScan) => {
    expect(vectorFeatures(version)).toEqual({ hnsw, iterativeScan });
  });
});
