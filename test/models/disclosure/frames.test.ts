// Issue 14, fixed frames between consecutive publications. The attacker: an evaluator holding
// two consecutive publications who knows that every published cut lists its whole frame of
// groups. A referral from a person of a ZIP3 seen nowhere before makes the group 999 appear
// in cuts the previous publication already published without it: the attacker knows 999
// was 0 there then (the frame was whole), so its figures now are its change since then.
// (In the linear system that change is the count itself, which this publication's own
// checks already protect: the audit names it as a change and accepts the zero row held as
// pending.) And a group that left (its only person moved) keeps its rows, with zero counts:
// a frame rebuilt each run said of every group in it that someone of it is there now.
// Numbers worked out by hand on one proportion cut by zip3.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { openDatabase, type Database } from '../../../models/duckdb.ts';
import { runCli } from '../../helpers/cli.ts';
import { auditResults, finaliseResults, type AuditRow } from '../../../models/disclosure/index.ts';
import { PENDING_REVISION } from '../../../models/disclosure/audit.ts';
import { METRICS } from '../../../models/metrics/catalog.ts';
import { RESULT_COLUMNS } from '../../../models/results.ts';
import { insertResults, readResults, resultsDb, testMetric, type ResultInput } from './resultsTable.ts';

const row = (group: string, numerator: number | null, denominator: number | null, over: Partial<AuditRow> = {}): AuditRow => ({
  metric_id: 'closed_loop_rate', period_grain: 'all', period_start: '2025-01-01', dimension: group === 'all' ? 'all' : 'zip3', group_value: group,
  numerator, denominator, value: numerator === null || denominator === null || denominator === 0 ? null : numerator / denominator, suppressed: numerator === null, ...over,
});
const withheld = (group: string) => row(group, null, null);

const dir = mkdtempSync(join(tmpdir(), 'closeloop-frames-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// the previous publication: zip3 100 and 101, 60 and 40 referrals, 30 and 20 loops closed; no 999
const before = [row('all', 50, 100), row('100', 30, 60), row('101', 20, 40)];
const audit = (now: AuditRow[], previous: AuditRow[] = before) => auditResults(now, { metrics: METRICS, threshold: 11, previous });
const said = (r: Awaited<ReturnType<typeof audit>>) => r.violations.map((v) => `${v.relation} ${v.group_value} ${v.count}: ${v.message}`).sort();

describe('a group new since the previous publication: its figures are its change from 0 (issue 14, fixed frames)', () => {
  test('a shown row of the new group 999 is a change from the zero row the previous publication implied', async () => {
    // 999: 3 of 4 referrals closed; everyone's row held at its previous figures
    const r = await audit([row('all', 50, 100, { note: PENDING_REVISION }), row('100', 30, 60), row('101', 20, 40), row('999', 3, 4)]);
    expect(said(r).filter((s) => s.startsWith('primary 999') && s.includes('since the previous publication'))).toEqual([
      'primary 999 C: complement (denominator - numerator) changed by 1 since the previous publication (0 then 1): a change in 1..10',
      'primary 999 D: denominator changed by 4 since the previous publication (0 then 4): a change in 1..10',
      'primary 999 N: numerator changed by 3 since the previous publication (0 then 3): a change in 1..10',
    ]);
  });

  test('a withheld row of the new group: everyone minus the others gives its change from 0 exactly', async () => {
    // everyone 53/104 shown is a change of 3/4 itself; 999 = 53 - 30 - 20 and 104 - 60 - 40
    const r = await audit([row('all', 53, 104), row('100', 30, 60), row('101', 20, 40), withheld('999')]);
    const changes = r.violations.filter((v) => v.group_value === '999' && /change of withheld/.test(v.message));
    expect(changes.map((v) => [v.count, v.low, v.high])).toEqual([['N', 3, 3], ['C', 1, 1], ['D', 4, 4]]);
  });

  test('held at its previous figures, the new group shows the zero row: accepted as the previous figures; any other figures are not', async () => {
    const held = (n: number, d: number) => row('999', n, d, { note: PENDING_REVISION });
    const others = [row('all', 50, 100, { note: PENDING_REVISION }), row('100', 30, 60), row('101', 20, 40)];
    expect(said(await audit([...others, held(0, 0)]))).toEqual([]);
    expect(said(await audit([...others, held(1, 1)]))).toEqual(['revision 999 undefined: pending revision, but its figures are not those of the previous publication']);
  });

  test('a cut the previous publication did not publish implies nothing about its groups', async () => {
    // the previous publication had no zip3 cut for this period: 999's 3/4 is only this publication's primary disclosure
    const r = await audit([row('all', 50, 100, { note: PENDING_REVISION }), row('999', 3, 4)], [row('all', 50, 100)]);
    expect(said(r).filter((s) => s.includes('since the previous publication'))).toEqual([]);
  });
});

describe('closeloop audit-suppression FILE --previous FILE: the same zero rows (issue 14, fixed frames)', () => {
  const cols = 'metric_id,period_grain,period_start,dimension,group_value,numerator,denominator,value,suppressed,note';
  const line = (g: string, n: number, d: number, note = '') => `closed_loop_rate,all,2025-01-01,${g === 'all' ? 'all' : 'zip3'},${g},${n},${d},${d ? n / d : ''},false,${note}`;
  const write = (name: string, lines: string[]) => {
    writeFileSync(join(dir, name), [cols, ...lines].join('\n') + '\n');
    return join(dir, name);
  };

  test('the new group 999 held at the zero row passes; shown at 3 of 4 it fails as a change from 0', async () => {
    const p0 = write('p0.csv', [line('all', 50, 100), line('100', 30, 60), line('101', 20, 40)]);
    const held = write('held.csv', [line('all', 50, 100, 'pending revision'), line('100', 30, 60), line('101', 20, 40), line('999', 0, 0, 'pending revision')]);
    const ok = await runCli(['audit-suppression', held, '--previous', p0]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    const shown = write('shown.csv', [line('all', 50, 100, 'pending revision'), line('100', 30, 60), line('101', 20, 40), line('999', 3, 4)]);
    const bad = await runCli(['audit-suppression', shown, '--previous', p0]);
    expect(bad.code, bad.stdout + bad.stderr).toBe(1);
    expect(bad.stdout).toContain('closed_loop_rate all 2025-01-01 zip3=999: numerator changed by 3 since the previous publication (0 then 3)');
  }, 60_000);
});

let db: Database | null = null;
afterEach(() => {
  db?.close();
  db = null;
});

describe('finaliseResults keeps frames from one publication to the next (issue 14, fixed frames)', () => {
  const p = testMetric('p', 'proportion');
  const g = (group_value: string, numerator: number, denominator: number, over: Partial<ResultInput> = {}): ResultInput =>
    ({ metric_id: 'p', dimension: group_value === 'all' ? 'all' : 'zip3', group_value, numerator, denominator, ...over });

  async function previousFile(name: string, input: readonly ResultInput[]) {
    const file = join(dir, name);
    const prev = await openDatabase(file);
    try {
      await prev.conn.run(`CREATE TABLE metric_results (${RESULT_COLUMNS.map((c) => `${c.name} ${c.type}`).join(', ')})`);
      await insertResults(prev, input.map((r) => ({ ...r, suppressed: false, run_id: 'run-1' } as ResultInput)));
    } finally {
      prev.close();
    }
    return file;
  }

  test('a group that left keeps its zero row; a new group with 3 of 12 is withheld, not shown and not held at figures it never had', async () => {
    // the previous publication: zip3 100, 101, 102, 103 (102: a zero row, its one person's referral was elsewhere)
    const previous = await previousFile('left-and-new.duckdb', [g('all', 150, 300), g('100', 50, 100), g('101', 50, 100), g('102', 0, 0), g('103', 50, 100)]);
    // now: 102's person is gone from every table; a person of the new ZIP3 999 has 12 referrals, 3 closed
    db = await resultsDb([g('all', 153, 312), g('100', 50, 100), g('101', 50, 100), g('103', 50, 100), g('999', 3, 12)]);
    const r = await finaliseResults(db.conn, { metrics: [p], config: { referenceGroups: {}, suppressionThreshold: 11 }, previous });
    expect(r.audit).toMatchObject({ ok: true, violations: [] });
    const now = await readResults(db);
    const by = new Map(now.map((x) => [x.group_value as string, x]));
    expect([...by.keys()].sort()).toEqual(['100', '101', '102', '103', '999', 'all']);
    // 102 is still in the frame: its zero row, not a missing one
    expect(by.get('102')).toMatchObject({ suppressed: false, numerator: 0, denominator: 0, note: null });
    // 999's 3 of 12 (a change of 3 closed, 9 open from the zero row) is not shown, and not shown as figures of the previous publication
    expect(by.get('999')).toMatchObject({ suppressed: true, numerator: null, denominator: null, note: null });
    // everyone changed by 3 of 12: held at the previous figures
    expect(by.get('all')).toMatchObject({ numerator: 150, denominator: 300, note: PENDING_REVISION, run_id: 'run-1' });
  });

  test('a county the previous publication showed only inside a two-way cut stays in the county frame', async () => {
    const c = (dimension: string, group_value: string, numerator: number, denominator: number): ResultInput => ({ metric_id: 'p', dimension, group_value, numerator, denominator });
    const counties = [c('county_fips', '37001', 20, 40), c('county_fips', '37003', 20, 40)];
    const previous = await previousFile('two-way.duckdb', [c('all', 'all', 40, 80), ...counties, c('domain*county_fips', 'food*37002', 0, 0)]);
    db = await resultsDb([c('all', 'all', 40, 80), ...counties]);
    await finaliseResults(db.conn, { metrics: [p], config: { referenceGroups: {}, suppressionThreshold: 11 }, previous });
    const frame = (await readResults(db, "dimension = 'county_fips'")).map((x) => [x.group_value, x.numerator, x.denominator]);
    expect(frame).toEqual([['37001', 20, 40], ['37002', 0, 0], ['37003', 20, 40]]);
  });

  test('a dimension published only inside a two-way cut gets its whole frame there: no cell says it is above zero by existing', async () => {
    const c = (dimension: string, group_value: string, numerator: number, denominator: number): ResultInput => ({ metric_id: 'p', dimension, group_value, numerator, denominator });
    // counties only inside domain x county: food in 37001, housing in 37003
    db = await resultsDb([c('all', 'all', 40, 80), c('domain', 'food', 20, 40), c('domain', 'housing', 20, 40), c('domain*county_fips', 'food*37001', 20, 40), c('domain*county_fips', 'housing*37003', 20, 40)]);
    await finaliseResults(db.conn, { metrics: [p], config: { referenceGroups: {}, suppressionThreshold: 11 } });
    const cells = new Map((await readResults(db, "dimension = 'domain*county_fips'")).map((x) => [x.group_value as string, [x.numerator, x.denominator]]));
    expect(cells.get('housing*37001')).toEqual([0, 0]);
    expect(cells.get('food*37003')).toEqual([0, 0]);
    expect(cells.get('food*37001')).toEqual([20, 40]);
  });
});
