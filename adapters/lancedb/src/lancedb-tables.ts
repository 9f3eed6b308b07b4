import { createRequire } from 'node:module';
import {
  type JsonValue,
  keywordText,
  type Scope,
  type StoredRecord,
  type VectorRecord,
} from '@engram/core';
import type { Table } from '@lancedb/lancedb';
import {
  flattenLanceDBMetadata,
  type LanceDBMetadataColumnKind,
  lanceDBMetadataColumnPrefix,
} from './lancedb-filter.js';

// LanceDB is a CommonJS package that loads its own CommonJS copy of apache-arrow; schemas built
// with the ESM copy fail its `instanceof` checks, so both are loaded the same way.
const require = createRequire(import.meta.url);
type LanceDBModule = typeof import('@lancedb/lancedb');
type ArrowModule = typeof import('apache-arrow');
let modules: { lancedb: LanceDBModule; arrow: ArrowModule } | undefined;

/** The LanceDB and Arrow modules, loaded on first use. */
export function loadModules() {
  modules ??= {
    lancedb: require('@lancedb/lancedb') as LanceDBModule,
    arrow: require('apache-arrow') as ArrowModule,
  };
  return modules;
}

/** Scope fields and the columns that hold them. */
export const scopeColumns = { userId: 'user_id', agentId: 'agent_id', runId: 'run_id' } as const;

/** The columns of a record without its vector. */
export const recordColumns = [
  'id',
  'text',
  'hash',
  'user_id',
  'agent_id',
  'run_id',
  'metadata',
  'created_at',
  'updated_at',
];

/** A row as queries return it; the nullable columns hold what a record may leave out. */
export type Row = Record<'id' | 'text' | 'metadata' | 'created_at' | 'updated_at', string> &
  Record<'hash' | 'user_id' | 'agent_id' | 'run_id', string | null> & {
    vector?: ArrayLike<number>;
    _distance?: number;
    _score?: number;
  };

/** What the store keeps to know about one table. */
export interface TableShape {
  dimensions: number;
  columns: Set<string>;
  hasTextIndex: boolean;
}

/**
 * The column keyword search indexes: `keyword_text` (the text with the words of unspaced scripts
 * separated and emoji spelled, core's `keywordText`) in tables made since it exists, `text` in
 * older ones.
 */
export function keywordColumn(columns: ReadonlySet<string>): 'keyword_text' | 'text' {
  return columns.has('keyword_text') ? 'keyword_text' : 'text';
}

/** Reads a table's vector size, columns and whether its text has a full-text index. */
export async function describeTable(table: Table): Promise<TableShape> {
  const schema = await table.schema();
  const vectorType = schema.fields.find((field) => field.name === 'vector')?.type as
    | { listSize?: number }
    | undefined;
  const indices = await table.listIndices();
  const columns = new Set(schema.fields.map((field) => field.name));
  const indexed = keywordColumn(columns);
  return {
    dimensions: vectorType?.listSize ?? 0,
    columns,
    hasTextIndex: indices.some(
      (index) => index.columns.includes(indexed) && index.indexType === 'FTS',
    ),
  };
}

/** The schema of a new table: the record columns and a fixed-size float32 vector. */
export function tableSchema(dimensions: number) {
  const { arrow } = loadModules();
  const field = (name: string, nullable = false) =>
    new arrow.Field(name, new arrow.Utf8(), nullable);
  return new arrow.Schema([
    field('id'),
    new arrow.Field(
      'vector',
      new arrow.FixedSizeList(dimensions, new arrow.Field('item', new arrow.Float32(), true)),
      false,
    ),
    field('text'),
    field('hash', true),
    field('user_id', true),
    field('agent_id', true),
    field('run_id', true),
    field('metadata'),
    field('created_at'),
    field('updated_at'),
    field('keyword_text', true),
  ]);
}

/** The column of a flattened metadata value, typed by the kind its name carries. */
export function metadataField(name: string) {
  const { arrow } = loadModules();
  const list = (type: InstanceType<ArrowModule['DataType']>) =>
    new arrow.List(new arrow.Field('item', type, true));
  const types = {
    x: () => new arrow.Int8(),
    s: () => new arrow.Utf8(),
    n: () => new arrow.Float64(),
    b: () => new arrow.Int8(),
    as: () => list(new arrow.Utf8()),
    an: () => list(new arrow.Float64()),
    ab: () => list(new arrow.Int8()),
  };
  const kind = name.slice(lanceDBMetadataColumnPrefix.length).split(':')[0];
  return new arrow.Field(name, types[kind as LanceDBMetadataColumnKind](), true);
}

/**
 * The row of a record: its columns and its flattened metadata, and the keyword form of its text
 * when the table has a column for it.
 */
export function toRow(record: VectorRecord, withKeywordText = true): Record<string, unknown> {
  return {
    ...(withKeywordText ? { keyword_text: record.keywordText ?? keywordText(record.text) } : {}),
    id: record.id,
    vector: record.vector,
    text: record.text,
    hash: record.hash ?? null,
    user_id: record.userId ?? null,
    agent_id: record.agentId ?? null,
    run_id: record.runId ?? null,
    metadata: JSON.stringify(record.metadata),
    created_at: record.createdAt,
    updated_at: record.updatedAt,
    ...flattenLanceDBMetadata(record.metadata),
  };
}

/** Reads a record back from a row. */
export function toRecord(row: Row, includeVectors: boolean | undefined): StoredRecord {
  const record: StoredRecord = {
    id: row.id,
    text: row.text,
    metadata: JSON.parse(row.metadata) as Record<string, JsonValue>,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.hash != null) record.hash = row.hash;
  for (const [field, column] of Object.entries(scopeColumns)) {
    const value = row[column];
    if (value != null) record[field as keyof Scope] = value;
  }
  if (includeVectors && row.vector) record.vector = Array.from(row.vector);
  return record;
}
