// The shared conformance suite run against the protocol model of the Neptune Analytics API on
// 127.0.0.1 (neptune-analytics-server.test-support.ts), through the official client. This checks
// the adapter's own logic end to end (statements, conditions, paging, padding, scores); it is NOT
// a run against Neptune Analytics, which test/neptune-analytics.conformance.test.ts does when
// NEPTUNE_ANALYTICS_GRAPH_ID is set.
import { NeptuneGraphClient } from '@aws-sdk/client-neptune-graph';
import { describeVectorStore } from '@engram/conformance';
import { afterAll, beforeAll } from 'vitest';
import {
  type NeptuneAnalyticsModel,
  startNeptuneAnalyticsModel,
} from './neptune-analytics-server.test-support.js';
import { createNeptuneAnalyticsStore } from './neptune-analytics-vector-store.js';

let model: NeptuneAnalyticsModel | undefined;
beforeAll(async () => {
  model = await startNeptuneAnalyticsModel(16);
});
afterAll(() => model?.close());

describeVectorStore({
  name: 'neptune-analytics (protocol model of the API, not a real service)',
  server: 'none',
  timeout: 120_000,
  create: () =>
    createNeptuneAnalyticsStore({
      graphIdentifier: model!.graphIdentifier,
      client: new NeptuneGraphClient({
        endpoint: model!.url,
        region: 'us-east-1',
        credentials: { accessKeyId: 'model', secretAccessKey: 'model' },
        disableHostPrefix: true,
        maxAttempts: 1,
      }),
    }),
});
