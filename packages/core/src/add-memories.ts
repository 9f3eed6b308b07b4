import { conversationQueries, decideChanges } from './decide-changes.js';
import { AdapterCallError } from './errors.js';
import { isExpired, withUnexpiredFilter } from './expiry.js';
import { extractFacts } from './extract-facts.js';
import type { GraphChanges } from './graph-memory.js';
import { generateJson } from './llm-json.js';
import type { MemoryEngine } from './memory-engine.js';
import { checkText, invalid } from './memory-input.js';
import type { AddMode, AddResult, ImportItem, MemoryChange } from './memory-types.js';
import { appliedMemoryId } from './memory-writer.js';
import {
  type PlannedChange,
  parseReconcileAnswer,
  planChanges,
  type ReconcileAction,
} from './plan-changes.js';
import {
  type Message,
  reconcileMessages,
  reconcileSchema,
  reconcileSchemaName,
} from './prompts.js';
import { type Scope, scopeKey, scopeOf } from './scope.js';
import { normalizeText, textHash } from './text.js';
import { timeOrderedId } from './time-ordered-id.js';
import type { JsonValue, StoredRecord, VectorRecord } from './vector-store.js';

/** A checked `add`: the conversation, its scope and metadata, and whether to infer facts. */
export interface AddRequest {
  messages: Message[];
  scope: Scope;
  metadata: Record<string, JsonValue>;
  infer: boolean;
  /** How to infer; default: the engine's `addMode`. */
  addMode?: AddMode | undefined;
  /** Applies the add at most once per key (see `AddOptions.idempotencyKey`). */
  idempotencyKey?: string | undefined;
  abortSignal?: AbortSignal | undefined;
}

const addEveryFact = (facts: string[]): ReconcileAction[] =>
  facts.map((text) => ({ event: 'ADD', text }));

function withWarnings(results: MemoryChange[], warnings: string[]): AddResult {
  return warnings.length > 0 ? { results, warnings } : { results };
}

/**
 * Stores memories as given (no inference): items with an id that exists in the same scope
 * replace that memory (unchanged ones are skipped), an id of another scope is refused.
 */
export async function storeVerbatim(
  engine: MemoryEngine,
  items: ImportItem[],
  abortSignal?: AbortSignal,
  applied?: { key: string; scope: Scope },
): Promise<AddResult> {
  const givenIds = items.flatMap((item) => (item.id === undefined ? [] : [item.id]));
  const found =
    givenIds.length === 0
      ? []
      : await engine.store.get({
          collection: engine.collection,
          ids: givenIds,
          ...(abortSignal ? { abortSignal } : {}),
        });
  const existing = new Map(found.map((record) => [record.id, record]));
  const previousOf = (item: ImportItem) =>
    item.id === undefined ? undefined : existing.get(item.id);
  for (const [index, item] of items.entries()) {
    const previous = previousOf(item);
    if (previous && scopeKey(scopeOf(previous)) !== scopeKey(scopeOf(item))) {
      invalid(
        `items[${index}]: id "${item.id}" belongs to a memory of another scope; leave the id out to import the text as a new memory.`,
      );
    }
  }
  const changed = items.filter((item) => {
    const previous = previousOf(item);
    return (
      !previous ||
      previous.text !== item.text ||
      JSON.stringify(previous.metadata) !== JSON.stringify(item.metadata ?? {})
    );
  });
  const embeddings = await engine.embed(
    changed.map((item) => item.text),
    'document',
    abortSignal,
  );
  const now = engine.now().toISOString();
  const changes = engine.writer.changes();
  for (const [index, item] of changed.entries()) {
    const previous = previousOf(item);
    const record: VectorRecord = {
      id: item.id ?? timeOrderedId(),
      vector: embeddings[index]!,
      text: item.text,
      hash: textHash(item.text),
      ...scopeOf(item),
      metadata: item.metadata ?? {},
      createdAt: item.createdAt ?? previous?.createdAt ?? now,
      updatedAt: item.updatedAt ?? now,
    };
    if (previous) changes.update(record, previous.text);
    else changes.add(record);
  }
  if (applied) changes.applied(applied.key, applied.scope);
  await engine.writer.write(changes, abortSignal);
  return { results: changes.results };
}

/** Each message (but system ones) becomes a memory, with its role when there are several. */
function addVerbatim(engine: MemoryEngine, request: AddRequest): Promise<AddResult> {
  const { messages, scope, metadata } = request;
  const kept = messages.filter((message) => message.role !== 'system' && message.content.trim());
  const items = kept.map((message, index) => ({
    ...scope,
    text: checkText(message.content, `messages[${index}].content`),
    metadata: messages.length > 1 ? { ...metadata, role: message.role } : metadata,
  }));
  const key = request.idempotencyKey;
  return storeVerbatim(engine, items, request.abortSignal, key ? { key, scope } : undefined);
}

/**
 * What an earlier add with this idempotency key changed, read from its `APPLIED` event (under
 * the scope's lock, so it cannot race the write of that event); `undefined` when there was none.
 */
async function appliedBefore(
  engine: MemoryEngine,
  key: string | undefined,
  abortSignal?: AbortSignal,
): Promise<AddResult | undefined> {
  if (key === undefined) return undefined;
  const [marker] = await engine.history.byMemory({
    namespace: engine.collection,
    memoryId: appliedMemoryId(key),
    ...(abortSignal ? { abortSignal } : {}),
  });
  if (!marker) return undefined;
  const recorded = JSON.parse(marker.detail ?? '[]') as Array<Pick<MemoryChange, 'id' | 'event'>>;
  const ids = recorded.flatMap((change) => (change.event === 'DELETE' ? [] : [change.id]));
  const found =
    ids.length === 0
      ? []
      : await engine.store.get({
          collection: engine.collection,
          ids,
          ...(abortSignal ? { abortSignal } : {}),
        });
  const texts = new Map(found.map((record) => [record.id, record.text]));
  return {
    results: recorded.map((change) => ({ ...change, memory: texts.get(change.id) ?? '' })),
    warnings: [
      `An add with idempotency key "${key}" was already applied; nothing was changed again.`,
    ],
  };
}

/** The model's decisions about new facts; on failure, every fact is treated as new. */
async function reconcile(
  engine: MemoryEngine,
  request: { facts: string[]; existing: StoredRecord[]; warnings: string[] },
  abortSignal?: AbortSignal,
): Promise<ReconcileAction[]> {
  const { facts, existing, warnings } = request;
  let actions: ReconcileAction[] | undefined;
  try {
    actions = await generateJson({
      llm: engine.llm!,
      messages: reconcileMessages(
        existing.map((record, index) => ({ id: String(index), text: record.text })),
        facts,
        engine.prompts.reconcile,
      ),
      schemaName: reconcileSchemaName,
      schema: reconcileSchema,
      shape: '{"memory": [{"event": "ADD|UPDATE|DELETE|NONE", "id": "...", "text": "..."}]}',
      parse: parseReconcileAnswer,
      accept: (value) => value.length > 0,
      retries: engine.llmRetries,
      warnings,
      abortSignal,
    });
  } catch (error) {
    if (!AdapterCallError.isInstance(error)) throw error;
    warnings.push(`Reconciliation failed (${error.message}); new facts were added as they are.`);
  }
  if (actions !== undefined) return actions;
  warnings.push(
    'Reconciliation gave no usable answer; facts not already stored were added as they are.',
  );
  return addEveryFact(facts);
}

/** Embeds what the plan needs beyond the facts already embedded, then writes it. */
async function applyChanges(
  engine: MemoryEngine,
  request: AddRequest & {
    changes: PlannedChange<StoredRecord>[];
    embeddings: Map<string, number[]>;
  },
): Promise<MemoryChange[]> {
  const { changes: plan, embeddings, scope, metadata, abortSignal, idempotencyKey } = request;
  const missing = [
    ...new Set(
      plan.flatMap((change) =>
        (change.event === 'ADD' || change.event === 'UPDATE') &&
        !embeddings.has(normalizeText(change.text))
          ? [change.text]
          : [],
      ),
    ),
  ];
  const vectors = await engine.embed(missing, 'document', abortSignal);
  for (const [index, text] of missing.entries())
    embeddings.set(normalizeText(text), vectors[index]!);

  const now = engine.now().toISOString();
  const changes = engine.writer.changes();
  for (const change of plan) {
    if (change.event === 'NONE') continue;
    if (change.event === 'DELETE') {
      changes.delete(change.target);
      continue;
    }
    const fields = {
      vector: embeddings.get(normalizeText(change.text))!,
      text: change.text,
      hash: textHash(change.text),
    };
    if (change.event === 'UPDATE') {
      const { target } = change;
      const record = { ...target, ...fields, metadata: { ...target.metadata, ...metadata } };
      changes.update({ ...record, updatedAt: now }, target.text);
    } else {
      changes.add({
        id: timeOrderedId(),
        ...fields,
        ...scope,
        metadata,
        createdAt: now,
        updatedAt: now,
      });
    }
  }
  if (idempotencyKey !== undefined) changes.applied(idempotencyKey, scope);
  await engine.writer.write(changes, abortSignal);
  return changes.results;
}

/** Keeps the conversation in the history as an `INFERENCE_FAILED` event, when nothing could be inferred. */
async function keepInput(engine: MemoryEngine, request: AddRequest, detail: string) {
  const changes = engine.writer.changes();
  const input = request.messages.map((message) => `${message.role}: ${message.content}`).join('\n');
  changes.inferenceFailed(input, request.scope, detail);
  await engine.writer.write(changes);
}

/** Facts of one conversation, embedded: what an add prepares before it takes the scope's lock. */
type PreparedFacts =
  | { facts: string[]; vectors: number[][]; warnings: string[] }
  | { result: AddResult };

/**
 * Extracts facts (one call) and embeds them (one batch). Needs no lock, so concurrent adds of
 * one scope do this in parallel. When no fact can be had, the input is kept in the history as
 * an `INFERENCE_FAILED` event.
 */
async function prepareFacts(engine: MemoryEngine, request: AddRequest): Promise<PreparedFacts> {
  const { messages, abortSignal } = request;
  const warnings: string[] = [];

  let facts: string[] | undefined;
  try {
    facts = await extractFacts({
      llm: engine.llm!,
      messages,
      today: engine.now().toISOString().slice(0, 10),
      prompt: engine.prompts.extraction,
      retries: engine.llmRetries,
      warnings,
      abortSignal,
    });
  } catch (error) {
    await keepInput(engine, request, `fact extraction failed: ${(error as Error).message}`);
    throw error;
  }
  if (facts === undefined) {
    await keepInput(engine, request, 'fact extraction answer was unusable');
    warnings.push(
      'No facts could be extracted; the input was kept in the history (event INFERENCE_FAILED).',
    );
    return { result: { results: [], warnings } };
  }
  if (facts.length === 0) return { result: { ...withWarnings([], warnings), factsExtracted: 0 } };
  return { facts, vectors: await engine.embed(facts, 'document', abortSignal), warnings };
}

/**
 * The scope's unexpired memories nearest to any of the vectors (`candidatesPerFact` each),
 * without repeats. Read under the scope's lock, so that what it returns is still current when
 * the changes decided from it are written.
 */
async function relatedMemories(
  engine: MemoryEngine,
  vectors: number[][],
  scope: Scope,
  abortSignal?: AbortSignal,
): Promise<StoredRecord[]> {
  const now = engine.now();
  const unexpired = withUnexpiredFilter(engine.store, undefined, now);
  const related = await Promise.all(
    vectors.map((vector) =>
      engine.store.query({
        collection: engine.collection,
        vector,
        topK: engine.candidatesPerFact,
        scope,
        ...(unexpired ? { filter: unexpired } : {}),
        ...(abortSignal ? { abortSignal } : {}),
      }),
    ),
  );
  return [
    ...new Map(related.flat().map((match) => [match.record.id, match.record])).values(),
  ].filter((record) => !isExpired(record, now));
}

/**
 * Under the scope's lock: fetches the scope's memories related to the facts, reconciles (one
 * call, short temporary ids), plans and applies the changes. Reading what is stored only once
 * the lock is held is what keeps two concurrent adds of one fact from both adding it.
 */
async function reconcileAndApply(
  engine: MemoryEngine,
  request: AddRequest,
  prepared: PreparedFacts,
): Promise<AddResult> {
  if ('result' in prepared) return prepared.result;
  const { facts, vectors } = prepared;
  const { scope, abortSignal } = request;
  const warnings = [...prepared.warnings];
  const embeddings = new Map(facts.map((fact, index) => [normalizeText(fact), vectors[index]!]));
  const existing = await relatedMemories(engine, vectors, scope, abortSignal);
  const actions =
    existing.length === 0
      ? addEveryFact(facts)
      : await reconcile(engine, { facts, existing, warnings }, abortSignal);
  const plan = planChanges({ actions, existing });
  warnings.push(...plan.warnings);
  const results = await applyChanges(engine, { ...request, changes: plan.changes, embeddings });
  return { ...withWarnings(results, warnings), factsExtracted: facts.length };
}

/** A conversation's texts and their vectors, embedded before the scope's lock is taken. */
interface PreparedConversation {
  queries: string[];
  vectors: number[][];
}

/** Embeds the texts whose related memories the single call sees (one batch, no lock needed). */
async function prepareConversation(
  engine: MemoryEngine,
  request: AddRequest,
): Promise<PreparedConversation> {
  const queries = conversationQueries(request.messages);
  return { queries, vectors: await engine.embed(queries, 'document', request.abortSignal) };
}

/**
 * Under the scope's lock: fetches the scope's memories related to the conversation, asks the
 * model for the changes in one call (short temporary ids), plans and applies them. The model call
 * is under the lock too, since its decisions rest on what the lock keeps current. Without a usable
 * answer nothing is written but the input, kept in the history (`INFERENCE_FAILED`).
 */
async function decideAndApply(
  engine: MemoryEngine,
  request: AddRequest,
  prepared: PreparedConversation,
): Promise<AddResult> {
  const { scope, abortSignal } = request;
  const warnings: string[] = [];
  const existing = await relatedMemories(engine, prepared.vectors, scope, abortSignal);
  let actions: ReconcileAction[] | undefined;
  try {
    actions = await decideChanges({
      llm: engine.llm!,
      messages: request.messages,
      existing,
      today: engine.now().toISOString().slice(0, 10),
      prompt: engine.prompts.singleCall,
      retries: engine.llmRetries,
      warnings,
      abortSignal,
    });
  } catch (error) {
    await keepInput(engine, request, `single-call inference failed: ${(error as Error).message}`);
    throw error;
  }
  if (actions === undefined) {
    await keepInput(engine, request, 'single-call answer was unusable');
    warnings.push(
      'No memories could be inferred; the input was kept in the history (event INFERENCE_FAILED).',
    );
    return { results: [], warnings };
  }
  const plan = planChanges({ actions, existing });
  warnings.push(...plan.warnings);
  // A message stored as it was said needs no second embedding.
  const embeddings = new Map(
    prepared.queries.map((query, index) => [normalizeText(query), prepared.vectors[index]!]),
  );
  const results = await applyChanges(engine, { ...request, changes: plan.changes, embeddings });
  return { ...withWarnings(results, warnings), factsExtracted: actions.length };
}

/**
 * Remembers a conversation: verbatim (under the scope's lock), or through the LLM, where
 * extraction and embedding run before the lock and only the reconcile-and-apply step (with graph
 * memory beside it, when configured) holds it; in `single-call` mode, the conversation is embedded
 * before the lock and the one model call is made under it. A graph failure becomes a warning, never a failed
 * add.
 */
export async function addMemories(engine: MemoryEngine, request: AddRequest): Promise<AddResult> {
  const { scope, abortSignal, idempotencyKey } = request;
  const once = <T>(work: () => Promise<T>) =>
    engine.writer.inScope(
      scope,
      async () => (await appliedBefore(engine, idempotencyKey, abortSignal)) ?? work(),
      abortSignal,
    );
  // Stored as given under new ids, with no idempotency key to look up: nothing it reads can be
  // changed by another add, so it takes no scope lock (two write transactions fewer per add).
  if (!request.infer) {
    return idempotencyKey ? once(() => addVerbatim(engine, request)) : addVerbatim(engine, request);
  }
  let inferAndApply: () => Promise<AddResult>;
  if ((request.addMode ?? engine.addMode) === 'single-call') {
    const prepared = await prepareConversation(engine, request);
    inferAndApply = () => decideAndApply(engine, request, prepared);
  } else {
    const prepared = await prepareFacts(engine, request);
    inferAndApply = () => reconcileAndApply(engine, request, prepared);
  }
  const { graph } = engine;
  if (!graph) return once(inferAndApply);
  const graphWarnings: string[] = [];
  return once(async () => {
    const [result, relations] = await Promise.all([
      inferAndApply(),
      graph
        .add(request.messages, scope, graphWarnings, abortSignal)
        .catch((error: unknown): GraphChanges => {
          graphWarnings.push(`Graph memory was not updated: ${(error as Error).message}`);
          return { added: [], invalidated: [] };
        }),
    ]);
    const warnings = [...(result.warnings ?? []), ...graphWarnings];
    return { ...result, relations, ...(warnings.length > 0 ? { warnings } : {}) };
  });
}
