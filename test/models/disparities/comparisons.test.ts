// Disparity statistics at the results-table level (metrics.md, "Disparities"): reference
// groups, differences, ratios, intervals, p-values, q-values and the AHRQ flag, checked
// against R (test/fixtures/reference/statistics-reference.csv) and hand arithmetic.
import { afterEach, describe, expect, test } from 'vitest';
import type { Database, Row } from '../../../models/duckdb.ts';
import { computeComparisons } from '../../../models/disparities/index.ts';
import { suppress } from '../../../models/disclosure/index.ts';
import { ConfigSchema } from '../../../models/config.ts';
import { expectClose, loadReferenceRows, namedInputs } from '../stats/referenceCsv.ts';
import { pick, readResults, resultsDb, testMetric, type ResultInput } from '../disclosure/resultsTable.ts';

const PROP = testMetric('prop', 'proportion', { direction: 'higher_better' });
const PROP_LOW = testMetric('prop_low', 'proportion', { direction: 'lower_better' });
const RATE = testMetric('ed_rate', 'rate', { direction: 'lower_better' });
const DOLLARS = testMetric('pmpm', 'rate', { direction: 'lower_better', dollars: true });
const DURATION = testMetric('days', 'duration', { direction: 'lower_better' });
const METRICS = [PROP, PROP_LOW, RATE, DOLLARS, DURATION];

let db: Database | null = null;
afterEach(() => {
  db?.close();
  db = null;
});

async function run(input: ResultInput[], referenceGroups: Record<string, unknown> = {}): Promise<Row[]> {
  db = await resultsDb(input);
  await computeComparisons(db.conn, { metrics: METRICS, config: { referenceGroups: referenceGroups as never }, workers: 1 });
  return readResults(db);
}

const g = (metric: string, dimension: string, group_value: string, numerator: number, denominator: number, extra: Partial<ResultInput> = {}): ResultInput => ({
  metric_id: metric, dimension, group_value, numerator, denominator, ...extra,
});

describe('statistics against R (statistics-reference.csv)', () => {
  const ref = loadReferenceRows();
  // every group-vs-reference case of the CSV, each in its own month; the reference is named
  const cases = [...new Set(ref.filter((r) => r.method === 'newcombe_hybrid_rd').map((r) => r.inputs))];
  const rateCases = [...new Set(ref.filter((r) => r.method === 'poisson_conditional_rate_ratio').map((r) => r.inputs))];
  const month = (k: number) => `${2020 + Math.floor(k / 12)}-${String((k % 12) + 1).padStart(2, '0')}-01`;

  test('proportions: Newcombe difference, Katz ratio, Fisher or pooled z p-value', async () => {
    const rows = await run(cases.flatMap((inputs, k) => {
      const { x1, n1, x2, n2 } = namedInputs(inputs) as Record<string, number>;
      const at = { period_grain: 'month', period_start: month(k) };
      return [g('prop', 'race_ethnicity', 'ref', x2 as number, n2 as number, at), g('prop', 'race_ethnicity', 'grp', x1 as number, n1 as number, at)];
    }), { race_ethnicity: { group: 'ref' } });
    expect(cases.length).toBeGreaterThanOrEqual(10);
    cases.forEach((inputs, k) => {
      const { x1, n1, x2, n2 } = namedInputs(inputs) as Record<string, number>;
      const row = pick(rows, 'prop', 'race_ethnicity', 'grp', 'month', month(k));
      const refRow = pick(rows, 'prop', 'race_ethnicity', 'ref', 'month', month(k));
      const at = (method: string) => ref.find((r) => r.method === method && r.inputs === inputs);
      const rd = at('newcombe_hybrid_rd')!;
      expectClose(row.rate_difference as number, rd.outputs[0]!, `${inputs} difference`);
      expectClose(row.rd_ci_low as number, rd.outputs[1]!, `${inputs} difference low`);
      expectClose(row.rd_ci_high as number, rd.outputs[2]!, `${inputs} difference high`);
      const rr = at('katz_log_rr');
      if (rr) {
        expectClose(row.rate_ratio as number, rr.outputs[0]!, `${inputs} ratio`);
        expectClose(row.rr_ci_low as number, rr.outputs[1]!, `${inputs} ratio low`);
        expectClose(row.rr_ci_high as number, rr.outputs[2]!, `${inputs} ratio high`);
      } else {
        // R has no Katz row: the reference rate is 0, so the ratio is undefined
        expect(x2, inputs).toBe(0);
        expect(row.rate_ratio).toBeNull();
        expect(row.rr_ci_low).toBeNull();
      }
      // Fisher when an expected cell of the 2x2 table is below 5 (by hand), else pooled z
      const N = (n1 as number) + (n2 as number);
      const s = (x1 as number) + (x2 as number);
      const expected = [n1! * s / N, n1! * (N - s) / N, n2! * s / N, n2! * (N - s) / N];
      const method = Math.min(...expected) < 5 ? 'fisher_exact_two_sided_p' : 'pooled_z_two_sided_p';
      expectClose(row.p_value as number, at(method)!.outputs[0]!, `${inputs} ${method}`);
      // the reference's own row names it and carries nothing
      expect(refRow.reference_group).toBe('ref');
      expect(row.reference_group).toBe('ref');
      expect(refRow.rate_difference).toBeNull();
      expect(refRow.p_value).toBeNull();
      expect(refRow.disparity_flag).toBeNull();
    });
  });

  test('rates: exact conditional ratio and p (poisson.test), MOVER difference per 1000', async () => {
    const rows = await run(rateCases.flatMap((inputs, k) => {
      const { events1, time1, events2, time2 } = namedInputs(inputs) as Record<string, number>;
      const at = { period_grain: 'month', period_start: month(k) };
      return [
        g('ed_rate', 'payer', 'ref', events2!, time2!, { ...at, value: events2! / time2! * 1000 }),
        g('ed_rate', 'payer', 'grp', events1!, time1!, { ...at, value: events1! / time1! * 1000 }),
      ];
    }), { payer: { group: 'ref' } });
    rateCases.forEach((inputs, k) => {
      const row = pick(rows, 'ed_rate', 'payer', 'grp', 'month', month(k));
      const at = (method: string) => ref.find((r) => r.method === method && r.inputs === inputs);
      const rr = at('poisson_conditional_rate_ratio')!;
      expectClose(row.rate_ratio as number, rr.outputs[0]!, `${inputs} ratio`);
      expectClose(row.rr_ci_low as number, rr.outputs[1]!, `${inputs} ratio low`);
      expectClose(row.rr_ci_high as number, rr.outputs[2]!, `${inputs} ratio high`);
      expectClose(row.p_value as number, at('poisson_conditional_two_sided_p')!.outputs[0]!, `${inputs} p`);
      const mover = at('mover_rate_difference_per_1000');
      if (mover) {
        expectClose(row.rate_difference as number, mover.outputs[0]!, `${inputs} difference`);
        expectClose(row.rd_ci_low as number, mover.outputs[1]!, `${inputs} difference low`);
        expectClose(row.rd_ci_high as number, mover.outputs[2]!, `${inputs} difference high`);
      }
    });
  });
});

describe('reference group', () => {
  test('issue 14: no reference is chosen by size: the configuration refuses largest, and where no group reaches 30 none is compared', async () => {
    // A reference chosen as the largest group tells an attacker that every withheld group is
    // smaller than it (route 4). The configuration says so by name.
    const parsed = ConfigSchema.safeParse({ referenceGroups: { sex: 'largest' } });
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toContain("'largest' is not a reference choice");
    // most favourable with no group of 30 or more: no reference, no statistic (before: the larger group, male)
    const rows = await run([g('prop', 'sex', 'female', 20, 25), g('prop', 'sex', 'male', 10, 28)], { sex: 'most_favourable' });
    for (const grp of ['female', 'male']) {
      expect(pick(rows, 'prop', 'sex', grp).reference_group, grp).toBeNull();
      expect(pick(rows, 'prop', 'sex', grp).p_value, grp).toBeNull();
    }
  });

  test('issue 15: held fixed across the periods and grains of a series, chosen on the whole span', async () => {
    // whole span: female 0.6 (n 200) beats male 0.5 (n 200); in February male is better and larger,
    // yet every period compares with female
    const rows = await run([
      g('prop', 'sex', 'female', 120, 200), g('prop', 'sex', 'male', 100, 200),
      g('prop', 'sex', 'female', 80, 120, { period_grain: 'month', period_start: '2025-01-01' }),
      g('prop', 'sex', 'male', 40, 90, { period_grain: 'month', period_start: '2025-01-01' }),
      g('prop', 'sex', 'female', 40, 80, { period_grain: 'month', period_start: '2025-02-01' }),
      g('prop', 'sex', 'male', 60, 110, { period_grain: 'month', period_start: '2025-02-01' }),
      g('prop', 'sex', 'female', 120, 200, { period_grain: 'year' }), g('prop', 'sex', 'male', 100, 200, { period_grain: 'year' }),
    ]);
    for (const [grain, start] of [['all', undefined], ['year', undefined], ['month', '2025-01-01'], ['month', '2025-02-01']] as const) {
      expect(pick(rows, 'prop', 'sex', 'male', grain, start).reference_group, `${grain} ${start ?? ''}`).toBe('female');
    }
    expect(pick(rows, 'prop', 'sex', 'male', 'month', '2025-02-01').rate_difference).toBeCloseTo(60 / 110 - 0.5, 12);
  });

  test('issue 15: unknown is never the reference, however large or favourable', async () => {
    const rows = await run([
      g('prop', 'sex', 'female', 40, 80), g('prop', 'sex', 'male', 30, 80), g('prop', 'sex', 'unknown', 900, 1000),
      g('prop', 'payer', 'medicaid', 40, 80), g('prop', 'payer', 'unknown', 900, 1000),
      g('prop', 'race_ethnicity*payer', 'white*medicaid', 40, 80), g('prop', 'race_ethnicity*payer', 'unknown*medicaid', 900, 1000),
    ], { payer: 'most_favourable' });
    expect(pick(rows, 'prop', 'sex', 'unknown').reference_group).toBe('female');
    expect(pick(rows, 'prop', 'sex', 'unknown').p_value).not.toBeNull(); // compared like any group
    expect(pick(rows, 'prop', 'payer', 'unknown').reference_group).toBe('medicaid');
    expect(pick(rows, 'prop', 'race_ethnicity*payer', 'unknown*medicaid').reference_group).toBe('white*medicaid');
    await expect(computeComparisons(db!.conn, { metrics: METRICS, config: { referenceGroups: { sex: { group: 'unknown' } } }, workers: 1 }))
      .rejects.toThrow(/'unknown' cannot be a reference group/);
  });

  test('a named group, also where it is smaller; absent in a period: named, nothing compared', async () => {
    const rows = await run([
      g('prop', 'race_ethnicity', 'white', 30, 40), g('prop', 'race_ethnicity', 'black', 50, 100),
      g('prop', 'race_ethnicity', 'black', 50, 100, { period_grain: 'year' }), g('prop', 'race_ethnicity', 'asian', 20, 30, { period_grain: 'year' }),
    ], { race_ethnicity: { group: 'white' } });
    const black = pick(rows, 'prop', 'race_ethnicity', 'black');
    expect(black.reference_group).toBe('white');
    expect(black.rate_difference).toBeCloseTo(0.5 - 0.75, 12);
    const year = pick(rows, 'prop', 'race_ethnicity', 'black', 'year');
    expect(year.reference_group).toBe('white');
    expect(year.rate_difference).toBeNull();
    expect(year.p_value).toBeNull();
  });

  test('most favourable among groups with denominator >= 30: highest for higher-is-better, lowest for lower-is-better', async () => {
    const rows = await run([
      // higher is better: b (0.9, n = 29) is too small; c (0.8, n = 30) qualifies
      g('prop', 'payer', 'a', 60, 100), g('prop', 'payer', 'b', 26.1, 29), g('prop', 'payer', 'c', 24, 30),
      // lower is better: x 0.1 (n = 30) beats y 0.2 (n = 200); z 0 (n = 10) too small
      g('prop_low', 'payer', 'x', 3, 30), g('prop_low', 'payer', 'y', 40, 200), g('prop_low', 'payer', 'z', 0, 10),
    ], { payer: 'most_favourable' });
    expect(pick(rows, 'prop', 'payer', 'a').reference_group).toBe('c');
    expect(pick(rows, 'prop_low', 'payer', 'y').reference_group).toBe('x');
  });

  test('two-way cuts: the largest cell; target_org_id compared; `all`, domain cuts and durations carry nothing', async () => {
    const rows = await run([
      g('prop', 'all', 'all', 200, 400),
      g('prop', 'race_ethnicity*payer', 'black*medicaid', 30, 100), g('prop', 'race_ethnicity*payer', 'white*commercial', 60, 150),
      g('prop', 'target_org_id', 'ORG-01', 50, 100), g('prop', 'target_org_id', 'ORG-07', 20, 100),
      g('prop', 'domain', 'food', 50, 200), g('prop', 'domain', 'housing', 40, 100),
      g('prop', 'domain*county_fips', 'food*37001', 50, 200), g('prop', 'domain*county_fips', 'housing*37001', 40, 100),
      g('days', 'sex', 'female', 40, 80), g('days', 'sex', 'male', 30, 60),
    ]);
    expect(pick(rows, 'prop', 'race_ethnicity*payer', 'black*medicaid').reference_group).toBe('white*commercial');
    expect(pick(rows, 'prop', 'race_ethnicity*payer', 'black*medicaid').p_value).not.toBeNull();
    expect(pick(rows, 'prop', 'target_org_id', 'ORG-07').reference_group).toBe('ORG-01'); // tie at 100: byte order
    expect(pick(rows, 'prop', 'target_org_id', 'ORG-07').rate_difference).toBeCloseTo(-0.3, 12);
    for (const [d, v] of [['all', 'all'], ['domain', 'housing'], ['domain*county_fips', 'housing*37001']] as const) {
      const r = pick(rows, 'prop', d, v);
      expect(r.reference_group, d).toBeNull();
      expect(r.p_value, d).toBeNull();
    }
    expect(pick(rows, 'days', 'sex', 'male').reference_group).toBeNull();
    expect(pick(rows, 'days', 'sex', 'male').rate_difference).toBeNull();
  });
});

describe('zero cells and tiny groups', () => {
  test('reference rate 0: no ratio; group numerator 0: ratio 0 without interval; both 0: no ratio, p = 1', async () => {
    const rows = await run([
      g('prop', 'sex', 'female', 0, 40), g('prop', 'sex', 'male', 5, 30), g('prop', 'sex', 'unknown', 0, 10),
      g('prop', 'payer', 'big', 10, 100), g('prop', 'payer', 'none', 0, 20),
    ], { sex: { group: 'female' }, payer: { group: 'big' } });
    const male = pick(rows, 'prop', 'sex', 'male');
    expect(male.rate_ratio).toBeNull();
    expect(male.rr_ci_low).toBeNull();
    expect(male.rr_ci_high).toBeNull();
    expect(male.rate_difference).toBeCloseTo(5 / 30, 12);
    const unknown = pick(rows, 'prop', 'sex', 'unknown');
    expect(unknown.rate_ratio).toBeNull();
    expect(unknown.rate_difference).toBe(0);
    expect(unknown.p_value).toBe(1); // Fisher: only one table has these margins
    const none = pick(rows, 'prop', 'payer', 'none');
    expect(none.rate_ratio).toBe(0);
    expect(none.rr_ci_low).toBeNull();
    expect(none.rr_ci_high).toBeNull();
  });

  test('rates: a reference without events gives no ratio or upper limit (infinite), a finite lower limit', async () => {
    const rows = await run([
      g('ed_rate', 'sex', 'female', 0, 60), g('ed_rate', 'sex', 'male', 5, 50),
      g('ed_rate', 'payer', 'a', 0, 60), g('ed_rate', 'payer', 'b', 0, 50),
    ]);
    const male = pick(rows, 'ed_rate', 'sex', 'male');
    expect(male.rate_ratio).toBeNull();
    expect(male.rr_ci_high).toBeNull();
    expect(male.rr_ci_low as number).toBeGreaterThan(0);
    expect(male.rate_difference).toBeCloseTo(100, 9); // (5/50 - 0/60) x 1000
    const b = pick(rows, 'ed_rate', 'payer', 'b');
    expect(b.rate_ratio).toBeNull();
    expect(b.p_value).toBeNull(); // no events at all: poisson.test has nothing to condition on
    expect(b.rate_difference).toBe(0);
    expect(b.disparity_flag).toBe(false);
  });

  test('a tiny group is compared before suppression (Fisher), then withheld with its row', async () => {
    const metrics = [PROP];
    db = await resultsDb([g('prop', 'all', 'all', 52, 103), g('prop', 'sex', 'female', 50, 100), g('prop', 'sex', 'male', 2, 3)]);
    await computeComparisons(db.conn, { metrics, config: { referenceGroups: {} }, workers: 1 });
    const before = pick(await readResults(db), 'prop', 'sex', 'male');
    // 2/3 vs 50/100: expected cell 3 x 51 / 103 = 1.49 < 5, so Fisher. Hypergeometric, 52
    // successes and 51 failures, 3 drawn, C(103,3) = 176851: P(0..3) = 20825, 66300, 67626,
    // 22100 / 176851; the observed P(2) is the largest, so every table counts: p = 1
    expect(before.p_value as number).toBeCloseTo(1, 9);
    expect(before.rate_difference as number).toBeCloseTo(2 / 3 - 0.5, 12);
    await suppress(db.conn, { metrics, threshold: 11 });
    const after = await readResults(db);
    expect(pick(after, 'prop', 'sex', 'male')).toMatchObject({ suppressed: true, p_value: null, rate_difference: null, numerator: null, reference_group: 'female' });
  });
});

describe('the AHRQ flag on the adverse scale', () => {
  test('lower is better: a higher rate is flagged, a lower one is not', async () => {
    const rows = await run([
      g('ed_rate', 'sex', 'female', 100, 2000), g('ed_rate', 'sex', 'male', 150, 1500), g('ed_rate', 'sex', 'unknown', 20, 1000),
      g('prop_low', 'payer', 'a', 100, 1000), g('prop_low', 'payer', 'b', 150, 900), g('prop_low', 'payer', 'c', 50, 900),
    ], { payer: { group: 'a' } });
    expect(pick(rows, 'ed_rate', 'sex', 'male').disparity_flag).toBe(true); // 100 vs 50 per 1000 mm
    expect(pick(rows, 'ed_rate', 'sex', 'unknown').p_value as number).toBeLessThan(0.05);
    expect(pick(rows, 'ed_rate', 'sex', 'unknown').disparity_flag).toBe(false); // better than the reference
    expect(pick(rows, 'prop_low', 'payer', 'b').disparity_flag).toBe(true);
    expect(pick(rows, 'prop_low', 'payer', 'c').disparity_flag).toBe(false);
  });

  test('higher is better: adverse = 1 - rate, so a lower proportion is flagged', async () => {
    const rows = await run([g('prop', 'sex', 'female', 800, 1000), g('prop', 'sex', 'male', 650, 900), g('prop', 'sex', 'unknown', 880, 950)]);
    expect(pick(rows, 'prop', 'sex', 'male').disparity_flag).toBe(true);
    expect(pick(rows, 'prop', 'sex', 'unknown').disparity_flag).toBe(false);
  });

  test('exactly 10% worse is flagged, just under is not (with p < 0.05 for both)', async () => {
    const rows = await run([
      // lower is better: adverse 0.10 vs 0.11 (10% worse) and 0.1099
      g('prop_low', 'payer', 'ref', 1000, 10000), g('prop_low', 'payer', 'at', 1100, 10000), g('prop_low', 'payer', 'under', 1099, 10000),
      // higher is better: adverse 1 - 0.90 = 0.10 vs 1 - 0.89 = 0.11
      g('prop', 'payer', 'ref', 9000, 10000), g('prop', 'payer', 'at', 8900, 10000), g('prop', 'payer', 'under', 8901, 10000),
    ], { payer: { group: 'ref' } });
    for (const m of ['prop_low', 'prop']) {
      // pooled z by hand: p1 = 0.11, p2 = 0.10, pooled 0.105, SE = sqrt(0.105 x 0.895 x 2/10000) = 0.004335,
      // z = 2.307, p = 0.021; 0.1099: z = 2.284, p = 0.022
      expect(pick(rows, m, 'payer', 'at').p_value as number).toBeCloseTo(0.0210, 3);
      expect(pick(rows, m, 'payer', 'under').p_value as number).toBeCloseTo(0.0224, 3);
      expect(pick(rows, m, 'payer', 'at').disparity_flag, m).toBe(true);
      expect(pick(rows, m, 'payer', 'under').disparity_flag, m).toBe(false);
    }
  });

  test('not flagged without p < 0.05, however large the gap', async () => {
    const rows = await run([g('prop', 'sex', 'female', 9, 10), g('prop', 'sex', 'male', 1, 3)], { sex: { group: 'female' } });
    const male = pick(rows, 'prop', 'sex', 'male');
    expect(male.p_value as number).toBeGreaterThan(0.05);
    expect(male.disparity_flag).toBe(false);
  });

  test('reference without adverse outcomes: any adverse rate in the group is infinitely worse', async () => {
    const rows = await run([g('prop_low', 'sex', 'female', 0, 200), g('prop_low', 'sex', 'male', 12, 100)]);
    expect(pick(rows, 'prop_low', 'sex', 'male').disparity_flag).toBe(true);
  });
});

describe('paid_pmpm: a dollar rate', () => {
  test('reference group, plain difference and ratio in the value unit; no interval, p, q or flag', async () => {
    const rows = await run([g('pmpm', 'sex', 'female', 50000, 1000), g('pmpm', 'sex', 'male', 36000, 600)]);
    const male = pick(rows, 'pmpm', 'sex', 'male');
    expect(male.reference_group).toBe('female');
    expect(male.rate_difference).toBeCloseTo(60 - 50, 9);
    expect(male.rate_ratio).toBeCloseTo(1.2, 12);
    for (const c of ['rd_ci_low', 'rd_ci_high', 'rr_ci_low', 'rr_ci_high', 'p_value', 'q_value', 'disparity_flag']) expect(male[c], c).toBeNull();
  });
});

describe('Benjamini-Hochberg q-values', () => {
  const base = [
    g('prop', 'sex', 'female', 500, 1000), g('prop', 'sex', 'male', 430, 900), g('prop', 'sex', 'unknown', 40, 100),
    g('prop', 'payer', 'commercial', 500, 1000), g('prop', 'payer', 'medicaid', 300, 700),
    g('prop', 'race_ethnicity*payer', 'white*commercial', 300, 600), g('prop', 'race_ethnicity*payer', 'black*medicaid', 120, 300),
    g('prop', 'target_org_id', 'ORG-01', 300, 500), g('prop', 'target_org_id', 'ORG-02', 150, 400),
    // another period: its own family
    g('prop', 'sex', 'female', 50, 100, { period_grain: 'year' }), g('prop', 'sex', 'male', 20, 80, { period_grain: 'year' }),
  ];
  const extra = [g('prop', 'sex*payer', 'female*commercial', 300, 500), g('prop', 'sex*payer', 'male*medicaid', 10, 300)];

  /** R's p.adjust(method = "BH"), written out for the test. */
  function bh(p: number[]): number[] {
    const m = p.length;
    const order = p.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
    const q = new Array<number>(m);
    let min = 1;
    for (let k = m - 1; k >= 0; k--) {
      const [v, i] = order[k]!;
      min = Math.min(min, (v * m) / (k + 1));
      q[i] = min;
    }
    return q;
  }

  test('over every comparison of the metric, grain and period in the default family; an extra two-way cut does not join', async () => {
    const without = await run(base);
    db?.close();
    const withExtra = await run([...base, ...extra]);
    const family = withExtra.filter((r) => r.period_grain === 'all' && r.p_value !== null && r.dimension !== 'sex*payer');
    expect(family).toHaveLength(5);
    const q = bh(family.map((r) => r.p_value as number));
    family.forEach((r, k) => expect(r.q_value as number).toBeCloseTo(q[k]!, 12));
    // the extra cut's comparisons have statistics but no q, and leave the family's q as they were
    const extraRow = pick(withExtra, 'prop', 'sex*payer', 'male*medicaid');
    expect(extraRow.p_value as number).toBeLessThan(1e-10);
    expect(extraRow.q_value).toBeNull();
    for (const r of family) expect(r.q_value).toBe(pick(without, 'prop', r.dimension as string, r.group_value as string).q_value);
    // the year's single comparison is its own family: q = p
    const year = pick(withExtra, 'prop', 'sex', 'male', 'year');
    expect(year.q_value).toBe(year.p_value);
  });

  test('issue 15: disparity_flag is the AHRQ rule and q < 0.05; disparity_flag_unadjusted keeps the rule alone', async () => {
    // 20 groups of one family, each exactly 10% worse than the reference, p = 0.021 (pooled z by
    // hand, see "exactly 10% worse" above): all equal, so q = p x 20 / 20 = p and all stay flagged
    const ref = g('prop_low', 'county_fips', '00000', 1000, 10000);
    const groups = Array.from({ length: 20 }, (_, k) => g('prop_low', 'county_fips', String(k + 1).padStart(5, '0'), 1100, 10000));
    const rows = await run([ref, ...groups], { county_fips: { group: '00000' } });
    const r = pick(rows, 'prop_low', 'county_fips', '00001');
    expect(r.p_value as number).toBeCloseTo(0.0210, 3);
    expect(r.q_value as number).toBeCloseTo(0.0210, 3);
    expect(r.disparity_flag_unadjusted).toBe(true);
    expect(r.disparity_flag).toBe(true);
    // one such group among 19 with no real difference: its q is 0.021 x 20 / 1 = 0.42, so only the unadjusted flag stays
    db?.close();
    const mixed = await run([ref, g('prop_low', 'county_fips', '00001', 1100, 10000),
      ...Array.from({ length: 19 }, (_, k) => g('prop_low', 'county_fips', String(k + 2).padStart(5, '0'), 1000 + k, 10000))], { county_fips: { group: '00000' } });
    const hit = pick(mixed, 'prop_low', 'county_fips', '00001');
    expect(hit.disparity_flag_unadjusted).toBe(true);
    expect(hit.q_value as number).toBeCloseTo(0.0210 * 20, 2);
    expect(hit.disparity_flag).toBe(false);
  });
});
