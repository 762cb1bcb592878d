// Property tests of formula-injection protection (OWASP "CSV injection"): whatever text
// the published tables hold, no text cell of a CSV or XLSX export starts with a formula
// trigger (= + - @ tab CR), every export round-trips through an independent, strict RFC
// 4180 parser (text neutralised exactly once, nothing else changed), and numbers stay
// numbers (a negative number is never quoted or prefixed).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../../models/duckdb.ts';
import { RESULT_COLUMNS } from '../../../models/results.ts';
import { toCsv } from '../../../server/exports/csv.ts';
import { exportResults, exportWhere, writeXlsx } from '../../../server/exports/exportResults.ts';
import { gapAnalysisCsv, gapAnalysisXlsx } from '../../../server/exports/gapAnalysis.ts';
import { neutraliseText } from '../../../server/exports/neutralise.ts';

const TRIGGER = /^[=+\-@\t\r]/;

/**
 * RFC 4180, strictly: fields separated by commas, records by CRLF (LF accepted); a field
 * with a comma, quote, CR or LF must be quoted, quotes doubled inside. A quoted empty
 * field is '' and an unquoted empty one is null (how the exports tell them apart).
 */
function parseCsv(text: string): Array<Array<string | null>> {
  const rows: Array<Array<string | null>> = [];
  let row: Array<string | null> = [];
  let field = '';
  let quoted = false;
  let inQuotes = false;
  let i = 0;
  const endField = () => {
    row.push(quoted ? field : field === '' ? null : field);
    field = '';
    quoted = false;
  };
  const endRow = () => {
    endField();
    rows.push(row);
    row = [];
  };
  while (i < text.length) {
    const c = text[i]!;
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        inQuotes = false;
        i += 1;
        continue;
      }
      field += c;
      i += 1;
      continue;
    }
    if (c === ',') {
      endField();
      i += 1;
    } else if (c === '\r' && text[i + 1] === '\n') {
      endRow();
      i += 2;
    } else if (c === '\n') {
      endRow();
      i += 1;
    } else if (c === '"') {
      if (field !== '' || quoted) throw new Error(`a quote inside an unquoted field at ${i}`);
      inQuotes = true;
      quoted = true;
      i += 1;
    } else {
      if (quoted) throw new Error(`text after a closing quote at ${i}`);
      if (c === '\r') throw new Error(`a bare CR outside quotes at ${i}`);
      field += c;
      i += 1;
    }
  }
  if (inQuotes) throw new Error('unterminated quoted field');
  if (field !== '' || quoted || row.length) endRow();
  return rows;
}

/** Text the published tables might hold: anything, with formula triggers and CSV specials well represented. */
const text = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 24 }) },
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom('=', '+', '-', '@', '\t', '\r', '\r\n', ' =', '"='), fc.string({ unit: 'grapheme-ascii', maxLength: 16 })).map(([a, b]) => a + b) },
  { weight: 2, arbitrary: fc.constantFrom('=HYPERLINK("http://x","y")', '=1+1', '+1', '-2', '-1.5', '@SUM(A1:A2)', '=cmd|\' /C calc\'!A0', 'a,b', 'a"b', '"', 'x\ny', 'x\r\ny', '', ' ', 'ACO-01', "'=already") },
  { weight: 1, arbitrary: fc.constant(null) },
).map((s) => (s === null ? null : s.replaceAll('\0', '')));

const number = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: -1_000_000, max: 1_000_000 }),
  fc.constantFrom(-1, -0.25, 0, 1e-12, 123456.789),
  fc.constant(null),
);

const date = fc.integer({ min: 0, max: 20_000 }).map((d) => new Date(Date.UTC(2000, 0, 1) + d * 86_400_000).toISOString().slice(0, 10));

type Cell = string | number | boolean | null;
const resultRow = fc.record(Object.fromEntries(RESULT_COLUMNS.map((c) => [c.name,
  c.type === 'VARCHAR' ? text : c.type === 'DOUBLE' ? number : c.type === 'BOOLEAN' ? fc.option(fc.boolean()) : date])) as Record<string, fc.Arbitrary<Cell>>);

let db: Database;
const dir = mkdtempSync(join(tmpdir(), 'closeloop-formula-'));

beforeAll(async () => {
  db = await openDatabase(':memory:', { threads: 1, memoryLimit: '256MB' });
});
afterAll(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

async function load(rows: Array<Record<string, Cell>>) {
  await db.conn.run('DROP TABLE IF EXISTS metric_results');
  await db.conn.run(`CREATE TABLE metric_results (seq INTEGER, ${RESULT_COLUMNS.map((c) => `"${c.name}" ${c.type}`).join(', ')})`);
  const cols = ['seq', ...RESULT_COLUMNS.map((c) => c.name)];
  // Numbers are bound as text and cast (the binding would take an integral double for a BIGINT).
  const placeholders = ['$1', ...RESULT_COLUMNS.map((c, j) => (c.type === 'VARCHAR' ? `$${j + 2}` : `CAST($${j + 2} AS ${c.type})`))];
  for (const [i, r] of rows.entries()) {
    const values = [i, ...RESULT_COLUMNS.map((c) => {
      const v = r[c.name] ?? null;
      return v === null || c.type === 'VARCHAR' ? v : String(v);
    })];
    await db.conn.run(`INSERT INTO metric_results (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${placeholders.join(', ')})`, values as never);
  }
}

/** Every parsed result row against what went in: text neutralised once, the rest as it was. */
function checkResultCsv(file: string, rows: Array<Record<string, Cell>>) {
  const parsed = parseCsv(readFileSync(file, 'utf8'));
  expect(parsed[0]).toEqual([...RESULT_COLUMNS.map((c) => c.name), 'metric_title', 'dimension_label', 'group_label']);
  const body = parsed.slice(1);
  expect(body).toHaveLength(rows.length);
  // The exports sort rows; match them back by the whole row's identity.
  const remaining = [...rows];
  for (const cells of body) {
    const k = remaining.findIndex((r) => RESULT_COLUMNS.every((c, j) => cellMatches(c.type, r[c.name] ?? null, cells[j] ?? null)));
    expect(k, `row ${JSON.stringify(cells)} matches an input row`).toBeGreaterThanOrEqual(0);
    remaining.splice(k, 1);
    RESULT_COLUMNS.forEach((c, j) => {
      const v = cells[j];
      if (c.type === 'VARCHAR' && typeof v === 'string') expect(TRIGGER.test(v), `${c.name}: ${JSON.stringify(v)}`).toBe(false);
    });
    // the label columns (issue 16) are text made from the codes: neutralised the same way
    for (const v of cells.slice(RESULT_COLUMNS.length)) if (typeof v === 'string') expect(TRIGGER.test(v), `label: ${JSON.stringify(v)}`).toBe(false);
  }
}

function cellMatches(type: string, input: Cell, out: string | null): boolean {
  if (input === null) return out === null;
  switch (type) {
    case 'VARCHAR':
      return out === neutraliseText(String(input));
    case 'DOUBLE':
      // A number: unquoted digits that read back as the same double.
      return out !== null && /^-?(\d+(\.\d+)?(e[-+]?\d+)?|inf|nan)$/i.test(out) && Object.is(Number(out) === 0 ? 0 : Number(out), (input as number) === 0 ? 0 : input);
    case 'BOOLEAN':
      return out === String(input);
    default:
      return out === input;
  }
}

describe('results exports (DuckDB COPY)', () => {
  it('CSV: no text cell starts with a trigger; round-trips through an RFC 4180 parser; numbers stay numbers', async () => {
    await fc.assert(fc.asyncProperty(fc.array(resultRow, { minLength: 1, maxLength: 6 }), async (rows) => {
      await load(rows);
      const out = join(dir, 'r.csv');
      await exportResults(db.conn, { metric: 'all' }, 'csv', out);
      checkResultCsv(out, rows);
      await exportWhere(db.conn, 'TRUE', 'csv', out);
      checkResultCsv(out, rows);
    }), { numRuns: 60 });
  });

  it('XLSX: text cells neutralised, numbers are numbers', async () => {
    await fc.assert(fc.asyncProperty(fc.array(resultRow, { minLength: 1, maxLength: 4 }), async (rows) => {
      const out = join(dir, 'r.xlsx');
      await writeXlsx(rows as never, out);
      const wb = new ExcelJS.Workbook();
      await wb.xlsx.readFile(out);
      const ws = wb.getWorksheet('results')!;
      rows.forEach((r, i) => {
        RESULT_COLUMNS.forEach((c, j) => {
          const v = ws.getRow(i + 2).getCell(j + 1).value;
          const input = r[c.name] ?? null;
          if (input === null) return expect(v ?? null).toBeNull();
          if (c.type === 'VARCHAR') {
            expect(typeof v).toBe('string');
            expect(TRIGGER.test(v as string), `${c.name}: ${JSON.stringify(v)}`).toBe(false);
            // XML reads CR as LF: the only change a workbook makes to text.
            expect((v as string).replace(/\r\n?/g, '\n')).toBe(neutraliseText(String(input)).replace(/\r\n?/g, '\n'));
          }
          // (-0 is written as 0: the same number to a spreadsheet.)
          if (c.type === 'DOUBLE') expect(v === 0 ? 0 : v).toBe(input === 0 ? 0 : input);
        });
      });
    }), { numRuns: 25 });
  });
});

describe('small in-memory CSVs (chart data, gap analyses)', () => {
  const value = fc.oneof(text, number, fc.boolean(), fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }));

  it('toCsv: round-trips, text neutralised once, numbers unquoted and exact', () => {
    fc.assert(fc.property(fc.uniqueArray(fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 5 }), fc.array(fc.dictionary(fc.string(), value), { maxLength: 6 }), (keys, raw) => {
      const rows = raw.map((r, i) => Object.fromEntries(keys.map((k, j) => [k, Object.values(r)[j] ?? (i % 2 ? -i - 0.5 : null)])));
      const parsed = parseCsv(toCsv(keys.map((key) => ({ key })), rows));
      expect(parsed[0]).toEqual(keys.map((k) => neutraliseText(k)));
      expect(parsed.slice(1)).toHaveLength(rows.length);
      rows.forEach((r, i) => {
        keys.forEach((k, j) => {
          const got = parsed[i + 1]![j] ?? null;
          const v = r[k];
          if (typeof got === 'string' && typeof v !== 'number') expect(TRIGGER.test(got), JSON.stringify(got)).toBe(false);
          if (v === null || v === undefined) expect(got).toBeNull();
          // === rather than Object.is: a CSV number has no signed zero (-0 is written as 0).
          else if (typeof v === 'number') expect(Number(got) === v, `${got} vs ${v}`).toBe(true);
          else if (typeof v === 'boolean') expect(got).toBe(String(v));
          // An empty text is written as an empty cell, like a null.
          else expect(got ?? '').toBe(neutraliseText(Array.isArray(v) ? v.join('; ') : String(v)));
        });
      });
    }), { numRuns: Number(process.env.FC_RUNS ?? 300) });
  });

  const analysis = fc.record({
    orgName: fc.string({ maxLength: 20 }).map((s) => s.replaceAll('\0', '')),
    orgId: fc.string({ minLength: 1, maxLength: 8 }).map((s) => s.replaceAll('\0', '') || 'x'),
    cells: fc.array(fc.record({ domain: text, county_fips: text, your_programs: text, capacity_note: text, unmet_needs: number, unmet_need_rate: number }), { maxLength: 5 }),
  });

  it('gap analysis CSV and XLSX: no cell of any sheet starts with a trigger', async () => {
    await fc.assert(fc.asyncProperty(analysis, async (a) => {
      const g = {
        org: { org_id: a.orgId, org_name: a.orgName },
        counties: [{ county_fips: '37183', county: 'Wake (37183)' }],
        figures: [{ metric_id: 'closed_loop_rate', title: 'Closed loop rate', kind: 'proportion', unit: 'referrals', org: { value: -0.5, suppressed: false }, area: { value: 0.4, suppressed: false } }],
        gaps: a.cells,
        run: { run_id: 'r', as_of: '2026-10-31', started_at: null, published_at: null },
      } as never;
      const { csv } = gapAnalysisCsv(g);
      const parsed = parseCsv(csv);
      const header = parsed[0]!;
      for (const row of parsed.slice(1)) {
        row.forEach((cell, j) => {
          if (cell === null) return;
          if (/^(partner_|area_|unmet_needs$|unmet_need_rate$)/.test(header[j]!)) expect(Number.isNaN(Number(cell)), `${header[j]}=${cell}`).toBe(false);
          else expect(TRIGGER.test(cell), `${header[j]}: ${JSON.stringify(cell)}`).toBe(false);
        });
      }
      const wb = new ExcelJS.Workbook();
      await wb.xlsx.load((await gapAnalysisXlsx(g)).buffer as unknown as ArrayBuffer);
      for (const ws of wb.worksheets) {
        ws.eachRow((row) => row.eachCell((cell) => {
          if (typeof cell.value === 'string') expect(TRIGGER.test(cell.value), `${ws.name}: ${JSON.stringify(cell.value)}`).toBe(false);
        }));
      }
    }), { numRuns: 40 });
  });
});

describe('the parser itself', () => {
  it('reads RFC 4180 and refuses what is not', () => {
    expect(parseCsv('a,b\r\n"x,1","say ""hi"""\r\n,""\r\n')).toEqual([['a', 'b'], ['x,1', 'say "hi"'], [null, '']]);
    expect(parseCsv('"line\r\nbreak",2\n')).toEqual([['line\r\nbreak', '2']]);
    expect(() => parseCsv('a"b,c\r\n')).toThrow(/quote inside/);
    expect(() => parseCsv('a\rb\r\n')).toThrow(/bare CR/);
    expect(() => parseCsv('"a"b\r\n')).toThrow(/after a closing quote/);
    expect(() => parseCsv('"open\r\n')).toThrow(/unterminated/);
  });
});
