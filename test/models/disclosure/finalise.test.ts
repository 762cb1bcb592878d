// The publish step end to end on a small table: comparisons -> suppression -> derived
// figures -> disparity_summary over the shown groups -> audit; and the catalog mapping.
import { afterEach, describe, expect, test } from 'vitest';
import { rows, type Database } from '../../../models/duckdb.ts';
import { finaliseResults, metricMeta } from '../../../models/disclosure/index.ts';
import { METRICS, metricById } from '../../../models/metrics/catalog.ts';
import { expectClose, loadReferenceRows } from '../stats/referenceCsv.ts';
import { pick, readResults, resultsDb, testMetric, type ResultInput } from './resultsTable.ts';

let db: Database | null = null;
afterEach(() => {
  db?.close();
  db = null;
});

const g = (metric_id: string, dimension: string, group_value: string, numerator: number, denominator: number): ResultInput =>
  ({ metric_id, dimension, group_value, numerator, denominator });

describe('finaliseResults', () => {
  test('summaries over the shown groups (R reference values), statistics withheld where the reference is suppressed, audit passes', async () => {
    // lower is better: the adverse scale is the published one, so R's reference values apply as they are
    const low = { direction: 'lower_better' as const };
    const metrics = [testMetric('p', 'proportion', low), testMetric('p2', 'proportion', low), testMetric('p3', 'proportion', low)];
    db = await resultsDb([
      // statistics-reference.csv: y = 0.1 (ref), 0.15, 0.05; n = 1000, 300, 300; plus `unknown`, left out of the summary
      g('p', 'all', 'all', 180, 1800), g('p', 'race_ethnicity', 'a', 100, 1000), g('p', 'race_ethnicity', 'b', 45, 300), g('p', 'race_ethnicity', 'c', 15, 300),
      g('p', 'race_ethnicity', 'unknown', 20, 200),
      // d 2/5 is primary; withheld denominator 5 -> the smallest shown denominator, b and c tie
      // at 300, b first in byte order: shown a (0.1) and c (0.05)
      g('p2', 'all', 'all', 162, 1605), g('p2', 'payer', 'a', 100, 1000), g('p2', 'payer', 'b', 45, 300), g('p2', 'payer', 'c', 15, 300), g('p2', 'payer', 'd', 2, 5),
      // named reference other 3/8 is suppressed (primary), male (200) covers it: female and unknown
      // are shown (a cut that shows fewer than two groups would not be published at all)
      g('p3', 'all', 'all', 273, 758), g('p3', 'sex', 'female', 100, 300), g('p3', 'sex', 'male', 50, 200), g('p3', 'sex', 'other', 3, 8),
      g('p3', 'sex', 'unknown', 120, 250),
    ]);
    const referenceGroups = { race_ethnicity: { group: 'a' }, payer: { group: 'a' }, sex: { group: 'other' } };
    const r = await finaliseResults(db.conn, { metrics, config: { referenceGroups, suppressionThreshold: 11 } });
    expect(r.audit).toMatchObject({ ok: true, violations: [] });
    expect(r.suppressedRows).toBe(4);
    expect(r.comparisons).toBe(3 + 3 + 3);

    const results = await readResults(db);
    expect(pick(results, 'p3', 'sex', 'female')).toMatchObject({ suppressed: false, reference_group: 'other', p_value: null, rate_difference: null, disparity_flag_unadjusted: null });
    // withheld rows keep neither their figures nor their reliability
    expect(pick(results, 'p3', 'sex', 'male')).toMatchObject({ suppressed: true, unreliable: null, disparity_flag: null, disparity_flag_unadjusted: null });
    expect(pick(results, 'p2', 'payer', 'c').p_value).not.toBeNull();

    const s = await rows<Record<string, number | string | boolean | null>>(db.conn,
      `SELECT metric_id, dimension, reference_group, reference_shown, groups_shown, index_of_disparity, between_group_variance, max_rate_difference, max_rate_ratio,
         unknown_share, period_start::VARCHAR AS period_start FROM disparity_summary ORDER BY metric_id`);
    expect(s).toHaveLength(3);
    const ref = loadReferenceRows();
    const csv = (method: string) => ref.find((x) => x.method === method && x.inputs === 'y=0.1,0.15,0.05;n=1000,300,300')!.outputs;
    const [p, p2, p3] = s as [Record<string, number>, Record<string, number>, Record<string, unknown>];
    // unknown is left out (J = 3) and reported as data completeness: 200 of 1,800
    expect(p).toMatchObject({ reference_group: 'a', reference_shown: true, groups_shown: 3, period_start: '2025-01-01' });
    expect(p.unknown_share).toBeCloseTo(200 / 1800, 12);
    expectClose(p.index_of_disparity, csv('index_of_disparity')[0]!, 'IDisp');
    // R's raw BGV less its sampling-noise part, 0.000109961 (hand-worked in disparitySummary.test.ts)
    expect(p.between_group_variance).toBeCloseTo(csv('between_group_variance')[0]! - 0.000109961, 8);
    expectClose(p.max_rate_difference, csv('max_rate_difference_ratio')[0]!, 'max difference');
    expectClose(p.max_rate_ratio, csv('max_rate_difference_ratio')[1]!, 'max ratio');
    // shown a 0.1 (n 1000, reference) and c 0.05 (n 300): IDisp = 100 x 0.05 / 1 / 0.1 = 50;
    // mu = (100 + 15) / 1300; BGV = (1000 (0.1 - mu)^2 + 300 (0.05 - mu)^2) / 1300
    const mu = 115 / 1300;
    expect(p2).toMatchObject({ reference_group: 'a', reference_shown: true, groups_shown: 2 });
    expect(p2.index_of_disparity).toBeCloseTo(50, 9);
    const noise = (1000 / 1300) * (300 / 1300) * (0.09 / 1000 + 0.0475 / 300);
    expect(p2.between_group_variance).toBeCloseTo((1000 * (0.1 - mu) ** 2 + 300 * (0.05 - mu) ** 2) / 1300 - noise, 12);
    expect(p2.max_rate_difference).toBeCloseTo(0.05, 12);
    expect(p2.max_rate_ratio).toBeCloseTo(2, 12);
    // the reference is withheld: no IDisp; one shown group (unknown is left out)
    expect(p3).toMatchObject({ reference_group: 'other', reference_shown: false, groups_shown: 1, index_of_disparity: null, between_group_variance: 0, max_rate_difference: 0, max_rate_ratio: 1 });
  });
});

describe('coarsening (issue 14): a cut that would show fewer than two groups is not published', () => {
  test('the sex cut of p (female alone shown) is removed and listed in withheld_cuts; payer stays', async () => {
    // sex: other 3/8 is primary; the complement must hide male (no other group is small):
    // female alone would be shown, comparing nothing. payer: a, b, c shown (d 0/0 has nobody).
    db = await resultsDb([
      g('p', 'all', 'all', 153, 508), g('p', 'sex', 'female', 100, 300), g('p', 'sex', 'male', 50, 200), g('p', 'sex', 'other', 3, 8),
      g('p', 'payer', 'a', 60, 200), g('p', 'payer', 'b', 50, 150), g('p', 'payer', 'c', 43, 158),
    ]);
    const r = await finaliseResults(db.conn, { metrics: [testMetric('p', 'proportion')], config: { referenceGroups: {}, suppressionThreshold: 11 } });
    expect(r.audit.ok).toBe(true);
    expect(r.surface.coarsened).toEqual([{ metric: 'p', grain: 'all', dimension: 'sex' }]);
    const cuts = await rows<{ dimension: string; reason: string }>(db.conn, 'SELECT dimension, reason FROM withheld_cuts');
    expect(cuts).toEqual([{ dimension: 'sex', reason: 'fewer than two groups could be shown in most periods' }]);
    const published = await readResults(db);
    expect(published.filter((x) => x.dimension === 'sex')).toEqual([]);
    // the frame: the contract's payers as zero rows beside the groups with people
    expect(published.filter((x) => x.dimension === 'payer' && !x.suppressed && Number(x.denominator) > 0).map((x) => x.group_value).sort()).toEqual(['a', 'b', 'c']);
    expect(published.filter((x) => x.dimension === 'payer' && x.group_value === 'medicaid')).toMatchObject([{ numerator: 0, denominator: 0, suppressed: false }]);
  });
});

describe('finaliseResults on nothing', () => {
  test('an empty results table, or none at all, publishes nothing and passes', async () => {
    db = await resultsDb([]);
    const metrics = [testMetric('p', 'proportion')];
    const config = { referenceGroups: {}, suppressionThreshold: 11 };
    expect(await finaliseResults(db.conn, { metrics, config })).toMatchObject({ comparisons: 0, suppressedRows: 0, summaries: 0, audit: { ok: true, rows: 0 } });
    await db.conn.run('DROP TABLE metric_results');
    expect((await finaliseResults(db.conn, { metrics, config })).audit).toMatchObject({ ok: true, rows: 0 });
    await expect(finaliseResults(db.conn, { metrics, config: { ...config, suppressionThreshold: 5 } })).rejects.toThrow(/at least 11/);
  });
});

describe('catalog mapping (models/metrics/catalog.ts -> metricMeta)', () => {
  test('kind, direction, dollar numerator, counted unit and additivity come from the catalog entry', () => {
    const m = (id: string) => metricMeta(metricById(id));
    expect(m('referral_acceptance_rate')).toMatchObject({ kind: 'proportion', direction: 'higher_better', dollarNumerator: false });
    expect(m('referral_acceptance_rate').groupsSumToAll('target_org_id')).toBe(true);
    expect(m('referral_acceptance_rate').groupsSumToAll('domain')).toBe(true);
    expect(m('unmet_need_rate').groupsSumToAll('domain')).toBe(true); // positive need
    expect(m('screen_positive_rate').groupsSumToAll('domain')).toBe(false); // person: several domains
    expect(m('screen_positive_rate').additiveOverTime('all')).toBe(false); // people in the period
    expect(m('paid_pmpm')).toMatchObject({ kind: 'rate', dollarNumerator: true });
    expect(m('ed_visits_per_1000_mm')).toMatchObject({ kind: 'rate', direction: 'lower_better', dollarNumerator: false });
    expect(m('ed_visits_per_1000_mm').additiveOverTime('race_ethnicity')).toBe(true);
    expect(m('ed_visits_per_1000_mm').additiveOverTime('age_band')).toBe(false); // ages at the period's end
    expect(m('stale_open_referrals').kind).toBe('count');
    expect(m('demand_capacity_ratio').kind).toBe('ratio');
    // every catalog entry maps
    for (const entry of METRICS) expect(metricMeta(entry).id).toBe(entry.id);
  });
});

describe('the disclosure policy setting (issue 14)', () => {
  test('cms withholds 1..10 and refuses another threshold; custom takes a higher one, never a lower', async () => {
    const { ConfigSchema } = await import('../../../models/config.ts');
    expect(ConfigSchema.parse({})).toMatchObject({ policy: 'cms', suppressionThreshold: 11 });
    const refused = ConfigSchema.safeParse({ suppressionThreshold: 20 });
    expect(refused.success ? null : refused.error.issues[0]?.message).toBe('policy "cms" withholds 1..10 (threshold 11); set "policy": "custom" to use 20');
    expect(ConfigSchema.parse({ policy: 'custom', suppressionThreshold: 20 })).toMatchObject({ policy: 'custom', suppressionThreshold: 20 });
    expect(() => ConfigSchema.parse({ policy: 'custom', suppressionThreshold: 5 })).toThrow();
  });

  test('a custom threshold of 20 withholds a count of 15 that cms shows', async () => {
    const metrics = [testMetric('p', 'proportion')];
    const input = [g('p', 'all', 'all', 200, 520), g('p', 'sex', 'female', 15, 100), g('p', 'sex', 'male', 60, 150), g('p', 'sex', 'unknown', 75, 150),
      g('p', 'sex', 'other', 50, 120)];
    db = await resultsDb(input);
    await finaliseResults(db.conn, { metrics, config: { referenceGroups: {}, suppressionThreshold: 11 } });
    expect(pick(await readResults(db), 'p', 'sex', 'female').suppressed).toBe(false);
    db.close();
    db = await resultsDb(input);
    await finaliseResults(db.conn, { metrics, config: { referenceGroups: {}, suppressionThreshold: 20 } });
    expect(pick(await readResults(db), 'p', 'sex', 'female').suppressed).toBe(true);
  });
});
