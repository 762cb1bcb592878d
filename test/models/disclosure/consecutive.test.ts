// Issue 14, route 8 (consecutive publications): one referral added, a second run, and a
// diff of the two exports showed 236 cells changed by exactly 1. The attacker holds both
// publications; the change of a protected count between them must be 0 or at least the
// threshold in size, or not provable inside 1..threshold-1. Every number below is worked
// out by hand on a table of one proportion: everyone and two groups by sex. The real binary
// on two consecutive runs: consecutive.full.test.ts.
import { describe, expect, test } from 'vitest';
import { auditResults, type AuditRow } from '../../../models/disclosure/index.ts';
import { PENDING_REVISION } from '../../../models/disclosure/audit.ts';
import { METRICS } from '../../../models/metrics/catalog.ts';

const row = (group: string, numerator: number | null, denominator: number | null, over: Partial<AuditRow> = {}): AuditRow => ({
  metric_id: 'closed_loop_rate', period_grain: 'all', period_start: '2025-01-01', dimension: group === 'all' ? 'all' : 'sex', group_value: group,
  numerator, denominator, value: numerator === null || denominator === null ? null : numerator / denominator, suppressed: numerator === null, ...over,
});
const withheld = (group: string) => row(group, null, null);
/** A row pending revision: the previous publication's figures, marked. */
const pending = (group: string, numerator: number, denominator: number) => row(group, numerator, denominator, { note: PENDING_REVISION });

// the previous publication: 30 of 60 loops closed, 15 of 30 for women and for men
const before = [row('all', 30, 60), row('female', 15, 30), row('male', 15, 30)];
const audit = (now: AuditRow[], previous: AuditRow[] | null = before) => auditResults(now, { metrics: METRICS, threshold: 11, previous: previous ?? undefined });
const said = (r: Awaited<ReturnType<typeof audit>>) => r.violations.map((v) => `${v.relation} ${v.group_value} ${v.count}: ${v.message}`).sort();

describe('consecutive publications (issue 14, route 8)', () => {
  test('a count shown in both publications that changed by 1 is disclosed (the diff attack)', async () => {
    // one closed referral added for a woman: everyone 31/61, women 16/31, men unchanged
    const r = await audit([row('all', 31, 61), row('female', 16, 31), row('male', 15, 30)]);
    expect(said(r)).toEqual([
      'primary all D: denominator changed by 1 since the previous publication (60 then 61): a change in 1..10',
      'primary all N: numerator changed by 1 since the previous publication (30 then 31): a change in 1..10',
      'primary female D: denominator changed by 1 since the previous publication (30 then 31): a change in 1..10',
      'primary female N: numerator changed by 1 since the previous publication (15 then 16): a change in 1..10',
    ]);
  });

  test('the same publication passes on its own: only the previous one makes it a disclosure', async () => {
    expect((await audit([row('all', 31, 61), row('female', 16, 31), row('male', 15, 30)], null)).ok).toBe(true);
  });

  test('withholding only the changed group is not enough: everyone minus men gives women 16/31, a change of exactly 1', async () => {
    const r = await audit([row('all', 31, 61), withheld('female'), row('male', 15, 30)]);
    const change = r.violations.filter((v) => v.relation === 'disclosure' && v.group_value === 'female');
    // numerator 16 - 15 and denominator 31 - 30; the complement (15 then 15) did not change
    expect(change.map((v) => [v.count, v.low, v.high])).toEqual([['N', 1, 1], ['D', 1, 1]]);
    expect(change[0]!.message).toMatch(/change of withheld numerator since the previous publication can be derived exactly 1/);
  });

  test('holding everyone and women at their previous figures passes: their changes could be 0', async () => {
    // women's current count is unknown; 15 (no change) is consistent with everyone's, also unknown
    const r = await audit([pending('all', 30, 60), pending('female', 15, 30), row('male', 15, 30)]);
    expect(said(r)).toEqual([]);
  });

  test('a change of 11 or more may be shown', async () => {
    const r = await audit([row('all', 41, 71), row('female', 26, 41), row('male', 15, 30)]);
    expect(r.ok).toBe(true);
  });

  test('a row pending revision must show exactly the previous publication\'s figures', async () => {
    const r = await audit([pending('all', 31, 61), pending('female', 15, 30), row('male', 15, 30)]);
    expect(said(r)).toEqual(['revision all undefined: pending revision, but its figures are not those of the previous publication']);
  });
});
