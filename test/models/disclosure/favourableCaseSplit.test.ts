// Hole found in review (review5) in the most_favourable relation of a586bcf: the audit gave
// the attacker the rule's ordering for withheld groups that truly reach 30, and nothing for
// the others, on the view that an attacker can use the ordering only by proving a group
// reaches 30. An attacker needs to prove neither branch: it can split the cases. For each
// withheld group g, either D_g <= 29 or g's rate is no better than the reference's; a count
// whose range under every combination of branches lies inside 1..10 is disclosed.
//
// The attacker: an evaluator holding the whole-span cut by sex of closed_loop_rate (higher is
// better), the rule, and one more relation bounding other's denominator by 1 (standing for any
// relation of the system that bounds it; given here as a tie so the case stays small).
//   everyone 22 / 250 shown; women 11 / 220 shown (the reference: 5%); unknown 0 / 0 shown;
//   men 10 / 29 withheld (under 30: the audit gave them nothing); other 1 / 1 withheld.
// Withheld: numerators add to 11, complements to 19. Other's denominator can be 0 only if
// men's is 30, and then men (30 or more) must do no better than 5%: at most 1 closed loop of
// 30, not 11. So other's denominator is exactly 1.
import { afterEach, describe, expect, it } from 'vitest';
import { auditResults } from '../../../models/disclosure/audit.ts';
import { cellKey, type ExtraRelation } from '../../../models/disclosure/attacker/system.ts';
import { exec, openDatabase, type Database } from '../../../models/duckdb.ts';
import { METRICS } from '../../../models/metrics/catalog.ts';

// [group, numerator, denominator, shown]
type Cell = [string, number, number, boolean];
const CELLS: Cell[] = [
  ['all', 22, 250, true],
  ['female', 11, 220, true],
  ['male', 10, 29, false],
  ['other', 1, 1, false],
  ['unknown', 0, 0, true],
];

let db: Database | undefined;
afterEach(() => db?.close());

async function publish(cells: Cell[] = CELLS, reference: string | null = 'female') {
  db = await openDatabase(':memory:', { memoryLimit: '256MB', threads: 1 });
  const values = (truth: boolean) => cells.map(([g, n, d, shown]) => {
    const show = shown || truth;
    return `('closed_loop_rate', 'all', DATE '2025-01-01', '${g === 'all' ? 'all' : 'sex'}', '${g}', ${show ? n : 'NULL'}, ${show ? d : 'NULL'}, ${show && d ? n / d : 'NULL'}, ${!show}, ${g === 'all' || !reference ? 'NULL' : `'${reference}'`})`;
  }).join(', ');
  const cols = '(metric_id, period_grain, period_start, dimension, group_value, numerator, denominator, value, suppressed, reference_group)';
  await exec(db.conn, `CREATE TABLE published AS SELECT * FROM (VALUES ${values(false)}) v${cols}`);
  await exec(db.conn, `CREATE TABLE truth AS SELECT * FROM (VALUES ${values(true)}) v${cols}`);
  return db.conn;
}

const otherKey = cellKey({ metric_id: 'closed_loop_rate', period_grain: 'all', period_start: '2025-01-01', dimension: 'sex', group_value: 'other' });
// other's denominator at most 1
const bound: ExtraRelation = { relation: 'tie', atMost: true, terms: [{ key: otherKey, atom: 'N', coef: 1 }, { key: otherKey, atom: 'C', coef: 1 }], constant: -1 };
const favourable = { named: new Set<string>(), minDenominator: 30 };

describe('most_favourable: an attacker who splits the cases (review5)', () => {
  it('a brute force over every integer table with the rule as a disjunction: other\'s denominator is exactly 1', () => {
    const seen = new Set<number>();
    for (let nm = 0; nm <= 11; nm++) {
      for (let cm = 0; cm <= 19; cm++) {
        const no = 11 - nm;
        const co = 19 - cm;
        if (no + co > 1) continue; // the bound
        const ruleHolds = (n: number, c: number) => n + c < 30 || n * 220 <= 11 * (n + c);
        if (!ruleHolds(nm, cm) || !ruleHolds(no, co)) continue;
        seen.add(no + co);
      }
    }
    expect([...seen]).toEqual([1]);
  });

  it('the audit finds other\'s denominator 1 (men under 30 keep their denominator under 30)', async () => {
    const conn = await publish();
    const r = await auditResults(conn, { metrics: METRICS, threshold: 11, table: 'published', truthTable: 'truth', ties: [bound], favourable });
    expect(r.violations.filter((v) => v.relation === 'disclosure').map((v) => `${v.group_value} ${v.count} ${v.low}..${v.high}`)).toContain('other D 1..1');
  });

  it('a cut with no reference says no group reached 30: the same bound without any shown reference', async () => {
    // women 11 / 28 shown: nobody reaches 30, so there is no reference (comparisonSql.ts) and
    // men's denominator is at most 29 by the rule alone; other's is again exactly 1
    const conn = await publish([['all', 22, 58, true], ['female', 11, 28, true], ['male', 10, 29, false], ['other', 1, 1, false], ['unknown', 0, 0, true]], null);
    const r = await auditResults(conn, { metrics: METRICS, threshold: 11, table: 'published', truthTable: 'truth', ties: [bound], favourable: { ...favourable, compared: new Set(['closed_loop_rate']) } });
    expect(r.violations.filter((v) => v.relation === 'disclosure').map((v) => `${v.group_value} ${v.count} ${v.low}..${v.high}`)).toContain('other D 1..1');
    // a metric without disparity statistics has no reference rule: nothing follows
    const none = await auditResults(conn, { metrics: METRICS, threshold: 11, table: 'published', truthTable: 'truth', ties: [bound], favourable: { ...favourable, compared: new Set() } });
    expect(none.violations.filter((v) => v.relation === 'disclosure')).toEqual([]);
  });
});
