import { describeVectorStore, providedServer } from '@engram/conformance';
import { createRedisVectorStore } from '../src/index.js';

const { url, ...server } = providedServer();

describeVectorStore({
  name: 'redis',
  create: () => createRedisVectorStore({ ...(url ? { url } : {}) }),
  timeout: 60_000,
  ...server,
});
