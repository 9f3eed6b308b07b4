import { describeVectorStore, providedServer } from '@engram/conformance';
import { createUpstashVectorStore } from '../src/index.js';

// UPSTASH_VECTOR_REST_URL names a real index (with UPSTASH_VECTOR_REST_TOKEN); it must be a
// dense cosine index of the suite's dimension (8).
const { url, ...server } = providedServer();

describeVectorStore({
  name: 'upstash-vector',
  create: () => createUpstashVectorStore({ ...(url ? { url } : {}) }),
  timeout: 120_000,
  ...server,
});
