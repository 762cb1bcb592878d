// The scanner's record-start lines agree with a naive whole-string CSV reading,
// across chunk boundaries, multi-byte characters, quoted line breaks and blank lines.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { lineOfRecord, scanFile } from '../../../pipelines/ingest/scanFile.ts';

const dir = mkdtempSync(join(tmpdir(), 'closeloop-scan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Reference: walk the whole text character by character, RFC 4180 style. */
function naiveRecordLines(text: string): number[] {
  const starts: number[] = [];
  let line = 1;
  let inQuote = false;
  let recordStart = 1;
  let recordHasContent = false;
  let seenHeader = false;
  for (let i = 0; i <= text.length; i++) {
    const ch = text[i];
    if (ch === undefined || (ch === '\n' && !inQuote)) {
      if (recordHasContent) {
        if (seenHeader) starts.push(recordStart);
        seenHeader = true;
      }
      recordHasContent = false;
      line += 1;
      recordStart = line;
      continue;
    }
    if (ch === '\n') line += 1;
    if (ch === '"') inQuote = !inQuote;
    if (ch !== '\r' && ch !== '\n') recordHasContent = true;
  }
  return starts;
}

const field = fc.oneof(
  fc.constantFrom('plain', 'é', '漢字', '🙂', ''),
  fc.constantFrom('"a, b"', '"two\nlines"', '"q ""x"""', '"\r\n"'),
);
const record = fc.array(field, { minLength: 3, maxLength: 3 }).map((f) => f.join(','));

describe('scanFile', () => {
  it('maps record ordinals to physical lines like a naive reading, across 1 MiB chunks', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof({ weight: 20, arbitrary: record }, { weight: 1, arbitrary: fc.constant('') }), { minLength: 1, maxLength: 60 }),
        fc.constantFrom('\n', '\r\n'), fc.integer({ min: 0, max: 40_000 }), (records, eol, padRows) => {
          // Padding rows push the interesting part across the 1 MiB chunk boundary.
          const pad = Array.from({ length: padRows }, () => 'x'.repeat(25) + ',é,漢');
          const text = ['a,b,c', ...pad, ...records].join(eol) + eol;
          const path = join(dir, 'f.csv');
          writeFileSync(path, text);
          return scanFile(path, { text: true, gzip: false }).then((scan) => {
            const expected = naiveRecordLines(text);
            expect(scan.records).toBe(expected.length);
            const got = expected.map((_, i) => lineOfRecord(scan.breakpoints, i));
            expect(got).toEqual(expected);
            expect(scan.textProblem).toBeNull();
            expect(scan.headerText).toBe('a,b,c');
          });
        }),
      { numRuns: 12 },
    );
  });

  it('hashes the bytes as stored (gzip included) and checks the decompressed text', async () => {
    const raw = Buffer.from('a,b\n1,2\n');
    const gz = gzipSync(raw);
    const path = join(dir, 'f.csv.gz');
    writeFileSync(path, gz);
    const scan = await scanFile(path, { text: true, gzip: true });
    expect(scan.sha256).toBe(createHash('sha256').update(gz).digest('hex'));
    expect(scan.records).toBe(1);
  });

  it('rejects invalid UTF-8 split across a chunk boundary, and NUL bytes', async () => {
    const bad = Buffer.concat([Buffer.from('a,b\n'), Buffer.alloc((1 << 20) - 5, 0x41), Buffer.from([0xe6, 0xbc]), Buffer.from('x\n')]);
    writeFileSync(join(dir, 'bad.csv'), bad);
    expect((await scanFile(join(dir, 'bad.csv'), { text: true, gzip: false })).textProblem).toMatch(/not valid UTF-8/);
    const good = Buffer.concat([Buffer.from('a,b\n'), Buffer.alloc((1 << 20) - 5, 0x41), Buffer.from('漢x\n')]);
    writeFileSync(join(dir, 'good.csv'), good);
    expect((await scanFile(join(dir, 'good.csv'), { text: true, gzip: false })).textProblem).toBeNull();
    writeFileSync(join(dir, 'nul.csv'), Buffer.from('a,b\n1,\u0000\n'));
    expect((await scanFile(join(dir, 'nul.csv'), { text: true, gzip: false })).textProblem).toMatch(/NUL byte at byte 7/);
  });
});
