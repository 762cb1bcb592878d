// Fast subset of the fault-injection suite (the full one: `npm run test:faults`): a kill
// between writing and renaming the pointer and one just after the rename, and an injected
// ENOSPC while writing the pointer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAULT_POINTS } from '../../../pipelines/faults.ts';
import { makeBase, runCase, type Base } from './harness.ts';

let base: Base;
beforeAll(async () => {
  base = await makeBase();
}, 120_000);
afterAll(() => base?.cleanup());

describe('crash-safe publication (fast subset)', () => {
  it('declares at least 30 distinct named kill points', () => {
    expect(new Set(FAULT_POINTS).size).toBe(FAULT_POINTS.length);
    expect(FAULT_POINTS.length).toBeGreaterThanOrEqual(30);
  });

  for (const point of ['pointer:after-fsync-tmp', 'pointer:after-rename'] as const) {
    it(`SIGKILL at ${point}: nothing corrupted or mixed; the next run succeeds`, async () => {
      const r = await runCase(base, { kill: point });
      expect(r.signal).toBe('SIGKILL');
    }, 120_000);
  }

  it('a write error (ENOSPC) while writing the pointer leaves the old pointer and no temporary file', async () => {
    const r = await runCase(base, { fail: 'pointer:after-write-tmp=ENOSPC' });
    expect(r.code).toBe(1);
    expect(r.published).toBe(false);
  }, 120_000);
});
