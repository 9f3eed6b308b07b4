// The shared conformance suite run against the protocol model of the Baidu VectorDB HTTP API on
// 127.0.0.1 (baidu-server.test-support.ts), with the suite's metadata paths declared as filter
// paths and select pages of 97. This checks the adapter's own logic end to end; it is NOT a run
// against Baidu VectorDB, which test/baidu.conformance.test.ts does when BAIDU_VECTORDB_ENDPOINT
// is set.
import { describeVectorStore } from '@engram/conformance';
import { afterAll, beforeAll } from 'vitest';
import { baiduConformanceFilterFields } from './baidu-adapter.js';
import { type BaiduModel, startBaiduModel } from './baidu-server.test-support.js';
import { createBaiduVectorStore } from './baidu-vector-store.js';

let model: BaiduModel | undefined;
beforeAll(async () => {
  model = await startBaiduModel();
  model.pageSize = 97;
});
afterAll(() => model?.close());

describeVectorStore({
  name: 'baidu (protocol model of the HTTP API, not a real service)',
  server: 'none',
  timeout: 120_000,
  create: () =>
    createBaiduVectorStore({
      endpoint: model!.url,
      apiKey: model!.apiKey,
      database: model!.database,
      filterFields: baiduConformanceFilterFields,
    }),
});
