import { describeVectorStore, providedServer } from '@engram/conformance';
import { createCassandraVectorStore } from '../src/index.js';

const { url, ...server } = providedServer();

describeVectorStore({
  name: 'cassandra',
  create: () =>
    createCassandraVectorStore({ ...(url ? { url } : {}), keyspace: 'engram_conformance' }),
  timeout: 120_000,
  ...server,
});
