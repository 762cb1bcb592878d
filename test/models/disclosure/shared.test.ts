// Counts two metrics both publish (the PHQ-9 proportions' index episodes, ED and inpatient
// member-months, ...): a denominator one metric withholds but the other shows is not
// withheld. Regression for the demo run where phq9_follow_up_rate showed male's 181
// episodes and phq9_response_rate female's 230, so the `all` row's 416 gave 5 episodes in
// the small groups.
import { afterEach, describe, expect, test } from 'vitest';
import type { Database } from '../../../models/duckdb.ts';
import { auditResults, suppress, type AuditRow } from '../../../models/disclosure/index.ts';
import { pick, readResults, resultsDb, testMetric, type ResultInput } from './resultsTable.ts';

const A = testMetric('a_follow_up', 'proportion', { additive: false });
const B = testMetric('b_response', 'proportion', { additive: false });
const MONTHS = ['2025-01-01', '2025-02-01', '2025-03-01', '2025-04-01', '2025-05-01', '2025-06-01'];
// index episodes per group (shared), and each metric's numerators
const DEN = { all: 416, female: 230, male: 181, unknown: 3, other: 2 } as const;
// a: female's complement 7 is primary, unknown and other too; hidden 223/235 (complement 12): male shown
const NUM_A = { all: 313, female: 223, male: 90, unknown: 0, other: 0 } as const;
// b: male's numerator 7 is primary, unknown and other too; hidden 12/186: female shown
const NUM_B = { all: 112, female: 100, male: 7, unknown: 3, other: 2 } as const;

// payer groups both metrics show: the rows where a reader sees the two denominators agree
const PAYER = [['commercial', 140, 105, 38], ['medicaid', 138, 104, 37], ['medicare', 138, 104, 37]] as const;

function table(): ResultInput[] {
  return MONTHS.flatMap((m) => [
    ...(Object.keys(DEN) as Array<keyof typeof DEN>).flatMap((g) => [
      { metric_id: A.id, period_grain: 'month', period_start: m, dimension: g === 'all' ? 'all' : 'sex', group_value: g, numerator: NUM_A[g], denominator: DEN[g] },
      { metric_id: B.id, period_grain: 'month', period_start: m, dimension: g === 'all' ? 'all' : 'sex', group_value: g, numerator: NUM_B[g], denominator: DEN[g] },
    ]),
    ...PAYER.flatMap(([g, d, a, b]) => [
      { metric_id: A.id, period_grain: 'month', period_start: m, dimension: 'payer', group_value: g, numerator: a, denominator: d },
      { metric_id: B.id, period_grain: 'month', period_start: m, dimension: 'payer', group_value: g, numerator: b, denominator: d },
    ]),
  ]);
}

let db: Database | null = null;
afterEach(() => {
  db?.close();
  db = null;
});

describe('shared quantities', () => {
  test('a denominator two metrics share stays hidden where either withholds it in a relation', async () => {
    db = await resultsDb(table());
    const r = await suppress(db.conn, { metrics: [A, B], threshold: 11 });
    expect(r.sharedQuantities).toEqual([['a_follow_up.denominator', 'b_response.denominator']]);
    const rows = await readResults(db);
    for (const m of MONTHS) {
      // each metric alone would show one of female / male; together they would give 416 - 230 - 181 = 5
      expect(pick(rows, A.id, 'sex', 'female', 'month', m).suppressed).toBe(true);
      expect(pick(rows, A.id, 'sex', 'male', 'month', m).suppressed).toBe(true); // withheld for the shared denominator
      expect(pick(rows, B.id, 'sex', 'female', 'month', m).suppressed).toBe(false);
      expect(pick(rows, B.id, 'sex', 'male', 'month', m).suppressed).toBe(true);
    }
    expect((await auditResults(db.conn, { metrics: [A, B], threshold: 11 })).violations).toEqual([]);
  });

  test('the audit ties the shared denominator through the shown groups and proves the small counts it leaves', async () => {
    // As published without the `other` group (all: 414 episodes, a 313, b 110). Worked by hand:
    //   b shows female 230 and a shows male 181, so the shared denominator gives unknown
    //   414 - 230 - 181 = 3 episodes;
    //   a: female + unknown complements = (414 - 313) - 91 = 10 and unknown's <= 3, so female's
    //   complement (truly 7) lies in 7..10;
    //   b: male + unknown numerators = 110 - 100 = 10 and unknown's <= 3, so male's numerator
    //   (truly 7) lies in 7..10. Each metric alone leaves the female/male count 0..10: safe.
    const DEN3 = { all: 414, female: 230, male: 181, unknown: 3 } as const;
    const NUM3 = { [A.id]: { all: 313, female: 223, male: 90, unknown: 0 }, [B.id]: { all: 110, female: 100, male: 7, unknown: 3 } } as const;
    const shown = (metric: string, g: keyof typeof DEN3, hidden: boolean, m: string): AuditRow => {
      const num = NUM3[metric]![g];
      return {
        metric_id: metric, period_grain: 'month', period_start: m, dimension: g === 'all' ? 'all' : 'sex', group_value: g,
        numerator: hidden ? null : num, denominator: hidden ? null : DEN3[g], value: hidden ? null : num / DEN3[g], suppressed: hidden,
      };
    };
    const payer = (metric: string, m: string): AuditRow[] => PAYER.map(([g, d, a, b]) => ({
      metric_id: metric, period_grain: 'month', period_start: m, dimension: 'payer', group_value: g,
      numerator: metric === A.id ? a : b, denominator: d, value: (metric === A.id ? a : b) / d, suppressed: false,
    }));
    const published = MONTHS.flatMap((m) => [
      ...payer(A.id, m), ...payer(B.id, m),
      shown(A.id, 'all', false, m), shown(A.id, 'female', true, m), shown(A.id, 'male', false, m), shown(A.id, 'unknown', true, m),
      shown(B.id, 'all', false, m), shown(B.id, 'female', false, m), shown(B.id, 'male', true, m), shown(B.id, 'unknown', true, m),
    ]);
    // each metric on its own passes
    expect((await auditResults(published.filter((r) => r.metric_id === A.id), { metrics: [A, B], threshold: 11 })).ok).toBe(true);
    expect((await auditResults(published.filter((r) => r.metric_id === B.id), { metrics: [A, B], threshold: 11 })).ok).toBe(true);
    const both = await auditResults(published, { metrics: [A, B], threshold: 11 });
    expect(both.ok).toBe(false);
    const found = both.violations.map((v) => `${v.relation} ${v.metric_id} ${v.period_start} ${v.group_value} ${v.count} ${v.low}..${v.high}`).sort();
    expect(found).toEqual(MONTHS.flatMap((m) => [`disclosure ${A.id} ${m} female C 7..10`, `disclosure ${A.id} ${m} unknown D 3..3`,
      `disclosure ${B.id} ${m} male N 7..10`, `disclosure ${B.id} ${m} unknown D 3..3`]).sort());
  });

  test('a few equal values are coincidence, not a shared quantity', async () => {
    db = await resultsDb(table().filter((r) => r.period_start === MONTHS[0]));
    const r = await suppress(db.conn, { metrics: [A, B], threshold: 11 });
    expect(r.sharedQuantities).toEqual([]);
  });
});
