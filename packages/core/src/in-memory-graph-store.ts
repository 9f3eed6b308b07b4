import { ClosedError, InvalidArgumentError, throwIfAborted } from './errors.js';
import type { GraphEntity, GraphRelation, GraphStore, GraphTriple } from './graph-store.js';
import { checkNamespace } from './namespace.js';
import { decodeCursor, encodeCursor } from './pagination.js';
import { matchesScope, normalizeScope, type Scope } from './scope.js';
import { cosineSimilarity } from './similarity.js';
import type { CallOptions } from './vector-store.js';

const source = 'memory-graph';

/**
 * The reference graph store: entities and relations in process memory, similarity by exact
 * cosine, every read and delete within one namespace and scope. The semantics every graph
 * adapter must match.
 */
export function createInMemoryGraphStore(): GraphStore {
  const entities = new Map<string, GraphEntity>();
  const relations = new Map<string, GraphRelation>();
  let closed = false;

  function open(options: CallOptions): void {
    if (closed)
      throw new ClosedError({ source, message: 'The graph store was closed; create a new one.' });
    throwIfAborted(options.abortSignal, source);
  }

  /** A predicate "in the namespace and the scope", after checking both. */
  function placeOf(options: {
    namespace: string;
    scope: Scope;
  }): (item: { namespace: string } & Scope) => boolean {
    const namespace = checkNamespace(options.namespace, { source });
    const scope = normalizeScope(options.scope, { source });
    if (Object.keys(scope).length === 0) {
      throw new InvalidArgumentError({ source, message: 'A non-empty scope is required.' });
    }
    return (item) => item.namespace === namespace && matchesScope(item, scope);
  }

  function triple(relation: GraphRelation): GraphTriple | undefined {
    const sourceEntity = entities.get(relation.sourceId);
    const destination = entities.get(relation.destinationId);
    if (!sourceEntity || !destination) return undefined;
    return {
      relation: structuredClone(relation),
      source: structuredClone(sourceEntity),
      destination: structuredClone(destination),
    };
  }

  return {
    specificationVersion: 'v1',
    provider: 'memory',
    capabilities: { nativeVectorIndex: false },

    async ensureSchema(options) {
      open(options);
    },

    async upsertEntities(options) {
      open(options);
      for (const entity of options.entities) checkNamespace(entity.namespace, { source });
      for (const entity of options.entities) entities.set(entity.id, structuredClone(entity));
    },

    async upsertRelations(options) {
      open(options);
      for (const relation of options.relations) checkNamespace(relation.namespace, { source });
      for (const relation of options.relations)
        relations.set(relation.id, structuredClone(relation));
    },

    async findSimilarEntities(options) {
      open(options);
      const inPlace = placeOf(options);
      return [...entities.values()]
        .filter(inPlace)
        .map((entity) => ({ entity, score: cosineSimilarity(options.embedding, entity.embedding) }))
        .filter((match) => options.threshold === undefined || match.score >= options.threshold)
        .sort(
          (left, right) => right.score - left.score || (left.entity.id < right.entity.id ? -1 : 1),
        )
        .slice(0, options.topK)
        .map((match) => ({ entity: structuredClone(match.entity), score: match.score }));
    },

    async neighbours(options) {
      open(options);
      const inPlace = placeOf(options);
      const wanted = new Set(options.entityIds);
      const result: GraphTriple[] = [];
      for (const relation of [...relations.values()].sort((a, b) => (a.id < b.id ? -1 : 1))) {
        if (relation.invalidatedAt !== null || !inPlace(relation)) continue;
        if (!wanted.has(relation.sourceId) && !wanted.has(relation.destinationId)) continue;
        const found = triple(relation);
        if (found) result.push(found);
        if (result.length >= options.limit) break;
      }
      return result;
    },

    async invalidateRelations(options) {
      open(options);
      const inPlace = placeOf(options);
      for (const id of options.relationIds) {
        const relation = relations.get(id);
        if (relation && inPlace(relation) && relation.invalidatedAt === null) {
          relation.invalidatedAt = options.at;
          relation.updatedAt = options.at;
        }
      }
    },

    async list(options) {
      open(options);
      const inPlace = placeOf(options);
      const after = decodeCursor(options.cursor, source);
      const matching = [...relations.values()]
        .filter(
          (relation) =>
            inPlace(relation) &&
            (options.includeInvalidated || relation.invalidatedAt === null) &&
            (after === undefined || relation.id > after),
        )
        .sort((a, b) => (a.id < b.id ? -1 : 1));
      const page = matching.slice(0, options.limit);
      const triples = page.flatMap((relation) => triple(relation) ?? []);
      const last = page.at(-1);
      return {
        triples,
        ...(matching.length > options.limit && last ? { nextCursor: encodeCursor(last.id) } : {}),
      };
    },

    async deleteScope(options) {
      open(options);
      const inPlace = placeOf(options);
      let deleted = 0;
      for (const [id, relation] of relations) {
        if (inPlace(relation)) {
          relations.delete(id);
          deleted++;
        }
      }
      for (const [id, entity] of entities) {
        if (inPlace(entity)) {
          entities.delete(id);
          deleted++;
        }
      }
      return { deleted };
    },

    async close() {
      closed = true;
    },
    async [Symbol.asyncDispose]() {
      closed = true;
    },
  };
}
