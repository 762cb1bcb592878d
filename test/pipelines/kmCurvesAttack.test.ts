// Issue 14, route 5 (Kaplan-Meier curves), through the real `closeloop run` on a demo drop.
// The attacker holds the published km_curves (the /api/km rows, the km chart's CSV, a
// partner's own curve and the area's) and the results rows; a partner also knows its own
// cases day by day. Before: every point had the number at risk, so events at a step =
// at_risk x (1 - S(t)/S(t-1)) and censored = at_risk - events - next at_risk recovered every
// blanked count. Now there is no number at risk, and between two published days of a curve
// the true events and censored (the warehouse's km_curves_unsuppressed) are each 0 or >= 11,
// for every curve, for the `all` curve minus any one organisation, and for the `all` curve
// minus the shown organisations (the withheld ones together).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, rows } from '../../models/duckdb.ts';
import { readPointer, storePaths } from '../../pipelines/store.ts';
import { runCli } from '../helpers/cli.ts';

const T = 11;
let root = '';
let published: Array<{ dimension: string; group_value: string; time: number; survival: number; lower: number | null; upper: number | null }> = [];
let columns: string[] = [];
let truth: Array<{ dimension: string; group_value: string; time: number; events: number; censored: number }> = [];
let publishedTables: string[] = [];
let memoRows = 0;

async function query<R>(file: string, sql: string): Promise<R[]> {
  const db = await openDatabase(file, { readOnly: true, memoryLimit: '512MB', threads: 1 });
  try {
    return await rows<R>(db.conn, sql);
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'closeloop-km-attack-'));
  const demo = await runCli(['demo', '--people', '600', '--out', join(root, 'inbox')]);
  expect(demo.code, demo.stderr).toBe(0);
  const run = await runCli(['run', '--db', root], {}, 240_000);
  expect(run.code, run.stdout + run.stderr).toBe(0);
  const paths = storePaths(root);
  const p = (await readPointer(paths))!;
  const pub = join(paths.publishedDir, p.published);
  columns = (await query<{ name: string }>(pub, `SELECT column_name AS name FROM information_schema.columns WHERE table_name = 'km_curves' ORDER BY ordinal_position`)).map((c) => c.name);
  published = await query(pub, `SELECT dimension, group_value, time, survival, lower, upper FROM km_curves WHERE metric_id = 'days_to_close' ORDER BY ALL`);
  truth = await query(join(paths.warehouseDir, p.warehouse), `SELECT dimension, group_value, time, events, censored FROM km_curves_unsuppressed
    WHERE metric_id = 'days_to_close' AND period_grain = 'all'`);
  publishedTables = (await query<{ name: string }>(pub, 'SELECT table_name AS name FROM duckdb_tables() ORDER BY 1')).map((t) => t.name);
  memoRows = (await query<{ n: number }>(join(paths.warehouseDir, p.warehouse), 'SELECT count(*)::INTEGER AS n FROM audit_memo'))[0]!.n;
}, 300_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

type Day = { time: number; events: number; censored: number };
const curveOf = (dimension: string, group: string): Day[] => truth.filter((r) => r.dimension === dimension && r.group_value === group);
const minus = (whole: Day[], parts: Day[][]): Day[] => {
  const m = new Map(whole.map((d) => [d.time, { ...d }]));
  for (const p of parts) for (const d of p) {
    const x = m.get(d.time) ?? { time: d.time, events: 0, censored: 0 };
    x.events -= d.events;
    x.censored -= d.censored;
    m.set(d.time, x);
  }
  return [...m.values()];
};
/** The grid days of a published curve: its times, without the start point (0, 1). */
const gridOf = (dimension: string, group: string) => {
  const pts = published.filter((r) => r.dimension === dimension && r.group_value === group);
  return pts.filter((r) => !(r.time === 0 && r.survival === 1)).map((r) => r.time);
};
/** The true events and censored between consecutive grid days (and after the last), that break the rule. */
const smallSteps = (days: Day[], grid: number[]) => {
  const bad: string[] = [];
  let from = -Infinity;
  for (const to of [...grid, Infinity]) {
    const inStep = days.filter((d) => d.time > from && d.time <= to);
    const e = inStep.reduce((s, d) => s + d.events, 0);
    const c = inStep.reduce((s, d) => s + d.censored, 0);
    if ((e > 0 && e < T) || (c > 0 && c < T)) bad.push(`(${from}, ${to}]: ${e} events, ${c} censored`);
    from = to;
  }
  return bad;
};

describe('issue 14, route 5: Kaplan-Meier curves give no count in 1..10 away', () => {
  it('the published km_curves has no number at risk, events or censored, and survival to 3 decimals', () => {
    expect(columns).toEqual(['metric_id', 'period_grain', 'period_start', 'dimension', 'group_value', 'time', 'survival', 'lower', 'upper']);
    for (const r of published) for (const v of [r.survival, r.lower, r.upper]) if (v !== null) expect(Math.abs(v * 1000 - Math.round(v * 1000))).toBeLessThan(1e-6);
  });

  it('curves are published (the test is not vacuous): the area with several steps, and some organisations', () => {
    expect(gridOf('all', 'all').length).toBeGreaterThanOrEqual(3);
    expect(new Set(published.filter((r) => r.dimension === 'target_org_id').map((r) => r.group_value)).size).toBeGreaterThanOrEqual(2);
  });

  it('between two published days of every curve the true events and censored are each 0 or >= 11', () => {
    const curves = [...new Set(published.map((r) => `${r.dimension}\u001f${r.group_value}`))];
    for (const c of curves) {
      const [d, g] = c.split('\u001f') as [string, string];
      expect(smallSteps(curveOf(d, g), gridOf(d, g)), `${d}=${g}`).toEqual([]);
    }
  });

  it('the area minus any one organisation (a partner subtracting its own cases) is 0 or >= 11 at every step', () => {
    const all = curveOf('all', 'all');
    const orgs = [...new Set(truth.filter((r) => r.dimension === 'target_org_id').map((r) => r.group_value))];
    expect(orgs.length).toBeGreaterThan(2);
    for (const o of orgs) expect(smallSteps(minus(all, [curveOf('target_org_id', o)]), gridOf('all', 'all')), `all - ${o}`).toEqual([]);
  });

  it('the area minus the shown organisations (the withheld ones together) is 0 or >= 11 on the days both are published', () => {
    const shown = [...new Set(published.filter((r) => r.dimension === 'target_org_id').map((r) => r.group_value))];
    const grid = gridOf('target_org_id', shown[0]!);
    for (const o of shown) expect(gridOf('target_org_id', o)).toEqual(grid);
    for (const t of grid) expect(gridOf('all', 'all')).toContain(t);
    expect(smallSteps(minus(curveOf('all', 'all'), shown.map((o) => curveOf('target_org_id', o))), grid)).toEqual([]);
  });
});

// Issue 19: the attacker's decisions per component are kept for the next run. They name
// withheld counts and the ranges proven for them, so the attacker who holds the published
// file must not find them there: they stay in the warehouse, which only a run opens.
describe('issue 19: the audit memo stays in the warehouse', () => {
  it('the warehouse holds the memo, and the published file has no such table', () => {
    expect(memoRows).toBeGreaterThan(0);
    expect(publishedTables).toContain('metric_results');
    expect(publishedTables.filter((t) => /memo|truth|unsuppressed|parts_cache/.test(t))).toEqual([]);
  });
});
