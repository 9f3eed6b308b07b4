// The shared conformance suite run against the protocol model of the Databricks Vector Search
// REST API on 127.0.0.1 (databricks-server.test-support.ts), with OAuth M2M. This checks the
// adapter's own logic end to end; it is NOT a run against Databricks, which
// test/databricks.conformance.test.ts does when DATABRICKS_HOST is set.
import { describeVectorStore } from '@engram/conformance';
import { afterAll, beforeAll } from 'vitest';
import { type DatabricksModel, startDatabricksModel } from './databricks-server.test-support.js';
import { createDatabricksVectorStore } from './databricks-vector-store.js';

let model: DatabricksModel | undefined;
beforeAll(async () => {
  model = await startDatabricksModel();
});
afterAll(() => model?.close());

describeVectorStore({
  name: 'databricks (protocol model of the REST API, not a real service)',
  server: 'none',
  timeout: 120_000,
  create: () =>
    createDatabricksVectorStore({
      host: model!.url,
      clientId: 'client',
      clientSecret: 'secret',
      endpointName: 'model-endpoint',
      schema: 'main.engram',
    }),
});
