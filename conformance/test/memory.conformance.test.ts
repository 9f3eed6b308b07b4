import {
  createInMemoryGraphStore,
  createInMemoryHistoryStore,
  createInMemoryStore,
} from '@engram/core';
import { describeGraphStore, describeHistoryStore, describeVectorStore } from '../src/index.js';

describeVectorStore({ name: 'memory', create: () => createInMemoryStore(), server: 'embedded' });

describeHistoryStore({
  name: 'memory history',
  create: () => createInMemoryHistoryStore(),
  server: 'embedded',
});

describeHistoryStore({
  name: 'memory (vector store as history store)',
  create: () => createInMemoryStore(),
  server: 'embedded',
});

describeGraphStore({
  name: 'memory graph',
  create: () => createInMemoryGraphStore(),
  server: 'embedded',
});
