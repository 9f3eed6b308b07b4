import {
  DimensionMismatchError,
  decodeCursor,
  encodeCursor,
  type GraphRelation,
  type GraphStore,
  type GraphTriple,
  InvalidArgumentError,
  normalizeScope,
  type Scope,
} from '@engram/core';

type OptionsOf<Method extends keyof GraphStore> = GraphStore[Method] extends (
  options: infer Options,
) => unknown
  ? Options
  : never;

/** A normalized scope; throws `InvalidArgumentError` when it names no user, agent or run. */
export function requiredGraphScope(scope: Scope, source: string): Scope {
  const normalized = normalizeScope(scope, { source });
  if (Object.keys(normalized).length === 0) {
    throw new InvalidArgumentError({
      source,
      message: 'A non-empty scope is required (userId, agentId or runId).',
    });
  }
  return normalized;
}

/** A count argument (`topK`, `limit`, `dimensions`): an integer, `Infinity` meaning no limit. */
export function graphCount(
  value: number,
  name: string,
  options: { allowZero: boolean; source: string },
): number {
  if (value === Number.POSITIVE_INFINITY) return Number.MAX_SAFE_INTEGER;
  const least = options.allowZero ? 0 : 1;
  if (!Number.isInteger(value) || value < least) {
    throw new InvalidArgumentError({
      source: options.source,
      message: `${name} must be an integer of at least ${least}, got ${value}.`,
    });
  }
  return value;
}

/**
 * Throws `DimensionMismatchError` when the embedding is not `expected` numbers long (no check
 * while the graph's length is unknown) and `InvalidArgumentError` when a value is not finite.
 */
export function checkGraphEmbedding(
  embedding: readonly number[],
  expected: number | undefined,
  options: { what: string; source: string },
): void {
  if (expected !== undefined && embedding.length !== expected) {
    throw new DimensionMismatchError({
      source: options.source,
      message: `${options.what} has ${embedding.length} dimensions; the graph stores ${expected}.`,
      expected,
      actual: embedding.length,
    });
  }
  if (!embedding.every((value) => Number.isFinite(value))) {
    throw new InvalidArgumentError({
      source: options.source,
      message: `${options.what} holds a value that is not finite.`,
    });
  }
}

/** The checked arguments of `findSimilarEntities`. */
export function similarEntitiesArguments(
  options: OptionsOf<'findSimilarEntities'>,
  source: string,
): { scope: Scope; topK: number } {
  return {
    scope: requiredGraphScope(options.scope, source),
    topK: graphCount(options.topK, 'topK', { allowZero: true, source }),
  };
}

/** The checked arguments of `neighbours`, entity ids without repeats. */
export function neighboursArguments(
  options: OptionsOf<'neighbours'>,
  source: string,
): { scope: Scope; entityIds: string[]; limit: number } {
  return {
    scope: requiredGraphScope(options.scope, source),
    limit: graphCount(options.limit, 'limit', { allowZero: true, source }),
    entityIds: [...new Set(options.entityIds)],
  };
}

/** The checked arguments of `invalidateRelations`, relation ids without repeats. */
export function invalidateRelationsArguments(
  options: OptionsOf<'invalidateRelations'>,
  source: string,
): { scope: Scope; relationIds: string[]; at: string } {
  return {
    scope: requiredGraphScope(options.scope, source),
    relationIds: [...new Set(options.relationIds)],
    at: options.at,
  };
}

/** The checked arguments of `list`, the cursor decoded into the id the page starts after. */
export function listArguments(
  options: OptionsOf<'list'>,
  source: string,
): { scope: Scope; limit: number; after: string | undefined; includeInvalidated: boolean } {
  return {
    scope: requiredGraphScope(options.scope, source),
    limit: graphCount(options.limit, 'limit', { allowZero: false, source }),
    after: decodeCursor(options.cursor, source),
    includeInvalidated: options.includeInvalidated ?? false,
  };
}

/** A page of `list` from up to `limit + 1` triples, with a cursor when more follow. */
export function triplePage(
  triples: readonly GraphTriple[],
  limit: number,
): { triples: GraphTriple[]; nextCursor?: string } {
  const page = triples.slice(0, limit);
  const last = page.at(-1);
  return {
    triples: page,
    ...(triples.length > limit && last ? { nextCursor: encodeCursor(last.relation.id) } : {}),
  };
}

/** The last item given for each id, in first-seen order. */
export function latestById<Item extends { id: string }>(items: readonly Item[]): Item[] {
  return [...new Map(items.map((item) => [item.id, item])).values()];
}

/** The error of a relation written before one of its entities. */
export function missingEndpointError(
  relation: GraphRelation,
  source: string,
): InvalidArgumentError {
  return new InvalidArgumentError({
    source,
    message: `Relation ${relation.id} joins ${relation.sourceId} and ${relation.destinationId}, and at least one of them is not stored; upsert entities before their relations.`,
  });
}

/** Runs tasks one after another, each after every earlier one has settled. */
export interface SerialQueue {
  /** Queues `work`; a failure rejects its own promise only. */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** Settles once every queued task has. */
  idle(): Promise<void>;
}

/** Creates a {@link SerialQueue}, for a session that takes one statement at a time. */
export function createSerialQueue(): SerialQueue {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    run(work) {
      const result = tail.then(work);
      tail = result.catch(() => {});
      return result;
    },
    async idle() {
      await tail;
    },
  };
}
