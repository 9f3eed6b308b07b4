import { describeVectorStore, providedServer } from '@engram/conformance';
import { createAzureAiSearchVectorStore } from '../src/index.js';

// AZURE_AI_SEARCH_ENDPOINT names a real service (with AZURE_AI_SEARCH_API_KEY, an admin key).
const { url, ...server } = providedServer();

describeVectorStore({
  name: 'azure-ai-search',
  create: () => createAzureAiSearchVectorStore({ ...(url ? { endpoint: url } : {}) }),
  timeout: 120_000,
  ...server,
});
