import { createHash } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import {
  EmbedderMismatchError,
  EngramError,
  type EngramErrorOptions,
  InvalidArgumentError,
  NotFoundError,
  throwIfAborted,
} from './errors.js';
import type { GraphEntity, GraphRelation } from './graph-store.js';
import type { HistoryEvent } from './history-store.js';
import type { MemoryEngine } from './memory-engine.js';
import { type Scope, scopeKey, scopeOf } from './scope.js';
import { keywordText } from './text.js';
import type { VectorRecord } from './vector-store.js';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** The version of the backup format this code writes; restore reads it and older ones. */
export const backupFormatVersion = 1;

/** Where a backup is written to and read from: a directory, an object-storage prefix, ... */
export interface BackupTarget {
  /** Where it is, for messages, e.g. `./backups/2026-12-06` or `s3://bucket/prefix`. */
  readonly location: string;
  /** Stores one file of the backup (a part or the manifest) under its name. */
  write(name: string, data: Uint8Array, abortSignal?: AbortSignal): Promise<void>;
  /** Reads one file of the backup; throws `NotFoundError` when it is missing. */
  read(name: string, abortSignal?: AbortSignal): Promise<Uint8Array>;
}

/** One compressed JSONL file of a backup. */
export interface BackupPart {
  /** File name, e.g. `memories-000001.jsonl.gz`. */
  name: string;
  /** What its lines hold. */
  kind: 'memories' | 'history' | 'graph';
  /** Number of lines. */
  records: number;
  /** Compressed size in bytes. */
  bytes: number;
  /** SHA-256 of the compressed bytes, hex. */
  sha256: string;
}

/** `manifest.json`: what a backup holds, written last (a backup without one is incomplete). */
export interface BackupManifest {
  /** Always `engram-backup`. */
  format: 'engram-backup';
  /** Format version; see {@link backupFormatVersion}. */
  formatVersion: number;
  /** ISO-8601 time the backup started. */
  createdAt: string;
  /** Version of `@engram/core` that wrote it. */
  engramVersion: string;
  /** The collection (project) backed up. */
  collection: string;
  /** The embedder that made the vectors; a restore needs the same one. */
  embedder: { provider: string; modelId: string; dimensions: number };
  /** How many of each thing the backup holds. */
  counts: {
    memories: number;
    historyEvents: number;
    scopes: number;
    entities: number;
    relations: number;
  };
  /** The parts, in the order they are restored. */
  parts: BackupPart[];
}

/** Progress of a backup or restore, reported after each part. */
export interface BackupProgress {
  /** What is being read or written. */
  phase: 'memories' | 'history' | 'graph' | 'verify';
  /** Lines written or restored so far in this phase. */
  records: number;
  /** Parts done so far (all phases). */
  parts: number;
}

/** Options of {@link Memory.backup}. */
export interface BackupOptions {
  /** Where to write it; `createDirectoryBackupTarget(dir)` for a local directory. */
  target: BackupTarget;
  /** Uncompressed bytes per part before a new part starts. Default 8 MiB. */
  partBytes?: number;
  /** Records read per store call. Default 500. */
  pageSize?: number;
  /** Called after each part. */
  onProgress?: (progress: BackupProgress) => void;
  /** Cancels the backup (no manifest is written, so the partial backup is never restored). */
  abortSignal?: AbortSignal;
}

/** Options of {@link Memory.restore}. */
export interface RestoreOptions {
  /** Where the backup is. */
  source: BackupTarget;
  /** Refuse to restore into a collection that holds memories. Default false (ids in the backup replace). */
  intoEmptyOnly?: boolean;
  /** Called after each part. */
  onProgress?: (progress: BackupProgress) => void;
  /** Cancels the restore. */
  abortSignal?: AbortSignal;
}

/** What {@link Memory.restore} restored. */
export interface RestoreSummary {
  /** The manifest of the backup. */
  manifest: BackupManifest;
  /** Memories written. */
  memories: number;
  /** History events appended. */
  historyEvents: number;
  /** Graph entities and relations written (0 without a graph store). */
  graph: number;
}

/** A backup is damaged, incomplete or of an unknown format; the message says which part. */
export class BackupIntegrityError extends EngramError {
  constructor(options: EngramErrorOptions) {
    super(options, 'backup_integrity');
    this.name = 'BackupIntegrityError';
  }
  static override isInstance(error: unknown): error is BackupIntegrityError {
    return (
      error != null &&
      typeof error === 'object' &&
      (error as Record<symbol, unknown>)[Symbol.for('engram.error.backup_integrity')] === true
    );
  }
}

const manifestName = 'manifest.json';
const defaultPartBytes = 8 * 1024 * 1024;
const writeBatch = 500;

/** The version of `@engram/core` that runs. */
export function coreVersion(): string {
  try {
    const manifest = readFileSync(new URL('../package.json', import.meta.url), 'utf8');
    return (JSON.parse(manifest) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

export const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** A backup in a local directory (created when missing); each file is written atomically. */
export function createDirectoryBackupTarget(directory: string): BackupTarget {
  return {
    location: directory,
    async write(name, data) {
      const path = join(directory, name);
      await fs.mkdir(dirname(path), { recursive: true });
      await fs.writeFile(`${path}.partial`, data);
      await fs.rename(`${path}.partial`, path);
    },
    async read(name) {
      try {
        return await fs.readFile(join(directory, name));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
          throw new NotFoundError({
            source: 'backup',
            message: `${join(directory, name)} does not exist: is ${directory} a backup written by engram backup?`,
            cause: error,
          });
        }
        throw error;
      }
    },
  };
}

/** Buffers JSONL lines of one kind and writes them as numbered, compressed parts. */
export class PartWriter {
  readonly #lines: string[] = [];
  #bytes = 0;
  #count = 0;
  #total = 0;

  constructor(
    private readonly kind: BackupPart['kind'],
    private readonly options: BackupOptions,
    private readonly parts: BackupPart[],
  ) {}

  async add(value: unknown): Promise<void> {
    const line = `${JSON.stringify(value)}\n`;
    this.#lines.push(line);
    this.#bytes += line.length;
    if (this.#bytes >= (this.options.partBytes ?? defaultPartBytes)) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.#lines.length === 0) return;
    const compressed = await gzipAsync(Buffer.from(this.#lines.join(''), 'utf8'));
    this.#count += 1;
    const name = `${this.kind}-${String(this.#count).padStart(6, '0')}.jsonl.gz`;
    await this.options.target.write(name, compressed, this.options.abortSignal);
    this.parts.push({
      name,
      kind: this.kind,
      records: this.#lines.length,
      bytes: compressed.byteLength,
      sha256: sha256(compressed),
    });
    this.#total += this.#lines.length;
    this.#lines.length = 0;
    this.#bytes = 0;
    this.options.onProgress?.({ phase: this.kind, records: this.#total, parts: this.parts.length });
  }
}

/**
 * Writes a backup of the engine's collection: every memory with its vector (page by page), the
 * history of every scope that holds memories, and the graph of those scopes when a graph store is
 * configured; then `manifest.json`. Memory use is bounded by one part, whatever the size.
 */
export async function backupCollection(
  engine: MemoryEngine,
  options: BackupOptions,
): Promise<BackupManifest> {
  const { store, collection } = engine;
  const signal = options.abortSignal ? { abortSignal: options.abortSignal } : {};
  const createdAt = engine.now().toISOString();
  const parts: BackupPart[] = [];
  const scopes = new Map<string, Scope>();
  const counts = { memories: 0, historyEvents: 0, scopes: 0, entities: 0, relations: 0 };
  const pageSize = options.pageSize ?? writeBatch;

  const memories = new PartWriter('memories', options, parts);
  let cursor: string | undefined;
  do {
    const page = await store.list({
      collection,
      limit: pageSize,
      includeVectors: true,
      ...(cursor ? { cursor } : {}),
      ...signal,
    });
    for (const record of page.records) {
      const { keywordText: _keywordText, ...line } = record;
      await memories.add(line);
      const scope = scopeOf(record);
      scopes.set(scopeKey(scope), scope);
    }
    counts.memories += page.records.length;
    cursor = page.nextCursor;
  } while (cursor);
  await memories.flush();
  counts.scopes = scopes.size;
  const orderedScopes = [...scopes.entries()].sort(([left], [right]) =>
    left < right ? -1 : left > right ? 1 : 0,
  );

  // A scope's history query also returns narrower scopes' events: each event goes with its own.
  const history = new PartWriter('history', options, parts);
  for (const [key, scope] of orderedScopes) {
    let historyCursor: string | undefined;
    do {
      const page = await engine.history.byScope({
        namespace: collection,
        scope,
        limit: 1000,
        ...(historyCursor ? { cursor: historyCursor } : {}),
        ...signal,
      });
      for (const event of page.events) {
        if (scopeKey(scopeOf(event)) !== key) continue;
        await history.add(event);
        counts.historyEvents += 1;
      }
      historyCursor = page.nextCursor;
    } while (historyCursor);
  }
  await history.flush();

  if (engine.graphStore) {
    const graph = new PartWriter('graph', options, parts);
    for (const [key, scope] of orderedScopes) {
      const seen = new Set<string>();
      let graphCursor: string | undefined;
      do {
        const page = await engine.graphStore.list({
          namespace: collection,
          scope,
          limit: 500,
          includeInvalidated: true,
          ...(graphCursor ? { cursor: graphCursor } : {}),
          ...signal,
        });
        for (const { relation, source, destination } of page.triples) {
          if (scopeKey(scopeOf(relation)) !== key) continue;
          for (const entity of [source, destination]) {
            if (seen.has(entity.id)) continue;
            seen.add(entity.id);
            await graph.add({ entity });
            counts.entities += 1;
          }
          await graph.add({ relation });
          counts.relations += 1;
        }
        graphCursor = page.nextCursor;
      } while (graphCursor);
    }
    await graph.flush();
  }

  throwIfAborted(options.abortSignal, 'backup');
  const manifest: BackupManifest = {
    format: 'engram-backup',
    formatVersion: backupFormatVersion,
    createdAt,
    engramVersion: coreVersion(),
    collection,
    embedder: {
      provider: engine.embedder.provider,
      modelId: engine.embedder.modelId,
      dimensions: engine.embedder.dimensions,
    },
    counts,
    parts,
  };
  await options.target.write(
    manifestName,
    Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8'),
    options.abortSignal,
  );
  return manifest;
}

/** Reads and checks `manifest.json`. */
export async function readBackupManifest(
  source: BackupTarget,
  abortSignal?: AbortSignal,
): Promise<BackupManifest> {
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(
      Buffer.from(await source.read(manifestName, abortSignal)).toString('utf8'),
    ) as BackupManifest;
  } catch (error) {
    if (EngramError.isInstance(error) && !NotFoundError.isInstance(error)) throw error;
    throw new BackupIntegrityError({
      source: 'backup',
      message: `${source.location} has no readable ${manifestName}: the backup is incomplete (interrupted?) or this is not an engram backup. Restore another backup.`,
      cause: error,
    });
  }
  if (manifest?.format !== 'engram-backup' || !Array.isArray(manifest.parts)) {
    throw new BackupIntegrityError({
      source: 'backup',
      message: `${source.location}/${manifestName} is not an engram backup manifest.`,
    });
  }
  if (!(manifest.formatVersion <= backupFormatVersion)) {
    throw new BackupIntegrityError({
      source: 'backup',
      message: `${source.location} is in backup format ${manifest.formatVersion}; this engram reads up to ${backupFormatVersion}. Upgrade engram to restore it.`,
    });
  }
  return manifest;
}

/** Reads one part, checks its size and checksum against the manifest, and decompresses it. */
export async function readPart(
  source: BackupTarget,
  part: BackupPart,
  abortSignal?: AbortSignal,
): Promise<Buffer> {
  const data = await source.read(part.name, abortSignal);
  if (data.byteLength !== part.bytes || sha256(data) !== part.sha256) {
    throw new BackupIntegrityError({
      source: 'backup',
      message: `${source.location}/${part.name} does not match the checksum in the manifest: the backup is damaged. Nothing was restored; restore another backup.`,
    });
  }
  return gunzipAsync(data);
}

/** The JSON values of a JSONL text. */
export function* linesOf(data: Buffer): Generator<unknown> {
  const text = data.toString('utf8');
  let start = 0;
  while (start < text.length) {
    const end = text.indexOf('\n', start);
    const line = text.slice(start, end === -1 ? text.length : end);
    if (line.length > 0) yield JSON.parse(line);
    start = end === -1 ? text.length : end + 1;
  }
}

/**
 * Restores a backup into the engine's collection: checks the manifest, the embedder and every
 * part's checksum first (nothing is written from a damaged backup), then writes the memories
 * with their vectors, the history events and the graph. Ids already present are replaced.
 */
export async function restoreCollection(
  engine: MemoryEngine,
  options: RestoreOptions,
): Promise<RestoreSummary> {
  const { source, abortSignal } = options;
  const { store, collection } = engine;
  const signal = abortSignal ? { abortSignal } : {};
  const manifest = await readBackupManifest(source, abortSignal);
  const { embedder } = engine;
  const recorded = `${manifest.embedder.provider}:${manifest.embedder.modelId}`;
  const configured = `${embedder.provider}:${embedder.modelId}`;
  if (recorded !== configured || manifest.embedder.dimensions !== embedder.dimensions) {
    throw new EmbedderMismatchError({
      source: 'backup',
      recorded,
      configured,
      message: `The backup at ${source.location} holds vectors of the embedder ${recorded} (${manifest.embedder.dimensions} dimensions), but ${configured} (${embedder.dimensions}) is configured. Restore with the same embedder (ENGRAM_EMBEDDER=${recorded}), then change embedders by re-embedding.`,
    });
  }
  if (options.intoEmptyOnly) {
    const existing = await store.count({ collection, ...signal });
    if (existing > 0) {
      throw new InvalidArgumentError({
        source: 'backup',
        message: `Collection "${collection}" already holds ${existing} memories and an empty one was asked for: restore into a new data directory or collection, or leave out the empty-only option to merge (ids in the backup replace).`,
      });
    }
  }
  let done = 0;
  for (const part of manifest.parts) {
    await readPart(source, part, abortSignal);
    done += 1;
    options.onProgress?.({ phase: 'verify', records: 0, parts: done });
  }

  const summary: RestoreSummary = { manifest, memories: 0, historyEvents: 0, graph: 0 };
  const batchSize = Math.min(store.capabilities.maxBatchSize, writeBatch);
  const graphSchema = { ready: false };
  done = 0;
  for (const part of manifest.parts) {
    const data = await readPart(source, part, abortSignal);
    let records: VectorRecord[] = [];
    let events: HistoryEvent[] = [];
    let entities: GraphEntity[] = [];
    let relations: GraphRelation[] = [];
    const writeRecords = async () => {
      if (records.length === 0) return;
      await store.upsert({ collection, records, ...signal });
      summary.memories += records.length;
      records = [];
    };
    const writeEvents = async () => {
      if (events.length === 0) return;
      await engine.history.append({ events, ...signal });
      summary.historyEvents += events.length;
      events = [];
    };
    const writeEntities = async () => {
      if (entities.length === 0 || !engine.graphStore) return;
      if (!graphSchema.ready) {
        await engine.graphStore.ensureSchema({
          dimensions: entities[0]!.embedding.length,
          ...signal,
        });
        graphSchema.ready = true;
      }
      await engine.graphStore.upsertEntities({ entities, ...signal });
      summary.graph += entities.length;
      entities = [];
    };
    // A relation's entities come before it in the part: writing them first keeps it whole.
    const writeRelations = async () => {
      await writeEntities();
      if (relations.length === 0 || !engine.graphStore) return;
      await engine.graphStore.upsertRelations({ relations, ...signal });
      summary.graph += relations.length;
      relations = [];
    };
    for (const line of linesOf(data)) {
      if (part.kind === 'memories') {
        const record = line as VectorRecord;
        const indexed = keywordText(record.text);
        records.push(indexed === record.text ? record : { ...record, keywordText: indexed });
        if (records.length >= batchSize) await writeRecords();
      } else if (part.kind === 'history') {
        events.push(line as HistoryEvent);
        if (events.length >= writeBatch) await writeEvents();
      } else if (engine.graphStore) {
        const entry = line as { entity?: GraphEntity; relation?: GraphRelation };
        if (entry.entity) {
          entities.push(entry.entity);
          if (entities.length >= writeBatch) await writeEntities();
        } else if (entry.relation) {
          relations.push(entry.relation);
          if (relations.length >= writeBatch) await writeRelations();
        }
      }
    }
    await writeRecords();
    await writeEvents();
    await writeRelations();
    done += 1;
    options.onProgress?.({
      phase: part.kind,
      records:
        part.kind === 'memories'
          ? summary.memories
          : part.kind === 'history'
            ? summary.historyEvents
            : summary.graph,
      parts: done,
    });
  }
  return summary;
}
