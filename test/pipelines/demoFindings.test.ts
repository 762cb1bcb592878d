// End to end on the default demo drop (20,000 people, seed 42): the planted disparities
// are flagged, the planted null group is not (q >= 0.05), and the published results pass
// the independent suppression audit with no shown count in 1..10.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDemo } from '../../pipelines/demo/generate.ts';
import { NULL_GROUPS, PLANTED } from '../../pipelines/demo/planted.ts';
import { tempStore, type TempStore } from '../helpers/store.ts';

let store: TempStore;
beforeAll(async () => {
  store = tempStore('closeloop-demo-');
  await generateDemo({ people: 20_000, seed: 42, outDir: store.inbox });
  const s = await store.run();
  expect(s.status).toBe('published');
}, 300_000);
afterAll(() => store.cleanup());

interface Row { group_value: string; reference_group: string | null; p_value: number | null; q_value: number | null; disparity_flag: boolean | null; suppressed: boolean }

const allPeriodRow = async (metric: string, dimension: string, group: string) =>
  (await store.published<Row>(`SELECT group_value, reference_group, p_value, q_value, disparity_flag, suppressed FROM metric_results
    WHERE metric_id = '${metric}' AND period_grain = 'all' AND dimension = '${dimension}' AND group_value = '${group}'`))[0];

describe('the default demo, end to end', () => {
  it.each(PLANTED.filter((p) => p.flagged).map((p) => [`${p.metric} ${p.dimension}=${p.group}`, p] as const))('flags the planted disparity %s', async (_, p) => {
    const r = await allPeriodRow(p.metric, p.dimension, p.group);
    expect(r).toMatchObject({ reference_group: p.reference, suppressed: false, disparity_flag: true });
    expect(r!.p_value!).toBeLessThan(0.05);
  });

  it('does not find a difference where none was planted: q >= 0.05 and no flag', async () => {
    for (const g of NULL_GROUPS) {
      for (const metric of g.metrics) {
        const r = await allPeriodRow(metric, g.dimension, g.group);
        expect(r, `${metric} ${g.dimension}=${g.group}`).toBeDefined();
        expect(r!.reference_group).toBe(g.reference);
        expect(r!.q_value!, `${metric}: q`).toBeGreaterThanOrEqual(0.05);
        expect(r!.disparity_flag, metric).toBe(false);
      }
    }
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
