import { unitTestConfig } from '../../vitest.shared.ts';

export default unitTestConfig({
  // Each test runs the built command several times; with ENGRAM_MODELS_DIR set, every run loads
  // the local embedding model, which takes seconds on a loaded two-core machine.
  testTimeout: 120_000,
});
