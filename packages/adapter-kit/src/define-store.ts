import type { GraphStore, VectorStore } from '@engram/core';
import { createLifecycle, defineComponent, type ErrorMapper, type Lifecycle } from './lifecycle.js';

type Methods<Contract> = Omit<
  Contract,
  'specificationVersion' | 'provider' | 'capabilities' | 'close' | typeof Symbol.asyncDispose
>;

/** What an adapter gives {@link defineVectorStore}: its name, capabilities and backend calls. */
export interface VectorStoreDefinition {
  /** The adapter name, also the error prefix, e.g. `qdrant`. */
  provider: string;
  capabilities: VectorStore['capabilities'];
  /** Maps errors that are not Engram errors yet; default `toAdapterCallError`. */
  toError?: ErrorMapper;
  /** Releases clients and connections the store opened itself; runs once. */
  onClose?: () => Promise<void> | void;
  /** The backend calls, given the store's lifecycle (for `check` inside long loops). */
  methods: (lifecycle: Lifecycle) => Methods<VectorStore>;
}

/**
 * Builds a `VectorStore` from its backend calls. The kit owns what every store repeats: closed
 * state, abort checks before each call, wrapping foreign errors, `close` and `asyncDispose`.
 */
export function defineVectorStore(definition: VectorStoreDefinition): VectorStore {
  const lifecycle = createLifecycle({
    source: definition.provider,
    ...(definition.toError ? { toError: definition.toError } : {}),
    ...(definition.onClose ? { onClose: definition.onClose } : {}),
  });
  return defineComponent<VectorStore>(
    lifecycle,
    {
      specificationVersion: 'v1',
      provider: definition.provider,
      capabilities: definition.capabilities,
    },
    definition.methods(lifecycle),
  );
}

/** What an adapter gives {@link defineGraphStore}. */
export interface GraphStoreDefinition {
  /** The adapter name, also the error prefix, e.g. `neo4j`. */
  provider: string;
  capabilities: GraphStore['capabilities'];
  /** Maps errors that are not Engram errors yet; default `toAdapterCallError`. */
  toError?: ErrorMapper;
  /** Releases drivers and connections the store opened itself; runs once. */
  onClose?: () => Promise<void> | void;
  /** The backend calls, given the store's lifecycle. */
  methods: (lifecycle: Lifecycle) => Methods<GraphStore>;
}

/** Builds a `GraphStore` from its backend calls, with the same lifecycle as vector stores. */
export function defineGraphStore(definition: GraphStoreDefinition): GraphStore {
  const lifecycle = createLifecycle({
    source: definition.provider,
    noun: 'graph store',
    ...(definition.toError ? { toError: definition.toError } : {}),
    ...(definition.onClose ? { onClose: definition.onClose } : {}),
  });
  return defineComponent<GraphStore>(
    lifecycle,
    {
      specificationVersion: 'v1',
      provider: definition.provider,
      capabilities: definition.capabilities,
    },
    definition.methods(lifecycle),
  );
}
