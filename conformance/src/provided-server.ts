import { inject } from 'vitest';
import type { ServerOrigin } from './harness.js';

/** The server an adapter's conformance tests run against, from its `serviceGlobalSetup`. */
export interface ProvidedServer {
  /** The server's URL; absent when there is none. */
  url?: string;
  /** Where it came from, for the adapter matrix (a harness's `server`). */
  server: ServerOrigin;
  /** Why there is no server (a harness's `skip`); absent when there is one. */
  skip?: string;
}

/**
 * The server that `serviceGlobalSetup` provided to this test file. Spread it into a harness
 * (`{ url, ...server } = providedServer()`, then `describeVectorStore({ ...server, ... })`).
 * Typed here, so an adapter needs no declaration of the `engramService` key of its own.
 */
export function providedServer(): ProvidedServer {
  const service = inject('engramService');
  return { url: service.url, server: service.origin, skip: service.skip };
}
