import { describeGraphStore, providedServer } from '@engram/conformance';
import { createMemgraphGraphStore } from '../src/index.js';

const { url, ...server } = providedServer();

describeGraphStore({
  name: 'memgraph',
  create: () => createMemgraphGraphStore({ url }),
  ...server,
});
