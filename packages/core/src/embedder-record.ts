import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPrivateDirectory } from './data-directory.js';
import type { Embedder, EmbedOptions } from './embedder.js';
import { embedderProperties } from './embedder.js';
import { EmbedderMismatchError, EngramError } from './errors.js';

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
}

/** `<provider>:<model>`, as records and errors name an embedder. */
export function embedderIdentity(embedder: Pick<Embedder, 'provider' | 'modelId'>): string {
  return `${embedder.provider}:${embedder.modelId}`;
}

/** Every record of the data directory, by collection; none when it has no record file. */
export function readEmbedderRecords(dataDir: string): Record<string, EmbedderRecord> {
  const path = join(dataDir, embedderRecordFile);
  if (!existsSync(path)) return {};
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<RecordFile>;
    return parsed.collections ?? {};
  } catch (error) {
    throw new EngramError({
      message: `${path} is not valid JSON. It records which embedder wrote each collection; restore it from a backup, or delete it if every collection uses the embedder configured now.`,
      cause: error,
    });
  }
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
): void {
  const record = readEmbedderRecords(dataDir)[collection];
  if (!record || sameEmbedder(record, embedder)) return;
  const recorded = `${record.provider}:${record.modelId}`;
  const configured = embedderIdentity(embedder);
  const again = record.name ? `ENGRAM_EMBEDDER=${record.name}` : `the ${recorded} embedder`;
  throw new EmbedderMismatchError({
    recorded,
    configured,
    message: `Collection "${collection}" in ${dataDir} was embedded with ${recorded} (${record.dimensions} dimensions), but ${configured} (${embedder.dimensions} dimensions) is configured now; their vectors cannot be compared. Use ${again} again, or re-embed the memories with the new embedder into another collection (ENGRAM_COLLECTION) or data directory (ENGRAM_HOME) and switch to it.`,
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
  assertRecordedEmbedder(dataDir, collection, embedder);
  const records = readEmbedderRecords(dataDir);
  if (records[collection]) return;
  const configured = name ?? configurationName(embedder);
  records[collection] = {
    ...(configured ? { name: configured } : {}),
    provider: embedder.provider,
    modelId: embedder.modelId,
    dimensions: embedder.dimensions,
    recordedAt: new Date().toISOString(),
  };
  createPrivateDirectory(dataDir);
  const path = join(dataDir, embedderRecordFile);
  const temporary = `${path}.${process.pid}.tmp`;
  const body: RecordFile = { collections: records };
  writeFileSync(temporary, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, path);
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
  return {
    ...embedderProperties(embedder),
    async embed(options: EmbedOptions) {
      if (!checked) {
        assertRecordedEmbedder(dataDir, collection, embedder);
        checked = true;
      }
      if (!recorded && options.purpose === 'document') {
        recordEmbedder(dataDir, collection, embedder, name);
        recorded = true;
      }
      return embedder.embed(options);
    },
  };
}
