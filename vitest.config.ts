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
    // One module graph per worker, not one per file: importing the app afresh for each of
    // 110 files took 75 s of the tier's 319 s (2026-12-07; 280 s without it, every test
    // passing both ways). Files that change process.env or module state restore it.
    isolate: false,
  },
});
