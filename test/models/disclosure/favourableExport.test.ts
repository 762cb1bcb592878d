// Issue 14, route 4, the export's audit: `closeloop audit-suppression FILE` built no relation
// from the most_favourable reference rule (it has no truth to pick each withheld group's
// branch), so it was weaker than an attacker who splits the cases, and certified an export
// that leaks a withheld count inside 1..10.
//
// The attacker: an evaluator holding the export (closed_loop_rate, higher is better; the
// whole span and its two years, by sex) and the publication rules: every group other than
// the reference with a whole-span denominator of 30 or more does no better than it.
//   whole span   all 16 / 250   female 11 / 220 (the reference: 5%)   unknown 0 / 0
//                male (truly 4 / 26) and other (truly 1 / 4) withheld
//   2024         all 0 / 120    female 0 / 100    male 0 / 20    other 0 / 0   unknown 0 / 0
//   2025         all 16 / 130   female 11 / 120   unknown 0 / 0
//                male (truly 4 / 6) and other (truly 1 / 4) withheld
// Withheld in 2025: 5 closed loops, 5 open; over the whole span 5 and 25, and male's whole
// span holds its 20 open loops of 2024. Other's denominator D (= its 2025 one) is 10 or less
// (male has 20 + the rest). It is 0 only if male has all 30 referrals: then male reaches 30
// and must do no better than 5%, at most 1 closed loop of 30, not 5. So D is 1..10, whichever
// branch male is in; neither branch alone is known, so a linear attacker finds nothing.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { auditCsv, auditResults, type AuditRow } from '../../../models/disclosure/audit.ts';
import { MIN_FAVOURABLE_DENOMINATOR } from '../../../models/disparities/computeComparisons.ts';
import { exec, openDatabase } from '../../../models/duckdb.ts';
import { METRICS } from '../../../models/metrics/catalog.ts';
import { runCli } from '../../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'closeloop-favourable-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const COLS = 'metric_id,period_grain,period_start,dimension,group_value,numerator,denominator,value,suppressed,reference_group';
const START: Record<string, string> = { all: '2024-01-01', 2024: '2024-01-01', 2025: '2025-01-01' };
// [period ('all', '2024', '2025'), group, numerator, denominator] of shown rows; null figures: withheld
type Line = [string, string, number | null, number | null];
function csv(name: string, lines: Line[], reference: string | null = 'female') {
  const out = lines.map(([p, g, n, d]) => {
    const shown = n !== null && d !== null;
    return [
      'closed_loop_rate', p === 'all' ? 'all' : 'year', START[p], g === 'all' ? 'all' : 'sex', g,
      shown ? n : '', shown ? d : '', shown && d ? n / d : '', !shown, g === 'all' || !reference ? '' : reference,
    ].join(',');
  });
  const file = join(dir, name);
  writeFileSync(file, [COLS, ...out].join('\n') + '\n');
  return file;
}

const EXPORT: Line[] = [
  ['all', 'all', 16, 250], ['all', 'female', 11, 220], ['all', 'male', null, null], ['all', 'other', null, null], ['all', 'unknown', 0, 0],
  ['2024', 'all', 0, 120], ['2024', 'female', 0, 100], ['2024', 'male', 0, 20], ['2024', 'other', 0, 0], ['2024', 'unknown', 0, 0],
  ['2025', 'all', 16, 130], ['2025', 'female', 11, 120], ['2025', 'male', null, null], ['2025', 'other', null, null], ['2025', 'unknown', 0, 0],
];

describe('closeloop audit-suppression: the most_favourable rule as the attacker uses it, a disjunction (issue 14, route 4)', () => {
  it('by hand: every table consistent with the export and the rule has other\'s denominator in 1..10', () => {
    // the withheld atoms of 2025 (male; other is the rest of 5 closed and 5 open), the whole span from the years
    const seen = new Set<number>();
    let linear = new Set<number>();
    for (let nm = 0; nm <= 5; nm++) {
      for (let cm = 0; cm <= 5; cm++) {
        const [no, co] = [5 - nm, 5 - cm];
        const male = { n: 0 + nm, c: 20 + cm };
        const other = { n: 0 + no, c: 0 + co };
        // the whole-span cut adds up: 16 = 11 + male + other + 0, 234 open = 209 + ...
        if (male.n + other.n !== 5 || male.c + other.c !== 25) continue;
        linear.add(other.n + other.c);
        const rule = (g: { n: number; c: number }) => g.n + g.c < MIN_FAVOURABLE_DENOMINATOR || g.n * 220 <= 11 * (g.n + g.c);
        if (rule(male) && rule(other)) seen.add(other.n + other.c);
      }
    }
    linear = new Set([...linear].sort((a, b) => a - b));
    expect([...linear]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]); // without the rule other can be empty
    expect([...seen].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('the export with the disclosure fails, naming other\'s whole-span and 2025 denominators within 1..10', async () => {
    const r = await runCli(['audit-suppression', csv('leak.csv', EXPORT)], { CLOSELOOP_CONFIG: join(dir, 'none.json') });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toContain('[disclosure] closed_loop_rate all 2024-01-01 sex=other: withheld denominator can be derived within 1..10 from the published figures');
    expect(r.stdout).toContain('[disclosure] closed_loop_rate year 2025-01-01 sex=other: withheld denominator can be derived within 1..10 from the published figures');
    expect(r.stdout).toContain('FAILS: 2 violation(s)');
  }, 60_000);

  it('passes where the rule says nothing: sex compared with a named group (closeloop.config.json)', async () => {
    const config = join(dir, 'named.json');
    writeFileSync(config, JSON.stringify({ referenceGroups: { sex: { group: 'female' } } }));
    const r = await runCli(['audit-suppression', csv('named.csv', EXPORT)], { CLOSELOOP_CONFIG: config });
    expect(r.code, r.stdout + r.stderr).toBe(0);
  }, 60_000);

  // The auditor's closeloop.config.json is not necessarily the one the export was published
  // under: naming sex's reference there took sex for a named dimension and dropped the rule's
  // disjunction, so the leaking export above passed. The export names its reference (female):
  // a configured group other than it says the configuration is not the export's.
  it('an export whose reference is not the group closeloop.config.json names is refused, not passed without the rule', async () => {
    const config = join(dir, 'other-named.json');
    writeFileSync(config, JSON.stringify({ referenceGroups: { sex: { group: 'male' } } }));
    const r = await runCli(['audit-suppression', csv('mismatch.csv', EXPORT)], { CLOSELOOP_CONFIG: config });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).not.toContain('passes');
    expect(r.stderr).toContain('mismatch.csv line 3: the export names female as the reference group of sex, but');
    expect(r.stderr).toContain('names male');
    expect(r.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
  }, 60_000);

  it('a cut without a reference says no group reached 30: each withheld group\'s bound holds outright', async () => {
    // female 11 / 28 shown, no reference: male (20 + ..) and other share 5 closed, 5 open of 2025;
    // every group is under 30, so male has at most 29 and other at least 1 (and at most 10)
    const lines: Line[] = [
      ['all', 'all', 16, 58], ['all', 'female', 11, 28], ['all', 'male', null, null], ['all', 'other', null, null], ['all', 'unknown', 0, 0],
      ['2024', 'all', 0, 20], ['2024', 'female', 0, 0], ['2024', 'male', 0, 20], ['2024', 'other', 0, 0], ['2024', 'unknown', 0, 0],
      ['2025', 'all', 16, 38], ['2025', 'female', 11, 28], ['2025', 'male', null, null], ['2025', 'other', null, null], ['2025', 'unknown', 0, 0],
    ];
    const r = await auditCsv(csv('none.csv', lines, null), { metrics: METRICS, threshold: 11, favourable: { named: new Set(), minDenominator: 30, compared: new Set(['closed_loop_rate']) } });
    expect(r.violations.map((v) => `${v.period_grain} ${v.group_value} ${v.count} ${v.low}..${v.high}`).sort()).toEqual(['all other D 1..10', 'year other D 1..10']);
  });
});

// A withheld reference reached 30 itself (it was chosen among the groups that did). The
// export: all 60 / 300, other 40 / 265 shown (15%); female, the reference (truly 18 / 32),
// and male (truly 2 / 3) withheld; no unknown row, and no zero row, so a row says its
// denominator is at least 1. Withheld: 20 closed loops and 15 open, 35 referrals. With
// female's 30 or more, male's denominator is 1..5; without it, 1..34.
describe('a withheld reference\'s own denominator of 30 or more (issue 14, route 4)', () => {
  const lines: Array<[string, number, number, boolean]> = [['all', 60, 300, true], ['female', 18, 32, false], ['male', 2, 3, false], ['other', 40, 265, true]];
  const row = ([g, n, d, shown]: [string, number, number, boolean], truth: boolean): AuditRow => ({
    metric_id: 'closed_loop_rate', period_grain: 'all', period_start: '2024-01-01', dimension: g === 'all' ? 'all' : 'sex', group_value: g,
    numerator: shown || truth ? n : null, denominator: shown || truth ? d : null, value: shown || truth ? n / d : null, suppressed: !(shown || truth),
    reference_group: g === 'all' ? null : 'female',
  });
  const favourable = { named: new Set<string>(), minDenominator: 30, compared: new Set(['closed_loop_rate']) };
  const said = (r: Awaited<ReturnType<typeof auditCsv>>) => r.violations.map((v) => `${v.group_value} ${v.count} ${v.low}..${v.high}`);

  it('the export\'s audit finds male\'s denominator 1..5', async () => {
    const file = join(dir, 'floor.csv');
    const cols = 'metric_id,period_grain,period_start,dimension,group_value,numerator,denominator,value,suppressed,reference_group';
    writeFileSync(file, [cols, ...lines.map((l) => {
      const r = row(l, false);
      return [r.metric_id, r.period_grain, r.period_start, r.dimension, r.group_value, r.numerator ?? '', r.denominator ?? '', r.value ?? '', r.suppressed, r.reference_group ?? ''].join(',');
    })].join('\n') + '\n');
    expect(said(await auditCsv(file, { metrics: METRICS, threshold: 11, favourable }))).toEqual(['male D 1..5']);
    // without the rule: every withheld count can reach 0 or 11
    expect(said(await auditCsv(file, { metrics: METRICS, threshold: 11 }))).toEqual([]);
  });

  it('so does the run\'s own audit (the truth at hand)', async () => {
    const db = await openDatabase(':memory:', { memoryLimit: '256MB', threads: 1 });
    try {
      const cols = '(metric_id, period_grain, period_start, dimension, group_value, numerator, denominator, value, suppressed, reference_group)';
      const values = (truth: boolean) => lines.map((l) => {
        const r = row(l, truth);
        const v = (x: number | null) => (x === null ? 'NULL' : String(x));
        return `('${r.metric_id}', 'all', DATE '2024-01-01', '${r.dimension}', '${r.group_value}', ${v(r.numerator)}, ${v(r.denominator)}, ${v(r.value)}, ${r.suppressed}, ${r.reference_group ? `'${r.reference_group}'` : 'NULL'})`;
      }).join(', ');
      await exec(db.conn, `CREATE TABLE published AS SELECT * FROM (VALUES ${values(false)}) v${cols}`);
      await exec(db.conn, `CREATE TABLE truth AS SELECT * FROM (VALUES ${values(true)}) v${cols}`);
      const r = await auditResults(db.conn, { metrics: METRICS, threshold: 11, table: 'published', truthTable: 'truth', favourable, existence: 'row-implies-positive' });
      expect(said(r)).toEqual(['male D 1..5']);
    } finally {
      db.close();
    }
  });
});

// A series without whole-span rows (a `publication` setting, or a filtered export) chose its
// references period by period only if the truth had no whole-span rows either; the file
// cannot say which, except that a whole-span reference is the same in every period.
describe('an export\'s per-period rule: only where the periods name different references', () => {
  const favourable = { named: new Set<string>(), minDenominator: 30, compared: new Set(['closed_loop_rate']) };
  // each year: all 20 / 272, female 11 / 220, male 1 / 41 and other 8 / 11 withheld, unknown 0 / 0
  const rows = (refs: [string, string]): AuditRow[] => (['2024-01-01', '2025-01-01'] as const).flatMap((start, y) => ([
    ['all', 20, 272, true], ['female', 11, 220, true], ['male', 1, 41, false], ['other', 8, 11, false], ['unknown', 0, 0, true],
  ] as const).map(([g, n, d, shown]) => ({
    metric_id: 'closed_loop_rate', period_grain: 'year', period_start: start, dimension: g === 'all' ? 'all' : 'sex', group_value: g,
    numerator: shown ? n : null, denominator: shown ? d : null, value: shown && d ? n / d : null, suppressed: !shown,
    reference_group: g === 'all' ? null : refs[y]!,
  })));

  it('the same reference in every year: the whole span chose it, and the years have no rule of their own', async () => {
    const r = await auditResults(rows(['female', 'female']), { metrics: METRICS, threshold: 11, favourable });
    expect(r.attacker?.byRelation.reference).toBeUndefined();
  });

  it('different references: each year orders its own groups (male and other, a switch each: two rows per group)', async () => {
    // 2025 names male (withheld) as its reference: no ordering there, only 2024's
    const r = await auditResults(rows(['female', 'male']), { metrics: METRICS, threshold: 11, favourable });
    // 2024: male and other get a disjunction each (two rows); 2025: male, the withheld reference, its 30 or more
    expect(r.attacker?.byRelation.reference).toBe(5);
  });
});
