import { defineConfig } from 'vitest/config';

export default defineConfig({
  esbuild: { jsx: 'automatic' },
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Real sockets and child processes: keep output readable and the two cores not oversubscribed
    // (three at once was tried: 612 s against 607 s for the whole suite, with more load on every test).
    maxWorkers: 2,
    minWorkers: 1,
  },
});
