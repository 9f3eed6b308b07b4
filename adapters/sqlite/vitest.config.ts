import { unitTestConfig } from '../../vitest.shared.ts';

export default unitTestConfig({
  include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
  globalSetup: ['test/global-setup.ts'],
  testTimeout: 60_000,
});
