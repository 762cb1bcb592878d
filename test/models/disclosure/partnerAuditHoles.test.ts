// Hole in the partner check before a publish (partnerAudit.ts, issue 14 route 7): it
// modelled what a partner is shown from the whole-span (grain `all`) rows only, so a need
// domain whose whole-span row is withheld but whose yearly rows are all shown counted as
// "unknown to the partner" although the partner adds the years up. A hole in the rule (here:
// partner_withheld left empty) then passed the check.
import { describe, expect, it } from 'vitest';
import { auditPartnerViews } from '../../../models/disclosure/partnerAudit.ts';
import { exec, openDatabase } from '../../../models/duckdb.ts';

// closed_loop_rate. Directory: food A, B, C; safety D alone; transport E alone.
// [grain, period_start, dimension, group, numerator, denominator, shown to evaluators]
type Cell = [string, string, string, string, number, number, boolean];
const CELLS: Cell[] = [
  ['all', '2025-01-01', 'all', 'all', 54, 170, true],
  ['all', '2025-01-01', 'domain', 'food', 18, 90, true],
  // safety's whole span is withheld (a complementary suppression) ...
  ['all', '2025-01-01', 'domain', 'safety', 23, 46, false],
  ['all', '2025-01-01', 'domain', 'transport', 13, 34, false],
  ['all', '2025-01-01', 'target_org_id', 'A', 5, 30, false],
  ['all', '2025-01-01', 'target_org_id', 'B', 6, 30, false],
  ['all', '2025-01-01', 'target_org_id', 'C', 7, 30, false],
  ['all', '2025-01-01', 'target_org_id', 'D', 23, 46, false],
  ['all', '2025-01-01', 'target_org_id', 'E', 13, 34, false],
  // ... but both its years are shown (no count in 1..10: 12 of 24, 11 of 22)
  ['year', '2025-01-01', 'domain', 'safety', 12, 24, true],
  ['year', '2026-01-01', 'domain', 'safety', 11, 22, true],
  // transport's years hold small counts (5, 8): withheld, and so are the years of `all` and
  // food (with them shown, transport's years would be all minus food minus safety)
  ['year', '2025-01-01', 'domain', 'transport', 5, 16, false],
  ['year', '2026-01-01', 'domain', 'transport', 8, 18, false],
  ['year', '2025-01-01', 'domain', 'food', 9, 45, false],
  ['year', '2026-01-01', 'domain', 'food', 9, 45, false],
  ['year', '2025-01-01', 'all', 'all', 26, 85, false],
  ['year', '2026-01-01', 'all', 'all', 28, 85, false],
];

async function store() {
  const db = await openDatabase(':memory:', { memoryLimit: '256MB' });
  await exec(db.conn, `CREATE TABLE stg_services AS SELECT * FROM (VALUES ('A', 'food'), ('B', 'food'), ('C', 'food'), ('D', 'safety'), ('E', 'transport')) v(org_id, domain)`);
  await exec(db.conn, `CREATE TABLE truth AS SELECT 'closed_loop_rate' AS metric_id, period_grain, CAST(period_start AS DATE) AS period_start, dimension, group_value,
    numerator::DOUBLE AS numerator, denominator::DOUBLE AS denominator, NOT shown AS suppressed FROM (VALUES
    ${CELLS.map(([g, p, d, v, n, den, s]) => `('${g}', '${p}', '${d}', '${v}', ${n}, ${den}, ${s})`).join(', ')}) v(period_grain, period_start, dimension, group_value, numerator, denominator, shown)`);
  await exec(db.conn, `CREATE TABLE metric_results AS SELECT * EXCLUDE (numerator, denominator), CASE WHEN suppressed THEN NULL ELSE numerator END AS numerator,
    CASE WHEN suppressed THEN NULL ELSE denominator END AS denominator FROM truth`);
  // the hole in the rule: nothing withheld from partners
  await exec(db.conn, 'CREATE TABLE partner_withheld (org_id VARCHAR, metric_id VARCHAR, domain VARCHAR, reason VARCHAR)');
  return db;
}

describe('hole: the partner check read the whole-span rows only; a domain withheld whole-span but shown year by year is known to the partner', () => {
  it('worked by hand: partner A adds safety\'s years and has D\'s figures exactly', () => {
    const years = CELLS.filter(([g, , d, v]) => g === 'year' && d === 'domain' && v === 'safety');
    expect(years.every((c) => c[6])).toBe(true);
    const n = years.reduce((s, c) => s + c[4], 0);
    const den = years.reduce((s, c) => s + c[5], 0);
    // safety is D's alone (directory) and A has no unit there: D's figures are (23, 46), complement 23
    expect([n, den, den - n]).toEqual([23, 46, 23]);
    const d = CELLS.find((c) => c[2] === 'target_org_id' && c[3] === 'D')!;
    expect([d[4], d[5]]).toEqual([n, den]);
    // and then transport, E's alone, is `all` minus food minus safety: (54 - 18 - 23, 170 - 90 - 46) = (13, 34)
    const e = CELLS.find((c) => c[2] === 'target_org_id' && c[3] === 'E')!;
    expect([e[4], e[5]]).toEqual([54 - 18 - n, 170 - 90 - den]);
  });

  it('the check finds that attack and blocks the publish', async () => {
    const db = await store();
    try {
      const found = (await auditPartnerViews(db.conn, 'truth')).filter((v) => v.partner === 'A');
      expect(found.map((v) => `${v.org_id} ${v.quantity} ${v.area}`).sort()).toEqual([
        'D complement 23', 'D denominator 46', 'D numerator 23', 'E complement 21', 'E denominator 34', 'E numerator 13']);
    } finally {
      db.close();
    }
  });
});

describe('hole: the partner check took the area total as unknown when its `all` row is withheld, though the groups of another cut add up to it', () => {
  // closed_loop_rate, whole span. food A, B, C (shown); safety D alone (withheld). The `all` row
  // is withheld, but both sexes are shown: all = female + male = (20 + 21, 70 + 60) = (41, 130).
  // No withheld count is in 1..10 (safety 23 of 40, complement 17), so the small-cell audit is content.
  const cells: Array<[string, string, number, number, boolean]> = [
    ['all', 'all', 41, 130, false],
    ['sex', 'female', 20, 70, true],
    ['sex', 'male', 21, 60, true],
    ['domain', 'food', 18, 90, true],
    ['domain', 'safety', 23, 40, false],
    ['target_org_id', 'A', 5, 30, false],
    ['target_org_id', 'B', 6, 30, false],
    ['target_org_id', 'C', 7, 30, false],
    ['target_org_id', 'D', 23, 40, false],
  ];

  it('worked by hand: partner A has D\'s figures as female + male - food', () => {
    const [, , fn, fd] = cells[1]!;
    const [, , mn, md] = cells[2]!;
    const [, , foodN, foodD] = cells[3]!;
    // (20 + 21 - 18, 70 + 60 - 90) = (23, 40): safety's row, D's alone; complement 17
    expect([fn + mn - foodN, fd + md - foodD]).toEqual([23, 40]);
    expect(cells.find((c) => c[1] === 'D')!.slice(2, 4)).toEqual([23, 40]);
  });

  it('the check finds it', async () => {
    const db = await openDatabase(':memory:', { memoryLimit: '256MB' });
    try {
      await exec(db.conn, `CREATE TABLE stg_services AS SELECT * FROM (VALUES ('A', 'food'), ('B', 'food'), ('C', 'food'), ('D', 'safety')) v(org_id, domain)`);
      await exec(db.conn, `CREATE TABLE truth AS SELECT 'closed_loop_rate' AS metric_id, 'all' AS period_grain, DATE '2025-01-01' AS period_start, dimension, group_value,
        numerator::DOUBLE AS numerator, denominator::DOUBLE AS denominator, NOT shown AS suppressed FROM (VALUES
        ${cells.map(([d, v, n, den, s]) => `('${d}', '${v}', ${n}, ${den}, ${s})`).join(', ')}) v(dimension, group_value, numerator, denominator, shown)`);
      await exec(db.conn, `CREATE TABLE metric_results AS SELECT * EXCLUDE (numerator, denominator), CASE WHEN suppressed THEN NULL ELSE numerator END AS numerator,
        CASE WHEN suppressed THEN NULL ELSE denominator END AS denominator FROM truth`);
      await exec(db.conn, 'CREATE TABLE partner_withheld (org_id VARCHAR, metric_id VARCHAR, domain VARCHAR, reason VARCHAR)');
      const found = (await auditPartnerViews(db.conn, 'truth')).filter((v) => v.partner === 'A' && v.org_id === 'D');
      expect(found.map((v) => `${v.quantity} ${v.area}`).sort()).toEqual(['complement 17', 'denominator 40', 'numerator 23']);
    } finally {
      db.close();
    }
  });
});
