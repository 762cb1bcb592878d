// Hole found in review (review5): where a series (metric x dimension) publishes no whole-span
// rows (a `publication` setting without `all` for the dimension), comparisonSql.ts chooses the
// most_favourable reference of each period from that period's own rows, so the rule orders
// the groups of every period. attacker/reference.ts built the ordering for whole-span cuts only.
// The attacker and the figures are favourableReference.test.ts's, at grain year, with no
// whole-span rows: men (41, withheld) do no better than women (11 / 220), so other's
// numerator is 7..9.
import { afterEach, describe, expect, it } from 'vitest';
import { auditResults } from '../../../models/disclosure/audit.ts';
import { exec, openDatabase, type Database } from '../../../models/duckdb.ts';
import { METRICS } from '../../../models/metrics/catalog.ts';

const CELLS: Array<[string, number, number, boolean]> = [
  ['all', 20, 272, true],
  ['female', 11, 220, true],
  ['male', 1, 41, false],
  ['other', 8, 11, false],
  ['unknown', 0, 0, true],
];

let db: Database | undefined;
afterEach(() => db?.close());

async function publish(grain: string, truthSpans = false) {
  db = await openDatabase(':memory:', { memoryLimit: '256MB', threads: 1 });
  const values = (truth: boolean) => CELLS.map(([g, n, d, shown]) => {
    const show = shown || truth;
    return `('closed_loop_rate', '${grain}', DATE '2025-01-01', '${g === 'all' ? 'all' : 'sex'}', '${g}', ${show ? n : 'NULL'}, ${show ? d : 'NULL'}, ${show && d ? n / d : 'NULL'}, ${!show}, ${g === 'all' ? 'NULL' : "'female'"})`;
  }).join(', ');
  const cols = '(metric_id, period_grain, period_start, dimension, group_value, numerator, denominator, value, suppressed, reference_group)';
  await exec(db.conn, `CREATE TABLE published AS SELECT * FROM (VALUES ${values(false)}) v${cols}`);
  await exec(db.conn, `CREATE TABLE truth AS SELECT * FROM (VALUES ${values(true)}) v${cols}`);
  // the whole-span cut existed when the references were chosen, and was removed later (coarsened)
  if (truthSpans) await exec(db.conn, `INSERT INTO truth SELECT * REPLACE ('all' AS period_grain) FROM truth`);
  return db.conn;
}

const favourable = { named: new Set<string>(), minDenominator: 30 };

describe('most_favourable where a series has no whole-span rows: each period\'s own ordering (review5)', () => {
  it('the audit finds other\'s numerator 7..9 in the year cut', async () => {
    const conn = await publish('year');
    const r = await auditResults(conn, { metrics: METRICS, threshold: 11, table: 'published', truthTable: 'truth', favourable });
    expect(r.violations.filter((v) => v.relation === 'disclosure').map((v) => `${v.period_grain} ${v.group_value} ${v.count} ${v.low}..${v.high}`)).toEqual(['year other N 7..9']);
  });

  it('no ordering of a year cut whose series had whole-span rows when the reference was chosen (removed since): the year has no rule of its own', async () => {
    const conn = await publish('year', true);
    const r = await auditResults(conn, { metrics: METRICS, threshold: 11, table: 'published', truthTable: 'truth', favourable });
    expect(r.ok).toBe(true);
    expect(r.attacker?.byRelation.reference ?? 0).toBe(0);
  });
});
