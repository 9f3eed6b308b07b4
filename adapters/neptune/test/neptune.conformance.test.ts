import { describeGraphStore } from '@engram/conformance';
import { inject } from 'vitest';
import { createNeptuneGraphStore } from '../src/index.js';

const service = inject('engramService');

// Amazon Neptune is a managed service: this suite runs only when NEPTUNE_ENDPOINT names a
// cluster (with AWS credentials in the environment); otherwise every test reports as skipped.
describeGraphStore({
  name: 'neptune',
  create: () => createNeptuneGraphStore({ endpoint: service.url }),
  server: service.origin,
  timeout: 60_000,
  ...(service.skip ? { skip: service.skip } : {}),
});
