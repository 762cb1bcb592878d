// Disclosure control of the results table (metrics.md, "Disclosure control"): primary
// suppression per metric kind, complementary suppression over groups -> all, two-way
// cells -> margins and months -> quarters -> years -> span, the derivation guard, and the
// derived figures. Expected suppressions worked out by hand in the comments.
import { afterEach, describe, expect, test } from 'vitest';
import type { Database, Row } from '../../../models/duckdb.ts';
import { auditResults, suppress } from '../../../models/disclosure/index.ts';
import { computeComparisons } from '../../../models/disparities/index.ts';
import { metricById } from '../../../models/metrics/catalog.ts';
import { pick, readResults, resultsDb, testMetric, type ResultInput } from './resultsTable.ts';

let db: Database | null = null;
afterEach(() => {
  db?.close();
  db = null;
});

async function suppressed(input: ResultInput[], metrics: Parameters<typeof suppress>[1]['metrics'], threshold = 11): Promise<Row[]> {
  db = await resultsDb(input);
  await suppress(db.conn, { metrics, threshold });
  const audit = await auditResults(db.conn, { metrics, threshold });
  expect(audit.violations).toEqual([]);
  return readResults(db);
}

const names = (rs: Row[]) => rs.filter((r) => r.suppressed).map((r) => `${r.period_grain} ${r.period_start} ${r.dimension}=${r.group_value}`).sort();

describe('primary suppression', () => {
  const only = (metric_id: string, numerator: number | null, denominator: number | null, extra: Partial<ResultInput> = {}): ResultInput =>
    ({ metric_id, numerator, denominator, ...extra });

  test('proportions: numerator, denominator or complement in 1..10; zero may be shown', async () => {
    const ids = ['num5', 'den8', 'comp5', 'zero', 'full', 'ok'];
    const rows = await suppressed(
      [only('num5', 5, 100), only('den8', 0, 8), only('comp5', 95, 100), only('zero', 0, 20), only('full', 20, 20), only('ok', 11, 22)],
      ids.map((id) => testMetric(id, 'proportion')),
    );
    expect(rows.filter((r) => r.suppressed).map((r) => r.metric_id).sort()).toEqual(['comp5', 'den8', 'num5']);
  });

  test('durations: censored cases (cases - events) count too', async () => {
    const rows = await suppressed([only('d1', 30, 35), only('d2', 30, 41)], [testMetric('d1', 'duration'), testMetric('d2', 'duration')]);
    expect(pick(rows, 'd1', 'all', 'all').suppressed).toBe(true);
    expect(pick(rows, 'd2', 'all', 'all').suppressed).toBe(false);
  });

  test('counts: the value; rates: events and person-time in (0, 11); dollars and capacity-months are not counts', async () => {
    const rows = await suppressed([
      only('count7', 7, null, { value: 7 }), only('count0', 0, null, { value: 0 }),
      only('rate_pt', 0, 10.5), only('rate_pt11', 0, 11), only('rate_events', 3, 500),
      only('dollars', 5, 500), only('ratio_cap', 30, 5), only('ratio_need', 4, 500), only('mean_n', null, 6, { value: -4 }),
    ], [
      testMetric('count7', 'count'), testMetric('count0', 'count'), testMetric('rate_pt', 'rate'), testMetric('rate_pt11', 'rate'),
      testMetric('rate_events', 'rate'), testMetric('dollars', 'rate', { dollars: true }), testMetric('ratio_cap', 'ratio'),
      testMetric('ratio_need', 'ratio'), testMetric('mean_n', 'mean'),
    ]);
    const sup = (id: string) => pick(rows, id, 'all', 'all').suppressed;
    expect(sup('count7')).toBe(true);
    expect(sup('count0')).toBe(false);
    expect(sup('rate_pt')).toBe(true);
    expect(sup('rate_pt11')).toBe(false);
    expect(sup('rate_events')).toBe(true);
    expect(sup('dollars')).toBe(false);
    expect(sup('ratio_cap')).toBe(false);
    expect(sup('ratio_need')).toBe(true);
    expect(sup('mean_n')).toBe(true);
  });

  test('the threshold can be raised, never lowered', async () => {
    const rows = await suppressed([only('p', 15, 100)], [testMetric('p', 'proportion')], 20);
    expect(pick(rows, 'p', 'all', 'all').suppressed).toBe(true);
    db?.close();
    db = await resultsDb([only('p', 15, 100)]);
    await expect(suppress(db.conn, { metrics: [testMetric('p', 'proportion')], threshold: 10 })).rejects.toThrow(/at least 11/);
  });
});

describe('complementary suppression', () => {
  const P = testMetric('p', 'proportion');
  const row = (dimension: string, group_value: string, numerator: number, denominator: number, extra: Partial<ResultInput> = {}): ResultInput =>
    ({ metric_id: 'p', dimension, group_value, numerator, denominator, ...extra });

  test('groups -> all: the next smallest shown group covers a small withheld total', async () => {
    // unknown 5/5 is primary; withheld denominator 5 -> the smallest shown denominator, male (85)
    const rows = await suppressed([
      row('all', 'all', 100, 200), row('sex', 'female', 60, 110), row('sex', 'male', 35, 85), row('sex', 'unknown', 5, 5),
    ], [P]);
    expect(names(rows)).toEqual(['all 2025-01-01 sex=male', 'all 2025-01-01 sex=unknown']);
    const male = pick(rows, 'p', 'sex', 'male');
    expect(male).toMatchObject({ numerator: null, denominator: null, value: null, ci_low: null, suppressed: true });
  });

  test('a withheld total of 11 or more needs nothing more (two suppressed parts)', async () => {
    // a 5/5 and b 7/30 (numerator 7) are primary; withheld 12/35, complement 23: fine
    const rows = await suppressed([
      row('all', 'all', 112, 235), row('payer', 'a', 5, 5), row('payer', 'b', 7, 30), row('payer', 'c', 100, 200),
    ], [P]);
    expect(names(rows)).toEqual(['all 2025-01-01 payer=a', 'all 2025-01-01 payer=b']);
  });

  test('cuts where a unit can be in several groups are not relations (domain of a person-unit metric)', async () => {
    const referral = metricById('referral_acceptance_rate'); // unit: referral
    const person = metricById('screen_positive_rate'); // unit: person; domain rows do not add up
    // (the two metrics' `all` rows differ: equal counts in two metrics would be a tie the audit uses)
    const cut = (metric_id: string): ResultInput[] => [
      metric_id === referral.id ? { metric_id, numerator: 60, denominator: 100 } : { metric_id, numerator: 70, denominator: 120 },
      { metric_id, dimension: 'domain', group_value: 'food', numerator: 55, denominator: 95 },
      { metric_id, dimension: 'domain', group_value: 'housing', numerator: 5, denominator: 5 },
    ];
    const rows = await suppressed([...cut(referral.id), ...cut(person.id)], [referral, person]);
    expect(pick(rows, referral.id, 'domain', 'food').suppressed).toBe(true);
    expect(pick(rows, person.id, 'domain', 'food').suppressed).toBe(false);
  });

  test('two-way cells -> each margin', async () => {
    // cell white*medicaid 4/20 is primary; margin white: withheld numerator 4 -> white*commercial;
    // margin medicaid: withheld 4 -> black*medicaid; then margin commercial has one withheld
    // cell (derivation guard) -> black*commercial
    const cells = [['white', 'medicaid', 4, 20], ['white', 'commercial', 40, 80], ['black', 'medicaid', 30, 60], ['black', 'commercial', 50, 90]] as const;
    const input = [
      row('all', 'all', 124, 250),
      row('race_ethnicity', 'white', 44, 100), row('race_ethnicity', 'black', 80, 150),
      row('payer', 'medicaid', 34, 80), row('payer', 'commercial', 90, 170),
      ...cells.map(([r, p, x, n]) => row('race_ethnicity*payer', `${r}*${p}`, x, n)),
    ];
    const rows = await suppressed(input, [P]);
    expect(names(rows)).toEqual([
      'all 2025-01-01 race_ethnicity*payer=black*commercial', 'all 2025-01-01 race_ethnicity*payer=black*medicaid',
      'all 2025-01-01 race_ethnicity*payer=white*commercial', 'all 2025-01-01 race_ethnicity*payer=white*medicaid',
    ]);
  });

  test('months -> quarter for additive metrics only', async () => {
    const months = (metric_id: string): ResultInput[] => [
      { metric_id, period_grain: 'quarter', period_start: '2025-01-01', numerator: 75, denominator: 160 },
      { metric_id, period_grain: 'month', period_start: '2025-01-01', numerator: 5, denominator: 20 },
      { metric_id, period_grain: 'month', period_start: '2025-02-01', numerator: 30, denominator: 60 },
      { metric_id, period_grain: 'month', period_start: '2025-03-01', numerator: 40, denominator: 80 },
    ];
    const rows = await suppressed([...months('add'), ...months('people')], [
      testMetric('add', 'proportion', { additive: true }), testMetric('people', 'proportion', { additive: false }),
    ]);
    // January numerator 5: primary; withheld numerator 5 -> the smallest shown month (February)
    expect(rows.filter((r) => r.metric_id === 'add' && r.suppressed).map((r) => r.period_start)).toEqual(['2025-01-01', '2025-02-01']);
    expect(rows.filter((r) => r.metric_id === 'people' && r.suppressed).map((r) => r.period_start)).toEqual(['2025-01-01']);
  });

  test('years -> the whole span (grain all): the all-grain row minus the other years is a year', async () => {
    const rows = await suppressed([
      { metric_id: 'p', period_grain: 'all', period_start: '2024-03-01', numerator: 105, denominator: 230 },
      { metric_id: 'p', period_grain: 'year', period_start: '2024-01-01', numerator: 5, denominator: 30 },
      { metric_id: 'p', period_grain: 'year', period_start: '2025-01-01', numerator: 100, denominator: 200 },
    ], [P]);
    expect(names(rows)).toEqual(['year 2024-01-01 all=all', 'year 2025-01-01 all=all']);
  });

  test('derivation guard: no relation leaves exactly one part withheld (the groups x months attack)', async () => {
    // counts; female January 5 is primary. The spec's rule alone suppresses female February
    // (for female's quarter) and male January (for January's all row) and stops; then
    // February's all row 45 - male 25 = female February 20, and female's quarter
    // 55 - 20 - 30 = 5. The guard also suppresses male February (February's all row had one
    // withheld part): four unknowns, rank-3 equations, nothing exact.
    const C = testMetric('c', 'count');
    const cell = (grain: string, start: string, dimension: string, group_value: string, n: number): ResultInput =>
      ({ metric_id: 'c', period_grain: grain, period_start: start, dimension, group_value, numerator: n, value: n });
    const input: ResultInput[] = [];
    const data = { female: [5, 20, 30], male: [30, 25, 40] } as const;
    ['2025-01-01', '2025-02-01', '2025-03-01'].forEach((m, k) => {
      input.push(cell('month', m, 'all', 'all', data.female[k]! + data.male[k]!));
      for (const s of ['female', 'male'] as const) input.push(cell('month', m, 'sex', s, data[s][k]!));
    });
    input.push(cell('quarter', '2025-01-01', 'all', 'all', 150), cell('quarter', '2025-01-01', 'sex', 'female', 55), cell('quarter', '2025-01-01', 'sex', 'male', 95));
    const rows = await suppressed(input, [C]);
    expect(names(rows)).toEqual([
      'month 2025-01-01 sex=female', 'month 2025-01-01 sex=male', 'month 2025-02-01 sex=female', 'month 2025-02-01 sex=male',
    ]);
  });

  test('rows the producer already suppressed stay suppressed and count in the relations', async () => {
    const rows = await suppressed([
      row('all', 'all', 100, 200), row('sex', 'female', 60, 110), row('sex', 'male', 40, 90, { suppressed: true }),
    ], [P]);
    // male withheld alone (90): the guard adds female
    expect(names(rows)).toEqual(['all 2025-01-01 sex=female', 'all 2025-01-01 sex=male']);
  });

  test('deterministic whatever the physical order of the table', async () => {
    const input = [
      row('all', 'all', 100, 300), row('payer', 'a', 5, 40), row('payer', 'b', 20, 40), row('payer', 'c', 20, 40), row('payer', 'd', 55, 180),
    ];
    const first = names(await suppressed(input, [P]));
    db?.close();
    const second = names(await suppressed([...input].reverse(), [P]));
    // a: numerator 5; b and c tie on numerator 20: the first in byte order (b)
    expect(first).toEqual(['all 2025-01-01 payer=a', 'all 2025-01-01 payer=b']);
    expect(second).toEqual(first);
  });
});

describe('derived figures and refusals', () => {
  test('comparisons against a suppressed reference group are withheld; the reference stays named', async () => {
    const P = testMetric('p', 'proportion');
    db = await resultsDb([
      { metric_id: 'p', numerator: 150, denominator: 330 },
      { metric_id: 'p', dimension: 'race_ethnicity', group_value: 'white', numerator: 5, denominator: 30 },
      { metric_id: 'p', dimension: 'race_ethnicity', group_value: 'black', numerator: 60, denominator: 100 },
      { metric_id: 'p', dimension: 'race_ethnicity', group_value: 'asian', numerator: 85, denominator: 200 },
      { metric_id: 'p', dimension: 'sex', group_value: 'female', numerator: 100, denominator: 200, note: 'kept' },
      { metric_id: 'p', dimension: 'sex', group_value: 'male', numerator: 50, denominator: 130 },
    ]);
    await computeComparisons(db.conn, { metrics: [P], config: { referenceGroups: { race_ethnicity: { group: 'white' } } }, workers: 1 });
    expect(pick(await readResults(db), 'p', 'race_ethnicity', 'asian').p_value).not.toBeNull();
    const r = await suppress(db.conn, { metrics: [P], threshold: 11 });
    const rows = await readResults(db);
    // white (numerator 5) primary, black (the smallest shown numerator, 60) complementary
    expect(names(rows)).toEqual(['all 2025-01-01 race_ethnicity=black', 'all 2025-01-01 race_ethnicity=white']);
    const asian = pick(rows, 'p', 'race_ethnicity', 'asian');
    expect(asian).toMatchObject({ suppressed: false, numerator: 85, reference_group: 'white', rate_difference: null, p_value: null, q_value: null, disparity_flag: null });
    expect(r.withheldComparisons).toBe(1);
    const male = pick(rows, 'p', 'sex', 'male');
    expect(male.p_value).not.toBeNull();
    expect(pick(rows, 'p', 'sex', 'female').note).toBe('kept');
    expect((await auditResults(db.conn, { metrics: [P], threshold: 11 })).ok).toBe(true);
  });

  test('refuses what it cannot relate: unknown metric or dimension, duplicate or empty keys', async () => {
    const P = testMetric('p', 'proportion');
    for (const [input, message] of [
      [[{ metric_id: 'nope', numerator: 1, denominator: 2 }], /not in the catalog/],
      [[{ metric_id: 'p', dimension: 'shoe_size', group_value: '9', numerator: 1, denominator: 2 }], /unknown to disclosure control/],
      [[{ metric_id: 'p', numerator: 1, denominator: 2 }, { metric_id: 'p', numerator: 1, denominator: 2 }], /duplicate row/],
      [[{ metric_id: 'p', period_start: null as unknown as string, numerator: 1, denominator: 2 }], /empty/],
    ] as const) {
      db?.close();
      db = await resultsDb(input as unknown as ResultInput[]);
      await expect(suppress(db.conn, { metrics: [P], threshold: 11 })).rejects.toThrow(message);
    }
  });
});
