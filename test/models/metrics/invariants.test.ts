// Properties of the results table that must hold for any drop (here: seeded random drops),
// and that disclosure control relies on: additive metrics add up over time, one-way cuts add
// up to the all row, two-way cells add up to their margins.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRICS, groupsSumToAll, isAdditiveOverTime, type Metric } from '../../../models/metrics/catalog.ts';
import { POPULATION_DIMENSIONS } from '../../../models/metrics/dimensions.ts';
import { randomDrop } from '../../fixtures/metrics/randomDrop.ts';
import { computeDrop, type Computed, type ResultRow } from './helpers.ts';

const AS_OF = '2024-06-30';
const SEEDS = [1, 2];
const runs: Computed[] = [];

beforeAll(async () => {
  for (const seed of SEEDS) runs.push(await computeDrop(randomDrop(seed), { asOf: AS_OF }));
});
afterAll(() => runs.forEach((c) => c.close()));

type Figure = 'numerator' | 'denominator';
/** The counts each kind publishes (a mean's numerator is empty; a ratio's capacity can be unknown). */
function figures(m: Metric): Figure[] {
  if (m.kind === 'mean') return ['denominator'];
  if (m.kind === 'count' || m.kind === 'ratio') return ['numerator'];
  return ['numerator', 'denominator'];
}

const key = (...parts: string[]) => parts.join('|');
function index(rows: ResultRow[]): Map<string, ResultRow> {
  return new Map(rows.map((r) => [key(r.metric_id, r.period_grain, r.period_start, r.dimension, r.group_value), r]));
}
const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
const parentStart = (monthStart: string, grain: 'quarter' | 'year') => {
  const [y, m] = monthStart.split('-').map(Number) as [number, number];
  return grain === 'year' ? `${y}-01-01` : `${y}-${String(Math.floor((m - 1) / 3) * 3 + 1).padStart(2, '0')}-01`;
};

describe.each(SEEDS.map((seed, i) => ({ seed, i })))('random drop (seed $seed)', ({ i }) => {
  it('produces rows for every metric', () => {
    const c = runs[i] as Computed;
    for (const m of METRICS) expect(c.of(m.id).length, m.id).toBeGreaterThan(0);
  });

  it('months add up to quarters and years for metrics marked additive over time', () => {
    const c = runs[i] as Computed;
    let checked = 0;
    for (const m of METRICS.filter((x) => x.additiveOverTime)) {
      const byKey = index(c.of(m.id));
      const sums = new Map<string, Record<Figure, number>>();
      for (const r of c.of(m.id, { period_grain: 'month' })) {
        if (!isAdditiveOverTime(m, r.dimension)) continue;
        for (const grain of ['quarter', 'year'] as const) {
          const k = key(m.id, grain, parentStart(r.period_start, grain), r.dimension, r.group_value);
          const s = sums.get(k) ?? { numerator: 0, denominator: 0 };
          for (const f of figures(m)) s[f] += r[f] ?? 0;
          sums.set(k, s);
        }
      }
      for (const grain of ['quarter', 'year'] as const) {
        for (const r of c.of(m.id, { period_grain: grain })) {
          if (!isAdditiveOverTime(m, r.dimension)) continue;
          const s = sums.get(key(m.id, grain, r.period_start, r.dimension, r.group_value)) ?? { numerator: 0, denominator: 0 };
          for (const f of figures(m)) {
            if (m.kind === 'ratio' && r.denominator === null && f === 'denominator') continue;
            expect(close(s[f], r[f] ?? 0), `${m.id} ${grain} ${r.period_start} ${r.dimension}=${r.group_value} ${f}: months ${s[f]} vs ${r[f]}`).toBe(true);
            checked++;
          }
        }
      }
      // and every month row belongs to a quarter row that exists (unless all its figures are 0)
      for (const [k, s] of sums) if (!byKey.has(k)) expect(s, k).toEqual({ numerator: 0, denominator: 0 });
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('the groups of each one-way cut add up to the all row (unknown included)', () => {
    const c = runs[i] as Computed;
    const byCut = new Map<string, ResultRow[]>();
    for (const r of c.all) {
      const k = key(r.metric_id, r.period_grain, r.period_start, r.dimension);
      const list = byCut.get(k) ?? [];
      list.push(r);
      byCut.set(k, list);
    }
    let checked = 0;
    for (const m of METRICS) {
      const dims = m.dimensions.filter((d) => groupsSumToAll(m, d));
      expect(dims.length, m.id).toBeGreaterThan(0);
      for (const allRow of c.of(m.id, { dimension: 'all' })) {
        for (const d of dims) {
          const groups = byCut.get(key(m.id, allRow.period_grain, allRow.period_start, d)) ?? [];
          for (const f of figures(m)) {
            const total = groups.reduce((sum, g) => sum + (g[f] ?? 0), 0);
            expect(close(total, allRow[f] ?? 0), `${m.id} ${allRow.period_grain} ${allRow.period_start} ${d} ${f}: ${total} vs ${allRow[f]}`).toBe(true);
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('the cells of race_ethnicity*payer add up to each margin', () => {
    const c = runs[i] as Computed;
    for (const m of METRICS.filter((x) => x.dimensions.includes('race_ethnicity*payer'))) {
      for (const cell of [0, 1]) {
        const margin = cell === 0 ? 'race_ethnicity' : 'payer';
        const sums = new Map<string, Record<Figure, number>>();
        for (const r of c.of(m.id, { dimension: 'race_ethnicity*payer' })) {
          const k = key(r.period_grain, r.period_start, r.group_value.split('*')[cell] as string);
          const s = sums.get(k) ?? { numerator: 0, denominator: 0 };
          for (const f of figures(m)) s[f] += r[f] ?? 0;
          sums.set(k, s);
        }
        for (const r of c.of(m.id, { dimension: margin })) {
          const s = sums.get(key(r.period_grain, r.period_start, r.group_value));
          for (const f of figures(m)) expect(close(s?.[f] ?? 0, r[f] ?? 0), `${m.id} ${margin}=${r.group_value} ${f}`).toBe(true);
        }
      }
    }
  });

  it('domain cuts do not add up for people-based screen_positive_rate (one person, several needs), and no relation is claimed', () => {
    const m = METRICS.find((x) => x.id === 'screen_positive_rate') as Metric;
    expect(groupsSumToAll(m, 'domain')).toBe(false);
    const c = runs[i] as Computed;
    const all = c.get('screen_positive_rate', 'all', null);
    const domains = c.of('screen_positive_rate', { period_grain: 'all', dimension: 'domain' });
    expect(domains.reduce((s, g) => s + (g.denominator ?? 0), 0)).toBeGreaterThan(all?.denominator ?? 0);
  });

  it('keeps proportions inside [0, 1] with the value inside its interval, and only rows with a denominator', () => {
    const c = runs[i] as Computed;
    for (const m of METRICS) {
      for (const r of c.of(m.id)) {
        if (m.kind === 'proportion') {
          expect(r.denominator).toBeGreaterThan(0);
          expect(r.numerator).toBeLessThanOrEqual(r.denominator as number);
          expect(r.ci_low as number).toBeLessThanOrEqual((r.value as number) + 1e-12);
          expect(r.ci_high as number).toBeGreaterThanOrEqual((r.value as number) - 1e-12);
        }
        if (m.kind === 'rate') expect(r.denominator).toBeGreaterThan(0);
        if (m.kind === 'count' && r.dimension !== 'all') expect(r.value).toBeGreaterThanOrEqual(1);
        if (m.kind === 'duration') expect(r.denominator).toBeGreaterThanOrEqual(r.numerator as number);
      }
    }
  });
});

describe('population dimensions', () => {
  it('every metric with people in it is cut by all ten', () => {
    // the funnel's steps are cut by program and county only (the funnel chart's filters) and carry no comparisons
    for (const m of METRICS.filter((x) => x.id !== 'demand_capacity_ratio' && !x.id.startsWith('funnel_'))) {
      for (const d of POPULATION_DIMENSIONS) expect(m.dimensions, m.id).toContain(d);
    }
  });
});
