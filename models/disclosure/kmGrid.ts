// Kaplan-Meier curves published on a common time grid (issue 14, route 5). The engine's
// curves have a point at every day with an event or a censored case, with the number at
// risk: from those, events at a step = at_risk x (1 - S(t)/S(t-1)) and censored = at_risk -
// events - next at_risk, so every small count could be recovered. Published instead:
//   - each curve at grid days only, chosen so that the events and the censored cases
//     between two grid days are each 0 or at least the threshold, for the curve and for
//     every difference an attacker can take: the `all` curve of a metric, grain and period
//     on the grid with the most steps that also holds for the `all` curve minus any one
//     organisation (what a partner, who knows its own cases day by day, learns about the
//     others); the groups of a dimension on one common grid made of some of the `all`
//     curve's days, which also holds for the `all` curve minus the shown groups (the
//     withheld groups together). Finer grids for the groups would let an attacker line up
//     a group with the `all` curve on days where the rest is a small count;
//   - at each grid day only the survival and its interval, rounded to 3 decimals (no number
//     at risk, no events, no censored). Full precision would let an attacker factor the
//     product of (at risk - events) / at risk inside a step and find each day's counts;
//   - each curve from (day 0, survival 1) to the first grid day at or after its last case;
//   - a group's curve only where its results row is shown; when exactly one group's curve
//     of a dimension is withheld, the next smallest is withheld too; the `all` curve only
//     where its results row is shown and every difference above can meet the rule.
// The number of cases behind each curve is its results row's denominator.
import type { DuckDBConnection } from '@duckdb/node-api';
import { exec, rows } from '../duckdb.ts';
import { bulkTable } from '../metrics/bulk.ts';

/** Events and censored cases per day of one curve. */
export type Days = ReadonlyMap<number, readonly [events: number, censored: number]>;

interface Point {
  time: number;
  survival: number;
  lower: number | null;
  upper: number | null;
}

export interface KmCurve {
  days: Days;
  points: readonly Point[];
}

/** The dimension whose groups are organisations: a partner knows its own group's cases. */
const PARTNER_DIMENSION = 'target_org_id';
const ALL = 'all\u001fall';
const SEP = '\u001f';

/** Replaces km_curves with its published form; returns how many curves were withheld. */
export async function publishKmCurves(conn: DuckDBConnection, threshold: number, results: string): Promise<number | null> {
  const has = await rows<{ n: number }>(conn, `SELECT count(*)::INTEGER AS n FROM duckdb_tables() WHERE table_name = 'km_curves' AND NOT temporary`);
  if (!has[0]?.n) return null;
  // The grid protects the curves of one period against each other; curves of several
  // grains (months inside the span) or two-way cuts (cells inside margins) would relate
  // across sets, which this module does not solve.
  const shape = await rows<{ metric_id: string; grains: number; two_way: string | null }>(conn, `SELECT metric_id,
  count(DISTINCT period_grain)::INTEGER AS grains, min(dimension) FILTER (WHERE dimension LIKE '%*%') AS two_way
FROM km_curves GROUP BY metric_id`);
  for (const s of shape) {
    if (s.grains > 1) throw new Error(`km_curves: ${s.metric_id} has curves at ${s.grains} grains; curves are published for one grain per metric (models/disclosure/kmGrid.ts): nothing published`);
    if (s.two_way) throw new Error(`km_curves: ${s.metric_id} has curves by the two-way cut ${s.two_way}; curves are published for one-way cuts only (models/disclosure/kmGrid.ts): nothing published`);
  }
  // A partner knows its own cases by every attribute: it could subtract them from any
  // group's curve. Only the `all` curve is checked against that, so other dimensions are refused.
  const other = await rows<{ d: string }>(conn, `SELECT DISTINCT dimension AS d FROM km_curves WHERE dimension NOT IN ('all', '${PARTNER_DIMENSION}') ORDER BY 1`);
  if (other.length) throw new Error(`km_curves: curves by ${other.map((o) => o.d).join(', ')}: only the all curve and curves by ${PARTNER_DIMENSION} are published (a partner could subtract its own cases from a group's curve; models/disclosure/kmGrid.ts): nothing published`);
  const points = await rows<{ k: string; c: string; time: number; events: number; censored: number; survival: number; lower: number | null; upper: number | null }>(conn, `SELECT
  concat_ws(chr(31), metric_id, period_grain, period_start::VARCHAR) AS k, concat_ws(chr(31), dimension, group_value) AS c,
  time, coalesce(events, 0) AS events, coalesce(censored, 0) AS censored, survival, lower, upper
FROM km_curves ORDER BY k, c, time`);
  const shownRows = new Map((await rows<{ k: string; cases: number }>(conn, `SELECT concat_ws(chr(31), metric_id, period_grain, period_start::VARCHAR, dimension, group_value) AS k,
  denominator AS cases FROM ${results} WHERE NOT coalesce(suppressed, false) AND denominator IS NOT NULL`)).map((r) => [r.k, r.cases]));
  // one set per metric, grain and period: the `all` curve and every group's
  const sets = new Map<string, Map<string, { days: Map<number, [number, number]>; points: Point[] }>>();
  for (const p of points) {
    const set = sets.get(p.k) ?? new Map();
    sets.set(p.k, set);
    const curve = set.get(p.c) ?? { days: new Map(), points: [] };
    set.set(p.c, curve);
    const d = curve.days.get(p.time) ?? [0, 0];
    d[0] += p.events;
    d[1] += p.censored;
    curve.days.set(p.time, d);
    curve.points.push({ time: p.time, survival: p.survival, lower: p.lower, upper: p.upper });
  }
  const out: Array<Array<string | number | null>> = [];
  let withheld = 0;
  for (const [k, set] of sets) {
    const shown = new Map<string, number>();
    for (const c of set.keys()) {
      const cases = shownRows.get(`${k}${SEP}${c}`);
      if (cases !== undefined) shown.set(c, cases);
    }
    const chosen = chooseCurves(set, shown, threshold);
    withheld += set.size - (chosen?.grids.size ?? 0);
    if (!chosen) continue;
    const [metric, grain, start] = k.split(SEP) as [string, string, string];
    for (const [c, grid] of chosen.grids) {
      const [dimension, group] = c.split(SEP) as [string, string];
      for (const p of publishedPoints(set.get(c)!, grid)) out.push([metric, grain, start, dimension, group, p.time, p.survival, p.lower, p.upper]);
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

/**
 * Which curves of one set are published, each with its grid. `shown` maps each curve whose
 * results row is shown to its cases (the row's denominator). The `all` curve gets the
 * finest grid on which it and every partner's view of it (all minus that organisation,
 * known to the partner day by day) meet the rule; the groups of a dimension share a grid
 * made of some of those days, on which they and the `all` curve minus them (the withheld
 * groups together) meet it: that is all an attacker can line up. Null when none is published.
 */
export function chooseCurves(
  set: ReadonlyMap<string, KmCurve>,
  shown: ReadonlyMap<string, number>,
  threshold: number,
): { grids: Map<string, number[]> } | null {
  const grids = new Map<string, number[]>();
  const all = set.get(ALL);
  const dimensionOf = (c: string) => c.slice(0, c.indexOf(SEP));
  const groups = [...set.keys()].filter((c) => c !== ALL);
  const partnerViews = all ? groups.filter((c) => dimensionOf(c) === PARTNER_DIMENSION).map((c) => minus(all.days, [set.get(c)!.days])) : [];
  const allGrid = all && shown.has(ALL) ? commonGrid([all.days, ...partnerViews], threshold) : null;
  if (allGrid) grids.set(ALL, allGrid);
  const bySize = (a: string, b: string) => shown.get(a)! - shown.get(b)! || (a < b ? -1 : 1);
  for (const d of new Set(groups.map(dimensionOf))) {
    const of = groups.filter((c) => dimensionOf(c) === d);
    let published = of.filter((c) => shown.has(c)).sort(bySize);
    while (published.length) {
      // the `all` curve minus the shown groups: the rest together, on the days both are published
      const rest = allGrid ? [minus(all!.days, published.map((c) => set.get(c)!.days))] : [];
      const grid = commonGrid([...published.map((c) => set.get(c)!.days), ...rest], threshold, allGrid ?? undefined);
      // never exactly one group withheld: its curve would be the rest's
      if (grid && of.length - published.length !== 1) {
        for (const c of published) grids.set(c, grid);
        break;
      }
      published = published.slice(1); // the smallest group's curve goes
    }
  }
  return grids.size ? { grids } : null;
}

/** Per-day counts of `whole` minus the sum of `parts` (the parts are subsets of the whole). */
function minus(whole: Days, parts: readonly Days[]): Days {
  const m = new Map<number, [number, number]>();
  for (const [t, [e, c]] of whole) m.set(t, [e, c]);
  for (const p of parts) {
    for (const [t, [e, c]] of p) {
      const x = m.get(t) ?? [0, 0];
      x[0] -= e;
      x[1] -= c;
      m.set(t, x);
    }
  }
  return m;
}

const okCount = (n: number, threshold: number) => n === 0 || n >= threshold;

/**
 * The grid with the most steps (so the curves keep the most shape) in which every curve's
 * events and censored between two grid days are each 0 or >= threshold, ending at the
 * last day of any curve (or candidate). Steps end only on days where some curve has a case,
 * or only on the candidate days when given. Null when no such grid exists (without
 * candidates: exactly when some curve's total events or censored are in 1..threshold-1).
 * Dynamic programming over those days: O(days^2 x curves), with days <= the follow-up.
 */
export function commonGrid(curves: readonly Days[], threshold: number, candidates?: readonly number[]): number[] | null {
  const times = [...new Set([...curves.flatMap((c) => [...c.keys()]), ...(candidates ?? [])])].sort((a, b) => a - b);
  if (!times.length) return null;
  const n = times.length;
  const allowed = candidates ? new Set(candidates) : null;
  // running totals per curve after each day (index 0: before the first day)
  const cum = curves.map((c) => {
    const e = new Float64Array(n + 1);
    const k = new Float64Array(n + 1);
    times.forEach((t, i) => {
      const x = c.get(t);
      e[i + 1] = e[i]! + (x ? x[0] : 0);
      k[i + 1] = k[i]! + (x ? x[1] : 0);
    });
    return { e, k };
  });
  const ok = (i: number, j: number) => cum.every(({ e, k }) => okCount(e[j]! - e[i]!, threshold) && okCount(k[j]! - k[i]!, threshold));
  // steps[j]: most steps covering the first j days exactly (-1: none); from[j]: where the last one starts
  const steps = new Int32Array(n + 1).fill(-1);
  const from = new Int32Array(n + 1);
  steps[0] = 0;
  for (let j = 1; j <= n; j++) {
    if (allowed && !allowed.has(times[j - 1]!)) continue;
    for (let i = 0; i < j; i++) {
      if (steps[i]! >= 0 && steps[i]! + 1 > steps[j]! && ok(i, j)) {
        steps[j] = steps[i]! + 1;
        from[j] = i;
      }
    }
  }
  if (steps[n]! < 0) return null;
  const grid: number[] = [];
  for (let j = n; j > 0; j = from[j]!) grid.push(times[j - 1]!);
  return grid.reverse();
}

/** Whether each step of the grid has 0 or >= threshold events and censored for this curve, and no day after it. */
export function meetsRule(days: Days, grid: readonly number[], threshold: number): boolean {
  let from = -Infinity;
  for (const to of grid) {
    let e = 0;
    let c = 0;
    for (const [t, [de, dc]] of days) {
      if (t > from && t <= to) {
        e += de;
        c += dc;
      }
    }
    if (!okCount(e, threshold) || !okCount(c, threshold)) return false;
    from = to;
  }
  for (const t of days.keys()) if (t > from) return false;
  return true;
}

const round3 = (x: number | null) => (x === null ? null : Math.round(x * 1000) / 1000);

/**
 * A curve's published points: (0, 1) unless day 0 is itself a grid day, then the curve's
 * value at each grid day up to the first one at or after its last case.
 */
export function publishedPoints(curve: KmCurve, grid: readonly number[]): Point[] {
  const lastDay = Math.max(...curve.days.keys());
  const out: Point[] = grid[0] === 0 ? [] : [{ time: 0, survival: 1, lower: null, upper: null }];
  for (const t of grid) {
    let v: Point = { time: t, survival: 1, lower: null, upper: null };
    for (const p of curve.points) {
      if (p.time > t) break;
      v = { time: t, survival: p.survival, lower: p.lower, upper: p.upper };
    }
    out.push({ time: t, survival: round3(v.survival)!, lower: round3(v.lower), upper: round3(v.upper) });
    if (t >= lastDay) break;
  }
  return out;
}
