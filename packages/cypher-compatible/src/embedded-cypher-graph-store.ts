import {
  checkNamespace,
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

/** Checks of a graph store's call arguments, bound to the adapter's name for its errors. */
export interface GraphArguments {
  /** A normalized scope; throws `InvalidArgumentError` when it names no user, agent or run. */
  scope(scope: Scope): Scope;
  /** The namespace; throws `InvalidArgumentError` when it is empty or blank. */
  namespace(namespace: string): string;
  /** The checked namespace and scope of `deleteScope` (and of any call that has both). */
  place(options: { namespace: string; scope: Scope }): { namespace: string; scope: Scope };
  /** Throws `InvalidArgumentError` when an entity or relation to upsert has no namespace. */
  namespaces(items: readonly { id: string; namespace: string }[]): void;
  /** A count (`topK`, `limit`, `dimensions`): an integer, `Infinity` meaning no limit. */
  count(value: number, name: string, options: { allowZero: boolean }): number;
  /**
   * Throws `DimensionMismatchError` when the embedding is not `expected` numbers long (no check
   * while the graph's length is unknown) and `InvalidArgumentError` when a value is not finite.
   */
  embedding(embedding: readonly number[], expected: number | undefined, what: string): void;
  /** The checked arguments of `findSimilarEntities`. */
  similarEntities(options: OptionsOf<'findSimilarEntities'>): {
    namespace: string;
    scope: Scope;
    topK: number;
  };
  /** The checked arguments of `neighbours`, entity ids without repeats. */
  neighbours(options: OptionsOf<'neighbours'>): {
    namespace: string;
    scope: Scope;
    entityIds: string[];
    limit: number;
  };
  /** The checked arguments of `invalidateRelations`, relation ids without repeats. */
  invalidateRelations(options: OptionsOf<'invalidateRelations'>): {
    namespace: string;
    scope: Scope;
    relationIds: string[];
    at: string;
  };
  /** The checked arguments of `list`, the cursor decoded into the id the page starts after. */
  list(options: OptionsOf<'list'>): {
    namespace: string;
    scope: Scope;
    limit: number;
    after: string | undefined;
    includeInvalidated: boolean;
  };
}

/** Creates the {@link GraphArguments} checks of the adapter `source`. */
export function graphArguments(source: string): GraphArguments {
  function scope(value: Scope): Scope {
    const normalized = normalizeScope(value, { source });
    if (Object.keys(normalized).length === 0) {
      throw new InvalidArgumentError({
        source,
        message: 'A non-empty scope is required (userId, agentId or runId).',
      });
    }
    return normalized;
  }

  function count(value: number, name: string, { allowZero }: { allowZero: boolean }): number {
    if (value === Number.POSITIVE_INFINITY) return Number.MAX_SAFE_INTEGER;
    const least = allowZero ? 0 : 1;
    if (!Number.isInteger(value) || value < least) {
      throw new InvalidArgumentError({
        source,
        message: `${name} must be an integer of at least ${least}, got ${value}.`,
      });
    }
    return value;
  }

  const namespace = (value: string) => checkNamespace(value, { source });
  const place = (options: { namespace: string; scope: Scope }) => ({
    namespace: namespace(options.namespace),
    scope: scope(options.scope),
  });

  return {
    scope,
    namespace,
    place,
    namespaces(items) {
      for (const item of items) namespace(item.namespace);
    },
    count,
    embedding(embedding, expected, what) {
      if (expected !== undefined && embedding.length !== expected) {
        throw new DimensionMismatchError({
          source,
          message: `${what} has ${embedding.length} dimensions; the graph stores ${expected}.`,
          expected,
          actual: embedding.length,
        });
      }
      if (!embedding.every((value) => Number.isFinite(value))) {
        throw new InvalidArgumentError({
          source,
          message: `${what} holds a value that is not finite.`,
        });
      }
    },
    similarEntities: (options) => ({
      ...place(options),
      topK: count(options.topK, 'topK', { allowZero: true }),
    }),
    neighbours: (options) => ({
      ...place(options),
      limit: count(options.limit, 'limit', { allowZero: true }),
      entityIds: [...new Set(options.entityIds)],
    }),
    invalidateRelations: (options) => ({
      ...place(options),
      relationIds: [...new Set(options.relationIds)],
      at: options.at,
    }),
    list: (options) => ({
      ...place(options),
      limit: count(options.limit, 'limit', { allowZero: false }),
      after: decodeCursor(options.cursor, source),
      includeInvalidated: options.includeInvalidated ?? false,
    }),
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
