import { defineConfig } from 'vitest/config';

// `npm run check:attacker`: the independent attacker end to end (issue 14's "Done when"):
// a 3,000-person drop published twice with the real binary, fetched as every role, attacked
// by test/attacker/attack.py. About 19 minutes on this 2-core machine (2026-12-07), too long for CI's
// budget beside the full tier; it found nothing on 2026-12-07 (README, Development). Smaller drops
// (CLOSELOOP_ATTACKER_PEOPLE) are no gate: the attacker's own wrong relations go unrefuted there.
export default defineConfig({
  test: {
    include: ['test/attacker/attacker.e2e.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 1_800_000,
  },
});
