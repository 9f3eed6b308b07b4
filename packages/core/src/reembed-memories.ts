import type { Embedder } from './embedder.js';
import { embedderIdentity } from './embedder-record.js';
import {
  DimensionMismatchError,
  InvalidArgumentError,
  NotFoundError,
  throwIfAborted,
} from './errors.js';
import { embedInBatches, type MemoryEngine } from './memory-engine.js';
import { withKeywordText } from './memory-writer.js';
import { scopeOf } from './scope.js';
import type { StoredRecord, VectorRecord, VectorStore } from './vector-store.js';

/**
 * How a re-embedding writes: `in-place` replaces each memory's vector where it is (the new
 * embedder makes vectors of the collection's length; reads never stop); `staged` embeds into a
 * staging collection first, then recreates the collection with the new length and copies the
 * memories back (reads miss memories while they are copied back).
 */
export type ReembedMode = 'in-place' | 'staged';

/**
 * `embed`: new vectors are computed; staged only: `prune` leaves out memories deleted meanwhile,
 * `copy` copies the staged memories back.
 */
export type ReembedPhase = 'embed' | 'prune' | 'copy';

/** The progress of a re-embedding, saved after every batch so that it can be resumed. */
export interface ReembedCheckpoint {
  /** `<provider>:<model>` of the new embedder. */
  embedder: string;
  /** Length of the new embedder's vectors. */
  dimensions: number;
  /** The name that configures the new embedder again (`local`, `hash`), when known. */
  name?: string;
  /** How the memories are written. */
  mode: ReembedMode;
  /** The phase under way. */
  phase: ReembedPhase;
  /** Where the current phase continues; absent at its start. */
  cursor?: string;
  /** Memories the current phase has done. */
  processed: number;
  /** When the re-embedding started, ISO 8601. */
  startedAt: string;
}

/**
 * Where a re-embedding keeps its progress, and what it does once complete. The embedded store's
 * data directory keeps it in `embedders.json` (which also stops writes with the old embedder
 * while it runs); without one, progress lives in process memory.
 */
export interface ReembedState {
  /** The re-embedding under way for the collection, if any. */
  load(): ReembedCheckpoint | undefined;
  /** Saves progress. */
  save(checkpoint: ReembedCheckpoint): void;
  /** Forgets the progress and records `embedder` as the one that wrote the collection. */
  finish(embedder: Embedder, name: string | undefined): void;
}

/** Progress reported after every batch. */
export interface ReembedProgress {
  /** The phase under way. */
  phase: ReembedPhase;
  /** Memories done in this phase, including those done before a resume. */
  processed: number;
  /** Memories in the collection (for `copy`: in the staging collection). */
  total: number;
  /** Whether this run continues an interrupted one. */
  resumed: boolean;
}

/** Options of `Memory.reembed`. */
export interface ReembedOptions {
  /** The embedder that computes the new vectors. */
  embedder: Embedder;
  /** The name that configures it again (`local`, `local:<model>`, `openai:<model>`), recorded. */
  embedderName?: string;
  /** Memories per batch (one list page, one embedding batch, one write). Default 256. */
  batchSize?: number;
  /** Receives progress after every batch. */
  onProgress?: (progress: ReembedProgress) => void;
  /** Stops after the batch under way; the run can be resumed by calling `reembed` again. */
  abortSignal?: AbortSignal;
}

/** What `Memory.reembed` did. */
export interface ReembedResult {
  /** Memories that got a new vector. */
  reembedded: number;
  /** `<provider>:<model>` of the embedder the collection is recorded with now. */
  embedder: string;
  /** Length of its vectors. */
  dimensions: number;
  /** How the memories were written. */
  mode: ReembedMode;
  /** Whether this run continued an interrupted one. */
  resumed: boolean;
}

/** Progress kept in process memory: a crash loses it, an aborted run can still be resumed. */
export function createInMemoryReembedState(): ReembedState {
  let saved: ReembedCheckpoint | undefined;
  return {
    load: () => (saved ? { ...saved } : undefined),
    save: (checkpoint) => {
      saved = { ...checkpoint };
    },
    finish: () => {
      saved = undefined;
    },
  };
}

/** The collection a staged re-embedding writes to before copying back. */
export function stagingCollection(collection: string): string {
  return `${collection}_reembed`;
}

interface Run {
  engine: MemoryEngine;
  embedder: Embedder;
  state: ReembedState;
  checkpoint: ReembedCheckpoint;
  batchSize: number;
  resumed: boolean;
  options: ReembedOptions;
}

const signalOf = (abortSignal: AbortSignal | undefined) => (abortSignal ? { abortSignal } : {});

function embedDocuments(run: Run, texts: string[]): Promise<number[][]> {
  return embedInBatches(run.embedder, texts, {
    purpose: 'document',
    abortSignal: run.options.abortSignal,
  });
}

async function collectionFits(store: VectorStore, collection: string, dimensions: number) {
  try {
    await store.ensureCollection({ collection, dimensions });
    return true;
  } catch (error) {
    if (DimensionMismatchError.isInstance(error)) return false;
    throw error;
  }
}

/**
 * Walks a collection page by page from the checkpoint's cursor, handing each page to `work` and
 * saving the checkpoint after it, so that a crash redoes at most one page.
 */
async function eachPage(
  run: Run,
  collection: string,
  options: { includeVectors: boolean },
  work: (records: StoredRecord[]) => Promise<number>,
): Promise<void> {
  const { engine, state, checkpoint } = run;
  const total = await engine.store.count({ collection, ...signalOf(run.options.abortSignal) });
  do {
    throwIfAborted(run.options.abortSignal);
    const page = await engine.store.list({
      collection,
      limit: run.batchSize,
      includeVectors: options.includeVectors,
      ...(checkpoint.cursor ? { cursor: checkpoint.cursor } : {}),
      ...signalOf(run.options.abortSignal),
    });
    checkpoint.processed += page.records.length === 0 ? 0 : await work(page.records);
    if (page.nextCursor) checkpoint.cursor = page.nextCursor;
    else delete checkpoint.cursor;
    state.save(checkpoint);
    run.options.onProgress?.({
      phase: checkpoint.phase,
      processed: checkpoint.processed,
      total: Math.max(total, checkpoint.processed),
      resumed: run.resumed,
    });
  } while (checkpoint.cursor);
}

function withVector(record: StoredRecord, vector: number[]): VectorRecord {
  return withKeywordText({ ...record, vector });
}

/** Replaces the vectors of one page where they are, holding the page's scope locks. */
async function reembedInPlace(run: Run, records: StoredRecord[]): Promise<number> {
  const { engine } = run;
  const vectors = await embedDocuments(
    run,
    records.map((record) => record.text),
  );
  return engine.writer.inScopes(
    records.map(scopeOf),
    async () => {
      // Read again under the locks: a memory deleted meanwhile stays deleted, and one whose text
      // changed gets the vector of its new text.
      const current = await engine.store.get({
        collection: engine.collection,
        ids: records.map((record) => record.id),
        ...signalOf(run.options.abortSignal),
      });
      const embedded = new Map(records.map((record) => [record.id, record]));
      const vectorOf = new Map(records.map((record, index) => [record.id, vectors[index]!]));
      const changed = current.filter((record) => embedded.get(record.id)?.text !== record.text);
      const fresh =
        changed.length === 0
          ? []
          : await embedDocuments(
              run,
              changed.map((record) => record.text),
            );
      for (const [index, record] of changed.entries()) vectorOf.set(record.id, fresh[index]!);
      const upserts = current.map((record) => withVector(record, vectorOf.get(record.id)!));
      if (upserts.length > 0) {
        await engine.store.upsert({
          collection: engine.collection,
          records: upserts,
          ...signalOf(run.options.abortSignal),
        });
      }
      return upserts.length;
    },
    run.options.abortSignal,
  );
}

/** Embeds one page into the staging collection. */
async function embedIntoStaging(run: Run, records: StoredRecord[]): Promise<number> {
  const vectors = await embedDocuments(
    run,
    records.map((record) => record.text),
  );
  await run.engine.store.upsert({
    collection: stagingCollection(run.engine.collection),
    records: records.map((record, index) => withVector(record, vectors[index]!)),
    ...signalOf(run.options.abortSignal),
  });
  return records.length;
}

async function dropIfPresent(store: VectorStore, collection: string) {
  try {
    await store.dropCollection({ collection });
  } catch (error) {
    if (!NotFoundError.isInstance(error)) throw error;
  }
}

/** Moves a staged re-embedding to its next phase, from that phase's start. */
function nextPhase(run: Run, phase: ReembedPhase): void {
  Object.assign(run.checkpoint, { phase, processed: 0 });
  delete run.checkpoint.cursor;
  run.state.save(run.checkpoint);
}

/**
 * A staged re-embedding: embeds into the staging collection, leaves out memories deleted
 * meanwhile, recreates the collection with the new length and copies the staged memories back.
 */
async function reembedStaged(run: Run): Promise<void> {
  const { engine, checkpoint } = run;
  const { store, collection } = engine;
  const staging = stagingCollection(collection);
  if (checkpoint.phase === 'embed') {
    await store.ensureCollection({ collection: staging, dimensions: checkpoint.dimensions });
    await eachPage(run, collection, { includeVectors: false }, (records) =>
      embedIntoStaging(run, records),
    );
    nextPhase(run, 'prune');
  }
  if (checkpoint.phase === 'prune') {
    await eachPage(run, staging, { includeVectors: false }, async (records) => {
      const ids = records.map((record) => record.id);
      const present = new Set((await store.get({ collection, ids })).map((record) => record.id));
      const gone = ids.filter((id) => !present.has(id));
      if (gone.length > 0) await store.delete({ collection: staging, ids: gone });
      return 0;
    });
    nextPhase(run, 'copy');
  }
  if (checkpoint.processed === 0 && !checkpoint.cursor) await dropIfPresent(store, collection);
  await store.ensureCollection({ collection, dimensions: checkpoint.dimensions });
  await eachPage(run, staging, { includeVectors: true }, async (records) => {
    await store.upsert({
      collection,
      records: records.map((record) => withVector(record, record.vector!)),
      ...signalOf(run.options.abortSignal),
    });
    return records.length;
  });
  await dropIfPresent(store, staging);
}

function startOrResume(
  engine: MemoryEngine,
  options: ReembedOptions,
  state: ReembedState,
  mode: () => Promise<ReembedMode>,
):
  | Promise<{ checkpoint: ReembedCheckpoint; resumed: boolean }>
  | {
      checkpoint: ReembedCheckpoint;
      resumed: boolean;
    } {
  const identity = embedderIdentity(options.embedder);
  const saved = state.load();
  if (saved) {
    if (saved.embedder !== identity || saved.dimensions !== options.embedder.dimensions) {
      throw new InvalidArgumentError({
        source: 'core',
        message: `Collection "${engine.collection}" is being re-embedded with ${saved.embedder} (${saved.processed} memories done); finish that first by re-embedding with the same embedder${saved.name ? ` (${saved.name})` : ''}, then re-embed again with ${identity}.`,
      });
    }
    return { checkpoint: saved, resumed: true };
  }
  return mode().then((chosen) => {
    const checkpoint: ReembedCheckpoint = {
      embedder: identity,
      dimensions: options.embedder.dimensions,
      ...(options.embedderName ? { name: options.embedderName } : {}),
      mode: chosen,
      phase: 'embed',
      processed: 0,
      startedAt: engine.now().toISOString(),
    };
    state.save(checkpoint);
    return { checkpoint, resumed: false };
  });
}

/**
 * Computes every memory's vector of the engine's collection again with a new embedder, in
 * batches, saving progress after each one; a run that stopped (crash, abort) continues where it
 * left off when called again with the same embedder. Once complete, the state records the new
 * embedder as the collection's.
 */
export async function reembedMemories(
  engine: MemoryEngine,
  state: ReembedState,
  options: ReembedOptions,
): Promise<ReembedResult> {
  const batchSize = options.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    throw new InvalidArgumentError({
      source: 'core',
      message: `batchSize must be an integer from 1 to 10000, got ${String(batchSize)}.`,
    });
  }
  const { store, collection } = engine;
  const { checkpoint, resumed } = await startOrResume(engine, options, state, async () =>
    (await collectionFits(store, collection, options.embedder.dimensions)) ? 'in-place' : 'staged',
  );
  const run: Run = {
    engine,
    embedder: options.embedder,
    state,
    checkpoint,
    batchSize,
    resumed,
    options,
  };
  if (checkpoint.mode === 'in-place') {
    await eachPage(run, collection, { includeVectors: false }, (records) =>
      reembedInPlace(run, records),
    );
  } else {
    await reembedStaged(run);
  }
  const reembedded = checkpoint.processed;
  state.finish(options.embedder, options.embedderName ?? checkpoint.name);
  return {
    reembedded,
    embedder: checkpoint.embedder,
    dimensions: checkpoint.dimensions,
    mode: checkpoint.mode,
    resumed,
  };
}
