import { describeGraphStore, providedServer } from '@engram/conformance';
import { createNeptuneGraphStore } from '../src/index.js';

const { url, ...server } = providedServer();

// Amazon Neptune is a managed service: this suite runs only when NEPTUNE_ENDPOINT names a
// cluster (with AWS credentials in the environment); otherwise every test reports as skipped.
describeGraphStore({
  name: 'neptune',
  create: () => createNeptuneGraphStore({ endpoint: url }),
  timeout: 60_000,
  ...server,
});
