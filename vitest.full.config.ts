import { defineConfig } from 'vitest/config';

// `npm run test:full`: the deep, slow tier (`*.full.test.ts`): the fault-injection suite,
// incremental runs change after change, and other cases too slow for `npm test`.
export default defineConfig({
  test: {
    include: ['test/**/*.full.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 300_000,
    maxWorkers: 2,
  },
});
