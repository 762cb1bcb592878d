// Issue 14, route 4, the residual after 10cbbba: the most_favourable reference rule says of
// every other group with a whole-span denominator of 30 or more that its rate is no better
// than the reference's. An attacker who knows a withheld group reaches 30 turns that into a
// bound on its counts. The audit had no such relation, so a publish it certified could
// leave a withheld count provable inside 1..10.
//
// The attacker: an evaluator holding the whole-span cut by sex of closed_loop_rate (higher
// is better), the publication rules (the reference is the most favourable group of 30 or
// more), and the knowledge that men number 30 or more.
//   everyone 20 / 272 shown; women 11 / 220 shown (the reference: 5%); unknown 0 / 0 shown;
//   men 1 / 41 withheld; other 8 / 11 withheld.
// The withheld numerators add up to 9, the complements to 43. Without the rule, men may hold
// all 9 closed loops and `other` none: every count can be 0. With it, men's rate is at most
// 11/220, so their numerator is at most 43 x 11/209 = 2.26, i.e. 2, and `other`'s numerator is
// 7..9: a count inside 1..10.
import { afterEach, describe, expect, it } from 'vitest';
import { auditResults, type AuditRow } from '../../../models/disclosure/audit.ts';
import { favourableReferenceRelations } from '../../../models/disclosure/attacker/reference.ts';
import { metricMetaMap } from '../../../models/disclosure/metricMeta.ts';
import { exec, openDatabase, type Database } from '../../../models/duckdb.ts';
import { METRICS } from '../../../models/metrics/catalog.ts';

// [group, numerator, denominator, shown]
type Cell = [string, number, number, boolean];
const CELLS: Cell[] = [
  ['all', 20, 272, true],
  ['female', 11, 220, true],
  ['male', 1, 41, false],
  ['other', 8, 11, false],
  ['unknown', 0, 0, true],
];

const row = ([group, n, d, shown]: Cell, truth: boolean): AuditRow => ({
  metric_id: 'closed_loop_rate', period_grain: 'all', period_start: '2025-01-01', dimension: group === 'all' ? 'all' : 'sex', group_value: group,
  numerator: shown || truth ? n : null, denominator: shown || truth ? d : null, value: shown || truth ? (d ? n / d : null) : null,
  suppressed: !(shown || truth), reference_group: group === 'all' ? null : 'female',
});

let db: Database | undefined;
afterEach(() => db?.close());

async function publish(cells: Cell[]) {
  db = await openDatabase(':memory:', { memoryLimit: '256MB', threads: 1 });
  const values = (truth: boolean) => cells.map((c) => {
    const r = row(c, truth);
    const v = (x: number | null) => (x === null ? 'NULL' : String(x));
    return `('${r.metric_id}', 'all', DATE '2025-01-01', '${r.dimension}', '${r.group_value}', ${v(r.numerator)}, ${v(r.denominator)}, ${v(r.value)}, ${r.suppressed}, ${r.reference_group ? `'${r.reference_group}'` : 'NULL'})`;
  }).join(', ');
  const cols = '(metric_id, period_grain, period_start, dimension, group_value, numerator, denominator, value, suppressed, reference_group)';
  await exec(db.conn, `CREATE TABLE published AS SELECT * FROM (VALUES ${values(false)}) v${cols}`);
  await exec(db.conn, `CREATE TABLE truth AS SELECT * FROM (VALUES ${values(true)}) v${cols}`);
  return db.conn;
}

const favourable = { named: new Set<string>(), minDenominator: 30 };
const disclosures = (r: Awaited<ReturnType<typeof auditResults>>) =>
  r.violations.filter((v) => v.relation === 'disclosure').map((v) => `${v.group_value} ${v.count} ${v.low}..${v.high}`);

describe('most_favourable reference: the ordering it publishes (issue 14, route 4)', () => {
  it('the audit finds other\'s numerator 7..9 from the rule that men (30 or more) do no better than women', async () => {
    const conn = await publish(CELLS);
    const r = await auditResults(conn, { metrics: METRICS, threshold: 11, table: 'published', truthTable: 'truth', favourable });
    expect(disclosures(r)).toEqual(['other N 7..9']);
    // men's ordering, and other's denominator below 30 (the branch it is truly in: favourableCaseSplit.test.ts)
    expect(r.attacker?.byRelation.reference).toBe(2);
  });

  it('without the rule the same publication passes: every withheld count can be 0', async () => {
    const conn = await publish(CELLS);
    const r = await auditResults(conn, { metrics: METRICS, threshold: 11, table: 'published', truthTable: 'truth' });
    expect(r.ok).toBe(true);
  });

  it('no ordering where the reference is a named group, nor for a group truly under 30 (its size bound instead)', async () => {
    const conn = await publish(CELLS);
    const named = await auditResults(conn, { metrics: METRICS, threshold: 11, table: 'published', truthTable: 'truth', favourable: { named: new Set(['sex']), minDenominator: 30 } });
    expect(named.ok).toBe(true);
    // men 1 / 29 (women's 220 becomes 232 to keep everyone's figures): men were no candidate
    const small: Cell[] = [['all', 20, 272, true], ['female', 11, 232, true], ['male', 1, 29, false], ['other', 8, 11, false], ['unknown', 0, 0, true]];
    const rel = favourableReferenceRelations(
      small.map((c) => ({ ...row(c, false), shown: c[3] ? { numerator: c[1], denominator: c[2], value: null } : null, truth: row(c, true), elapsedDays: null })),
      small.map((c) => row(c, false).reference_group), metricMetaMap(METRICS), favourable);
    // men and other: each only N + C <= 29, no ordering
    expect(rel.map((x) => [x.terms.map((t) => `${t.key.split('\u001f')[4]} ${t.atom} ${t.coef}`).join(' + '), x.constant])).toEqual([
      ['male N 1 + male C 1', -29], ['other N 1 + other C 1', -29]]);
  });

  it('a brute force over every integer table agrees: with men at 30 or more, other\'s numerator is 7..9', () => {
    // every (men N, men C, other N, other C) >= 0 with N's adding to 9 and C's to 43, men's
    // denominator >= 30 and men's rate <= 11/220 (the rule; other's 8/11 is no candidate)
    const seen = new Set<number>();
    for (let nm = 0; nm <= 9; nm++) {
      for (let cm = 0; cm <= 43; cm++) {
        if (nm + cm < 30 || nm * 220 > 11 * (nm + cm)) continue;
        seen.add(9 - nm);
      }
    }
    expect([Math.min(...seen), Math.max(...seen)]).toEqual([7, 9]);
  });

  it('an exported file\'s audit (no true figures) builds no ordering: it cannot tell who reaches 30', () => {
    const rel = favourableReferenceRelations(
      CELLS.map((c) => ({ ...row(c, false), shown: c[3] ? { numerator: c[1], denominator: c[2], value: null } : null, truth: null, elapsedDays: null })),
      CELLS.map((c) => row(c, false).reference_group), metricMetaMap(METRICS), favourable);
    expect(rel).toEqual([]);
  });
});
