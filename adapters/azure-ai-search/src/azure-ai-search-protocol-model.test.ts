// The shared conformance suite run against the protocol model of Azure AI Search's REST API on
// 127.0.0.1 (azure-ai-search-server.test-support.ts), through the official client. This checks
// the adapter's own logic end to end (paging, key cursors, filter projection, scores); it is NOT
// a run against Azure AI Search, which test/azure-ai-search.conformance.test.ts does when
// AZURE_AI_SEARCH_ENDPOINT is set.
import { describeVectorStore } from '@engram/conformance';
import { afterAll, beforeAll } from 'vitest';
import {
  type AzureAiSearchModel,
  startAzureAiSearchModel,
} from './azure-ai-search-server.test-support.js';
import { createAzureAiSearchVectorStore } from './azure-ai-search-vector-store.js';

let model: AzureAiSearchModel | undefined;
beforeAll(async () => {
  model = await startAzureAiSearchModel();
});
afterAll(() => model?.close());

describeVectorStore({
  name: 'azure-ai-search (protocol model of the REST API, not a real service)',
  server: 'none',
  timeout: 120_000,
  create: () =>
    createAzureAiSearchVectorStore({
      endpoint: model!.url,
      apiKey: 'model-admin-key',
      maxRetries: 0,
    }),
});
