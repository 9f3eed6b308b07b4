import { describeVectorStore, providedServer } from '@engram/conformance';
import { createRedisVectorStore } from '../src/index.js';

const { url, ...server } = providedServer();

describeVectorStore({
  name: 'redis',
  create: () => createRedisVectorStore({ ...(url ? { url } : {}) }),
  timeout: 60_000,
  ...server,
  keywordTextGap:
    'the RediSearch TEXT field is the text, which it splits on spaces and punctuation only (a Chinese or Japanese run is one term); index keywordText instead',
});
