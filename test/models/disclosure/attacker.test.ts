// The attacker's ranges on tables small enough to work out by hand (each expected range is
// derived in the comment above it).
import { describe, expect, it } from 'vitest';
import type { MetricMeta } from '../../../models/disclosure/metricMeta.ts';
import { findDisclosures } from '../../../models/disclosure/attacker/ranges.ts';
import { buildSystem, type AuditCell, type BuildOptions } from '../../../models/disclosure/attacker/system.ts';

const count = (id = 'c'): MetricMeta => ({ id, kind: 'count', direction: 'lower_better', dollarNumerator: false, additiveOverTime: () => true, groupsSumToAll: () => true });
const prop = (id = 'p'): MetricMeta => ({ id, kind: 'proportion', direction: 'higher_better', dollarNumerator: false, additiveOverTime: () => true, groupsSumToAll: () => true });

function cell(metric: string, grain: string, start: string, dimension: string, group: string, truth: [number, number | null], shown: boolean): AuditCell {
  const figures = { numerator: truth[0], denominator: truth[1], value: truth[1] === null ? truth[0] : null };
  return { metric_id: metric, period_grain: grain, period_start: start, dimension, group_value: group, shown: shown ? figures : null, truth: figures };
}

async function disclosed(cells: AuditCell[], metas: MetricMeta[], o: Partial<BuildOptions> = {}) {
  const sys = buildSystem(cells, { metas: new Map(metas.map((m) => [m.id, m])), threshold: 11, existence: 'frames', ...o });
  const r = await findDisclosures(sys);
  return r.disclosures.map((d) => {
    const v = sys.vars[d.var]!;
    const c = sys.cells[v.cell]!;
    return `${c.dimension}=${c.group_value} ${c.period_grain} ${v.atom} in [${d.low}, ${d.high}]`;
  }).sort();
}

describe('the attacker: feasible ranges of withheld counts', () => {
  it('one withheld group in a shown total is exact: 20 - 15 = 5', async () => {
    const cells = [cell('c', 'all', '2025-01-01', 'all', 'all', [20, null], true), cell('c', 'all', '2025-01-01', 'sex', 'f', [5, null], false), cell('c', 'all', '2025-01-01', 'sex', 'm', [15, null], true)];
    expect(await disclosed(cells, [count()])).toEqual(['sex=f all X in [5, 5]']);
  });

  it('two withheld groups hide each other: f + m = 50 - 30 = 20, so f is anywhere in 0..20', async () => {
    const cells = [cell('c', 'all', '2025-01-01', 'all', 'all', [50, null], true), cell('c', 'all', '2025-01-01', 'sex', 'f', [5, null], false),
      cell('c', 'all', '2025-01-01', 'sex', 'm', [15, null], false), cell('c', 'all', '2025-01-01', 'sex', 'u', [30, null], true)];
    expect(await disclosed(cells, [count()])).toEqual([]);
  });

  it('row existence with no fixed frame: f + m = 2 and each row says >= 1, so f = m = 1', async () => {
    const cells = [cell('c', 'all', '2025-01-01', 'all', 'all', [32, null], true), cell('c', 'all', '2025-01-01', 'sex', 'f', [1, null], false),
      cell('c', 'all', '2025-01-01', 'sex', 'm', [1, null], false), cell('c', 'all', '2025-01-01', 'sex', 'u', [30, null], true)];
    expect(await disclosed(cells, [count()], { existence: 'row-implies-positive' })).toEqual(['sex=f all X in [1, 1]', 'sex=m all X in [1, 1]']);
    expect(await disclosed(cells, [count()], { existence: 'frames' })).toEqual([]);
  });

  it('groups x two quarters with shown margins: a rectangle of four withheld cells moves freely', async () => {
    // quarters Q1, Q2 of 2025 (all four cells withheld), year and group totals shown:
    // a.Q1 = t, a.Q2 = 20 - t, b.Q1 = 25 - t, b.Q2 = 5 + t, 0 <= t <= 20: a.Q1 reaches 0.
    const y = (g: string, v: number, s = true) => cell('c', 'year', '2025-01-01', 'grp', g, [v, null], s);
    const q = (start: string, g: string, v: number, s = false) => cell('c', 'quarter', start, 'grp', g, [v, null], s);
    const cells = [
      cell('c', 'year', '2025-01-01', 'all', 'all', [50, null], true), cell('c', 'quarter', '2025-01-01', 'all', 'all', [25, null], true), cell('c', 'quarter', '2025-04-01', 'all', 'all', [25, null], true),
      y('a', 20), y('b', 30), q('2025-01-01', 'a', 5), q('2025-04-01', 'a', 15), q('2025-01-01', 'b', 20), q('2025-04-01', 'b', 10),
    ];
    expect(await disclosed(cells, [count()])).toEqual([]);
  });

  it('the same rectangle with one corner shown pins the small cell: b.Q2 = 10 shown gives t = 5', async () => {
    const y = (g: string, v: number) => cell('c', 'year', '2025-01-01', 'grp', g, [v, null], true);
    const q = (start: string, g: string, v: number, s = false) => cell('c', 'quarter', start, 'grp', g, [v, null], s);
    const cells = [
      cell('c', 'year', '2025-01-01', 'all', 'all', [50, null], true), cell('c', 'quarter', '2025-01-01', 'all', 'all', [25, null], true), cell('c', 'quarter', '2025-04-01', 'all', 'all', [25, null], true),
      y('a', 20), y('b', 30), q('2025-01-01', 'a', 5), q('2025-04-01', 'a', 15), q('2025-01-01', 'b', 20), q('2025-04-01', 'b', 10, true),
    ];
    expect(await disclosed(cells, [count()])).toEqual(['grp=a quarter X in [5, 5]']);
  });

  it('bounds, not only exact values: x + y = 12 with x, y withheld and y <= 12 - 3 from another relation', async () => {
    // proportion: N shown in the total; for group f withheld with D = 9 (true), group m shown.
    // all: N = 20, D = 40; m: N = 14, D = 31 -> f: N = 6, D = 9, C = 3: all exact.
    const cells = [cell('p', 'all', '2025-01-01', 'all', 'all', [20, 40], true), cell('p', 'all', '2025-01-01', 'sex', 'f', [6, 9], false), cell('p', 'all', '2025-01-01', 'sex', 'm', [14, 31], true)];
    expect(await disclosed(cells, [prop()])).toEqual(['sex=f all C in [3, 3]', 'sex=f all D in [9, 9]', 'sex=f all N in [6, 6]']);
  });

  it('an interval inside 1..10 without an exact value: f + m = 12 where m >= 3 is known from a shown part', async () => {
    // counts: all = 42 shown, u = 30 shown, so f + m = 12 (both withheld, f = 5, m = 7).
    // m's quarters: m.Q1 = 3 shown, m.Q2 = 4 withheld, m.year = 7 withheld  => m >= 3, f <= 9.
    // f's year = f's only quarter (Q1, withheld); Q1 of all = 20 shown = f.Q1 + m.Q1 + u.Q1 (12 shown) => f.Q1 = 5 exact.
    const cells = [
      cell('c', 'year', '2025-01-01', 'all', 'all', [42, null], true), cell('c', 'year', '2025-01-01', 'sex', 'u', [30, null], true),
      cell('c', 'year', '2025-01-01', 'sex', 'f', [5, null], false), cell('c', 'year', '2025-01-01', 'sex', 'm', [7, null], false),
      cell('c', 'quarter', '2025-01-01', 'sex', 'm', [3, null], true), cell('c', 'quarter', '2025-04-01', 'sex', 'm', [4, null], false),
      cell('c', 'quarter', '2025-01-01', 'sex', 'f', [5, null], false), cell('c', 'quarter', '2025-04-01', 'sex', 'f', [0, null], true),
    ];
    // f.year = f.Q1 (f.Q2 = 0 shown); m.year = 3 + m.Q2; f.year + m.year = 12 => f.year + m.Q2 = 9.
    // f.year in [0, 9], m.Q2 in [0, 9], m.year in [3, 12]: m.year reaches 11, f reaches 0: nothing disclosed.
    expect(await disclosed(cells, [count()])).toEqual([]);
    // Now also publish the quarters of `all`: all.Q1 = 8 + 12 = 20, all.Q2 = 4 + 18 = 22 with u's quarters.
    cells.push(cell('c', 'quarter', '2025-01-01', 'all', 'all', [20, null], true), cell('c', 'quarter', '2025-04-01', 'all', 'all', [22, null], true),
      cell('c', 'quarter', '2025-01-01', 'sex', 'u', [12, null], true), cell('c', 'quarter', '2025-04-01', 'sex', 'u', [18, null], true));
    // Q1: f.Q1 + 3 + 12 = 20 => f.Q1 = 5; Q2: 0 + m.Q2 + 18 = 22 => m.Q2 = 4; everything exact.
    expect(await disclosed(cells, [count()])).toEqual(['sex=f quarter X in [5, 5]', 'sex=f year X in [5, 5]', 'sex=m quarter X in [4, 4]', 'sex=m year X in [7, 7]']);
  });
});
