import { unitTestConfig } from '../../vitest.shared.ts';

export default unitTestConfig({
  include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
  // Real HTTP round trips to the local fake server; generous on a loaded two-core machine.
  testTimeout: 30_000,
});
