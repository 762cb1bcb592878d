// Every export format round-trips the results table: same rows, typed values, and
// text cells that could start a spreadsheet formula neutralised in CSV and XLSX.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, rows, type Database } from '../../../models/duckdb.ts';
import { RESULT_COLUMNS } from '../../../models/results.ts';
import { exportResults } from '../../../server/exports/exportResults.ts';

let db: Database;
const dir = mkdtempSync(join(tmpdir(), 'closeloop-export-'));

beforeAll(async () => {
  db = await openDatabase(':memory:');
  await db.conn.run(`CREATE TABLE metric_results (${RESULT_COLUMNS.map((c) => `${c.name} ${c.type}`).join(', ')})`);
  // Three hand-made rows; the third has a group value that would be a formula in Excel.
  await db.conn.run(`INSERT INTO metric_results (metric_id, period_grain, period_start, period_end, dimension, group_value,
      numerator, denominator, value, ci_low, ci_high, suppressed, run_id, as_of, note) VALUES
    ('closed_loop_rate', 'all', DATE '2024-01-01', DATE '2025-12-31', 'all', 'all', 81, 263, 0.3079847908745247, 0.2553, 0.3662, false, 'r1', DATE '2025-12-31', NULL),
    ('closed_loop_rate', 'all', DATE '2024-01-01', DATE '2025-12-31', 'payer', 'medicaid', NULL, NULL, NULL, NULL, NULL, true, 'r1', DATE '2025-12-31', NULL),
    ('closed_loop_rate', 'month', DATE '2024-01-01', DATE '2024-01-31', 'program_id', '=HYPERLINK("x")', 40, 100, 0.4, 0.31, 0.5, false, 'r1', DATE '2025-12-31', NULL)`);
});
afterAll(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('exports', () => {
  it('CSV: header in the spec order, neutralised formula cell, numbers as written (issue 16: counts as integers, 81 not 81.0)', async () => {
    const out = join(dir, 'r.csv');
    expect(await exportResults(db.conn, { metric: 'closed_loop_rate' }, 'csv', out)).toEqual({ rows: 3 });
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    // the spec's columns in its order, then the labels (outputs.md: more columns may follow)
    expect(lines[0]).toBe([...RESULT_COLUMNS.map((c) => c.name), 'metric_title', 'dimension_label', 'group_label'].join(','));
    expect(lines[1]).toMatch(/^closed_loop_rate,all,2024-01-01,2025-12-31,all,all,81,263,0\.30798479087452/);
    expect(lines[3]).toContain(`"'=HYPERLINK(""x"")"`);
    // issue 16: each row's labels beside its codes (a code-like label is neutralised like the code)
    expect(lines.slice(1).map((l) => l.split(',').slice(-3).join(','))).toEqual([
      'Loop closed within 60 days,Everyone,Everyone',
      'Loop closed within 60 days,Payer,Medicaid',
      `Loop closed within 60 days,Attributed program,"'=HYPERLINK(""x"")"`,
    ]);
  });

  it('filters by grain and dimension', async () => {
    const out = join(dir, 'm.csv');
    expect(await exportResults(db.conn, { metric: 'all', grain: 'month' }, 'csv', out)).toEqual({ rows: 1 });
    expect(await exportResults(db.conn, { metric: 'all', dimension: 'payer' }, 'csv', out)).toEqual({ rows: 1 });
  });

  it('JSON and Parquet keep types', async () => {
    const j = join(dir, 'r.json');
    await exportResults(db.conn, { metric: 'all' }, 'json', j);
    const parsed = JSON.parse(readFileSync(j, 'utf8'));
    expect(parsed[0]).toMatchObject({ numerator: 81, denominator: 263, suppressed: false, period_start: '2024-01-01' });
    const p = join(dir, 'r.parquet');
    await exportResults(db.conn, { metric: 'all' }, 'parquet', p);
    expect(await rows(db.conn, `SELECT count(*) AS n, sum(numerator) AS s FROM read_parquet('${p}')`)).toEqual([{ n: 3, s: 121 }]);
  });

  it('Arrow IPC file reads back with apache-arrow', async () => {
    const a = join(dir, 'r.arrow');
    await exportResults(db.conn, { metric: 'all' }, 'arrow', a);
    const t = tableFromIPC(readFileSync(a));
    expect(t.numRows).toBe(3);
    expect(t.schema.fields.map((f) => f.name)).toEqual([...RESULT_COLUMNS.map((c) => c.name), 'metric_title', 'dimension_label', 'group_label']);
    expect(t.getChild('group_label')!.get(1)).toBe('Medicaid');
    expect(t.getChild('numerator')!.get(0)).toBe(81);
    expect(t.getChild('suppressed')!.get(1)).toBe(true);
    expect(t.getChild('group_value')!.get(2)).toBe('=HYPERLINK("x")');
  });

  it('XLSX: numbers as numbers, dates as dates, frozen header, neutralised text', async () => {
    const x = join(dir, 'r.xlsx');
    await exportResults(db.conn, { metric: 'all' }, 'xlsx', x);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(x);
    const ws = wb.getWorksheet('results')!;
    expect(ws.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    expect(ws.getRow(2).getCell(7).value).toBe(81);
    expect(ws.getRow(2).getCell(3).value).toEqual(new Date('2024-01-01T00:00:00Z'));
    expect(ws.getRow(4).getCell(6).value).toBe(`'=HYPERLINK("x")`);
    expect(ws.getRow(3).getCell(7).value).toBeNull();
  });
});
