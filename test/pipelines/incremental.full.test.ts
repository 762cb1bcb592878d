// Full tier (npm run test:full): incremental runs on a larger drop, change after change,
// each compared row for row with a full rebuild of the same inbox.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendRows, incrementalCase, type IncrementalCase } from './incrementalHarness.ts';

let c: IncrementalCase;
beforeAll(async () => {
  c = await incrementalCase(1500);
}, 180_000);
afterAll(() => c?.cleanup());

describe('incremental runs, change after change', () => {
  it('a changed PHQ-9 extract recomputes the PHQ-9 facts only, and publishes what a full rebuild does', async () => {
    appendRows(join(c.incremental.inbox, 'phq9.csv'), 40, 'B');
    const line = await c.run();
    expect(line).toMatch(/reused from the previous run, which read nothing that changed: .*fct_referrals/);
    expect(line.split('which read nothing that changed:')[1]).not.toMatch(/phq9/);
    // the event study reads no PHQ-9: kept from the previous run; the PHQ-9 comparison computed
    const evaluation = c.logs().filter((l) => l.includes('evaluation:'));
    expect(evaluation.find((l) => l.includes('event study'))).toMatch(/reused from the previous run/);
    expect(evaluation.find((l) => l.includes('PHQ-9'))).not.toMatch(/reused/);
    await c.rebuildAndCompare();
  }, 240_000);

  it('a changed roster recomputes everything (people and their spans feed every population dimension)', async () => {
    appendRows(join(c.incremental.inbox, 'people.csv'), 5, 'N');
    expect(await c.run()).not.toMatch(/reused/);
    expect(c.logs().filter((l) => l.includes('evaluation:')).join('\n')).not.toMatch(/reused/);
    // new people move true figures: every disclosure round runs (models/disclosure/phaseOne.ts)
    expect(c.logs().join('\n')).not.toMatch(/as the previous run ended them/);
    await c.rebuildAndCompare();
  }, 240_000);

  it('a changed referrals extract keeps the PHQ-9 and utilization facts', async () => {
    appendRows(join(c.incremental.inbox, 'referrals.csv'), 30, 'C');
    const reused = (await c.run()).split('which read nothing that changed:')[1] ?? '';
    expect(reused).toMatch(/fct_phq9_episodes/);
    expect(reused).not.toMatch(/fct_referrals|fct_prepost|fct_connected_people/);
    // both evaluation parts read referrals: computed again
    expect(c.logs().filter((l) => l.includes('evaluation:')).join('\n')).not.toMatch(/reused/);
    await c.rebuildAndCompare();
  }, 240_000);
});
