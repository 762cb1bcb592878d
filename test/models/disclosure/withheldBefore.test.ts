// Issue 14, consecutive publications: the change of a count that an earlier publication
// withheld. The attacker: an evaluator holding both publications. Publication 1 withheld
// women's count of positive needs at the whole span but showed their 2025 figure (11) and
// the totals; the other groups' figures leave the span count in 11..15, which its own audit
// lets stand (the range reaches 11). Publication 2 shows it as 16: the change lies in 1..5.
// Or publication 2 withholds it again, but the revised 2025 figure (16) puts it in 16..20:
// the change lies in 1..9. The audit compared with the figures shown before only; it now also
// takes the truth of what was withheld before (the store's history, revisions.ts).
//
// Publication 1's range (11..15) is worked out by brute force over every table of whole
// numbers that agrees with what was published, not by the audit; the others by hand.
import { describe, expect, it } from 'vitest';
import { auditResults, type AuditRow } from '../../../models/disclosure/audit.ts';
import type { MetricMeta } from '../../../models/disclosure/metricMeta.ts';

const META: MetricMeta = { id: 'needs', kind: 'count', direction: 'lower_better', dollarNumerator: false, additiveOverTime: () => true, groupsSumToAll: () => true };
const METAS = [META];

const row = (grain: string, start: string, group: string, x: number | null): AuditRow => ({
  metric_id: 'needs', period_grain: grain, period_start: start, dimension: group === 'all' ? 'all' : 'sex', group_value: group,
  numerator: x, denominator: null, value: x, suppressed: x === null,
});
/** One publication: [group, span, 2025, 2026] with null for withheld. */
const publication = (figs: Array<[string, number | null, number | null, number | null]>): AuditRow[] =>
  figs.flatMap(([g, span, y25, y26]) => [row('all', '2025-01-01', g, span), row('year', '2025-01-01', g, y25), row('year', '2026-01-01', g, y26)]);

// publication 1: everyone 50 (30 in 2025, 20 in 2026); women 11 in 2025; other 35 over the span
const P1 = publication([['all', 50, 30, 20], ['female', null, 11, null], ['male', null, null, null], ['other', 35, null, null]]);
/** Its truth: women 13 (11 + 2), men 2 (1 + 1), other 35 (18 + 17). */
const TRUTH1 = publication([['all', 50, 30, 20], ['female', 13, 11, 2], ['male', 2, 1, 1], ['other', 35, 18, 17]]);

/** Every whole-number table agreeing with publication 1: the women's span count each allows. */
function womenSpanRange(): [number, number] {
  const found: number[] = [];
  // unknowns: women 2026 (f26), men 2025 and 2026 (m25, m26); the rest follows from the sums
  for (let f26 = 0; f26 <= 50; f26++) {
    for (let m25 = 0; m25 <= 50; m25++) {
      for (let m26 = 0; m26 <= 50; m26++) {
        const o25 = 30 - 11 - m25;
        const o26 = 20 - f26 - m26;
        const f = 11 + f26;
        const m = m25 + m26;
        if (o25 < 0 || o26 < 0 || o25 + o26 !== 35 || f + m + 35 !== 50) continue;
        found.push(f);
      }
    }
  }
  return [Math.min(...found), Math.max(...found)];
}

const female = (r: Awaited<ReturnType<typeof auditResults>>) =>
  r.violations.filter((v) => v.group_value === 'female' && v.period_grain === 'all').map((v) => v.message);

describe('the change of a count the last publication withheld', () => {
  it('publication 1 alone: the women\'s span count is in 11..15 (brute force), which its audit lets stand', async () => {
    expect(womenSpanRange()).toEqual([11, 15]);
    const r = await auditResults(P1, { metrics: METAS, threshold: 11 });
    expect(r.violations).toEqual([]);
  });

  it('shown as 16 in publication 2: a change in 1..5, found only with the truth withheld before', async () => {
    // the whole span only: everyone 62, women 16, men 0, other 46 (each shown figure moved by 11 or more)
    const P2 = [row('all', '2025-01-01', 'all', 62), row('all', '2025-01-01', 'female', 16), row('all', '2025-01-01', 'male', null), row('all', '2025-01-01', 'other', 46)];
    const alone = await auditResults(P2, { metrics: METAS, threshold: 11, previous: P1 });
    expect(female(alone)).toEqual([]);
    const r = await auditResults(P2, { metrics: METAS, threshold: 11, previous: P1, withheldBefore: TRUTH1.filter((t) => P1.find((p) => p.period_start === t.period_start && p.period_grain === t.period_grain && p.group_value === t.group_value)!.suppressed) });
    expect(female(r)).toEqual(['count changed by 3 since the last publication withheld it (13 then, withheld, 16 now): a change in 1..10']);
  });

  it('withheld again, in 16..20 now: a change in 1..9, found only with the truth withheld before', async () => {
    // 2025 revised: everyone 35, women 16; the span: everyone 55, other 35, so women + men = 20
    const P2 = publication([['all', 55, 35, 20], ['female', null, 16, null], ['male', null, null, null], ['other', 35, null, null]]);
    const withheld = TRUTH1.filter((t) => P1.find((p) => p.period_start === t.period_start && p.period_grain === t.period_grain && p.group_value === t.group_value)!.suppressed);
    const alone = await auditResults(P2, { metrics: METAS, threshold: 11, previous: P1 });
    expect(female(alone)).toEqual([]);
    // the truth now: women 18 (16 + 2); the attacker's range 16..20 (as 11..15 before, shifted by the revised 5)
    const r = await auditResults(P2, { metrics: METAS, threshold: 11, previous: P1, withheldBefore: withheld });
    // taking the 13 as known, the change is 16 - 13 .. 20 - 13
    expect(female(r)).toEqual(['the change of withheld count since the last publication withheld it can be derived within 3..7']);
  });

  it('a change of 0 or of 11 or more from what was withheld is fine', async () => {
    const withheld = TRUTH1.filter((t) => t.group_value === 'female' && t.period_grain === 'all');
    for (const [x, bad] of [[13, false], [24, false], [2, false], [23, true], [3, true]] as const) {
      const P2 = [row('all', '2025-01-01', 'all', 50), row('all', '2025-01-01', 'female', x)];
      const r = await auditResults(P2, { metrics: METAS, threshold: 11, previous: [row('all', '2025-01-01', 'all', 50), row('all', '2025-01-01', 'female', null)], withheldBefore: withheld });
      expect(r.violations.some((v) => v.group_value === 'female' && /last publication withheld/.test(v.message)), `shown ${x}`).toBe(bad);
    }
  });
});
