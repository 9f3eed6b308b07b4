import type { GraphStore, HistoryStore, VectorStore } from '@engram/core';
import { type SpanAttributes, tracingEnabled, withChildSpan } from './tracing.js';

/** What a traced call is made on: the kind of component, and the calls that get a span. */
const tracedOperations = {
  vector_store: [
    'ensureCollection',
    'upsert',
    'query',
    'get',
    'delete',
    'list',
    'count',
    'dropCollection',
    'commit',
  ],
  graph_store: [
    'ensureSchema',
    'upsertEntities',
    'upsertRelations',
    'findSimilarEntities',
    'neighbours',
    'invalidateRelations',
    'list',
    'deleteScope',
  ],
  history_store: ['append', 'byMemory', 'byScope', 'deleteScope', 'eraseTexts'],
} as const;

type StoreKind = keyof typeof tracedOperations;

/** Attributes of a store call known before it runs: which store, which operation, where. */
function callAttributes(
  kind: StoreKind,
  provider: string,
  operation: string,
  options: unknown,
): SpanAttributes {
  const attributes: SpanAttributes = {
    'engram.component': kind,
    'db.system.name': provider,
    'db.operation.name': operation,
  };
  if (options && typeof options === 'object') {
    const { collection, namespace, topK, records, ids } = options as Record<string, unknown>;
    if (typeof collection === 'string') attributes['db.collection.name'] = collection;
    if (typeof namespace === 'string') attributes['engram.namespace'] = namespace;
    if (typeof topK === 'number') attributes['engram.top_k'] = topK;
    if (Array.isArray(records)) attributes['engram.record_count'] = records.length;
    if (Array.isArray(ids)) attributes['engram.id_count'] = ids.length;
  }
  return attributes;
}

/**
 * A store whose calls each run in a child span of the active one (`vector_store.query`,
 * `graph_store.neighbours`, ...). The proxy keeps every property and `in` check of the store,
 * so capabilities, `scopeLock` and optional methods read the same.
 */
function traceStore<Store extends object & { readonly provider: string }>(
  kind: StoreKind,
  store: Store,
): Store {
  const operations = new Set<string>(tracedOperations[kind]);
  const wrappers = new Map<string, unknown>();
  return new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      if (typeof property !== 'string' || !operations.has(property)) return value.bind(target);
      let wrapper = wrappers.get(property);
      if (!wrapper) {
        const call = value as (options: unknown) => Promise<unknown>;
        wrapper = (options: unknown) =>
          withChildSpan(
            `${kind}.${property}`,
            callAttributes(kind, target.provider, property, options),
            async (span) => {
              const result = await call.call(target, options);
              if (Array.isArray(result))
                span.setAttributes({ 'engram.result_count': result.length });
              return result;
            },
          );
        wrappers.set(property, wrapper);
      }
      return wrapper;
    },
  });
}

/** The vector store, with a span per call when tracing is on (else the store itself). */
export function traceVectorStore(store: VectorStore): VectorStore {
  return tracingEnabled() ? traceStore('vector_store', store) : store;
}

/** The graph store, with a span per call when tracing is on (else the store itself). */
export function traceGraphStore(store: GraphStore): GraphStore {
  return tracingEnabled() ? traceStore('graph_store', store) : store;
}

/** The history store, with a span per call when tracing is on (else the store itself). */
export function traceHistoryStore(store: HistoryStore): HistoryStore {
  return tracingEnabled() ? traceStore('history_store', store) : store;
}
