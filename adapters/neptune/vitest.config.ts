import { defineConfig } from 'vitest/config';

// Unit tests only: no server needed. The real-server suite is vitest.conformance.config.ts.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
  },
});
