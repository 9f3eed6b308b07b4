import { describeVectorStore, providedServer } from '@engram/conformance';
import { createVertexAiVectorStore } from '../src/index.js';

// VERTEX_AI_INDEX_ID names an existing 8-dimension COSINE_DISTANCE index with streaming updates,
// deployed as VERTEX_AI_DEPLOYED_INDEX_ID on VERTEX_AI_INDEX_ENDPOINT_ID (VERTEX_AI_PROJECT,
// VERTEX_AI_LOCATION, credentials from Application Default Credentials). Vector Search cannot
// enumerate datapoints, so the suite's list, count, delete-by-scope and drop tests fail against
// it by design: the store refuses them with UnsupportedFunctionalityError.
const { url, ...server } = providedServer();

describeVectorStore({
  name: 'vertex-ai',
  create: () => createVertexAiVectorStore({ ...(url ? { indexId: url } : {}) }),
  timeout: 120_000,
  ...server,
});
