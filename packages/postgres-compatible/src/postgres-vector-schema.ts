import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '@engram/core';
import { qualifiedName, quoteIdentifier } from './postgres-identifiers.js';

const defaultSource = 'pgvector';

/** PostgreSQL truncates identifiers longer than this many bytes. */
const maxIdentifierLength = 63;
/** Longest table name, leaving room for the longest index suffix (`_metadata`). */
const maxTableNameLength = 54;
/** HNSW indexes `vector` columns of at most this many dimensions. */
export const maxIndexedDimensions = 2000;

/** Checks the table prefix option: lowercase letters, digits and `_`, at most 20 characters. */
export function checkTablePrefix(prefix: string, source = defaultSource): string {
  if (!/^[a-z_][a-z0-9_]{0,19}$/.test(prefix)) {
    throw new InvalidArgumentError({
      source,
      message: `tablePrefix must be 1 to 20 lowercase letters, digits or "_" starting with a letter or "_", got ${JSON.stringify(prefix)}.`,
    });
  }
  return prefix;
}

/** Checks the schema option: a non-empty name PostgreSQL keeps whole. */
export function checkSchemaName(schema: string, source = defaultSource): string {
  if (
    typeof schema !== 'string' ||
    schema.length === 0 ||
    Buffer.byteLength(schema) > maxIdentifierLength ||
    schema.includes('\u0000')
  ) {
    throw new InvalidArgumentError({
      source,
      message: `schema must be a non-empty name of at most ${maxIdentifierLength} bytes, got ${JSON.stringify(schema)}.`,
    });
  }
  return schema;
}

/**
 * Checks a text search configuration name (`english`, `simple`, `pg_catalog.german`): it is
 * written into the generated column's definition, where no parameter can be bound.
 */
export function checkTextSearchConfig(config: string, source = defaultSource): string {
  if (!/^([a-z_][a-z0-9_]*\.)?[a-z_][a-z0-9_]*$/.test(config)) {
    throw new InvalidArgumentError({
      source,
      message: `textSearchConfig must be a text search configuration name such as "english" or "simple", got ${JSON.stringify(config)}.`,
    });
  }
  return config;
}

/** Checks a collection name: any non-empty string without NUL of at most 255 characters. */
export function checkCollectionName(collection: unknown, source = defaultSource): string {
  if (
    typeof collection !== 'string' ||
    collection.length === 0 ||
    collection.length > 255 ||
    collection.includes('\u0000')
  ) {
    throw new InvalidArgumentError({
      source,
      message: `collection must be a non-empty string of at most 255 characters without NUL, got ${JSON.stringify(collection)}.`,
    });
  }
  return collection;
}

/**
 * The table of a collection: `<prefix>memories_<collection>` when the name is lowercase
 * letters, digits and `_` and short enough; otherwise a readable slug plus a hash of the exact
 * name, so `Notes` and `notes` never share a table.
 */
export function collectionTableName(prefix: string, collection: string): string {
  const base = `${prefix}memories_`;
  if (/^[a-z0-9_]+$/.test(collection) && base.length + collection.length <= maxTableNameLength) {
    return base + collection;
  }
  const hash = createHash('sha256').update(collection, 'utf8').digest('hex').slice(0, 10);
  const room = maxTableNameLength - base.length - hash.length - 1;
  const slug = collection
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, room);
  return `${base}${slug}${slug ? '_' : ''}${hash}`;
}

/** Names of the tables shared by every collection. */
export function sharedTableNames(prefix: string) {
  return {
    collections: `${prefix}collections`,
    history: `${prefix}history`,
  };
}

/** The registry of collections: name, table, vector length and text search configuration. */
export function collectionsTableSql(schema: string, prefix: string): string {
  const table = qualifiedName(schema, sharedTableNames(prefix).collections);
  return `CREATE TABLE IF NOT EXISTS ${table} (
  name text COLLATE "C" PRIMARY KEY,
  table_name text NOT NULL UNIQUE,
  dimensions integer NOT NULL,
  text_search_config text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
)`;
}

/**
 * The history table: one row per event, ordered by an identity sequence (append order breaks
 * equal timestamps), with an index per scope field and per memory, each led by the namespace.
 * A table created before namespaces existed gets the column from {@link historyNamespaceColumnSql}
 * first, then these indexes; its old indexes are dropped.
 */
export function historyTableSql(schema: string, prefix: string): string[] {
  const name = sharedTableNames(prefix).history;
  const table = qualifiedName(schema, name);
  const index = (suffix: string, columns: string) =>
    `CREATE INDEX IF NOT EXISTS ${quoteIdentifier(`${name}_${suffix}`)} ON ${table} (${columns}, sequence)`;
  return [
    `CREATE TABLE IF NOT EXISTS ${table} (
  sequence bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id text NOT NULL,
  namespace text,
  memory_id text,
  event text NOT NULL,
  previous_text text,
  new_text text,
  user_id text,
  agent_id text,
  run_id text,
  actor text,
  detail text,
  created_at text NOT NULL
)`,
    index('ns_memory', 'namespace, memory_id'),
    index('ns_user', 'namespace, user_id'),
    index('ns_agent', 'namespace, agent_id'),
    index('ns_run', 'namespace, run_id'),
    ...['memory', 'user', 'agent', 'run'].map(
      (suffix) => `DROP INDEX IF EXISTS ${qualifiedName(schema, `${name}_${suffix}`)}`,
    ),
  ];
}

/** Adds the namespace column to a history table created before it existed. */
export function historyNamespaceColumnSql(schema: string, prefix: string): string {
  return `ALTER TABLE ${qualifiedName(schema, sharedTableNames(prefix).history)} ADD COLUMN namespace text`;
}

/** Where the pgvector extension lives; its type, operator class and operators are qualified. */
export interface VectorExtension {
  /** Schema the extension was created in. */
  schema: string;
  /** Installed version, e.g. `0.8.0`. */
  version: string;
}

/** HNSW build parameters. */
export interface HnswParameters {
  m: number;
  efConstruction: number;
}

/**
 * The generated `tsvector` of keyword search: over `keyword_text` (core's `keywordText`: Chinese
 * and Japanese words spaced out, emoji spelled, Korean nouns beside their particles) when the
 * record has one, else over `text`.
 */
function searchColumnSql(textSearchConfig: string): string {
  return `search tsvector GENERATED ALWAYS AS (to_tsvector('${textSearchConfig}'::regconfig, coalesce(keyword_text, text))) STORED`;
}

/**
 * The comment on `keyword_text` once every row written before the column existed has its keyword
 * text: tables made with the column get it at creation, migrated ones when
 * {@link keywordTextFillSql} has gone through them.
 */
export const keywordTextFilledComment = 'engram: keyword_text filled';

/** Marks a table's `keyword_text` as filled for every row (see {@link keywordTextFilledComment}). */
export function keywordTextFilledSql(qualifiedTable: string): string {
  return `COMMENT ON COLUMN ${qualifiedTable}.keyword_text IS '${keywordTextFilledComment}'`;
}

/**
 * Filling `keyword_text` of rows written before it existed, one page of ids at a time:
 * `page` reads the next `$2` rows after id `$1` in primary-key order (bounded work per page,
 * whatever the data), with the text only of rows that may need a keyword form (no keyword text
 * yet and not plain ASCII: core's `keywordText` leaves ASCII text as it is); `update` writes the
 * keyword texts computed for them, only where the row still has that text and none yet, so a
 * record written meanwhile keeps its own. Each page commits on its own: a fill stopped half-way
 * starts over and skips what it filled.
 */
export function keywordTextFillSql(qualifiedTable: string): { page: string; update: string } {
  return {
    page: `SELECT id, CASE WHEN keyword_text IS NULL AND octet_length(text) > char_length(text) THEN text END AS text
      FROM ${qualifiedTable} WHERE id > $1 ORDER BY id LIMIT $2`,
    update: `UPDATE ${qualifiedTable} AS target SET keyword_text = input.keyword_text
      FROM unnest($1::text[], $2::text[], $3::text[]) AS input(id, text, keyword_text)
      WHERE target.id = input.id AND target.text = input.text AND target.keyword_text IS NULL`,
  };
}

/**
 * Migrates a collection table created before `keyword_text` existed: adds the column and
 * generates `search` from it (Postgres cannot change a generated expression in place, so the
 * column and its index are made again, which rewrites the table once). The rows written before
 * get their keyword text from {@link keywordTextFillSql} afterwards.
 */
export function keywordTextMigrationSql(options: {
  schema: string;
  table: string;
  textSearchConfig: string;
}): string[] {
  const qualified = qualifiedName(options.schema, options.table);
  return [
    `ALTER TABLE ${qualified} ADD COLUMN IF NOT EXISTS keyword_text text`,
    `ALTER TABLE ${qualified} DROP COLUMN IF EXISTS search`,
    `ALTER TABLE ${qualified} ADD COLUMN ${searchColumnSql(options.textSearchConfig)}`,
    `CREATE INDEX IF NOT EXISTS ${quoteIdentifier(`${options.table}_search`)} ON ${qualified} USING gin (search)`,
  ];
}

/**
 * One collection's table: scope columns indexed for exact scoped reads, metadata as JSONB with
 * a GIN index for containment filters, a generated `tsvector` with a GIN index for keyword
 * search, and the vector with an HNSW cosine index (when its length allows one).
 */
export function collectionTableSql(options: {
  schema: string;
  table: string;
  dimensions: number;
  textSearchConfig: string;
  extension: VectorExtension;
  /** HNSW parameters, or undefined for no vector index (exact search only). */
  hnsw: HnswParameters | undefined;
}): string[] {
  const { schema, table, dimensions, textSearchConfig, extension, hnsw } = options;
  const qualified = qualifiedName(schema, table);
  const vectorSchema = quoteIdentifier(extension.schema);
  const index = (suffix: string) => quoteIdentifier(`${table}_${suffix}`);
  const statements = [
    `CREATE TABLE ${qualified} (
  id text COLLATE "C" PRIMARY KEY,
  text text NOT NULL,
  hash text,
  user_id text,
  agent_id text,
  run_id text,
  metadata jsonb NOT NULL,
  embedding ${vectorSchema}.vector(${dimensions}) NOT NULL,
  created_at text NOT NULL,
  updated_at text NOT NULL,
  keyword_text text,
  ${searchColumnSql(textSearchConfig)}
)`,
    `CREATE INDEX ${index('user')} ON ${qualified} (user_id, agent_id, run_id)`,
    `CREATE INDEX ${index('agent')} ON ${qualified} (agent_id, run_id)`,
    `CREATE INDEX ${index('run')} ON ${qualified} (run_id)`,
    `CREATE INDEX ${index('metadata')} ON ${qualified} USING gin (metadata jsonb_path_ops)`,
    `CREATE INDEX ${index('search')} ON ${qualified} USING gin (search)`,
    keywordTextFilledSql(qualified),
  ];
  const vectorIndex = vectorIndexSql({ schema, table, dimensions, extension, hnsw });
  if (vectorIndex) statements.push(vectorIndex);
  return statements;
}

/**
 * The HNSW cosine index of a collection's table (`IF NOT EXISTS`), or undefined when there is
 * none to build: no HNSW in the installed pgvector, or vectors longer than an index takes.
 */
export function vectorIndexSql(options: {
  schema: string;
  table: string;
  dimensions: number;
  extension: VectorExtension;
  hnsw: HnswParameters | undefined;
}): string | undefined {
  const { schema, table, dimensions, extension, hnsw } = options;
  if (!hnsw || dimensions > maxIndexedDimensions) return undefined;
  return `CREATE INDEX IF NOT EXISTS ${quoteIdentifier(`${table}_vector`)} ON ${qualifiedName(schema, table)} USING hnsw (embedding ${quoteIdentifier(extension.schema)}.vector_cosine_ops) WITH (m = ${hnsw.m}, ef_construction = ${hnsw.efConstruction})`;
}

/** Most lists pgvector's IVFFlat index takes. */
export const maxIvfflatLists = 32_768;

/**
 * The IVFFlat cosine index of a collection's table (`IF NOT EXISTS`), partitioning its rows into
 * `lists` lists around centres trained on the rows present, or undefined when vectors are longer
 * than an index takes.
 */
export function ivfflatIndexSql(options: {
  schema: string;
  table: string;
  dimensions: number;
  extension: VectorExtension;
  lists: number;
}): string | undefined {
  const { schema, table, dimensions, extension, lists } = options;
  if (dimensions > maxIndexedDimensions) return undefined;
  return `CREATE INDEX IF NOT EXISTS ${quoteIdentifier(`${table}_vector`)} ON ${qualifiedName(schema, table)} USING ivfflat (embedding ${quoteIdentifier(extension.schema)}.vector_cosine_ops) WITH (lists = ${lists})`;
}

/**
 * pgvector's starting point for an IVFFlat index of `rows` rows: rows / 1,000 lists up to 1M
 * rows, the square root of rows above; at least 1, at most {@link maxIvfflatLists}.
 */
export function defaultIvfflatLists(rows: number): number {
  const lists = rows <= 1_000_000 ? Math.round(rows / 1000) : Math.round(Math.sqrt(rows));
  return Math.min(maxIvfflatLists, Math.max(1, lists));
}

/** pgvector's starting point for the lists an IVFFlat query probes: the square root of lists. */
export function defaultIvfflatProbes(lists: number): number {
  return Math.max(1, Math.round(Math.sqrt(lists)));
}

/** Whether `value` is a PostgreSQL memory setting such as `8GB`, `512MB` or `65536kB`. */
export function isMemorySetting(value: string): boolean {
  return /^[1-9][0-9]{0,8}(kB|MB|GB|TB)$/.test(value);
}

/** `major.minor` of a version string as comparable numbers. */
export function parseVersion(version: string): [number, number] {
  const [major = 0, minor = 0] = version.split('.').map((part) => Number.parseInt(part, 10) || 0);
  return [major, minor];
}

/** Whether an installed pgvector has HNSW (0.5) or iterative index scans (0.8). */
export function vectorFeatures(version: string): { hnsw: boolean; iterativeScan: boolean } {
  const [major, minor] = parseVersion(version);
  const atLeast = (wantedMajor: number, wantedMinor: number) =>
    major > wantedMajor || (major === wantedMajor && minor >= wantedMinor);
  return { hnsw: atLeast(0, 5), iterativeScan: atLeast(0, 8) };
}
