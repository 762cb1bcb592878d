// An incremental run recomputes only the facts a changed extract can move, and publishes
// exactly what a full rebuild of the same inbox publishes (the oracle: a second store
// loaded from scratch). The fast tier changes one extract (in the full tier since consecutive publications made its oracle a third run); incremental.full.test.ts
// changes the roster and the referrals on a larger drop.
//
// Regression (found when this drop was made smaller): a reused pre/post summary was taken
// from the previous run after disclosure control had withheld its counts in place, so
// suppressing it again saw empty counts and published the row as not suppressed.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendRows, incrementalCase, type IncrementalCase } from './incrementalHarness.ts';

let c: IncrementalCase;
beforeAll(async () => {
  c = await incrementalCase(400);
}, 120_000);
afterAll(() => c?.cleanup());

describe('incremental run', () => {
  it('a changed PHQ-9 extract recomputes the PHQ-9 facts only, and publishes what a full rebuild does', async () => {
    appendRows(join(c.incremental.inbox, 'phq9.csv'), 40, 'B');
    const line = await c.run();
    expect(line).toMatch(/facts recomputed; reused from the previous run/);
    expect(line).toMatch(/reused from the previous run, which read nothing that changed: .*fct_referrals/);
    expect(line.split('which read nothing that changed:')[1]).not.toMatch(/phq9/);
    await c.rebuildAndCompare();
  }, 180_000);

  it('a change that moves no true figure takes the first phase of the disclosure rounds from the previous run, and still publishes what a full rebuild does', async () => {
    // copies of assessments already loaded, under new ids: the same people, days and scores
    appendRows(join(c.incremental.inbox, 'phq9.csv'), 40, 'C');
    await c.run();
    const audit = c.logs().find((l) => l.includes('attacker audit passed')) ?? '';
    expect(audit).toMatch(/after (\d+) round\(s\) \(the first (\d+) as the previous run ended them, whose true figures and rules were the same; /);
    // the oracle is a full refresh: a new warehouse, with no first phase to take
    await c.rebuildAndCompare();
  }, 180_000);
});
