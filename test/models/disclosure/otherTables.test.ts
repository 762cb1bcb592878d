// The other published aggregates follow the results table's suppression: the gap table and
// the pre/post summary (schemas as models/metrics writes them); Kaplan-Meier curves in kmGrid.test.ts.
import { afterEach, describe, expect, test } from 'vitest';
import { rows, type Database } from '../../../models/duckdb.ts';
import { suppressGapTable, suppressPrePost } from '../../../models/disclosure/index.ts';
import { metricById } from '../../../models/metrics/catalog.ts';
import { resultsDb, type ResultInput } from './resultsTable.ts';

let db: Database | null = null;
afterEach(() => {
  db?.close();
  db = null;
});

describe('gap_table', () => {
  const cell = (metric_id: string, group_value: string, numerator: number, denominator: number | null, suppressed: boolean): ResultInput =>
    ({ metric_id, dimension: 'domain*county_fips', group_value, numerator: suppressed ? null : numerator, denominator: suppressed ? null : denominator, suppressed });

  test('figures of suppressed results cells withheld; rank never places a withheld cell among shown ones', async () => {
    db = await resultsDb([
      cell('positive_needs', 'food*37001', 80, null, false), cell('unmet_need_rate', 'food*37001', 30, 70, false),
      cell('positive_needs', 'housing*37001', 40, null, false), cell('unmet_need_rate', 'housing*37001', 25, 35, true),
      cell('positive_needs', 'food*37003', 20, null, false), cell('unmet_need_rate', 'food*37003', 12, 18, false),
    ]);
    await db.conn.run(`CREATE TABLE gap_table AS SELECT * FROM (VALUES
      (1, 'food', '37001', 80, 70, 40, 30, 30.0 / 70, 0.3, 0.5, 3, 20, 0.15, 120.0, 0.6, NULL, 2, 0, 10.0, 'A | B', 'r', DATE '2025-12-31'),
      (2, 'housing', '37001', 40, 35, 10, 25, 25.0 / 35, 0.5, 0.8, NULL, NULL, NULL, 0.0, NULL, 'no provider', 0, 0, NULL, NULL, 'r', DATE '2025-12-31'),
      (3, 'food', '37003', 20, 18, 6, 12, 12.0 / 18, 0.4, 0.8, 0, 0, NULL, 60.0, 0.3, NULL, 1, 0, 5.0, 'A', 'r', DATE '2025-12-31')
    ) t(rank, domain, county_fips, positive_needs, needs_measurable, needs_met, unmet_needs, unmet_need_rate, unmet_ci_low, unmet_ci_high,
        no_capacity_referrals, closed_not_met_referrals, capacity_rejection_share, capacity_months, demand_capacity_ratio, capacity_note,
        serving_programs, programs_capacity_unknown, known_monthly_capacity, programs, run_id, as_of)`);
    expect(await suppressGapTable(db.conn, 11, 'metric_results')).toBe(3);
    const t = await rows(db.conn, `SELECT rank, domain, county_fips, positive_needs, needs_met, unmet_needs, unmet_need_rate, no_capacity_referrals, serving_programs, suppressed
      FROM gap_table ORDER BY rank`);
    expect(t).toEqual([
      // housing's unmet figures come from a suppressed results row; food 37003's needs_met
      // 6 and food 37001's 3 no-capacity referrals are small counts in the table itself
      { rank: 1, domain: 'food', county_fips: '37001', positive_needs: 80, needs_met: 40, unmet_needs: 30, unmet_need_rate: 30 / 70, no_capacity_referrals: null, serving_programs: 2, suppressed: true },
      // withheld unmet figures: after the shown ones, by domain then county
      { rank: 2, domain: 'food', county_fips: '37003', positive_needs: 20, needs_met: null, unmet_needs: null, unmet_need_rate: null, no_capacity_referrals: 0, serving_programs: 1, suppressed: true },
      { rank: 3, domain: 'housing', county_fips: '37001', positive_needs: 40, needs_met: null, unmet_needs: null, unmet_need_rate: null, no_capacity_referrals: null, serving_programs: 0, suppressed: true },
    ]);
  });

  test('a column without a disclosure rule stops the publish', async () => {
    db = await resultsDb([]);
    await db.conn.run(`CREATE TABLE gap_table AS SELECT 1 AS rank, 'food' AS domain, '37001' AS county_fips, 4 AS people_waiting`);
    await expect(suppressGapTable(db.conn, 11, 'metric_results')).rejects.toThrow(/people_waiting has no disclosure rule/);
  });
});

describe('prepost_summary', () => {
  test('linked results suppression, small people counts, complementary over groups; both measures together', async () => {
    const ed = metricById('ed_visits_pre_referral_per_1000_mm');
    db = await resultsDb([
      { metric_id: ed.id, dimension: 'sex', group_value: 'male', suppressed: true },
      { metric_id: ed.id, dimension: 'sex', group_value: 'female', numerator: 40, denominator: 300 },
    ]);
    const line = (measure: string, dimension: string, group: string, people: number, pre: number, post: number) =>
      `('${measure}', DATE '2024-01-01', DATE '2025-12-31', '${dimension}', '${group}', ${people}, ${pre}.0, ${people * 6}.0, ${post}.0, ${people * 6}.0, 1.0, 1.0, 1.0, 0.5, 2.0, 0.9, 'r', DATE '2025-12-31')`;
    const groups: Array<[string, string, number]> = [
      ['all', 'all', 200], ['sex', 'female', 120], ['sex', 'male', 80],
      ['payer', 'commercial', 100], ['payer', 'medicaid', 92], ['payer', 'medicare', 8],
      ['rurality', 'urban', 150], ['rurality', 'rural', 50],
    ];
    await db.conn.run(`CREATE TABLE prepost_summary AS SELECT * FROM (VALUES ${groups.flatMap(([d, g, n]) => [line('ed_visits', d, g, n, 40, 30), line('inpatient_admits', d, g, n, 12, 11)]).join(', ')})
      t(measure, period_start, period_end, dimension, group_value, people, pre_events, pre_member_months, post_events, post_member_months,
        pre_rate_per_1000, post_rate_per_1000, rate_ratio, rr_ci_low, rr_ci_high, p_value, run_id, as_of)`);
    await suppressPrePost(db.conn, { metrics: [ed], threshold: 11 }, 'metric_results');
    const t = await rows<{ measure: string; dimension: string; group_value: string; people: number | null; rate_ratio: number | null; suppressed: boolean }>(db.conn,
      `SELECT measure, dimension, group_value, people, rate_ratio, suppressed FROM prepost_summary ORDER BY dimension, group_value, measure`);
    const sup = t.filter((r) => r.suppressed).map((r) => `${r.measure} ${r.dimension}=${r.group_value}`);
    // sex=male: its ed pre row is suppressed in the results -> female too (one withheld part
    // under the shown all row); payer=medicare: 8 people -> medicaid (92, the next smallest)
    expect(sup).toEqual([
      'ed_visits payer=medicaid', 'inpatient_admits payer=medicaid', 'ed_visits payer=medicare', 'inpatient_admits payer=medicare',
      'ed_visits sex=female', 'inpatient_admits sex=female', 'ed_visits sex=male', 'inpatient_admits sex=male',
    ]);
    for (const r of t.filter((x) => x.suppressed)) expect(r).toMatchObject({ people: null, rate_ratio: null });
    expect(t.find((r) => r.group_value === 'rural')).toMatchObject({ people: 50, suppressed: false });
  });
});
