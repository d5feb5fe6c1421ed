import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Real sockets and child processes: keep output readable and the two cores not oversubscribed.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
