import { describeVectorStore, providedServer } from '@engram/conformance';
import { createOpenSearchVectorStore } from '../src/index.js';

const { url, ...server } = providedServer();

describeVectorStore({
  name: 'opensearch',
  create: () => createOpenSearchVectorStore({ ...(url ? { url } : {}) }),
  timeout: 60_000,
  ...server,
});
