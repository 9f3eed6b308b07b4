import type { MemoryEngine } from './memory-engine.js';
import { type Scope, scopeKey, scopeOf } from './scope.js';
import type { JsonValue, StoredRecord } from './vector-store.js';

/** Options of {@link Memory.mergeDuplicates}: one page of the collection per call. */
export interface MergeDuplicatesOptions {
  /**
   * Vector similarity (0 to 1) from which two memories of one scope count as near duplicates.
   * Memories with the same text always do. Default 0.95.
   */
  threshold?: number;
  /** Memories examined in this call. Default 200. */
  limit?: number;
  /** Where to go on: the `nextCursor` of the previous call. */
  cursor?: string;
  /** Only report the pairs; change nothing. */
  dryRun?: boolean;
  /** Cancels the call. */
  abortSignal?: AbortSignal;
}

/** Two memories of one scope found to say the same thing. */
export interface DuplicatePair {
  /** The memory kept: the older of the two. */
  keptId: string;
  /** The memory merged into it and deleted. */
  removedId: string;
  /** Vector similarity of the two. */
  similarity: number;
  /** Whether the texts are the same (after normalization). */
  exact: boolean;
  /** Text of the memory kept. */
  keptText: string;
  /** Text of the memory merged into it. */
  removedText: string;
  /** Their scope. */
  scope: Scope;
}

/** Result of one {@link Memory.mergeDuplicates} call. */
export interface MergeDuplicatesResult {
  /** Memories examined. */
  scanned: number;
  /** Pairs found (and merged, unless `dryRun`). */
  pairs: DuplicatePair[];
  /** Present when more memories follow: pass it back as `cursor`. */
  nextCursor?: string;
  /** Memories in the collection when the pass began: given by the first call (no `cursor`). */
  total?: number;
}

/** Neighbours examined per memory. */
const neighbours = 10;

/** Whether `candidate` was stored after `record` (ties broken by id), so each pair is seen once. */
function storedAfter(candidate: StoredRecord, record: StoredRecord): boolean {
  if (candidate.createdAt !== record.createdAt) return candidate.createdAt > record.createdAt;
  return candidate.id > record.id;
}

/**
 * One page of the duplicate-merge pass: for each memory, its nearest neighbours of exactly the
 * same scope (never another scope, nor a narrower or wider one) whose text is the same or whose
 * similarity reaches the threshold; each younger duplicate is merged into the older memory
 * (metadata merged, the older one's text kept) and deleted, under the scope's lock and through
 * the writer, so the history records an UPDATE (when the metadata changed) and a DELETE.
 */
export async function mergeDuplicatePage(
  engine: MemoryEngine,
  options: MergeDuplicatesOptions & { threshold: number; limit: number },
): Promise<MergeDuplicatesResult> {
  const { abortSignal, threshold, dryRun = false } = options;
  const signal = abortSignal ? { abortSignal } : {};
  const page = await engine.store.list({
    collection: engine.collection,
    limit: options.limit,
    includeVectors: true,
    ...(options.cursor ? { cursor: options.cursor } : {}),
    ...signal,
  });
  const total = options.cursor
    ? undefined
    : await engine.store.count({ collection: engine.collection, ...signal });
  const removed = new Set<string>();
  const pairs: DuplicatePair[] = [];
  for (const record of page.records) {
    if (removed.has(record.id) || !record.vector) continue;
    const scope = scopeOf(record);
    const key = scopeKey(scope);
    const matches = await engine.store.query({
      collection: engine.collection,
      vector: record.vector,
      topK: neighbours,
      scope,
      ...signal,
    });
    const found = matches.filter(
      ({ record: candidate, score }) =>
        candidate.id !== record.id &&
        !removed.has(candidate.id) &&
        scopeKey(scopeOf(candidate)) === key &&
        (candidate.hash === record.hash || score >= threshold) &&
        storedAfter(candidate, record),
    );
    if (found.length === 0) continue;
    const merged = dryRun
      ? found.map(({ record: candidate, score }) => ({ candidate, score }))
      : await mergeInto(engine, record, found, abortSignal);
    for (const { candidate, score } of merged) {
      removed.add(candidate.id);
      pairs.push({
        keptId: record.id,
        removedId: candidate.id,
        similarity: score,
        exact: candidate.hash === record.hash,
        keptText: record.text,
        removedText: candidate.text,
        scope,
      });
    }
  }
  return {
    scanned: page.records.length,
    pairs,
    ...(total === undefined ? {} : { total }),
    ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
  };
}

/** Merges the duplicates into `record` under the scope's lock; answers those still there. */
async function mergeInto(
  engine: MemoryEngine,
  record: StoredRecord,
  found: Array<{ record: StoredRecord; score: number }>,
  abortSignal: AbortSignal | undefined,
): Promise<Array<{ candidate: StoredRecord; score: number }>> {
  const signal = abortSignal ? { abortSignal } : {};
  return engine.writer.inScope(
    record,
    async () => {
      // Read again under the lock: an add or another pass may have changed them meanwhile.
      const current = await engine.store.get({
        collection: engine.collection,
        ids: [record.id, ...found.map((match) => match.record.id)],
        includeVectors: true,
        ...signal,
      });
      const byId = new Map(current.map((stored) => [stored.id, stored]));
      const kept = byId.get(record.id);
      if (!kept?.vector) return [];
      const still = found.flatMap((match) => {
        const candidate = byId.get(match.record.id);
        return candidate ? [{ candidate, score: match.score }] : [];
      });
      if (still.length === 0) return [];
      const changes = engine.writer.changes();
      let metadata: Record<string, JsonValue> = kept.metadata;
      for (const { candidate } of still) metadata = { ...candidate.metadata, ...metadata };
      if (JSON.stringify(metadata) !== JSON.stringify(kept.metadata)) {
        changes.update(
          {
            ...kept,
            vector: kept.vector,
            metadata,
            updatedAt: engine.now().toISOString(),
          },
          kept.text,
        );
      }
      for (const { candidate } of still) changes.delete(candidate);
      await engine.writer.write(changes, abortSignal);
      return still;
    },
    abortSignal,
  );
}
