// The independent audit: it rebuilds relations from published rows (or an exported CSV)
// and reports shown small counts, small withheld totals, derivable withheld rows, figures
// left on suppressed rows and statistics against a suppressed reference.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import type { Database } from '../../../models/duckdb.ts';
import { auditCsv, auditResults, finaliseResults, unneutralise, type AuditRow } from '../../../models/disclosure/index.ts';
import { exportResults } from '../../../server/exports/exportResults.ts';
import { resultsDb, testMetric } from './resultsTable.ts';

const P = testMetric('p', 'proportion');
const C = testMetric('c', 'count');

const row = (over: Partial<AuditRow> & Pick<AuditRow, 'metric_id'>): AuditRow => ({
  period_grain: 'all', period_start: '2025-01-01', dimension: 'all', group_value: 'all',
  numerator: null, denominator: null, value: null, suppressed: false, ...over,
});
const prop = (dimension: string, group_value: string, numerator: number | null, denominator: number | null, suppressed = false, over: Partial<AuditRow> = {}) =>
  row({ metric_id: 'p', dimension, group_value, numerator, denominator, value: numerator === null || denominator === null ? null : numerator / denominator, suppressed, ...over });

describe('what the audit catches', () => {
  test('a clean table passes', async () => {
    const r = await auditResults([prop('all', 'all', 100, 200), prop('sex', 'female', 60, 110), prop('sex', 'male', null, null, true), prop('sex', 'unknown', null, null, true)], { metrics: [P], threshold: 11 });
    expect(r).toMatchObject({ ok: true, rows: 4, violations: [] });
  });

  test('a shown count in 1..10 (numerator, denominator, complement)', async () => {
    const r = await auditResults([prop('all', 'all', 5, 100), prop('sex', 'female', 20, 28)], { metrics: [P], threshold: 11 });
    expect(r.violations.filter((v) => v.relation === 'primary').map((v) => `${v.group_value} ${v.message}`)).toEqual([
      'all shows numerator 5, a count in 1..10', 'female shows complement (denominator - numerator) 8, a count in 1..10',
    ]);
  });

  test('a withheld total in 1..10: one-way, two-way and time relations', async () => {
    const r = await auditResults([
      prop('all', 'all', 100, 200), prop('sex', 'female', 95, 150), prop('sex', 'male', null, null, true),
      prop('race_ethnicity', 'white', 50, 100), prop('race_ethnicity*payer', 'white*medicaid', 44, 80), prop('race_ethnicity*payer', 'white*other', null, null, true),
      prop('all', 'all', 40, 80, false, { period_grain: 'quarter' }), prop('all', 'all', 33, 60, false, { period_grain: 'month' }),
      prop('all', 'all', null, null, true, { period_grain: 'month', period_start: '2025-02-01' }),
    ], { metrics: [P], threshold: 11 });
    expect(r.ok).toBe(false);
    // worked by hand: male = 100 - 95, white*other = 50 - 44, February = 40 - 33 (March has no row: zero)
    const found = r.violations.filter((v) => v.relation === 'disclosure' && v.count === 'N').map((v) => `${v.period_grain} ${v.dimension}=${v.group_value}: ${v.low}..${v.high}`).sort();
    expect(found).toEqual(['all race_ethnicity*payer=white*other: 6..6', 'all sex=male: 5..5', 'month all=all: 7..7']);
  });

  test('a suppressed whole gives nothing to difference', async () => {
    const r = await auditResults([prop('all', 'all', null, null, true), prop('sex', 'female', 95, 150), prop('sex', 'male', null, null, true)], { metrics: [P], threshold: 11 });
    expect(r.violations.filter((v) => v.relation === 'disclosure')).toEqual([]);
  });

  test('a withheld row derivable by substituting one relation into another (spec rule satisfied everywhere)', async () => {
    // counts, groups x months: female January 5, female February 20 and male January 30 are
    // withheld. Every relation withholds 0 or >= 11, but February's all row 45 - male 25
    // gives female February 20, and female's quarter 55 - 20 - 30 gives January's 5.
    const cnt = (grain: string, start: string, dimension: string, group_value: string, n: number | null) =>
      row({ metric_id: 'c', period_grain: grain, period_start: start, dimension, group_value, numerator: n, value: n, suppressed: n === null });
    const table = [
      cnt('month', '2025-01-01', 'all', 'all', 35), cnt('month', '2025-01-01', 'sex', 'female', null), cnt('month', '2025-01-01', 'sex', 'male', null),
      cnt('month', '2025-02-01', 'all', 'all', 45), cnt('month', '2025-02-01', 'sex', 'female', null), cnt('month', '2025-02-01', 'sex', 'male', 25),
      cnt('month', '2025-03-01', 'all', 'all', 70), cnt('month', '2025-03-01', 'sex', 'female', 30), cnt('month', '2025-03-01', 'sex', 'male', 40),
      cnt('quarter', '2025-01-01', 'all', 'all', 150), cnt('quarter', '2025-01-01', 'sex', 'female', 55), cnt('quarter', '2025-01-01', 'sex', 'male', 95),
    ];
    const r = await auditResults(table, { metrics: [C], threshold: 11 });
    expect(r.violations.filter((v) => v.relation !== 'disclosure')).toEqual([]);
    const derived = r.violations.find((v) => v.relation === 'disclosure' && v.group_value === 'female' && v.period_start === '2025-01-01');
    expect(derived?.message).toMatch(/count can be derived exactly 5/);
  });

  test('route 2, subsets: a count bounded by another metric\'s count of a superset of its units (remission <= response)', async () => {
    // Worked by hand. Response (B): all 33 (of 120), male 25 shown; female and unknown withheld, so
    // together 8. Remission (A): all 30 shown; female and male withheld. Remitters are
    // responders, so A.male <= B.male = 25 gives A.female >= 5, and A.female <= B.female
    // <= 8: A.female in 5..8, and B.female >= A.female in 5..8. Without the subset relation
    // nothing is derivable (A.female anywhere in 0..30, B.female in 0..8).
    const A = testMetric('phq9_remission_rate', 'proportion');
    const B = testMetric('phq9_response_rate', 'proportion');
    const p = (metric_id: string, group_value: string, numerator: number | null, denominator: number | null) =>
      row({ metric_id, dimension: group_value === 'all' ? 'all' : 'sex', group_value, numerator, denominator, value: numerator === null ? null : numerator / denominator!, suppressed: numerator === null });
    const table = [
      p('phq9_remission_rate', 'all', 30, 100), p('phq9_remission_rate', 'female', null, null), p('phq9_remission_rate', 'male', null, null),
      p('phq9_response_rate', 'all', 33, 120), p('phq9_response_rate', 'female', null, null), p('phq9_response_rate', 'male', 25, 60), p('phq9_response_rate', 'unknown', null, null),
    ];
    const r = await auditResults(table, { metrics: [A, B], threshold: 11 });
    const found = r.violations.filter((v) => v.relation === 'disclosure').map((v) => `${v.metric_id} ${v.group_value} ${v.count}: ${v.low}..${v.high}`).sort();
    expect(found).toEqual(['phq9_remission_rate female N: 5..8', 'phq9_response_rate female N: 5..8']);
    const renamed = table.map((t) => ({ ...t, metric_id: t.metric_id === 'phq9_remission_rate' ? 'a' : 'b' }));
    const without = await auditResults(renamed, { metrics: [testMetric('a', 'proportion'), testMetric('b', 'proportion')], threshold: 11 });
    expect(without.violations.filter((v) => v.relation === 'disclosure')).toEqual([]);
  });

  test('an export whose guessed cross-metric equality contradicts the figures is audited without the guess, not refused', async () => {
    // `closeloop audit-suppression` threw "the published figures contradict each other" on a
    // 3,000-person export. Worked by hand: a and b show equal denominators on every group both
    // show (all 100, female 60), so an attacker may guess they are one count; b's male is then
    // 100 - 60 = 40, but a's male is 22 + 13 = 35 from its payer cells. The guess is wrong; the
    // audit drops it and still finds a's unknown = 100 - 60 - 35 = 5.
    const a = testMetric('a', 'proportion');
    const b = testMetric('b', 'proportion');
    const r = (metric_id: string, dimension: string, group_value: string, numerator: number | null, denominator: number | null) =>
      row({ metric_id, dimension, group_value, numerator, denominator, value: numerator === null ? null : numerator / denominator!, suppressed: numerator === null });
    const table = [
      r('a', 'all', 'all', 50, 100), r('a', 'sex', 'female', 30, 60), r('a', 'sex', 'male', null, null), r('a', 'sex', 'unknown', null, null),
      r('a', 'sex*payer', 'male*medicaid', 11, 22), r('a', 'sex*payer', 'male*other', 0, 13),
      r('b', 'all', 'all', 70, 100), r('b', 'sex', 'female', 40, 60), r('b', 'sex', 'male', null, null),
    ];
    const report = await auditResults(table, { metrics: [a, b], threshold: 11 });
    expect(report.guessesDropped).toBe(true);
    const found = report.violations.filter((v) => v.relation === 'disclosure' && v.count === 'D').map((v) => `${v.metric_id} ${v.group_value}: ${v.low}..${v.high}`);
    expect(found).toEqual(['a unknown: 5..5']);
  });

  test('figures left on a suppressed row; statistics against a suppressed reference; a metric outside the catalog', async () => {
    const r = await auditResults([
      prop('all', 'all', 300, 600),
      prop('sex', 'female', null, null, true, { reference_group: 'female', p_value: 0.2 }),
      prop('sex', 'male', 150, 300, false, { reference_group: 'female', rate_difference: 0.1, p_value: 0.01 }),
      prop('sex', 'unknown', null, null, true),
      row({ metric_id: 'mystery', numerator: 3, denominator: 4 }),
    ], { metrics: [P], threshold: 11 });
    expect(r.violations.map((v) => `${v.relation} ${v.group_value}`).sort()).toEqual(['catalog all', 'reference male', 'withheld_figures female']);
    expect(r.violations.find((v) => v.relation === 'withheld_figures')?.message).toBe('withheld row shows p_value');
  });
});

describe('exported CSV', () => {
  let db: Database | null = null;
  let dir = '';
  afterEach(() => {
    db?.close();
    db = null;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('audits the export, restoring text cells neutralised against formula injection', async () => {
    expect(unneutralise("'=P1")).toBe('=P1');
    expect(unneutralise("'plain")).toBe("'plain");
    dir = mkdtempSync(join(tmpdir(), 'closeloop-audit-'));
    db = await resultsDb([
      { metric_id: 'p', numerator: 210, denominator: 550 },
      { metric_id: 'p', dimension: 'program_id', group_value: '=P1', numerator: 100, denominator: 200 },
      { metric_id: 'p', dimension: 'program_id', group_value: '-P2', numerator: 50, denominator: 150 },
      { metric_id: 'p', dimension: 'program_id', group_value: '@P3', numerator: 7, denominator: 30 },
      { metric_id: 'p', dimension: 'program_id', group_value: 'P4', numerator: 3, denominator: 20 },
      { metric_id: 'p', dimension: 'program_id', group_value: 'P5', numerator: 20, denominator: 60 },
      { metric_id: 'p', dimension: 'program_id', group_value: 'P6', numerator: 30, denominator: 90 },
    ]);
    const done = await finaliseResults(db.conn, { metrics: [P], config: { referenceGroups: {}, suppressionThreshold: 11 } });
    expect(done.audit.ok).toBe(true);
    const csv = join(dir, 'results.csv');
    await exportResults(db.conn, { metric: 'all' }, 'csv', csv);
    const fromCsv = await auditCsv(csv, { metrics: [P], threshold: 11 });
    expect(fromCsv).toMatchObject({ ok: true, rows: 7 });

    // undo the primary suppression of P4 (numerator 3) and export again: caught
    await db.conn.run(`UPDATE metric_results SET suppressed = false, numerator = 3, denominator = 20, value = 0.15 WHERE group_value = 'P4'`);
    const tampered = join(dir, 'tampered.csv');
    await exportResults(db.conn, { metric: 'all' }, 'csv', tampered);
    const caught = await auditCsv(tampered, { metrics: [P], threshold: 11 });
    expect(caught.ok).toBe(false);
    expect(caught.violations.map((v) => `${v.relation} ${v.group_value}`)).toContain('primary P4');
  });

  test('a file that is not a results export is refused with its name', async () => {
    dir = mkdtempSync(join(tmpdir(), 'closeloop-audit-'));
    const path = join(dir, 'other.csv');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path, 'a,b\n1,2\n');
    await expect(auditCsv(path, { metrics: [P], threshold: 11 })).rejects.toThrow(/other\.csv: no metric_id column/);
  });
});
