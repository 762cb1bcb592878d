// The agreement check behind csvAgreement.test.ts (fast) and csvAgreement.full.test.ts
// (many more generated files): nasty CSV, read by the line scanner and by DuckDB, must
// give the same records with the same field values; every record's line must be the
// physical line where it starts; and the loader's read (readCsv) must give every row
// that line and keep every malformed record whole.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, expect } from 'vitest';
import { openDatabase, rows, type Database } from '../../../models/duckdb.ts';
import { parseCsvRecord } from '../../../pipelines/ingest/csvHeader.ts';
import { readCsv, readCsvSql } from '../../../pipelines/ingest/readSource.ts';
import { lineOfRecord, readRecords, recordAtDuckDbLine, scanFile, type RawRecord } from '../../../pipelines/ingest/scanFile.ts';

let dir = '';
let db: Database;
/** Call once per test file: a scratch folder and a DuckDB connection for check(). */
export function useAgreementFixture() {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'closeloop-agree-'));
    db = await openDatabase(':memory:', { threads: 1, memoryLimit: '1GB' });
  });
  afterAll(() => {
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });
}

export const scratch = (name: string) => join(dir, name);

const FIELDS = [
  // plain, empty, spaces, non-ASCII
  'x', 'hello world', '', ' ', '  ', 'é', '漢字', '🙂', 'x\t',
  // quoted: delimiter, line breaks, escaped quotes, one space before, spaces after, reopened
  '"a,b"', '"two\nlines"', '"cr\r\nlf"', '"q ""x"""', '""', ' "sp"', '"x" ', '"x" "y"', '""""',
  // bare quotes inside unquoted text, a tab before a quote (not a space), two spaces before one
  'Men\'s 12" Pantry', 'a"b', 'x""y', '\t"t"', '  "two spaces"',
  // text after a closing quote: DuckDB rejects the record
  '"ab"cd', '"x" y',
];

export interface Case { records: Array<string[] | null>; eol: '\n' | '\r\n'; lead: number; bom: boolean; finalEol: boolean; unterminated: boolean; gzip: boolean; pad: number }

export const csvCase: fc.Arbitrary<Case> = fc.record({
  // null is a blank line; records have 1..5 fields against a header of 3
  records: fc.array(fc.oneof({ weight: 12, arbitrary: fc.array(fc.constantFrom(...FIELDS), { minLength: 3, maxLength: 3 }) },
    { weight: 3, arbitrary: fc.array(fc.constantFrom(...FIELDS), { minLength: 1, maxLength: 5 }) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...FIELDS), fc.constantFrom(...FIELDS), fc.constantFrom(...FIELDS)).map((f) => [...f, '']) },
    { weight: 2, arbitrary: fc.constant(null) }), { minLength: 0, maxLength: 25 }),
  eol: fc.constantFrom('\n' as const, '\r\n' as const),
  lead: fc.nat(2),
  bom: fc.boolean(),
  finalEol: fc.boolean(),
  unterminated: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  gzip: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  // Padding rows push the interesting part across the scanner's 1 MiB chunks.
  pad: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 1_100 }) }),
});

function render(c: Case): string {
  const lines = [...Array.from({ length: c.lead }, () => ''), 'a,b,c', ...Array.from({ length: c.pad }, (_, i) => `pad${i},é,${'漢字 and some more text '.repeat(36)}`)];
  for (const r of c.records) lines.push(r === null ? '' : r.join(','));
  let text = (c.bom ? '\uFEFF' : '') + lines.join(c.eol) + (c.finalEol ? c.eol : '');
  if (c.unterminated) text += `${c.finalEol ? '' : c.eol}9,"never closed${c.eol}8,7,6${c.eol}`;
  return text;
}

/** Physical lines of byte offsets (ascending) in the file's text, counted independently of the scanner. */
function linesAt(buf: Buffer, offsets: number[]): number[] {
  let line = 1;
  let i = buf.indexOf(0x0a);
  return offsets.map((offset) => {
    for (; i >= 0 && i < offset; i = buf.indexOf(0x0a, i + 1)) line++;
    return line;
  });
}

/** What DuckDB accepts: quoting intact and the header's field count, or more fields that are all empty. */
const acceptable = (r: RawRecord, values: string[]) => r.quoting === 'ok' && (r.fields === 3 || (r.fields > 3 && values.slice(3).every((v) => v === '')));
const malformed = (r: RawRecord) => r.quoting !== 'ok' || r.fields !== 3;

let files = 0;

export async function check(c: Case) {
  const name = `f${++files}.csv${c.gzip ? '.gz' : ''}`;
  const path = join(dir, name);
  const text = render(c);
  const buf = Buffer.from(text);
  writeFileSync(path, c.gzip ? gzipSync(buf) : buf);
  const scan = await scanFile(path, { text: true, gzip: c.gzip });
  expect(scan.textProblem).toBeNull();
  expect(scan.headerText).toBe('a,b,c');

  const records: RawRecord[] = [];
  await readRecords(path, { gzip: c.gzip }, new Set(Array.from({ length: scan.records }, (_, i) => i)), async (b) => void records.push(...b));
  expect(records.map((r) => r.ordinal)).toEqual(Array.from({ length: scan.records }, (_, i) => i));
  // Whole and exact: the text is the file's bytes from the record's start, up to its line end.
  expect(records.filter((r) => buf.subarray(r.offset, r.offset + Buffer.byteLength(r.text)).toString() !== r.text)).toEqual([]);
  expect(records.filter((r) => !r.text.endsWith('\n') && ![0x0a, 0x0d, undefined].includes(buf[r.offset + Buffer.byteLength(r.text)]))).toEqual([]);
  const physical = linesAt(buf, records.map((r) => r.offset));
  expect(records.map((r) => r.line)).toEqual(physical);
  expect(records.map((r) => lineOfRecord(scan.breakpoints, r.ordinal))).toEqual(physical);

  // DuckDB, read the way the loader reads.
  const conn = db.conn;
  await conn.run('DROP TABLE IF EXISTS csv_reject_errors; DROP TABLE IF EXISTS csv_reject_scans');
  const got = await rows<{ c0: string | null; c1: string | null; c2: string | null }>(conn, `SELECT * FROM ${readCsvSql(path, 3, scan.leadingBlankLines)}`);
  const rejectedLines = (await rows<{ line: number }>(conn, 'SELECT DISTINCT line FROM csv_reject_errors ORDER BY line')).map((r) => r.line);
  const rejected = new Set(rejectedLines.map((l) => recordAtDuckDbLine(scan, l)));

  if (got.length + rejected.size !== scan.records) {
    // DuckDB 1.5 reads a record with text after the closing quote of two fields and an
    // extra empty field both as a reject and as a garbage row. Then no line number can be
    // trusted: the loader must refuse the file whole, never number rows wrongly.
    expect(records.some((r) => r.quoting === 'text_after_quote')).toBe(true);
    await expect(readCsv(conn, path, ['a', 'b', 'c'], scan, c.gzip)).rejects.toThrow(/line scanner found .* records but DuckDB's CSV reader/);
    return;
  }
  const parsed = records.map((r) => parseCsvRecord(r.text));
  const expectedRejected = records.filter((r, i) => !acceptable(r, parsed[i]!)).map((r) => r.ordinal);
  expect([...rejected].sort((a, b) => a - b)).toEqual(expectedRejected);
  const expectedRows = records.flatMap((r, i) => (acceptable(r, parsed[i]!) ? [parsed[i]!.slice(0, 3).map((v) => (v === '' ? null : v))] : []));
  expect(got.map((g) => [g.c0, g.c1, g.c2])).toEqual(expectedRows);
  // Every malformed record is caught: by DuckDB, or by the scanner where DuckDB lets it through.
  const flagged = new Set(scan.flagged);
  expect(records.filter((r) => malformed(r) && !rejected.has(r.ordinal) && !flagged.has(r.ordinal))).toEqual([]);
  expect(scan.flagged.filter((o) => !malformed(records[o]!))).toEqual([]);

  // The loader's read: each good row carries its record's line; each malformed record is kept whole with its line.
  const read = await readCsv(conn, path, ['a', 'b', 'c'], scan, c.gzip);
  expect(read.rowsRead).toBe(scan.records);
  const lines = await rows<{ line: number }>(conn, `SELECT m.line_at + (r._rowid - m.from_rowid) AS line
    FROM (SELECT rowid AS _rowid FROM raw_file WHERE rowid NOT IN (SELECT _rowid FROM skip_rowids)) r ASOF LEFT JOIN line_map m ON r._rowid >= m.from_rowid ORDER BY r._rowid`);
  expect(lines.map((l) => l.line)).toEqual(records.filter((r) => !malformed(r)).map((r) => r.line));
  const kept = await rows<{ line: number; record: string }>(conn, 'SELECT line, record FROM malformed_rows ORDER BY line');
  expect(kept).toEqual(records.filter(malformed).map((r) => ({ line: r.line, record: r.text })));
}

