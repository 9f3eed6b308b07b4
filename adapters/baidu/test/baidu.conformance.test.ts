import { describeVectorStore, providedServer } from '@engram/conformance';
import { baiduConformanceFilterFields, createBaiduVectorStore } from '../src/index.js';

// BAIDU_VECTORDB_ENDPOINT names the instance; BAIDU_VECTORDB_API_KEY, BAIDU_VECTORDB_ACCOUNT and
// BAIDU_VECTORDB_DATABASE (an existing database) come from the environment.
const { url, ...server } = providedServer();

describeVectorStore({
  name: 'baidu',
  create: () =>
    createBaiduVectorStore({
      ...(url ? { endpoint: url } : {}),
      filterFields: baiduConformanceFilterFields,
    }),
  timeout: 300_000,
  ...server,
});
