import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.service.test.ts'],
    globalSetup: ['test/redis-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
