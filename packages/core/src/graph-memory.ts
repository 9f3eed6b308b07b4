import { randomUUID } from 'node:crypto';
import { scoreBM25 } from './bm25.js';
import type { GraphEntity, GraphRelation, GraphStore, GraphTriple } from './graph-store.js';
import type { JSONSchema, LLM, LLMMessage } from './llm.js';
import { type GenerateJsonOptions, generateJson } from './llm-json.js';
import { checkNamespace } from './namespace.js';
import { type Message, transcript } from './prompts.js';
import { type Scope, scopeOf } from './scope.js';
import { cosineSimilarity } from './similarity.js';

/** A relation as callers see it: `source -[relationship]-> destination`. */
export interface RelationItem {
  id: string;
  source: string;
  relationship: string;
  destination: string;
  /** Relevance to the search query (search only), higher is better. */
  score?: number;
}

/** A relation of a scope's graph as a browser shows it: names, kinds and validity. */
export interface GraphRelationView extends RelationItem {
  /** Kind of the source entity, e.g. `person`. */
  sourceType: string;
  /** Kind of the destination entity. */
  destinationType: string;
  /** How many times the relation was mentioned. */
  mentions: number;
  /** ISO-8601 creation time. */
  createdAt: string;
  /** ISO-8601 time the relation was invalidated (contradicted); absent while it holds. */
  invalidatedAt?: string;
}

/** What graph memory changed during one `add`. */
export interface GraphChanges {
  added: RelationItem[];
  invalidated: RelationItem[];
}

/** Name of the JSON schema of the graph-extraction call. */
export const graphExtractionSchemaName = 'engram_graph';
/** Name of the JSON schema of the relation-invalidation call. */
export const graphInvalidationSchemaName = 'engram_graph_invalidation';

const extractionSchema: JSONSchema = {
  type: 'object',
  properties: {
    entities: {
      type: 'array',
      items: {
        type: 'object',
        properties: { name: { type: 'string' }, type: { type: 'string' } },
        required: ['name', 'type'],
        additionalProperties: false,
      },
    },
    relations: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          source: { type: 'string' },
          relationship: { type: 'string' },
          destination: { type: 'string' },
        },
        required: ['source', 'relationship', 'destination'],
        additionalProperties: false,
      },
    },
  },
  required: ['entities', 'relations'],
  additionalProperties: false,
};

const invalidationSchema: JSONSchema = {
  type: 'object',
  properties: { invalidate: { type: 'array', items: { type: 'string' } } },
  required: ['invalidate'],
  additionalProperties: false,
};

function extractionPrompt(user: string, today: string): string {
  return `You build a knowledge graph of what a conversation says about the user and their world.

Today's date is ${today}. The user is the entity "${user}": write "${user}" wherever the user says I, me, my or myself.

Extract:
- entities: people, organisations, places, things, foods, activities and so on, each with a short lowercase type (person, company, city, food, pet, ...);
- relations between them that the user states as true: source, relationship, destination. The relationship is a short lowercase verb phrase in snake_case (works_at, lives_in, allergic_to, sister_of, owns, likes).

Take facts from the user's messages only; read the assistant's messages just for context. Skip greetings and questions. If nothing qualifies, answer with empty lists.

Answer with JSON only: {"entities": [{"name": "...", "type": "..."}], "relations": [{"source": "...", "relationship": "...", "destination": "..."}]}`;
}

const invalidationPrompt = `You keep a knowledge graph up to date. You receive existing relations, each with a short id, and new relations just learned. List the ids of the existing relations that the new ones contradict or make outdated (for example "alice lives_in oslo" when the new relation is "alice lives_in bergen"). Keep relations that can still be true together with the new ones. Use only ids from the list.

Answer with JSON only: {"invalidate": ["id", ...]}`;

/** Lowercases and collapses whitespace: "Alice  Smith" -> "alice smith". */
export function normalizeEntityName(name: string): string {
  return name.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase().slice(0, 200);
}

/** snake_case verb phrase: "Works At" -> "works_at". */
export function normalizeRelationship(relationship: string): string {
  return relationship
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 100);
}

function toItem(triple: GraphTriple, score?: number): RelationItem {
  return {
    id: triple.relation.id,
    source: triple.source.name,
    relationship: triple.relation.relationship,
    destination: triple.destination.name,
    ...(score === undefined ? {} : { score }),
  };
}

function invalidationMessages(
  candidates: GraphTriple[],
  newTriples: { source: GraphEntity; relationship: string; destination: GraphEntity }[],
): LLMMessage[] {
  const existing = candidates.map((triple, index) => ({
    id: String(index),
    relation: `${triple.source.name} ${triple.relation.relationship} ${triple.destination.name}`,
  }));
  const added = newTriples.map(
    (triple) => `${triple.source.name} ${triple.relationship} ${triple.destination.name}`,
  );
  return [
    { role: 'system', content: invalidationPrompt },
    {
      role: 'user',
      content: `Existing relations:\n${JSON.stringify(existing)}\n\nNew relations:\n${JSON.stringify(added)}`,
    },
  ];
}

function parseInvalidation(value: unknown): string[] | undefined {
  const list = Array.isArray(value)
    ? value
    : (value as { invalidate?: unknown } | null)?.invalidate;
  return Array.isArray(list) ? list.map(String) : undefined;
}

interface Extracted {
  entities: { name: string; type: string }[];
  relations: { source: string; relationship: string; destination: string }[];
}

function parseExtraction(value: unknown): Extracted | undefined {
  if (value == null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const raw = value as Record<string, unknown>;
  if (!Array.isArray(raw.entities) && !Array.isArray(raw.relations)) return undefined;
  const entities: Extracted['entities'] = [];
  for (const entry of Array.isArray(raw.entities) ? raw.entities : []) {
    const entity = entry as Record<string, unknown> | null;
    const name = typeof entity?.name === 'string' ? normalizeEntityName(entity.name) : '';
    if (!name) continue;
    const type = typeof entity?.type === 'string' ? normalizeRelationship(entity.type) : '';
    entities.push({ name, type: type || 'entity' });
  }
  const relations: Extracted['relations'] = [];
  for (const entry of Array.isArray(raw.relations) ? raw.relations : []) {
    const relation = entry as Record<string, unknown> | null;
    const source = typeof relation?.source === 'string' ? normalizeEntityName(relation.source) : '';
    const destination =
      typeof relation?.destination === 'string' ? normalizeEntityName(relation.destination) : '';
    const relationship =
      typeof relation?.relationship === 'string'
        ? normalizeRelationship(relation.relationship)
        : '';
    if (source && destination && relationship && source !== destination) {
      relations.push({ source, relationship, destination });
    }
  }
  return { entities, relations };
}

/** Settings of {@link GraphMemory}. */
export interface GraphMemoryOptions {
  /** Where entities and relations are kept. */
  store: GraphStore;
  /**
   * The namespace of every entity, relation and call: the `Memory`'s collection. Two memories
   * with different collections never see each other's graph, even for the same user.
   */
  namespace: string;
  /** Extracts entities and relations; without one, `add` leaves the graph alone. */
  llm?: LLM;
  /** Embeds entity names and queries. */
  embed: (values: string[], purpose: 'document' | 'query') => Promise<number[][]>;
  /** Similarity above which a new entity merges into an existing one. Default 0.7. */
  threshold: number;
  /** The clock of timestamps. */
  now: () => Date;
  /** Retries of an unusable LLM answer. */
  retries: number;
}

/**
 * The graph-memory algorithm, once for every backend: extract entities and relations, merge
 * entities by embedding similarity, invalidate contradicted relations (softly, kept for
 * history), count mentions. At most two LLM calls per `add` (plus retries of unusable answers).
 */
export class GraphMemory {
  readonly #namespace: string;

  constructor(private readonly options: GraphMemoryOptions) {
    this.#namespace = checkNamespace(options.namespace, { source: 'core' });
  }

  #json<T>(
    request: Pick<GenerateJsonOptions<T>, 'messages' | 'schemaName' | 'schema' | 'shape' | 'parse'>,
    warnings: string[],
    abortSignal?: AbortSignal,
  ): Promise<T | undefined> {
    return generateJson({
      ...request,
      llm: this.options.llm!,
      retries: this.options.retries,
      warnings,
      abortSignal,
    });
  }

  /** Adds what the conversation says to the scope's graph. */
  async add(
    messages: Message[],
    scope: Scope,
    warnings: string[],
    abortSignal?: AbortSignal,
  ): Promise<GraphChanges> {
    const { store } = this.options;
    if (!this.options.llm) return { added: [], invalidated: [] };
    const signal = abortSignal ? { abortSignal } : {};
    const user = normalizeEntityName(scope.userId ?? scope.agentId ?? scope.runId ?? 'user');
    const now = this.options.now();
    const extracted = await this.#json(
      {
        messages: [
          { role: 'system', content: extractionPrompt(user, now.toISOString().slice(0, 10)) },
          { role: 'user', content: `Conversation:\n${transcript(messages)}` },
        ],
        schemaName: graphExtractionSchemaName,
        schema: extractionSchema,
        shape:
          '{"entities": [{"name": "...", "type": "..."}], "relations": [{"source": "...", "relationship": "...", "destination": "..."}]}',
        parse: parseExtraction,
      },
      warnings,
      abortSignal,
    );
    if (!extracted || extracted.relations.length === 0) return { added: [], invalidated: [] };

    const types = new Map(extracted.entities.map((entity) => [entity.name, entity.type]));
    const names = [
      ...new Set(
        extracted.relations.flatMap((relation) => [relation.source, relation.destination]),
      ),
    ];
    const embeddings = await this.options.embed(names, 'document');
    const timestamp = now.toISOString();
    const namespace = this.#namespace;
    const ownScope = scopeOf(scope);
    const resolved = new Map<string, GraphEntity>();
    const touchedExisting = new Set<string>();
    for (const [index, name] of names.entries()) {
      const embedding = embeddings[index]!;
      const [match] = await store.findSimilarEntities({
        namespace,
        scope: ownScope,
        embedding,
        topK: 1,
        threshold: this.options.threshold,
        ...signal,
      });
      if (match) {
        touchedExisting.add(match.entity.id);
        resolved.set(name, {
          ...match.entity,
          mentions: match.entity.mentions + 1,
          updatedAt: timestamp,
        });
      } else {
        const sameInBatch = [...resolved.values()].find(
          (entity) =>
            !touchedExisting.has(entity.id) &&
            cosineSimilarity(entity.embedding, embedding) >= this.options.threshold,
        );
        resolved.set(
          name,
          sameInBatch ?? {
            id: randomUUID(),
            name,
            type: types.get(name) ?? (name === user ? 'person' : 'entity'),
            embedding,
            namespace,
            ...ownScope,
            mentions: 1,
            createdAt: timestamp,
            updatedAt: timestamp,
          },
        );
      }
    }

    const existing =
      touchedExisting.size === 0
        ? []
        : await store.neighbours({
            namespace,
            scope: ownScope,
            entityIds: [...touchedExisting],
            limit: 200,
            ...signal,
          });
    const newTriples = extracted.relations.map((relation) => ({
      source: resolved.get(relation.source)!,
      relationship: relation.relationship,
      destination: resolved.get(relation.destination)!,
    }));
    const key = (sourceId: string, relationship: string, destinationId: string) =>
      `${sourceId}\u0000${relationship}\u0000${destinationId}`;
    const existingByKey = new Map(
      existing.map((triple) => [
        key(triple.relation.sourceId, triple.relation.relationship, triple.relation.destinationId),
        triple,
      ]),
    );
    const newKeys = new Set(
      newTriples.map((triple) => key(triple.source.id, triple.relationship, triple.destination.id)),
    );

    const invalidated: GraphTriple[] = [];
    const candidates = existing.filter(
      (triple) =>
        !newKeys.has(
          key(
            triple.relation.sourceId,
            triple.relation.relationship,
            triple.relation.destinationId,
          ),
        ),
    );
    if (candidates.length > 0) {
      const ids = await this.#json(
        {
          messages: invalidationMessages(candidates, newTriples),
          schemaName: graphInvalidationSchemaName,
          schema: invalidationSchema,
          shape: '{"invalidate": ["0"]}',
          parse: parseInvalidation,
        },
        warnings,
        abortSignal,
      );
      for (const id of new Set(ids ?? [])) {
        const triple = candidates[Number(id)];
        if (/^\d+$/.test(id) && triple) invalidated.push(triple);
      }
      if (invalidated.length > 0) {
        await store.invalidateRelations({
          namespace,
          scope: ownScope,
          relationIds: invalidated.map((triple) => triple.relation.id),
          at: timestamp,
          ...signal,
        });
      }
    }

    const relations = new Map<string, GraphRelation>();
    const added: RelationItem[] = [];
    for (const triple of newTriples) {
      const tripleKey = key(triple.source.id, triple.relationship, triple.destination.id);
      if (relations.has(tripleKey)) continue;
      const previous = existingByKey.get(tripleKey)?.relation;
      const relation: GraphRelation = previous
        ? { ...previous, mentions: previous.mentions + 1, updatedAt: timestamp }
        : {
            id: randomUUID(),
            sourceId: triple.source.id,
            relationship: triple.relationship,
            destinationId: triple.destination.id,
            namespace,
            ...ownScope,
            mentions: 1,
            createdAt: timestamp,
            updatedAt: timestamp,
            invalidatedAt: null,
          };
      relations.set(tripleKey, relation);
      if (!previous) {
        added.push({
          id: relation.id,
          source: triple.source.name,
          relationship: relation.relationship,
          destination: triple.destination.name,
        });
      }
    }
    await store.upsertEntities({ entities: [...new Set(resolved.values())], ...signal });
    await store.upsertRelations({ relations: [...relations.values()], ...signal });
    return { added, invalidated: invalidated.map((triple) => toItem(triple)) };
  }

  /**
   * Relations of the scope that matter for a query: neighbours of the entities most similar to
   * it (and of the scope's own user), ranked by entity similarity and BM25 over the triples.
   */
  async search(
    query: string,
    queryVector: number[],
    scope: Scope,
    limit: number,
    abortSignal?: AbortSignal,
  ): Promise<RelationItem[]> {
    const { store } = this.options;
    const signal = abortSignal ? { abortSignal } : {};
    const namespace = this.#namespace;
    const ownScope = scopeOf(scope);
    const similar = await store.findSimilarEntities({
      namespace,
      scope: ownScope,
      embedding: queryVector,
      topK: 10,
      ...signal,
    });
    const user = normalizeEntityName(scope.userId ?? scope.agentId ?? scope.runId ?? 'user');
    const [userVector] = await this.options.embed([user], 'document');
    const [self] = await store.findSimilarEntities({
      namespace,
      scope: ownScope,
      embedding: userVector!,
      topK: 1,
      threshold: 0.999,
      ...signal,
    });
    const similarity = new Map(similar.map((match) => [match.entity.id, match.score]));
    const seeds = [...similarity.keys(), ...(self ? [self.entity.id] : [])];
    if (seeds.length === 0) return [];
    const triples = await store.neighbours({
      namespace,
      scope: ownScope,
      entityIds: [...new Set(seeds)],
      limit: 500,
      ...signal,
    });
    if (triples.length === 0) return [];
    const texts = triples.map(
      (triple) =>
        `${triple.source.name} ${triple.relation.relationship.replaceAll('_', ' ')} ${triple.destination.name}`,
    );
    const keyword = scoreBM25(query, texts);
    const maxKeyword = Math.max(...keyword, 0);
    return triples
      .map((triple, index) => {
        const entityScore = Math.max(
          similarity.get(triple.source.id) ?? 0,
          similarity.get(triple.destination.id) ?? 0,
        );
        const keywordScore = maxKeyword > 0 ? keyword[index]! / maxKeyword : 0;
        return toItem(triple, 0.5 * Math.max(entityScore, 0) + 0.5 * keywordScore);
      })
      .sort((left, right) => (right.score ?? 0) - (left.score ?? 0))
      .slice(0, limit);
  }

  /** The scope's valid relations, up to `limit`. */
  async list(scope: Scope, limit: number, abortSignal?: AbortSignal): Promise<RelationItem[]> {
    const page = await this.options.store.list({
      namespace: this.#namespace,
      scope: scopeOf(scope),
      limit,
      ...(abortSignal ? { abortSignal } : {}),
    });
    return page.triples.map((triple) => toItem(triple));
  }

  /** The scope's relations with their entities' kinds, up to `limit`; invalidated ones on request. */
  async relations(
    scope: Scope,
    options: { limit: number; includeInvalidated: boolean; abortSignal?: AbortSignal | undefined },
  ): Promise<GraphRelationView[]> {
    const page = await this.options.store.list({
      namespace: this.#namespace,
      scope: scopeOf(scope),
      limit: options.limit,
      includeInvalidated: options.includeInvalidated,
      ...(options.abortSignal ? { abortSignal: options.abortSignal } : {}),
    });
    return page.triples.map((triple) => ({
      ...toItem(triple),
      sourceType: triple.source.type,
      destinationType: triple.destination.type,
      mentions: triple.relation.mentions,
      createdAt: triple.relation.createdAt,
      ...(triple.relation.invalidatedAt ? { invalidatedAt: triple.relation.invalidatedAt } : {}),
    }));
  }

  /** Deletes the scope's entities and relations (of this namespace only). */
  async deleteScope(scope: Scope, abortSignal?: AbortSignal): Promise<{ deleted: number }> {
    return this.options.store.deleteScope({
      namespace: this.#namespace,
      scope: scopeOf(scope),
      ...(abortSignal ? { abortSignal } : {}),
    });
  }
}
