import { conformanceTestConfig } from '../../vitest.shared.ts';

export default conformanceTestConfig({
  hookTimeout: 600_000,
});
