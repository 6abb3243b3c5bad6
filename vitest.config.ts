import { defineConfig } from 'vitest/config';

// One runner for the whole repo. Tests that need Postgres/Redis get them from the devstack
// global setup (started once per run, isolated per test file by a fresh database).
export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
