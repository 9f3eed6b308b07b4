import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.conformance.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
