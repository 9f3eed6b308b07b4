import { describeVectorStore, providedServer } from '@engram/conformance';
import { createNeptuneAnalyticsStore } from '../src/index.js';

// NEPTUNE_ANALYTICS_GRAPH_ID names a graph whose vector index has at least 10 dimensions (AWS
// credentials and region from the default chain); NEPTUNE_ANALYTICS_ENDPOINT overrides the endpoint.
const { url, ...server } = providedServer();

describeVectorStore({
  name: 'neptune-analytics',
  create: () => createNeptuneAnalyticsStore({ ...(url ? { graphIdentifier: url } : {}) }),
  timeout: 120_000,
  ...server,
});
