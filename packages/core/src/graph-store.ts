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
  /** Scope the node belongs to; every query filters by it. */
  userId?: string;
  agentId?: string;
  runId?: string;
  /** How many times the entity was mentioned. */
  mentions: number;
  metadata?: Record<string, JsonValue>;
  createdAt: string;
  updatedAt: string;
}

/** A directed edge: `source -[relationship]-> destination`. */
export interface GraphRelation {
  id: string;
  sourceId: string;
  relationship: string;
  destinationId: string;
  userId?: string;
  agentId?: string;
  runId?: string;
  mentions: number;
  createdAt: string;
  updatedAt: string;
  /** When the relation was invalidated (soft-deleted); null while valid. */
  invalidatedAt: string | null;
}

/** A relation with its endpoints' names, as returned to callers. */
export interface GraphTriple {
  relation: GraphRelation;
  source: GraphEntity;
  destination: GraphEntity;
}

/** Capabilities of a graph store. */
export interface GraphStoreCapabilities {
  /** Entity similarity lookup runs on a native vector index (otherwise a scan within scope). */
  nativeVectorIndex: boolean;
}

/**
 * Storage primitives of graph memory. The algorithm (extraction, merging, invalidation) lives
 * once in core. Every call that takes a scope requires a non-empty one (InvalidArgumentError
 * otherwise) and never reads or touches another scope's nodes and edges. `findSimilarEntities`
 * scores are cosine similarities, best first; `neighbours` and `list` leave out invalidated
 * relations (unless `includeInvalidated`).
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
  /** Entities of the scope most similar to the embedding, best first, with similarity scores. */
  findSimilarEntities(
    options: CallOptions & { scope: Scope; embedding: number[]; topK: number; threshold?: number },
  ): Promise<{ entity: GraphEntity; score: number }[]>;
  /** Valid relations touching the given entities (both directions), within the scope. */
  neighbours(
    options: CallOptions & { scope: Scope; entityIds: string[]; limit: number },
  ): Promise<GraphTriple[]>;
  /** Marks relations invalid at the given time; they stay for history but leave answers. */
  invalidateRelations(
    options: CallOptions & { scope: Scope; relationIds: string[]; at: string },
  ): Promise<void>;
  /** Valid relations of the scope, paginated. */
  list(
    options: CallOptions & {
      scope: Scope;
      limit: number;
      cursor?: string;
      includeInvalidated?: boolean;
    },
  ): Promise<{ triples: GraphTriple[]; nextCursor?: string }>;
  /** Deletes every entity and relation of the scope, and nothing of any other scope. */
  deleteScope(options: CallOptions & { scope: Scope }): Promise<{ deleted: number }>;
  /** Releases connections. Later calls throw `ClosedError`. Idempotent. */
  close(): Promise<void>;
  /** Same as `close()`. */
  [Symbol.asyncDispose](): Promise<void>;
}
