// Issue 14, consecutive publications, the residual "publications before the previous one":
// the attacker holds every publication. Women's closed loops: 20 of 40 shown in publication
// 1, withheld in publication 2, and 25 of 45 in publication 3: a change of 5 (and 5) between
// two publications the attacker holds, which the audit did not see because it compared with
// publication 2 only. The same after a rollback: the previous generation is then an older one.
// The store now keeps the figures last shown for every row (revisions.ts: writeHistory,
// previousKnown) and the audit compares with those.
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { auditResults, readAuditTable, type AuditRow } from '../../../models/disclosure/audit.ts';
import { previousKnown, withheldBefore, writeHistory } from '../../../models/disclosure/revisions.ts';
import { exec, openDatabase, type Database } from '../../../models/duckdb.ts';
import { METRICS } from '../../../models/metrics/catalog.ts';

const dir = mkdtempSync(join(tmpdir(), 'closeloop-history-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let db: Database | undefined;
afterEach(() => db?.close());

type Fig = [string, number | null, number | null];
const row = ([group, n, d]: Fig): AuditRow => ({
  metric_id: 'closed_loop_rate', period_grain: 'all', period_start: '2025-01-01', dimension: group === 'all' ? 'all' : 'sex', group_value: group,
  numerator: n, denominator: d, value: n === null || d === null ? null : n / d, suppressed: n === null,
});

/** metric_results (or another table) holding these rows. */
async function table(name: string, figs: Fig[]) {
  const v = (x: number | null) => (x === null ? 'NULL' : String(x));
  const values = figs.map(row).map((r) => `('${r.metric_id}', 'all', DATE '2025-01-01', '${r.dimension}', '${r.group_value}', ${v(r.numerator)}, ${v(r.denominator)}, ${v(r.value)}, ${r.suppressed})`);
  await exec(db!.conn, `CREATE OR REPLACE TABLE ${name} AS SELECT * FROM (VALUES ${values.join(', ')}) v(metric_id, period_grain, period_start, dimension, group_value, numerator, denominator, value, suppressed)`);
}

/** One publication: its results become metric_results (the truth, when given, its figures before suppression), and the run puts the history's next version in place. */
async function publish(history: string, figs: Fig[], truth?: Fig[]) {
  await table('metric_results', figs);
  if (truth) await table('truth', truth);
  await writeHistory(db!.conn, history, truth ? 'truth' : undefined);
  renameSync(`${history}.tmp`, history);
}

const P1: Fig[] = [['all', 50, 100], ['female', 20, 40], ['male', 30, 60]];
const P2: Fig[] = [['all', 50, 100], ['female', null, null], ['male', null, null]];
const P3: Fig[] = [['all', 61, 111], ['female', 25, 45], ['male', 36, 66]];

describe('every publication, not only the previous one', () => {
  it('the history keeps what publication 1 showed through publication 2, and the audit of 3 sees the change of 5', async () => {
    const history = join(dir, 'a.duckdb');
    db = await openDatabase(':memory:', { memoryLimit: '256MB', threads: 1 });
    await publish(history, P1);
    await publish(history, P2);
    // publication 3, audited against publication 2 alone: women's row was withheld there
    await table('prev', P2);
    const alone = await auditResults(P3.map(row), { metrics: METRICS, threshold: 11, previous: await readAuditTable(db.conn, 'prev') });
    expect(alone.violations.filter((v) => v.group_value === 'female')).toEqual([]);
    // with the history: the figures last shown, 20 of 40
    const known = await previousKnown(db.conn, 'prev', history);
    const r = await auditResults(P3.map(row), { metrics: METRICS, threshold: 11, previous: await readAuditTable(db.conn, known) });
    const female = r.violations.filter((v) => v.group_value === 'female').map((v) => v.message).sort();
    expect(female).toEqual([
      'denominator changed by 5 since the previous publication (40 then 45): a change in 1..10',
      'numerator changed by 5 since the previous publication (20 then 25): a change in 1..10',
    ]);
  });

  it('after a rollback the previous generation is older, but the history still holds the newer publication', async () => {
    const history = join(dir, 'b.duckdb');
    db = await openDatabase(':memory:', { memoryLimit: '256MB', threads: 1 });
    // publication 1 shows women 20/40; publication 2 shows 31/51 (a change of 11: fine); then
    // a rollback to 1, and publication 3 shows 36/56: 16 above 1 but 5 above 2, which the
    // attacker holds
    await publish(history, P1);
    await publish(history, [['all', 61, 111], ['female', 31, 51], ['male', 30, 60]]);
    await table('prev', P1); // the generation rolled back to
    const now = [['all', 66, 116], ['female', 36, 56], ['male', 30, 60]].map((f) => row(f as Fig));
    const alone = await auditResults(now, { metrics: METRICS, threshold: 11, previous: await readAuditTable(db.conn, 'prev') });
    expect(alone.violations.filter((v) => v.group_value === 'female')).toEqual([]);
    const known = await previousKnown(db.conn, 'prev', history);
    const r = await auditResults(now, { metrics: METRICS, threshold: 11, previous: await readAuditTable(db.conn, known) });
    expect(r.violations.filter((v) => v.group_value === 'female').map((v) => v.message).sort()).toEqual([
      'denominator changed by 5 since the previous publication (51 then 56): a change in 1..10',
      'numerator changed by 5 since the previous publication (31 then 36): a change in 1..10',
    ]);
  });

  it('rows no publication showed come from the previous publication, withheld', async () => {
    const history = join(dir, 'c.duckdb');
    db = await openDatabase(':memory:', { memoryLimit: '256MB', threads: 1 });
    await publish(history, P2);
    await table('prev', P2);
    const rows = await readAuditTable(db.conn, await previousKnown(db.conn, 'prev', history));
    expect(rows.map((r) => `${r.group_value} ${r.suppressed ? 'withheld' : `${r.numerator}/${r.denominator}`}`).sort()).toEqual(['all 50/100', 'female withheld', 'male withheld']);
  });

  it('keeps the truth of every row the last publication did not show: withheld, pending revision, or in a cut it removed', async () => {
    const history = join(dir, 'd.duckdb');
    db = await openDatabase(':memory:', { memoryLimit: '256MB', threads: 1 });
    const truths = async () => (await readAuditTable(db!.conn, (await withheldBefore(db!.conn, history))!)).map((r) => `${r.dimension} ${r.group_value} ${r.numerator}/${r.denominator}`).sort();
    await publish(history, P1, P1);
    expect(await truths()).toEqual([]);
    await publish(history, P2, P1);
    expect(await truths()).toEqual(['sex female 20/40', 'sex male 30/60']);
    // men withheld again at 31 of 61: only this publication's truths are kept
    await publish(history, P2, [['all', 51, 101], ['female', 20, 40], ['male', 31, 61]]);
    expect(await truths()).toEqual(['sex female 20/40', 'sex male 31/61']);
    // women shown; men pending revision (older figures shown, the truth 32 of 62 hidden); a
    // cut by payer the rounds removed (in the truth, not in the publication)
    await table('metric_results', [['all', 52, 102], ['female', 20, 40], ['male', 31, 61]]);
    await exec(db.conn, `ALTER TABLE metric_results ADD COLUMN note VARCHAR`);
    await exec(db.conn, `UPDATE metric_results SET note = 'pending revision' WHERE group_value = 'male'`);
    await table('truth', [['all', 52, 102], ['female', 20, 40], ['male', 32, 62]]);
    await exec(db.conn, `INSERT INTO truth VALUES ('closed_loop_rate', 'all', DATE '2025-01-01', 'payer', 'medicaid', 52, 102, 52 / 102, false)`);
    await writeHistory(db.conn, history, 'truth');
    renameSync(`${history}.tmp`, history);
    expect(await truths()).toEqual(['payer medicaid 52/102', 'sex male 32/62']);
  });

  it('a history written before it kept withheld truths has none', async () => {
    const history = join(dir, 'e.duckdb');
    db = await openDatabase(':memory:', { memoryLimit: '256MB', threads: 1 });
    await publish(history, P2);
    expect(await withheldBefore(db.conn, history)).toBeUndefined();
    expect(await withheldBefore(db.conn, join(dir, 'none.duckdb'))).toBeUndefined();
  });
});
