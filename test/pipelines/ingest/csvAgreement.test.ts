// Issue 13, item 6: line numbers went wrong after a bare quote (`Men's 12" Pantry`) or
// an unterminated quote, because the line scanner counted quote parity while DuckDB's
// reader opens a quote only at the start of a field. The scanner now follows DuckDB's
// state machine (pipelines/ingest/scanFile.ts); these cases and a property over
// generated nasty CSV check it against what DuckDB actually returns (csvAgreement.ts).
// csvAgreement.full.test.ts runs the property on many more files.
import { writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lineOfRecord, scanFile } from '../../../pipelines/ingest/scanFile.ts';
import { check, csvCase, scratch, useAgreementFixture } from './csvAgreement.ts';

useAgreementFixture();

describe('item 6: the line scanner agrees with DuckDB on records, values and lines', () => {
  it('on generated CSV with bare and unterminated quotes, blank lines, CRLF, quoted line breaks and extra or missing fields', async () => {
    await fc.assert(fc.asyncProperty(csvCase, check), { numRuns: 60 });
  }, 120_000);

  it('a row after a bare quote and blank lines has its physical line', async () => {
    await check({ records: [['1', 'Men\'s 12" Pantry', 'x'], null, null, ['2', 'y', 'z'], ['3', 'a"b', '"c\nd"']], eol: '\n', lead: 0, bom: false, finalEol: true, unterminated: false, gzip: false, pad: 0 });
    const path = scratch('bare.csv');
    writeFileSync(path, 'a,b,c\n1,Men\'s 12" Pantry,x\n\n\n2,y,z\n3,"c\nd",e\n4,5,6\n');
    const scan = await scanFile(path, { text: true, gzip: false });
    expect([0, 1, 2, 3].map((o) => lineOfRecord(scan.breakpoints, o))).toEqual([2, 5, 6, 8]);
  });

  it('an unterminated quote: one malformed record from its line to the end of the file, the rows before it keep their lines', async () => {
    await check({ records: [['1', '2', '3'], null, ['4', '5', '6']], eol: '\r\n', lead: 1, bom: true, finalEol: true, unterminated: true, gzip: false, pad: 0 });
  });

  it('a record DuckDB both rejects and reads (its bug) makes the loader refuse the file whole', async () => {
    await check({ records: [['"ab"cd', '"x" y', 'x', ''], ['5', '6', '7']], eol: '\n', lead: 0, bom: false, finalEol: true, unterminated: false, gzip: false, pad: 0 });
  });

  it('extra empty fields at the end of a record are caught although DuckDB reads them', async () => {
    await check({ records: [['1', '2', '3', ''], ['4', '5', '6', '""'], ['7', '8', '9', ' ""'], ['x', 'y', 'z']], eol: '\n', lead: 0, bom: false, finalEol: false, unterminated: false, gzip: false, pad: 0 });
  });
});
