// End to end on the default demo drop (20,000 people, seed 42): the planted disparities
// are flagged (the AHRQ rule and q < 0.05, against the default references), the planted
// null group is not (q >= 0.05), unknown is never a reference, and the published results
// pass the independent suppression audit with no shown count in 1..10.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDemo } from '../../pipelines/demo/generate.ts';
import { NULL_GROUPS, PLANTED } from '../../pipelines/demo/planted.ts';
import { metricById } from '../../models/metrics/catalog.ts';
import { tempStore, type TempStore } from '../helpers/store.ts';

let store: TempStore;
beforeAll(async () => {
  store = tempStore('closeloop-demo-');
  await generateDemo({ people: 20_000, seed: 42, outDir: store.inbox });
  const s = await store.run();
  expect(s.status).toBe('published');
}, 300_000);
afterAll(() => store.cleanup());

interface Row {
  group_value: string; reference_group: string | null; p_value: number | null; q_value: number | null; disparity_flag: boolean | null;
  disparity_flag_unadjusted: boolean | null; suppressed: boolean;
}

const allPeriodRow = async (metric: string, dimension: string, group: string) =>
  (await store.published<Row>(`SELECT group_value, reference_group, p_value, q_value, disparity_flag, disparity_flag_unadjusted, suppressed FROM metric_results
    WHERE metric_id = '${metric}' AND period_grain = 'all' AND dimension = '${dimension}' AND group_value = '${group}'`))[0];

describe('the default demo, end to end', () => {
  it.each(PLANTED.filter((p) => p.flagged).map((p) => [`${p.metric} ${p.dimension}=${p.group}`, p] as const))('flags the planted disparity %s', async (_, p) => {
    const r = await allPeriodRow(p.metric, p.dimension, p.group);
    // issue 15: the flag is the AHRQ rule and q < 0.05
    expect(r).toMatchObject({ suppressed: false, disparity_flag: true, disparity_flag_unadjusted: true });
    expect(r!.p_value!).toBeLessThan(0.05);
    expect(r!.q_value!).toBeLessThan(0.05);
    // the reference: AHRQ's default where the dimension has one, else the most favourable
    // whole-span rate among groups of 30 or more (never unknown), computed here from the rows
    if (NAMED.has(p.dimension)) expect(r!.reference_group).toBe(p.reference);
    else expect(r!.reference_group).toBe(await mostFavourable(p.metric, p.dimension));
  });

  it('does not find a difference where none was planted: q >= 0.05 and no flag, whichever sex is the reference', async () => {
    for (const g of NULL_GROUPS) {
      for (const metric of g.metrics) {
        const reference = (await allPeriodRow(metric, g.dimension, g.group))!.reference_group;
        expect(reference, metric).toBe(await mostFavourable(metric, g.dimension));
        for (const group of [g.group, g.reference].filter((x) => x !== reference)) {
          const r = await allPeriodRow(metric, g.dimension, group);
          expect(r, `${metric} ${g.dimension}=${group}`).toBeDefined();
          expect(r!.q_value!, `${metric} ${group}: q`).toBeGreaterThanOrEqual(0.05);
          expect(r!.disparity_flag, `${metric} ${group}`).toBe(false);
        }
      }
    }
  });

  it('issue 15: unknown is never a reference, and a series keeps one reference through every period and grain', async () => {
    const bad = await store.published<{ n: number }>(`SELECT count(*) AS n FROM metric_results WHERE list_contains(string_split(reference_group, '*'), 'unknown')`);
    expect(bad[0]!.n).toBe(0);
    const changing = await store.published<{ n: number }>(`SELECT count(*) AS n FROM (
      SELECT metric_id, dimension FROM metric_results WHERE reference_group IS NOT NULL GROUP BY ALL HAVING count(DISTINCT reference_group) > 1)`);
    expect(changing[0]!.n).toBe(0);
  });

  it('issue 15: no flag without q < 0.05; the AHRQ rule alone is kept apart', async () => {
    const r = await store.published<{ adjusted: number; unadjusted: number; wrong: number }>(`SELECT
      count(*) FILTER (WHERE disparity_flag) AS adjusted, count(*) FILTER (WHERE disparity_flag_unadjusted) AS unadjusted,
      count(*) FILTER (WHERE disparity_flag AND NOT (q_value < 0.05 AND disparity_flag_unadjusted)) AS wrong
      FROM metric_results`);
    expect(r[0]!.wrong).toBe(0);
    expect(r[0]!.adjusted).toBeLessThan(r[0]!.unadjusted);
  });

  it('issue 15: a withheld row shows neither its reliability nor the unadjusted flag; every row has a period status', async () => {
    const r = await store.published<{ leaks: number; no_status: number }>(`SELECT
      count(*) FILTER (WHERE suppressed AND (unreliable IS NOT NULL OR disparity_flag_unadjusted IS NOT NULL)) AS leaks,
      count(*) FILTER (WHERE period_status NOT IN ('final', 'provisional', 'partial') OR period_status IS NULL) AS no_status
      FROM metric_results`);
    expect(r[0]).toEqual({ leaks: 0, no_status: 0 });
  });

  it('shows no count from 1 to 10 anywhere in the results', async () => {
    const bad = await store.published<{ n: number }>(`SELECT count(*) AS n FROM metric_results m
      WHERE NOT suppressed AND (numerator BETWEEN 0.5 AND 10.5 AND metric_id <> 'paid_pmpm'
        OR (denominator BETWEEN 0.5 AND 10.5 AND metric_id NOT IN ('demand_capacity_ratio'))
        OR (metric_id IN (SELECT DISTINCT metric_id FROM metric_results WHERE ci_low IS NOT NULL) AND denominator - numerator BETWEEN 0.5 AND 10.5
            AND metric_id NOT IN ('paid_pmpm', 'demand_capacity_ratio', 'phq9_mean_change', 'ed_visits_per_1000_mm', 'inpatient_admits_per_1000_mm',
              'ed_visits_pre_referral_per_1000_mm', 'ed_visits_post_referral_per_1000_mm', 'inpatient_pre_referral_per_1000_mm', 'inpatient_post_referral_per_1000_mm')))`);
    expect(bad[0]!.n).toBe(0);
  });
});

/** The dimensions with an AHRQ default reference (models/config.ts). */
const NAMED = new Set(['race_ethnicity', 'payer', 'preferred_language', 'limited_english', 'rurality']);

/** The most favourable whole-span group of 30 or more (not unknown), by the metric's direction; ties to the larger group, then byte order. */
async function mostFavourable(metric: string, dimension: string): Promise<string> {
  const lower = metricById(metric).direction === 'lower_better';
  const r = await store.published<{ g: string }>(`SELECT group_value AS g FROM metric_results
    WHERE metric_id = '${metric}' AND period_grain = 'all' AND dimension = '${dimension}' AND denominator >= 30 AND group_value <> 'unknown' AND NOT suppressed
    ORDER BY numerator / denominator ${lower ? 'ASC' : 'DESC'}, denominator DESC, group_value LIMIT 1`);
  return r[0]!.g;
}
