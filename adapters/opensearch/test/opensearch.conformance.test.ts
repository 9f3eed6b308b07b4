import { describeVectorStore } from '@engram/conformance';
import { inject } from 'vitest';
import { createOpenSearchVectorStore } from '../src/index.js';

const service = inject('engramService');

describeVectorStore({
  name: 'opensearch',
  create: () => createOpenSearchVectorStore({ ...(service.url ? { url: service.url } : {}) }),
  server: service.origin,
  timeout: 60_000,
  ...(service.skip ? { skip: service.skip } : {}),
});
