import { describeGraphStore } from '@engram/conformance';
import { inject } from 'vitest';
import { createMemgraphGraphStore } from '../src/index.js';

const service = inject('engramService');

describeGraphStore({
  name: 'memgraph',
  create: () => createMemgraphGraphStore({ url: service.url }),
  server: service.origin,
  ...(service.skip ? { skip: service.skip } : {}),
});
