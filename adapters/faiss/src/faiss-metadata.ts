import type { Scope, StoredRecord, VectorRecord } from '@engram/core';

/** The metadata store's tables: collections, records (with their vectors) and the FTS5 index. */
export const metadataSchemaSql = `
CREATE TABLE IF NOT EXISTS faiss_collections (
  name TEXT PRIMARY KEY,
  dimensions INTEGER NOT NULL,
  file TEXT NOT NULL UNIQUE,
  version INTEGER NOT NULL DEFAULT 0,
  index_version INTEGER NOT NULL DEFAULT -1
);
CREATE TABLE IF NOT EXISTS faiss_records (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  collection TEXT NOT NULL,
  id TEXT NOT NULL,
  text TEXT NOT NULL,
  keyword_text TEXT,
  hash TEXT,
  user_id TEXT,
  agent_id TEXT,
  run_id TEXT,
  metadata TEXT NOT NULL,
  vector BLOB NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (collection, id)
);
CREATE INDEX IF NOT EXISTS faiss_records_order ON faiss_records (collection, seq);
CREATE INDEX IF NOT EXISTS faiss_records_user ON faiss_records (collection, user_id, id);
CREATE INDEX IF NOT EXISTS faiss_records_agent ON faiss_records (collection, agent_id, id);
CREATE INDEX IF NOT EXISTS faiss_records_run ON faiss_records (collection, run_id, id);
CREATE VIRTUAL TABLE IF NOT EXISTS faiss_records_fts USING fts5(
  text,
  content = 'faiss_records',
  content_rowid = 'seq',
  tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS faiss_records_fts_insert AFTER INSERT ON faiss_records BEGIN
  INSERT INTO faiss_records_fts (rowid, text) VALUES (new.seq, coalesce(new.keyword_text, new.text));
END;
CREATE TRIGGER IF NOT EXISTS faiss_records_fts_delete AFTER DELETE ON faiss_records BEGIN
  INSERT INTO faiss_records_fts (faiss_records_fts, rowid, text)
    VALUES ('delete', old.seq, coalesce(old.keyword_text, old.text));
END;`;

/** A row of `faiss_collections`. */
export interface CollectionRow {
  name: string;
  dimensions: number;
  file: string;
  version: number;
  index_version: number;
}

/** A row of `faiss_records` as selected with {@link recordColumns}. */
export interface RecordRow {
  seq: number;
  id: string;
  text: string;
  hash: string | null;
  user_id: string | null;
  agent_id: string | null;
  run_id: string | null;
  metadata: string;
  created_at: string;
  updated_at: string;
  vector?: Buffer;
}

/** The columns of a record, with the vector only when asked for. */
export function recordColumns(includeVectors: boolean | undefined, table = ''): string {
  const columns = [
    'seq',
    'id',
    'text',
    'hash',
    'user_id',
    'agent_id',
    'run_id',
    'metadata',
    'created_at',
    'updated_at',
    ...(includeVectors ? ['vector'] : []),
  ];
  return columns.map((column) => `${table}${column}`).join(', ');
}

/** A vector as stored: float32, little-endian. */
export function vectorBlob(vector: readonly number[]): Buffer {
  const values = Float32Array.from(vector);
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}

/** The vector of a stored blob. */
export function blobVector(blob: Buffer): Float32Array {
  const copy = new Uint8Array(blob.byteLength);
  copy.set(blob);
  return new Float32Array(copy.buffer);
}

/** The record of a row; absent optional fields stay absent. */
export function toRecord(row: RecordRow, includeVectors: boolean | undefined): StoredRecord {
  const record: StoredRecord = {
    id: row.id,
    text: row.text,
    metadata: JSON.parse(row.metadata) as StoredRecord['metadata'],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.hash !== null) record.hash = row.hash;
  if (row.user_id !== null) record.userId = row.user_id;
  if (row.agent_id !== null) record.agentId = row.agent_id;
  if (row.run_id !== null) record.runId = row.run_id;
  if (includeVectors && row.vector) record.vector = Array.from(blobVector(row.vector));
  return record;
}

/** The parameters of one insert, in the order of {@link insertRecordSql}. */
export function recordParameters(collection: string, record: VectorRecord): unknown[] {
  return [
    collection,
    record.id,
    record.text,
    record.keywordText !== undefined && record.keywordText !== record.text
      ? record.keywordText
      : null,
    record.hash ?? null,
    record.userId ?? null,
    record.agentId ?? null,
    record.runId ?? null,
    JSON.stringify(record.metadata ?? {}),
    vectorBlob(record.vector),
    record.createdAt,
    record.updatedAt,
  ];
}

/** Inserts one record; its `seq` is the next one, so it goes last in the FAISS index. */
export const insertRecordSql = `INSERT INTO faiss_records
  (collection, id, text, keyword_text, hash, user_id, agent_id, run_id, metadata, vector, created_at, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

const scopeColumns = { userId: 'user_id', agentId: 'agent_id', runId: 'run_id' } as const;

/** `collection = ?` and one equality per scope field, with their parameters. */
export function scopeWhere(
  collection: string,
  scope: Scope,
  table = '',
): { sql: string; parameters: string[] } {
  const conditions = [`${table}collection = ?`];
  const parameters = [collection];
  for (const [field, column] of Object.entries(scopeColumns)) {
    const value = scope[field as keyof Scope];
    if (value === undefined) continue;
    conditions.push(`${table}${column} = ?`);
    parameters.push(value);
  }
  return { sql: conditions.join(' AND '), parameters };
}
