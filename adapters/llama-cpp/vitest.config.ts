import { unitTestConfig } from '../../vitest.shared.ts';

export default unitTestConfig({
  include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
  // Runs a real GGUF model; generous on a loaded two-core machine.
  testTimeout: 300_000,
});
