import { defineConfig } from 'vitest/config';

// One runner for the whole repo. Tests that need Postgres/Redis get them from the devstack
// global setup (started once per run, isolated per test file by a fresh database).
export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'modules/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // One embedded Postgres and one Redis for the whole run (test/setup/global-setup.ts).
    globalSetup: ['test/setup/global-setup.ts'],
    // Machines here have 2 cores, shared with Postgres and Redis: two test processes at most.
    pool: 'forks',
    maxWorkers: 2,
    teardownTimeout: 60_000,
  },
});
