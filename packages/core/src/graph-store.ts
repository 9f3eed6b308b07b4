import type { Scope } from './scope.js';
import type { CallOptions, JsonValue } from './vector-store.js';

/** A node of the knowledge graph. */
export interface GraphEntity {
  /** Unique id. */
  id: string;
  /** Normalized name, e.g. `alice`. */
  name: string;
  /** Kind of thing, e.g. `person`, `company`. */
  type: string;
  /** Embedding of the name, used to merge "Alice" and "alice smith". */
  embedding: number[];
  /**
   * The namespace the node belongs to: the `Memory`'s collection (`p_<project>` in the server).
   * Every query filters by it before the scope, so equal scope ids never meet across namespaces.
   */
  namespace: string;
  /** Scope the node belongs to: the user. Every query filters by the scope fields given. */
  userId?: string;
  /** Scope the node belongs to: the agent. */
  agentId?: string;
  /** Scope the node belongs to: the run. */
  runId?: string;
  /** How many times the entity was mentioned. */
  mentions: number;
  /** Free-form JSON about the entity. */
  metadata?: Record<string, JsonValue>;
  /** ISO-8601 creation time. */
  createdAt: string;
  /** ISO-8601 time of the last change. */
  updatedAt: string;
}

/** A directed edge: `source -[relationship]-> destination`. */
export interface GraphRelation {
  /** Unique id. */
  id: string;
  /** Id of the entity the relation starts at. */
  sourceId: string;
  /** Short snake_case verb phrase, e.g. `works_at`. */
  relationship: string;
  /** Id of the entity the relation points to. */
  destinationId: string;
  /** The namespace the edge belongs to, the same as its endpoints'. */
  namespace: string;
  /** Scope the edge belongs to: the user. */
  userId?: string;
  /** Scope the edge belongs to: the agent. */
  agentId?: string;
  /** Scope the edge belongs to: the run. */
  runId?: string;
  /** How many times the relation was mentioned. */
  mentions: number;
  /** ISO-8601 creation time. */
  createdAt: string;
  /** ISO-8601 time of the last change. */
  updatedAt: string;
  /** When the relation was invalidated (soft-deleted); null while valid. */
  invalidatedAt: string | null;
}

/** A relation with its endpoints' names, as returned to callers. */
export interface GraphTriple {
  /** The edge. */
  relation: GraphRelation;
  /** The entity the edge starts at. */
  source: GraphEntity;
  /** The entity the edge points to. */
  destination: GraphEntity;
}

/** Capabilities of a graph store. */
export interface GraphStoreCapabilities {
  /** Entity similarity lookup runs on a native vector index (otherwise a scan within scope). */
  nativeVectorIndex: boolean;
}

/**
 * Storage primitives of graph memory. The algorithm (extraction, merging, invalidation) lives
 * once in core.
 *
 * Every call that reads or deletes takes a `namespace` (the `Memory`'s collection; one per
 * project in the server) and a scope. Both are required: an empty namespace or scope is refused
 * with `InvalidArgumentError`. A call never reads or touches another namespace's nodes and
 * edges, even when their scope ids are the same (user `alice` of one project is not user
 * `alice` of another), and never another scope's within its namespace. Entities and relations
 * carry their namespace; upserting one with an empty namespace is refused the same way. Ids are
 * unique across namespaces.
 *
 * `findSimilarEntities` scores are cosine similarities, best first; `neighbours` and `list`
 * leave out invalidated relations (unless `includeInvalidated`).
 */
export interface GraphStore {
  readonly specificationVersion: 'v1';
  readonly provider: string;
  readonly capabilities: GraphStoreCapabilities;
  /** Prepares indexes for embeddings of the given length; idempotent. */
  ensureSchema(options: CallOptions & { dimensions: number }): Promise<void>;
  /** Inserts or replaces entities by id. */
  upsertEntities(options: CallOptions & { entities: GraphEntity[] }): Promise<void>;
  /** Inserts or replaces relations by id. */
  upsertRelations(options: CallOptions & { relations: GraphRelation[] }): Promise<void>;
  /** Entities of the namespace's scope most similar to the embedding, best first, with scores. */
  findSimilarEntities(
    options: CallOptions & {
      namespace: string;
      scope: Scope;
      embedding: number[];
      topK: number;
      threshold?: number;
    },
  ): Promise<{ entity: GraphEntity; score: number }[]>;
  /** Valid relations of the namespace's scope touching the given entities (both directions). */
  neighbours(
    options: CallOptions & { namespace: string; scope: Scope; entityIds: string[]; limit: number },
  ): Promise<GraphTriple[]>;
  /**
   * Marks the namespace's scope's relations with these ids invalid at the given time; they stay
   * for history but leave answers. Ids of other namespaces or scopes are ignored.
   */
  invalidateRelations(
    options: CallOptions & {
      namespace: string;
      scope: Scope;
      relationIds: string[];
      at: string;
    },
  ): Promise<void>;
  /** Valid relations of the namespace's scope, paginated. */
  list(
    options: CallOptions & {
      namespace: string;
      scope: Scope;
      limit: number;
      cursor?: string;
      includeInvalidated?: boolean;
    },
  ): Promise<{ triples: GraphTriple[]; nextCursor?: string }>;
  /**
   * Deletes every entity and relation of the scope in the namespace, and nothing of any other
   * scope or namespace; answers how many entities and relations it deleted.
   */
  deleteScope(
    options: CallOptions & { namespace: string; scope: Scope },
  ): Promise<{ deleted: number }>;
  /** Releases connections. Later calls throw `ClosedError`. Idempotent. */
  close(): Promise<void>;
  /** Same as `close()`. */
  [Symbol.asyncDispose](): Promise<void>;
}
