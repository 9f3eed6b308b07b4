import { type Scope, type StoredRecord, scopeFields, type VectorRecord } from '@engram/core';
import {
  andQueries,
  elementsField,
  hex,
  metadataTags,
  pathsField,
  type RedisFilter,
  valuesField,
} from './redis-compatible-filter.js';

/**
 * The part of a Redis or Valkey client the store uses, whatever the client library: one raw
 * command, and a MULTI/EXEC transaction.
 */
export interface FtCommandClient {
  /** Sends one command; with `binary`, bulk strings come back as Buffers (vectors as their bytes). */
  send(args: ReadonlyArray<string | Buffer>, options?: { binary?: boolean }): Promise<unknown>;
  /**
   * Runs the commands in one MULTI/EXEC transaction and returns their replies (an `Error` for a
   * command that failed), or `null` when the transaction was aborted.
   */
  transaction(commands: ReadonlyArray<ReadonlyArray<string | Buffer>>): Promise<unknown[] | null>;
}

/** Whether the query engine says the index does not exist. */
export function isUnknownIndex(error: unknown): boolean {
  return /unknown index name|no such index|index not found|index with name .* not found/i.test(
    error instanceof Error ? error.message : String(error),
  );
}

/** The hash fields a search returns for a record without its vector. */
export const returnedFields = [
  'id',
  'text',
  'metadata',
  'createdAt',
  'updatedAt',
  'hash',
  'userId',
  'agentId',
  'runId',
];

const exactFields = ['hash', ...scopeFields] as const;

/** Keys and index names keep only `[A-Za-z0-9_-]`; anything else is percent-encoded UTF-8. */
export function encodeName(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/gu, (character) =>
    [...Buffer.from(character, 'utf8')]
      .map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`)
      .join(''),
  );
}

/**
 * The TEXT field holding core's `keywordText` of a record whose keyword form differs from its
 * text (Chinese and Japanese words spaced out, emoji spelled, Korean nouns beside their
 * particles): RediSearch's tokenizer splits on spaces and punctuation only. Keyword queries
 * search it and `text` together.
 */
export const keywordTextField = 'keyword_text';

/**
 * The string key recording how far filling {@link keywordTextField} of the hashes written before
 * it existed has come: a `SCAN` cursor while under way, `done` after (set at once for an index
 * created with the field).
 */
export function keywordTextFillKey(index: string): string {
  return `${index}:keyword-text-fill`;
}

/**
 * Sets the keyword text of one hash (`KEYS[1]`) only while it still has the text it was computed
 * from (`ARGV[1]`) and none yet, so a record written meanwhile keeps its own.
 */
export const fillKeywordTextScript = `if redis.call('HGET', KEYS[1], 'text') == ARGV[1] and redis.call('HEXISTS', KEYS[1], '${keywordTextField}') == 0 then
  return redis.call('HSET', KEYS[1], '${keywordTextField}', ARGV[2])
end
return 0`;

/** A `SCAN MATCH` pattern of every key starting with `prefix`. */
export function prefixPattern(prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, (character) => `\\${character}`)}*`;
}

/** `FT.ALTER` adding {@link keywordTextField} to an index created before it existed. */
export function addKeywordTextCommand(index: string) {
  return ['FT.ALTER', index, 'SCHEMA', 'ADD', keywordTextField, 'TEXT'];
}

/**
 * `FT.CREATE` of a collection's index over HASH keys under `keyPrefix`: an HNSW cosine vector
 * field, TAG fields for scope, hash and metadata and, with `fullText`, a sortable `id` and
 * TEXT fields for BM25 (no stop words): `text` and the keyword text.
 */
export function createIndexCommand(
  index: string,
  keyPrefix: string,
  dimensions: number,
  fullText = true,
) {
  const tags = [
    ...exactFields.map((field) => `tag_${field}`),
    valuesField,
    elementsField,
    pathsField,
  ];
  return [
    'FT.CREATE',
    index,
    'ON',
    'HASH',
    'PREFIX',
    '1',
    keyPrefix,
    ...(fullText ? ['STOPWORDS', '0'] : []),
    'SCHEMA',
    ...(fullText
      ? ['id', 'TEXT', 'NOINDEX', 'SORTABLE', 'UNF', 'text', 'TEXT', keywordTextField, 'TEXT']
      : []),
    'vector',
    'VECTOR',
    'HNSW',
    '6',
    'TYPE',
    'FLOAT32',
    'DIM',
    String(dimensions),
    'DISTANCE_METRIC',
    'COSINE',
    ...tags.flatMap((field) => [field, 'TAG']),
  ];
}

/** A reply value as text (bulk strings may arrive as Buffers). */
export function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}

/** A flat `[name, value, name, value, ...]` reply as a map. */
export function pairs(list: unknown): Map<string, unknown> {
  const map = new Map<string, unknown>();
  if (!Array.isArray(list)) return map;
  for (let index = 0; index + 1 < list.length; index += 2) {
    map.set(text(list[index]) ?? '', list[index + 1]);
  }
  return map;
}

/** The FLOAT32 bytes of a vector field. */
export function toBlob(vector: readonly number[]): Buffer {
  return Buffer.from(new Float32Array(vector).buffer);
}

function toVector(value: unknown): number[] | undefined {
  if (!Buffer.isBuffer(value)) return undefined;
  const copy = new Uint8Array(value.byteLength);
  copy.set(value);
  return Array.from(new Float32Array(copy.buffer));
}

/** Exact-match conditions on the scope fields that are set. */
export function scopeQuery(scope: Scope): RedisFilter {
  return andQueries(
    scopeFields.flatMap((field) =>
      scope[field] === undefined ? [] : [`@tag_${field}:{${hex(scope[field])}}`],
    ),
  );
}

/** Single-quoted string of a RediSearch expression (`FILTER`). */
export function expressionString(value: string): string {
  return `'${value.replace(/[\\']/g, (character) => `\\${character}`)}'`;
}

/** Reads a record back from its hash fields. */
export function toRecord(fields: Map<string, unknown>, includeVectors: boolean | undefined) {
  const record: StoredRecord = {
    id: text(fields.get('id')) ?? '',
    text: text(fields.get('text')) ?? '',
    metadata: JSON.parse(text(fields.get('metadata')) ?? '{}'),
    createdAt: text(fields.get('createdAt')) ?? '',
    updatedAt: text(fields.get('updatedAt')) ?? '',
  };
  for (const field of exactFields) {
    const value = text(fields.get(field));
    if (value !== undefined) record[field] = value;
  }
  if (includeVectors) {
    const vector = toVector(fields.get('vector'));
    if (vector) record.vector = vector;
  }
  return record;
}

/** The `HSET` field-value list of a record: its data, and the TAG fields filters run on. */
export function hashFields(record: VectorRecord): (string | Buffer)[] {
  const fields: (string | Buffer)[] = [
    'id',
    record.id,
    'text',
    record.text,
    'vector',
    toBlob(record.vector),
    'metadata',
    JSON.stringify(record.metadata),
    'createdAt',
    record.createdAt,
    'updatedAt',
    record.updatedAt,
  ];
  if (record.keywordText !== undefined && record.keywordText !== record.text) {
    fields.push(keywordTextField, record.keywordText);
  }
  for (const field of exactFields) {
    const value = record[field];
    if (value !== undefined) fields.push(field, value, `tag_${field}`, hex(value));
  }
  const tags = metadataTags(record.metadata);
  for (const field of [valuesField, elementsField, pathsField] as const) {
    if (tags[field].length > 0) fields.push(field, tags[field].join(','));
  }
  return fields;
}

/** Parses an `FT.SEARCH` reply: total, then key, [score], fields for each document. */
export function searchResults(reply: unknown, withScores: boolean) {
  const list = Array.isArray(reply) ? reply : [];
  const results: { fields: Map<string, unknown>; score: number }[] = [];
  const step = withScores ? 3 : 2;
  for (let index = 1; index + step - 1 < list.length; index += step) {
    const score = withScores ? Number(text(list[index + 1])) : 0;
    results.push({ fields: pairs(list[index + step - 1]), score });
  }
  return results;
}
