import { defineConfig } from 'vitest/config';

// `npm test`: the fast tier (under five minutes on a 2-core machine). Deep, slow cases live
// in `*.full.test.ts` files, run by `npm run test:full` (vitest.full.config.ts), which CI
// runs as well.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/**/*.full.test.ts', 'test/attacker/attacker.e2e.test.ts', '**/node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // DuckDB work is CPU-bound on a 2-core machine: keep parallel files modest.
    maxWorkers: 2,
  },
});
