import { defineConfig } from 'vitest/config';

// `npm run check:attacker`: the independent attacker end to end (issue 14's "Done when"):
// a 3,000-person drop published twice with the real binary, fetched as every role, attacked
// by test/attacker/attack.py. About 9 minutes on this 2-core machine (17 under load). It is not part of
// `npm test` or `npm run test:full` (CI) while issue 14 is open: it still finds leaks by the
// routes not closed yet (README, Small cells), and says so route by route.
export default defineConfig({
  test: {
    include: ['test/attacker/attacker.e2e.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 1_800_000,
  },
});
