import { conformanceTestConfig } from '../../vitest.shared.ts';

export default conformanceTestConfig({
  globalSetup: ['test/native-setup.ts'],
});
