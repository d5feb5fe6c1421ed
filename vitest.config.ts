import { defineConfig } from 'vitest/config';

export default defineConfig({
  esbuild: { jsx: 'automatic' },
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Real sockets and child processes: most end-to-end files spend their time waiting on a server
    // process, a browser or a terminal, so three files at once keep two cores busy without
    // oversubscribing them (the whole suite: ~10 min with two, measured on the 2-core machines).
    maxWorkers: 3,
    minWorkers: 1,
  },
});
