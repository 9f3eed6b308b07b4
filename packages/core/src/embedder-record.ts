import {
  existsSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { createPrivateDirectory } from './data-directory.js';
import type { Embedder, EmbedOptions } from './embedder.js';
import { embedderProperties } from './embedder.js';
import { EmbedderMismatchError, EngramError } from './errors.js';
import type { ReembedCheckpoint, ReembedState } from './reembed-memories.js';

/** What a data directory remembers about the embedder that wrote one collection's vectors. */
export interface EmbedderRecord {
  /** How it is configured again (`local`, `hash`, `openai:text-embedding-3-small`), when known. */
  name?: string;
  /** The embedder's provider, e.g. `transformers`, `hash`. */
  provider: string;
  /** The embedder's model id, e.g. `all-MiniLM-L6-v2`. */
  modelId: string;
  /** Length of its vectors. */
  dimensions: number;
  /** When the collection got its first vectors, ISO 8601. */
  recordedAt: string;
}

/** The file in the data directory that holds the records, by collection. */
export const embedderRecordFile = 'embedders.json';

interface RecordFile {
  collections: Record<string, EmbedderRecord>;
  /** Re-embeddings under way, by collection. */
  reembedding?: Record<string, ReembedCheckpoint>;
}

/** `<provider>:<model>`, as records and errors name an embedder. */
export function embedderIdentity(embedder: Pick<Embedder, 'provider' | 'modelId'>): string {
  return `${embedder.provider}:${embedder.modelId}`;
}

function readRecordFile(dataDir: string): RecordFile {
  const path = join(dataDir, embedderRecordFile);
  if (!existsSync(path)) return { collections: {} };
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<RecordFile>;
    return { ...parsed, collections: parsed.collections ?? {} };
  } catch (error) {
    throw new EngramError({
      message: `${path} is not valid JSON. It records which embedder wrote each collection; restore it from a backup, or delete it if every collection uses the embedder configured now.`,
      cause: error,
    });
  }
}

function writeRecordFile(dataDir: string, body: RecordFile): void {
  createPrivateDirectory(dataDir);
  const path = join(dataDir, embedderRecordFile);
  const temporary = `${path}.${process.pid}.tmp`;
  const { reembedding, ...rest } = body;
  const kept = reembedding && Object.keys(reembedding).length > 0 ? { reembedding } : {};
  writeFileSync(temporary, `${JSON.stringify({ ...rest, ...kept }, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, path);
}

/** Every record of the data directory, by collection; none when it has no record file. */
export function readEmbedderRecords(dataDir: string): Record<string, EmbedderRecord> {
  return readRecordFile(dataDir).collections;
}

/**
 * Whether the data directory holds databases written before embedders were recorded: those
 * used the hash embedder unless OPENAI_API_KEY was set, and keep doing so.
 */
export function hasUnrecordedData(dataDir: string): boolean {
  // The embedded store's files: `engram.db`, and the server's `projects/<project>.db`.
  const projects = () => {
    try {
      return readdirSync(join(dataDir, 'projects')).some((name) => name.endsWith('.db'));
    } catch {
      return false;
    }
  };
  return (
    !existsSync(join(dataDir, embedderRecordFile)) &&
    (existsSync(join(dataDir, 'engram.db')) || projects())
  );
}

/** The `ENGRAM_EMBEDDER` value that configures an embedder of a known provider again. */
function configurationName(embedder: Embedder): string | undefined {
  if (embedder.provider === 'hash') {
    return embedder.dimensions === 384 ? 'hash' : `hash:${embedder.dimensions}`;
  }
  if (embedder.provider === 'transformers') return `local:${embedder.modelId}`;
  return undefined;
}

function sameEmbedder(record: EmbedderRecord, embedder: Embedder): boolean {
  return (
    record.provider === embedder.provider &&
    record.modelId === embedder.modelId &&
    record.dimensions === embedder.dimensions
  );
}

/**
 * Throws {@link EmbedderMismatchError} when `collection` was written by another embedder than
 * `embedder`; the message names both and how to switch.
 */
export function assertRecordedEmbedder(
  dataDir: string,
  collection: string,
  embedder: Embedder,
  name?: string,
): void {
  const record = readEmbedderRecords(dataDir)[collection];
  if (!record || sameEmbedder(record, embedder)) return;
  const recorded = `${record.provider}:${record.modelId}`;
  const configured = embedderIdentity(embedder);
  const again = record.name ? `ENGRAM_EMBEDDER=${record.name}` : `the ${recorded} embedder`;
  throw new EmbedderMismatchError({
    recorded,
    configured,
    message: `Collection "${collection}" in ${dataDir} was embedded with ${recorded} (${record.dimensions} dimensions), but ${configured} (${embedder.dimensions} dimensions) is configured now; their vectors cannot be compared. Use ${again} again, or move the collection to the new embedder with \`engram reembed --embedder ${name ?? configurationName(embedder) ?? '<its ENGRAM_EMBEDDER name>'}\` (Memory.reembed), which re-computes every vector and records it.`,
  });
}

/**
 * Records that `embedder` writes `collection`'s vectors, unless it is recorded already (then it
 * must be the same embedder, see {@link assertRecordedEmbedder}).
 */
export function recordEmbedder(
  dataDir: string,
  collection: string,
  embedder: Embedder,
  name?: string,
): void {
  assertRecordedEmbedder(dataDir, collection, embedder, name);
  const file = readRecordFile(dataDir);
  if (file.collections[collection]) return;
  file.collections[collection] = newRecord(embedder, name);
  writeRecordFile(dataDir, file);
}

function newRecord(embedder: Embedder, name: string | undefined): EmbedderRecord {
  const configured = name ?? configurationName(embedder);
  return {
    ...(configured ? { name: configured } : {}),
    provider: embedder.provider,
    modelId: embedder.modelId,
    dimensions: embedder.dimensions,
    recordedAt: new Date().toISOString(),
  };
}

/**
 * Keeps a re-embedding's progress in the data directory's `embedders.json`; once complete, the
 * new embedder replaces the collection's record. While one is under way, embedders built by
 * {@link recordingEmbedder} refuse to embed texts to store in the collection.
 */
export function fileReembedState(dataDir: string, collection: string): ReembedState {
  return {
    load: () => readRecordFile(dataDir).reembedding?.[collection],
    save(checkpoint) {
      const file = readRecordFile(dataDir);
      file.reembedding = { ...file.reembedding, [collection]: checkpoint };
      writeRecordFile(dataDir, file);
    },
    finish(embedder, name) {
      const file = readRecordFile(dataDir);
      file.collections[collection] = newRecord(embedder, name);
      if (file.reembedding) delete file.reembedding[collection];
      writeRecordFile(dataDir, file);
    },
  };
}

/**
 * The re-embedding under way for a collection, read again only when the record file changed
 * (its modification time, size or inode; it is replaced by a rename on every write): one `stat`
 * per embedding of texts to store instead of reading and parsing the file.
 */
function reembeddingWatch(
  dataDir: string,
  collection: string,
): () => ReembedCheckpoint | undefined {
  const path = join(dataDir, embedderRecordFile);
  let seen: string | undefined;
  let pending: ReembedCheckpoint | undefined;
  return () => {
    const file = statSync(path, { throwIfNoEntry: false });
    const signature = file ? `${file.mtimeMs}:${file.size}:${file.ino}` : 'none';
    if (signature !== seen) {
      pending = readRecordFile(dataDir).reembedding?.[collection];
      seen = signature;
    }
    return pending;
  };
}

/** Refuses to embed texts to store while the collection is being re-embedded. */
function assertNotReembedding(
  dataDir: string,
  collection: string,
  pendingReembedding: () => ReembedCheckpoint | undefined,
): void {
  const pending = pendingReembedding();
  if (!pending) return;
  const how = pending.name ? `ENGRAM_EMBEDDER=${pending.name}` : pending.embedder;
  throw new EngramError({
    message: `Collection "${collection}" in ${dataDir} is being re-embedded with ${pending.embedder} (${pending.processed} memories done in its ${pending.phase} phase, started ${pending.startedAt}); new memories wait until it is complete. Finish it with \`engram reembed --embedder ${pending.name ?? '<the same embedder>'}\`, then write with ${how}.`,
  });
}

/**
 * The embedder, checked against the data directory's record before its first call and recording
 * itself the first time it embeds texts to store, so that a collection's vectors never come from
 * two embedders.
 */
export function recordingEmbedder(
  embedder: Embedder,
  dataDir: string,
  collection: string,
  name: string | undefined,
): Embedder {
  let checked = false;
  let recorded = false;
  const pendingReembedding = reembeddingWatch(dataDir, collection);
  return {
    ...embedderProperties(embedder),
    async embed(options: EmbedOptions) {
      if (!checked) {
        assertRecordedEmbedder(dataDir, collection, embedder, name);
        checked = true;
      }
      if (options.purpose === 'document') {
        assertNotReembedding(dataDir, collection, pendingReembedding);
        if (!recorded) recordEmbedder(dataDir, collection, embedder, name);
        recorded = true;
      }
      return embedder.embed(options);
    },
  };
}
