import { describeVectorStore, providedServer } from '@engram/conformance';
import { createValkeyVectorStore } from '../src/index.js';

const { url, ...server } = providedServer();

describeVectorStore({
  name: 'valkey',
  create: () => createValkeyVectorStore({ ...(url ? { url } : {}) }),
  timeout: 60_000,
  ...server,
});
