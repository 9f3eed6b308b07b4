import { unitTestConfig } from '../../vitest.shared.ts';

export default unitTestConfig({
  include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
  globalSetup: ['test/global-setup.ts'],
  // The index tests build in worker threads: 3-5 s alone, up to 57 s seen while the whole
  // workspace's tests share two cores.
  testTimeout: 240_000,
});
