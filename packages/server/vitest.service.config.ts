import { processTestConfig } from '../../vitest.shared.ts';

export default processTestConfig({
  include: ['test/**/*.service.test.ts'],
  globalSetup: ['test/redis-setup.ts'],
});
