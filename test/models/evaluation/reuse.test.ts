// Incremental runs keep an evaluation part whose inputs did not change (issue 19;
// models/evaluation/reuse.ts). What must hold: the inputs a part reads are the staging
// tables its SQL reads (the event study does not read PHQ-9, the PHQ-9 comparison does);
// nothing is reused on a full refresh, after a change to an input, or under another setting;
// and a reused table is the previous one restamped with this run.
import { afterEach, describe, expect, it } from 'vitest';
import { exec, openDatabase, rows, type Database } from '../../../models/duckdb.ts';
import { evaluationReads, forgetEvaluation, recordEvaluation, reuseEvaluation } from '../../../models/evaluation/reuse.ts';

let db: Database | null = null;
afterEach(async () => {
  db?.close();
  db = null;
});

async function withTables(): Promise<Database> {
  const d = await openDatabase(':memory:');
  for (const t of ['evaluation_summary', 'evaluation_event_study', 'evaluation_balance', 'evaluation_phq9', 'evaluation_phq9_balance']) {
    await exec(d.conn, `CREATE TABLE ${t} AS SELECT 'any' AS domain, 1.5 AS figure, 'run1' AS run_id, DATE '2026-10-31' AS as_of`);
  }
  return d;
}

describe('evaluation reuse on incremental runs', () => {
  it('reads what the SQL reads: the event study not PHQ-9, the PHQ-9 comparison PHQ-9', () => {
    const ev = evaluationReads('event_study');
    for (const e of ['people', 'coverage', 'referrals', 'encounters', 'screenings']) expect(ev.has(e), e).toBe(true);
    expect(ev.has('phq9')).toBe(false);
    expect(evaluationReads('phq9').has('phq9')).toBe(true);
    expect(evaluationReads('phq9').has('encounters')).toBe(false);
  });

  it('keeps and restamps a part whose inputs did not change, and only then', async () => {
    db = await withTables();
    const o = { asOf: '2026-10-31', threshold: 11, changed: new Set(['phq9']) };
    // the previous run recorded nothing: computed
    expect(await reuseEvaluation(db.conn, 'event_study', 'run2', o)).toBe(false);
    await recordEvaluation(db.conn, 'event_study', o, 'run1');
    await recordEvaluation(db.conn, 'phq9', o, 'run1');
    // a full refresh, a change to an input, another as-of date or threshold: computed
    expect(await reuseEvaluation(db.conn, 'event_study', 'run2', { ...o, changed: undefined })).toBe(false);
    expect(await reuseEvaluation(db.conn, 'event_study', 'run2', { ...o, changed: new Set(['encounters']) })).toBe(false);
    expect(await reuseEvaluation(db.conn, 'event_study', 'run2', { ...o, asOf: '2026-11-30' })).toBe(false);
    expect(await reuseEvaluation(db.conn, 'event_study', 'run2', { ...o, threshold: 12 })).toBe(false);
    expect(await reuseEvaluation(db.conn, 'phq9', 'run2', o)).toBe(false); // PHQ-9 changed
    expect(await rows(db.conn, 'SELECT DISTINCT run_id FROM evaluation_summary')).toEqual([{ run_id: 'run1' }]);
    // only PHQ-9 changed: the event study's tables are kept, with this run's id
    expect(await reuseEvaluation(db.conn, 'event_study', 'run2', o)).toBe(true);
    for (const t of ['evaluation_summary', 'evaluation_event_study', 'evaluation_balance']) {
      expect(await rows(db.conn, `SELECT domain, figure, run_id FROM ${t}`)).toEqual([{ domain: 'any', figure: 1.5, run_id: 'run2' }]);
    }
    expect(await rows(db.conn, 'SELECT DISTINCT run_id FROM evaluation_phq9')).toEqual([{ run_id: 'run1' }]);
    // a part being computed again is forgotten first: a run that fails midway reuses nothing stale
    await forgetEvaluation(db.conn, 'event_study');
    expect(await reuseEvaluation(db.conn, 'event_study', 'run3', o)).toBe(false);
  });

  // The record travels with the warehouse copy; the tables can be written without it: a
  // version without reuse (a downgrade, then an upgrade) computed them again from other data
  // and left the record of the earlier computation in place, fingerprint and all.
  it('reuses nothing when the tables are not the ones recorded (computed again without a record: a stale record)', async () => {
    db = await withTables();
    const o = { asOf: '2026-10-31', threshold: 11, changed: new Set(['phq9']) };
    await recordEvaluation(db.conn, 'event_study', o, 'run1');
    for (const t of ['evaluation_summary', 'evaluation_event_study', 'evaluation_balance']) await exec(db.conn, `UPDATE ${t} SET figure = 2.5, run_id = 'run-of-an-older-version'`);
    expect(await reuseEvaluation(db.conn, 'event_study', 'run3', o)).toBe(false);
  });

  it('a reused part is recorded under the run that restamped it: the run after reuses it again', async () => {
    db = await withTables();
    const o = { asOf: '2026-10-31', threshold: 11, changed: new Set(['phq9']) };
    await recordEvaluation(db.conn, 'event_study', o, 'run1');
    expect(await reuseEvaluation(db.conn, 'event_study', 'run2', o)).toBe(true);
    expect(await reuseEvaluation(db.conn, 'event_study', 'run3', o)).toBe(true);
    expect(await rows(db.conn, 'SELECT DISTINCT run_id FROM evaluation_balance')).toEqual([{ run_id: 'run3' }]);
  });

  it('reuses nothing when a table of the part is missing', async () => {
    db = await withTables();
    const o = { asOf: '2026-10-31', threshold: 11, changed: new Set(['phq9']) };
    await recordEvaluation(db.conn, 'event_study', o, 'run1');
    await exec(db.conn, 'DROP TABLE evaluation_balance');
    expect(await reuseEvaluation(db.conn, 'event_study', 'run2', o)).toBe(false);
  });
});
