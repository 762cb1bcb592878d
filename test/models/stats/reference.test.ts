// Every row of the R reference file, for every method it lists.
import { describe, expect, it } from 'vitest';
import {
  benjaminiHochberg,
  betweenGroupVariance,
  fisherExactP,
  indexOfDisparity,
  kaplanMeierMedian,
  katzRatio,
  maxRateDifference,
  maxRateRatio,
  moverRateDifference,
  newcombeDifference,
  poissonExactInterval,
  poissonRateRatio,
  pooledZP,
  tInterval,
  tIntervalFromMoments,
  wilsonInterval,
  type SurvivalRow,
} from '../../../models/stats/index.ts';
import { expectClose, loadReferenceRows, namedInputs, namedLists, type ReferenceRow } from './referenceCsv.ts';

/** "gehan_6mp:6,6,6+,..." -> one row per time, `+` = censored */
export function parseSurvivalTimes(inputs: string): SurvivalRow[] {
  const times = inputs.slice(inputs.indexOf(':') + 1);
  return times.split(',').map((token) => {
    const t = token.trim();
    return t.endsWith('+')
      ? { time: Number(t.slice(0, -1)), events: 0, censored: 1 }
      : { time: Number(t), events: 1, censored: 0 };
  });
}

type Check = (row: ReferenceRow) => void;

const checks: Record<string, Check> = {
  wilson: (row) => {
    const { x, n } = namedInputs(row.inputs) as { x: number; n: number };
    const ci = wilsonInterval(x, n);
    expectClose(ci?.low, row.outputs[0] ?? null, 'lower');
    expectClose(ci?.high, row.outputs[1] ?? null, 'upper');
    // exact, not just close, at the edges
    if (x === 0) expect(ci?.low).toBe(0);
    if (x === n) expect(ci?.high).toBe(1);
  },
  newcombe_hybrid_rd: (row) => {
    const { x1, n1, x2, n2 } = namedInputs(row.inputs) as Record<'x1' | 'n1' | 'x2' | 'n2', number>;
    const r = newcombeDifference(x1, n1, x2, n2);
    expectClose(r?.difference, row.outputs[0] ?? null, 'difference');
    expectClose(r?.low, row.outputs[1] ?? null, 'lower');
    expectClose(r?.high, row.outputs[2] ?? null, 'upper');
  },
  katz_log_rr: (row) => {
    const { x1, n1, x2, n2 } = namedInputs(row.inputs) as Record<'x1' | 'n1' | 'x2' | 'n2', number>;
    const r = katzRatio(x1, n1, x2, n2);
    expectClose(r.ratio, row.outputs[0] ?? null, 'ratio');
    expectClose(r.low, row.outputs[1] ?? null, 'lower');
    expectClose(r.high, row.outputs[2] ?? null, 'upper');
  },
  fisher_exact_two_sided_p: (row) => {
    const { x1, n1, x2, n2 } = namedInputs(row.inputs) as Record<'x1' | 'n1' | 'x2' | 'n2', number>;
    expectClose(fisherExactP(x1, n1, x2, n2), row.outputs[0] ?? null, 'p');
    // the test is symmetric in the two groups
    expectClose(fisherExactP(x2, n2, x1, n1), row.outputs[0] ?? null, 'p (groups swapped)');
  },
  pooled_z_two_sided_p: (row) => {
    const { x1, n1, x2, n2 } = namedInputs(row.inputs) as Record<'x1' | 'n1' | 'x2' | 'n2', number>;
    expectClose(pooledZP(x1, n1, x2, n2), row.outputs[0] ?? null, 'p');
  },
  poisson_exact_rate: (row) => {
    const { events, time } = namedInputs(row.inputs) as { events: number; time: number };
    const r = poissonExactInterval(events, time);
    expectClose(r?.rate, row.outputs[0] ?? null, 'rate');
    expectClose(r?.low, row.outputs[1] ?? null, 'lower');
    expectClose(r?.high, row.outputs[2] ?? null, 'upper');
  },
  poisson_conditional_rate_ratio: (row) => {
    const i = namedInputs(row.inputs) as Record<'events1' | 'time1' | 'events2' | 'time2', number>;
    const r = poissonRateRatio(i.events1, i.time1, i.events2, i.time2);
    expectClose(r?.ratio, row.outputs[0] ?? null, 'ratio');
    expectClose(r?.low, row.outputs[1] ?? null, 'lower');
    expectClose(r?.high, row.outputs[2] ?? null, 'upper');
  },
  poisson_conditional_two_sided_p: (row) => {
    const i = namedInputs(row.inputs) as Record<'events1' | 'time1' | 'events2' | 'time2', number>;
    expectClose(poissonRateRatio(i.events1, i.time1, i.events2, i.time2)?.p, row.outputs[0] ?? null, 'p');
  },
  kaplan_meier_median_loglog: (row) => {
    const rows = parseSurvivalTimes(row.inputs);
    const m = kaplanMeierMedian(rows);
    expectClose(m.median, row.outputs[0] ?? null, 'median');
    expectClose(m.low, row.outputs[1] ?? null, 'lower');
    expectClose(m.high, row.outputs[2] ?? null, 'upper');
    expect(m.cases).toBe(rows.length);
    expect(m.events).toBe(rows.filter((r) => r.events === 1).length);
    // input order and splitting of rows must not matter
    const reversed = kaplanMeierMedian([...rows].reverse());
    expect(reversed).toEqual(m);
  },
  t_interval_mean: (row) => {
    const values = row.inputs.split(',').map(Number);
    const r = tInterval(values);
    expectClose(r?.mean, row.outputs[0] ?? null, 'mean');
    expectClose(r?.low, row.outputs[1] ?? null, 'lower');
    expectClose(r?.high, row.outputs[2] ?? null, 'upper');
    const sum = values.reduce((s, v) => s + v, 0);
    const sumSquares = values.reduce((s, v) => s + v * v, 0);
    const m = tIntervalFromMoments(values.length, sum, sumSquares);
    expectClose(m?.mean, row.outputs[0] ?? null, 'mean (moments)');
    expectClose(m?.low, row.outputs[1] ?? null, 'lower (moments)');
    expectClose(m?.high, row.outputs[2] ?? null, 'upper (moments)');
  },
  mover_rate_difference_per_1000: (row) => {
    const i = namedInputs(row.inputs) as Record<'events1' | 'time1' | 'events2' | 'time2', number>;
    const r = moverRateDifference(i.events1, i.time1, i.events2, i.time2);
    // rates are per unit of time; the reference is per 1000
    expectClose(r === null ? null : r.difference * 1000, row.outputs[0] ?? null, 'difference');
    expectClose(r === null ? null : r.low * 1000, row.outputs[1] ?? null, 'lower');
    expectClose(r === null ? null : r.high * 1000, row.outputs[2] ?? null, 'upper');
  },
  index_of_disparity: (row) => {
    const { y } = namedLists(row.inputs) as { y: number[] };
    expectClose(indexOfDisparity(y, 0), row.outputs[0] ?? null, 'IDisp');
  },
  between_group_variance: (row) => {
    const { y, n } = namedLists(row.inputs) as { y: number[]; n: number[] };
    expectClose(betweenGroupVariance(y, n), row.outputs[0] ?? null, 'BGV');
  },
  max_rate_difference_ratio: (row) => {
    const { y } = namedLists(row.inputs) as { y: number[] };
    expectClose(maxRateDifference(y), row.outputs[0] ?? null, 'max difference');
    expectClose(maxRateRatio(y), row.outputs[1] ?? null, 'max ratio');
  },
  benjamini_hochberg_q: (row) => {
    const p = row.inputs.split(',').map(Number);
    const expected = (row.raw[0] as string).split(',').map(Number);
    const q = benjaminiHochberg(p);
    expect(q).toHaveLength(expected.length);
    expected.forEach((e, i) => expectClose(q[i], e, `q[${i}]`));
  },
};

const rows = loadReferenceRows();

describe('R reference values (test/fixtures/reference/statistics-reference.csv)', () => {
  it('has a check for every method in the file, and the file is not empty', () => {
    expect(rows.length).toBeGreaterThan(80);
    const unknown = [...new Set(rows.map((r) => r.method))].filter((m) => !(m in checks));
    expect(unknown).toEqual([]);
  });

  it.each(rows.map((r) => [`line ${r.line}: ${r.method} ${r.inputs}`, r] as const))('%s', (_name, row) => {
    const check = checks[row.method];
    expect(check, `no check for ${row.method}`).toBeDefined();
    (check as Check)(row);
  });
});
