import { defineConfig } from 'vitest/config';

// Unit tests only: no server needed. The real-server suite runs with vitest.conformance.config.ts.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
  },
});
