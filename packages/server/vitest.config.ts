import { unitTestConfig } from '../../vitest.shared.ts';

export default unitTestConfig({
  testTimeout: 30_000,
});
