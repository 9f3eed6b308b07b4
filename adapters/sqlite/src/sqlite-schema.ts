/**
 * Version recorded in `engram_meta` once the schema below exists. `PRAGMA user_version` is left
 * alone: a database passed in by the application may use it for its own tables.
 */
export const schemaVersion = 5;

/**
 * State of the vector (ANN) index of each collection that has one, and the log of row changes
 * since the index file was last saved. Triggers write the log inside the writing transaction,
 * only for collections with an index, so an index that is behind the table (another process
 * wrote, or this one crashed before saving) is brought up to date by replaying the log.
 * `saved_through` is the last change the saved index file holds (-1 while none is saved); the
 * log keeps what came after. `file_bytes` is the saved file's size: a file of another size is
 * damaged or foreign and is rebuilt rather than loaded. `build_owner` and `build_expires_at` are
 * the lease of the process building the index in the background, so that one process builds it.
 * Added in schema version 3 (the lease in 4); every statement is idempotent, so older databases
 * get it on open.
 */
const annIndexSchemaSql = `
CREATE TABLE IF NOT EXISTS engram_ann_state (
  collection TEXT PRIMARY KEY,
  saved_through INTEGER NOT NULL,
  file_bytes INTEGER,
  build_owner TEXT,
  build_expires_at INTEGER
);
CREATE TABLE IF NOT EXISTS engram_ann_changes (
  sequence INTEGER PRIMARY KEY AUTOINCREMENT,
  collection TEXT NOT NULL,
  row_id INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS engram_ann_changes_collection ON engram_ann_changes (collection, sequence);
CREATE TRIGGER IF NOT EXISTS engram_ann_insert AFTER INSERT ON engram_memories
WHEN EXISTS (SELECT 1 FROM engram_ann_state WHERE collection = new.collection) BEGIN
  INSERT INTO engram_ann_changes (collection, row_id) VALUES (new.collection, new.row_id);
END;
CREATE TRIGGER IF NOT EXISTS engram_ann_delete AFTER DELETE ON engram_memories
WHEN EXISTS (SELECT 1 FROM engram_ann_state WHERE collection = old.collection) BEGIN
  INSERT INTO engram_ann_changes (collection, row_id) VALUES (old.collection, old.row_id);
END;
CREATE TRIGGER IF NOT EXISTS engram_ann_update AFTER UPDATE OF vector, collection ON engram_memories
WHEN EXISTS (SELECT 1 FROM engram_ann_state WHERE collection IN (old.collection, new.collection)) BEGIN
  INSERT INTO engram_ann_changes (collection, row_id) VALUES (old.collection, old.row_id);
  INSERT INTO engram_ann_changes (collection, row_id)
    SELECT new.collection, new.row_id WHERE new.collection IS NOT old.collection;
END;
`;

/**
 * The log of which scopes' memories changed, so that a process can drop from its vector cache
 * only the scopes another connection (or itself) wrote. Triggers add one row per written,
 * updated or deleted memory (two when an update moves it to another scope) inside the writing
 * transaction; readers keep the last `sequence` they applied. Writers prune old rows and record
 * in `engram_meta` (`scope_changes_pruned_through`) the last sequence pruned: a reader behind it
 * drops its whole cache. Added in schema version 5; every statement is idempotent.
 */
const scopeChangesSchemaSql = `
CREATE TABLE IF NOT EXISTS engram_scope_changes (
  sequence INTEGER PRIMARY KEY,
  collection TEXT NOT NULL,
  user_id TEXT,
  agent_id TEXT,
  run_id TEXT
);
CREATE TRIGGER IF NOT EXISTS engram_scope_changes_insert AFTER INSERT ON engram_memories BEGIN
  INSERT INTO engram_scope_changes (collection, user_id, agent_id, run_id)
    VALUES (new.collection, new.user_id, new.agent_id, new.run_id);
END;
CREATE TRIGGER IF NOT EXISTS engram_scope_changes_delete AFTER DELETE ON engram_memories BEGIN
  INSERT INTO engram_scope_changes (collection, user_id, agent_id, run_id)
    VALUES (old.collection, old.user_id, old.agent_id, old.run_id);
END;
CREATE TRIGGER IF NOT EXISTS engram_scope_changes_update AFTER UPDATE ON engram_memories BEGIN
  INSERT INTO engram_scope_changes (collection, user_id, agent_id, run_id)
    VALUES (old.collection, old.user_id, old.agent_id, old.run_id);
  INSERT INTO engram_scope_changes (collection, user_id, agent_id, run_id)
    SELECT new.collection, new.user_id, new.agent_id, new.run_id
    WHERE new.collection IS NOT old.collection OR new.user_id IS NOT old.user_id
      OR new.agent_id IS NOT old.agent_id OR new.run_id IS NOT old.run_id;
END;
`;

/**
 * Triggers that keep the keyword index in step with the memories. The index holds each row's
 * `keyword_text` (the text with the words of unspaced scripts separated and emoji spelled, see
 * core's `keywordText`) or, when that is NULL (the same as the text, or a row written by an older
 * version), its `text`. Deleting from the index needs the text it indexed, which is why the
 * keyword form is stored rather than computed again.
 */
function keywordTriggersSql(create: string): string {
  const indexed = (row: 'new' | 'old') => `coalesce(${row}.keyword_text, ${row}.text)`;
  return `${create} engram_memories_fts_insert AFTER INSERT ON engram_memories BEGIN
  INSERT INTO engram_memories_fts (rowid, text) VALUES (new.row_id, ${indexed('new')});
END;
${create} engram_memories_fts_delete AFTER DELETE ON engram_memories BEGIN
  INSERT INTO engram_memories_fts (engram_memories_fts, rowid, text) VALUES ('delete', old.row_id, ${indexed('old')});
END;
${create} engram_memories_fts_update AFTER UPDATE OF text, keyword_text ON engram_memories BEGIN
  INSERT INTO engram_memories_fts (engram_memories_fts, rowid, text) VALUES ('delete', old.row_id, ${indexed('old')});
  INSERT INTO engram_memories_fts (rowid, text) VALUES (new.row_id, ${indexed('new')});
END;`;
}

/**
 * Adds the `keyword_text` column to a database made before it existed and makes the keyword
 * index's triggers use it. The rows whose keyword form differs from their text are then given it
 * (an UPDATE, so the trigger re-indexes them).
 */
export const keywordTextMigrationSql = `
ALTER TABLE engram_memories ADD COLUMN keyword_text TEXT;
DROP TRIGGER IF EXISTS engram_memories_fts_insert;
DROP TRIGGER IF EXISTS engram_memories_fts_delete;
DROP TRIGGER IF EXISTS engram_memories_fts_update;
${keywordTriggersSql('CREATE TRIGGER')}
`;

/**
 * Tables of one Engram database. Memories of every collection share one table whose scope
 * columns are indexed together with the collection, so a scoped search reads only that scope's
 * rows; each scope column also has an index ending in the id, so that a scoped `list` (ordered by
 * id) starts from the scope instead of walking the collection; a user's memories are also indexed
 * in the order they were written (version 5), for the neighbours of search results. The keyword index is an external-content FTS5 table kept in sync by triggers, which run
 * inside the writing statement's transaction.
 */
export const schemaSql = `
CREATE TABLE IF NOT EXISTS engram_meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS engram_collections (
  name TEXT PRIMARY KEY,
  dimensions INTEGER NOT NULL,
  created_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS engram_memories (
  row_id INTEGER PRIMARY KEY,
  collection TEXT NOT NULL,
  id TEXT NOT NULL,
  text TEXT NOT NULL,
  hash TEXT,
  user_id TEXT,
  agent_id TEXT,
  run_id TEXT,
  metadata TEXT NOT NULL,
  vector BLOB NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  keyword_text TEXT,
  UNIQUE (collection, id)
);
CREATE INDEX IF NOT EXISTS engram_memories_user_id ON engram_memories (collection, user_id, id);
CREATE INDEX IF NOT EXISTS engram_memories_agent_id ON engram_memories (collection, agent_id, id);
CREATE INDEX IF NOT EXISTS engram_memories_run_id ON engram_memories (collection, run_id, id);
CREATE INDEX IF NOT EXISTS engram_memories_user_written ON engram_memories (collection, user_id, created_at, id);

CREATE VIRTUAL TABLE IF NOT EXISTS engram_memories_fts USING fts5(
  text,
  content = 'engram_memories',
  content_rowid = 'row_id',
  tokenize = 'porter unicode61 remove_diacritics 2'
);
${keywordTriggersSql('CREATE TRIGGER IF NOT EXISTS')}
CREATE TABLE IF NOT EXISTS engram_history (
  sequence INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL,
  namespace TEXT,
  memory_id TEXT,
  event TEXT NOT NULL,
  previous_text TEXT,
  new_text TEXT,
  user_id TEXT,
  agent_id TEXT,
  run_id TEXT,
  actor TEXT,
  detail TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS engram_history_namespace_memory ON engram_history (namespace, memory_id);
CREATE INDEX IF NOT EXISTS engram_history_namespace_user ON engram_history (namespace, user_id);
CREATE INDEX IF NOT EXISTS engram_history_namespace_agent ON engram_history (namespace, agent_id);
CREATE INDEX IF NOT EXISTS engram_history_namespace_run ON engram_history (namespace, run_id);
${annIndexSchemaSql}${scopeChangesSchemaSql}`;

/**
 * From version 1 to 2: history events get the namespace (collection) of their memory. Events of
 * a memory that still exists in exactly one collection take that collection; the rest take the
 * database's only collection when it has just one, and otherwise stay without a namespace,
 * which no read or delete selects. Runs before {@link schemaSql}, which creates the new indexes.
 */
export const historyNamespaceMigrationSql = `
ALTER TABLE engram_history ADD COLUMN namespace TEXT;
CREATE INDEX engram_memories_id_migration ON engram_memories (id);
UPDATE engram_history SET namespace = (
  SELECT min(memories.collection) FROM engram_memories AS memories
  WHERE memories.id = engram_history.memory_id
  HAVING count(DISTINCT memories.collection) = 1
) WHERE memory_id IS NOT NULL;
UPDATE engram_history SET namespace = (SELECT min(name) FROM engram_collections)
WHERE namespace IS NULL AND (SELECT count(*) FROM engram_collections) = 1;
DROP INDEX engram_memories_id_migration;
DROP INDEX IF EXISTS engram_history_memory;
DROP INDEX IF EXISTS engram_history_user;
DROP INDEX IF EXISTS engram_history_agent;
DROP INDEX IF EXISTS engram_history_run;
`;

/** From version 3 to 4: the build lease of the vector index. Runs before {@link schemaSql}. */
export const buildLeaseMigrationSql = `
ALTER TABLE engram_ann_state ADD COLUMN build_owner TEXT;
ALTER TABLE engram_ann_state ADD COLUMN build_expires_at INTEGER;
`;

/**
 * From any version before 4: the scope indexes, replaced by one per scope column that ends in the
 * id (created by {@link schemaSql}): as many indexes for writes to keep up, and they serve scoped
 * searches as well as scoped lists.
 */
export const replacedIndexesSql = `
DROP INDEX IF EXISTS engram_memories_user;
DROP INDEX IF EXISTS engram_memories_agent;
DROP INDEX IF EXISTS engram_memories_run;
`;
