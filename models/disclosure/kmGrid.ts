// Kaplan-Meier curves published on a common time grid (issue 14, route 5). The engine's
// curves have a point at every day with an event or a censored case, with the number at
// risk: from those, events at a step = at_risk x (1 - S(t)/S(t-1)) and censored = at_risk -
// events - next at_risk, so every small count could be recovered. Published instead:
//   - the curves of one metric, grain, period and dimension (the `all` curve and the
//     groups' curves) share one grid of days, built from day 0 by merging days until, for
//     every published curve, the events and the censored cases between two grid days are
//     each 0 or at least the threshold; a tail that cannot meet it joins the step before;
//   - at each grid day only the survival and its interval (no number at risk, no events,
//     no censored): the curve is exact at those days, a step function between them;
//   - a group's curve only where its results row is shown and its whole follow-up meets the
//     rule on the grid; when exactly one group's curve is withheld, the next smallest is
//     withheld too (so the `all` curve minus the shown ones is never one group's).
// A common grid means differences between curves fall on the same days and carry the same
// guarantee. The number of cases behind each curve is its results row's denominator.
import type { DuckDBConnection } from '@duckdb/node-api';
import { exec, rows } from '../duckdb.ts';
import { bulkTable } from '../metrics/bulk.ts';

interface Point {
  metric_id: string;
  period_grain: string;
  period_start: string;
  dimension: string;
  group_value: string;
  time: number;
  events: number;
  censored: number;
  survival: number;
  lower: number | null;
  upper: number | null;
}

/** Replaces km_curves with its published form; returns how many curves were withheld. */
export async function publishKmCurves(conn: DuckDBConnection, threshold: number, results: string): Promise<number | null> {
  const has = await rows<{ n: number }>(conn, `SELECT count(*)::INTEGER AS n FROM duckdb_tables() WHERE table_name = 'km_curves' AND NOT temporary`);
  if (!has[0]?.n) return null;
  const points = await rows<Point>(conn, `SELECT k.metric_id, k.period_grain, k.period_start::VARCHAR AS period_start, k.dimension, k.group_value,
  k.time, coalesce(k.events, 0) AS events, coalesce(k.censored, 0) AS censored, k.survival, k.lower, k.upper
FROM km_curves k ORDER BY k.metric_id, k.period_grain, k.period_start, k.dimension, k.group_value, k.time`);
  const shownRows = new Map((await rows<{ k: string; cases: number }>(conn, `SELECT concat_ws(chr(31), metric_id, period_grain, period_start::VARCHAR, dimension, group_value) AS k,
  denominator AS cases FROM ${results} WHERE NOT coalesce(suppressed, false) AND denominator IS NOT NULL`)).map((r) => [r.k, r.cases]));
  // one set per metric, grain and period: the `all` curve and every group's, on one grid
  const sets = new Map<string, Map<string, Point[]>>();
  for (const p of points) {
    const k = `${p.metric_id}\u001f${p.period_grain}\u001f${p.period_start}`;
    const set = sets.get(k) ?? new Map<string, Point[]>();
    const c = `${p.dimension}\u001f${p.group_value}`;
    const list = set.get(c) ?? [];
    list.push(p);
    set.set(c, list);
    sets.set(k, set);
  }
  const out: Array<Array<string | number | null>> = [];
  let withheld = 0;
  for (const [k, set] of sets) {
    const [metric, grain, start] = k.split('\u001f') as [string, string, string];
    const cases = (c: string) => shownRows.get(`${metric}\u001f${grain}\u001f${start}\u001f${c}`) ?? 0;
    const bySize = (a: string, b: string) => cases(a) - cases(b) || (a < b ? -1 : 1);
    // a curve is a candidate when its results row is shown
    let curves = [...set.keys()].filter((c) => shownRows.has(`${metric}\u001f${grain}\u001f${start}\u001f${c}`));
    let grid: number[] | null = null;
    for (;;) {
      grid = curves.length ? commonGrid(curves.map((c) => set.get(c)!), threshold) : null;
      const groups = curves.filter((c) => !c.startsWith('all\u001f')).sort(bySize);
      if (!grid || curves.some((c) => !meetsRule(set.get(c)!, grid!, threshold))) {
        if (!groups.length) {
          grid = null;
          break;
        }
        curves = curves.filter((c) => c !== groups[0]); // the smallest group's curve goes
        continue;
      }
      // never exactly one group of a dimension withheld: the `all` curve minus the others
      const lone = [...new Set([...set.keys()].map((c) => c.split('\u001f')[0]!))].filter((d) => d !== 'all').find((d) => {
        const all = [...set.keys()].filter((c) => c.startsWith(`${d}\u001f`));
        return all.length - all.filter((c) => curves.includes(c)).length === 1 && all.some((c) => curves.includes(c));
      });
      if (lone === undefined) break;
      curves = curves.filter((c) => c !== groups.filter((g) => g.startsWith(`${lone}\u001f`))[0]);
    }
    withheld += set.size - (grid ? curves.length : 0);
    if (!grid) continue;
    for (const c of curves) {
      const [dimension, group] = c.split('\u001f') as [string, string];
      for (const t of [0, ...grid]) {
        const at = stepValue(set.get(c)!, t);
        out.push([metric, grain, start, dimension, group, t, at.survival, at.lower, at.upper]);
      }
    }
  }
  await bulkTable(conn, '_km_published', [
    ['metric_id', 'VARCHAR'], ['period_grain', 'VARCHAR'], ['period_start', 'VARCHAR'], ['dimension', 'VARCHAR'], ['group_value', 'VARCHAR'],
    ['time', 'DOUBLE'], ['survival', 'DOUBLE'], ['lower', 'DOUBLE'], ['upper', 'DOUBLE'],
  ], out);
  await exec(conn, `CREATE OR REPLACE TABLE km_curves AS
SELECT metric_id, period_grain, period_start::DATE AS period_start, dimension, group_value, time::INTEGER AS time, survival, lower, upper
FROM _km_published ORDER BY metric_id, period_grain, period_start, dimension = 'all' DESC, dimension, group_value, time`);
  await exec(conn, 'DROP TABLE _km_published');
  return withheld;
}

/** Events and censored per day of a curve. */
function byDay(pts: readonly Point[]): Map<number, [number, number]> {
  const m = new Map<number, [number, number]>();
  for (const p of pts) {
    const e = m.get(p.time) ?? [0, 0];
    e[0] += p.events;
    e[1] += p.censored;
    m.set(p.time, e);
  }
  return m;
}

const okCount = (n: number, threshold: number) => n === 0 || n >= threshold;

/**
 * Grid days, left to right: a step ends at the first day where every curve's events and
 * censored since the last grid day are each 0 or >= threshold; the last step runs to the
 * last day of any curve, merged back while it breaks the rule. Null when no grid works.
 */
export function commonGrid(curves: ReadonlyArray<readonly Point[]>, threshold: number): number[] | null {
  const days = curves.map(byDay);
  const times = [...new Set(curves.flatMap((c) => c.map((p) => p.time)))].sort((a, b) => a - b);
  if (!times.length) return null;
  const steps: number[] = [];
  const acc: Array<[number, number]> = curves.map(() => [0, 0]);
  for (const t of times) {
    days.forEach((d, i) => {
      const x = d.get(t);
      if (x) {
        const a = acc[i]!;
        a[0] += x[0];
        a[1] += x[1];
      }
    });
    if (acc.every(([e, c]) => okCount(e, threshold) && okCount(c, threshold))) {
      steps.push(t);
      acc.forEach((a) => {
        a[0] = 0;
        a[1] = 0;
      });
    }
  }
  const last = times[times.length - 1]!;
  if (steps[steps.length - 1] !== last) steps.push(last);
  // merge the final steps back until every step meets the rule for every curve
  for (;;) {
    const bad = curves.some((c) => !meetsRule(c, steps, threshold));
    if (!bad) return steps;
    if (steps.length <= 1) return null;
    steps.splice(steps.length - 2, 1);
  }
}

/** Whether each step of the grid has 0 or >= threshold events and censored for this curve. */
export function meetsRule(pts: readonly Point[], grid: readonly number[], threshold: number): boolean {
  const day = byDay(pts);
  let from = -Infinity;
  for (const to of grid) {
    let e = 0;
    let c = 0;
    for (const [t, [de, dc]] of day) {
      if (t > from && t <= to) {
        e += de;
        c += dc;
      }
    }
    if (!okCount(e, threshold) || !okCount(c, threshold)) return false;
    from = to;
  }
  // nothing after the last grid day
  for (const t of day.keys()) if (t > from) return false;
  return true;
}

/** The curve's value at day t (right-continuous step function; 1 before the first point). */
function stepValue(pts: readonly Point[], t: number): { survival: number; lower: number | null; upper: number | null } {
  let v: { survival: number; lower: number | null; upper: number | null } = { survival: 1, lower: 1, upper: 1 };
  for (const p of pts) {
    if (p.time > t) break;
    v = { survival: p.survival, lower: p.lower, upper: p.upper };
  }
  return v;
}
