import { defineConfig } from 'vitest/config';

// Integration tests each create their own database and queue prefix (test/helpers), so files may
// run in parallel; two workers match the two cores CI has.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
