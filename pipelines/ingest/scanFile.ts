// One streaming pass over an inbox file: its SHA-256 (for the load ledger), whether it
// is valid UTF-8 without NUL bytes, its header record, and where each record starts.
// DuckDB numbers CSV records, not physical lines; the contract reports the physical
// line where a record starts (header = line 1), which differs once a quoted field
// spans lines or blank lines are skipped. We record those deviations as breakpoints.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { createGunzip } from 'node:zlib';

export interface LineBreakpoint {
  /** 0-based ordinal of a data record (header excluded, blank lines not counted). */
  ordinal: number;
  /** Physical line where that record starts. */
  line: number;
}

export interface ScanResult {
  sha256: string;
  size: number;
  /** Problem that makes the file unreadable as text, or null. */
  textProblem: string | null;
  /** Raw header record (without BOM and line end), null for an empty file. */
  headerText: string | null;
  /** Number of data records. */
  records: number;
  /** Piecewise map from record ordinal to physical line; see lineOfRecord. */
  breakpoints: LineBreakpoint[];
  /**
   * DuckDB's reject line numbers count each record as one line and each blank line
   * as one: duckLine = ordinal + 2 + blank lines after the header before the record.
   * These breakpoints give that blank count wherever it changes.
   */
  blankBreakpoints: Array<{ ordinal: number; blanks: number }>;
}

const NL = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const HEADER_LIMIT = 1 << 20;

export async function scanFile(path: string, opts: { text: boolean; gzip: boolean }): Promise<ScanResult> {
  const hash = createHash('sha256');
  let size = 0;
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  raw.on('data', (chunk) => {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  });
  if (!opts.text) {
    await new Promise<void>((resolve, reject) => raw.on('end', resolve).on('error', reject));
    return { sha256: hash.digest('hex'), size, textProblem: null, headerText: null, records: 0, breakpoints: [], blankBreakpoints: [] };
  }
  const text = opts.gzip ? raw.pipe(createGunzip()) : raw;
  const scanner = new RecordScanner();
  let problem: string | null = null;
  try {
    for await (const chunk of text) {
      if (problem) continue; // keep draining so the hash covers the whole file
      problem = scanner.push(chunk as Buffer);
    }
  } catch (err) {
    problem ??= `cannot be read: ${(err as Error).message}`;
  }
  problem ??= scanner.finish();
  return {
    sha256: hash.digest('hex'),
    size,
    textProblem: problem,
    headerText: scanner.header,
    records: scanner.ordinal,
    breakpoints: scanner.breakpoints,
    blankBreakpoints: scanner.blankBreakpoints,
  };
}

/** Ordinal of the record DuckDB reports at `duckLine` in its rejects table. */
export function recordAtDuckDbLine(scan: Pick<ScanResult, 'blankBreakpoints'>, duckLine: number): number {
  let blanks = 0;
  for (const b of scan.blankBreakpoints) {
    if (b.ordinal + 2 + b.blanks > duckLine) break;
    blanks = b.blanks;
  }
  return duckLine - 2 - blanks;
}

/** Physical line of data record `ordinal`, given the scan's breakpoints. */
export function lineOfRecord(breakpoints: LineBreakpoint[], ordinal: number): number {
  let lo = 0;
  let hi = breakpoints.length - 1;
  let best = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((breakpoints[mid] as LineBreakpoint).ordinal <= ordinal) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  const b = breakpoints[best];
  return b ? b.line + (ordinal - b.ordinal) : ordinal + 2;
}

/** Record ordinal that starts at physical `line` (inverse of lineOfRecord), or null. */
export function recordAtLine(breakpoints: LineBreakpoint[], line: number): number | null {
  for (let i = breakpoints.length - 1; i >= 0; i--) {
    const b = breakpoints[i] as LineBreakpoint;
    if (b.line <= line) {
      const next = breakpoints[i + 1];
      const ordinal = b.ordinal + (line - b.line);
      return next && ordinal >= next.ordinal ? null : ordinal;
    }
  }
  return null;
}

/**
 * Finds record starts by quote parity: a newline ends a record when the number of
 * quote characters since the record began is even (RFC 4180: quotes open a quoted
 * field and escape as ""). Blank records are skipped, as DuckDB does.
 */
class RecordScanner {
  header: string | null = null;
  ordinal = 0;
  breakpoints: LineBreakpoint[] = [];
  blankBreakpoints: Array<{ ordinal: number; blanks: number }> = [];
  private blanks = 0;
  private line = 1; // physical line at the current position
  private recordStartLine = 1;
  private inQuote = false;
  private recordBytes = 0; // bytes of the current record that are not line ends
  private headerParts: Buffer[] = [];
  private headerDone = false;
  private utf8Tail: Buffer = Buffer.alloc(0);
  private firstChunk = true;
  private offset = 0;

  push(chunk: Buffer): string | null {
    const nul = chunk.indexOf(0);
    if (nul >= 0) return `contains a NUL byte at byte ${this.offset + nul + 1}: not a text (CSV) file`;
    const utf8 = this.checkUtf8(chunk);
    if (utf8) return utf8;
    let start = 0;
    if (this.firstChunk) {
      this.firstChunk = false;
      if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) start = 3;
    }
    let pos = start;
    // The next quote in the chunk, searched once and reused across lines: searching
    // afresh per line would rescan the rest of the chunk for every line without quotes.
    let nextQuote = chunk.indexOf(QUOTE, pos);
    while (pos < chunk.length) {
      const nl = chunk.indexOf(NL, pos);
      const end = nl < 0 ? chunk.length : nl;
      while (nextQuote >= 0 && nextQuote < end) {
        this.inQuote = !this.inQuote;
        nextQuote = chunk.indexOf(QUOTE, nextQuote + 1);
      }
      let content = end - pos;
      if (nl >= 0 && content > 0 && chunk[end - 1] === CR) content -= 1;
      this.recordBytes += content;
      if (!this.headerDone) this.headerParts.push(chunk.subarray(pos, end));
      if (nl < 0) break;
      this.line += 1;
      if (!this.inQuote) this.endRecord();
      else if (!this.headerDone) this.headerParts.push(chunk.subarray(nl, nl + 1));
      pos = nl + 1;
    }
    this.offset += chunk.length;
    return null;
  }

  finish(): string | null {
    if (this.utf8Tail.length > 0) return 'is not valid UTF-8 (the file ends inside a multi-byte character)';
    if (this.recordBytes > 0) this.endRecord();
    return null;
  }

  private endRecord() {
    const blank = this.recordBytes === 0;
    if (!this.headerDone) {
      if (!blank) {
        this.header = Buffer.concat(this.headerParts).toString('utf8').replace(/\r$/, '');
        this.headerDone = true;
      }
      this.headerParts = [];
    } else if (blank) {
      this.blanks += 1;
    } else {
      const lastBlanks = this.blankBreakpoints.at(-1)?.blanks ?? 0;
      if (this.blanks !== lastBlanks) this.blankBreakpoints.push({ ordinal: this.ordinal, blanks: this.blanks });
      const expected = lineOfRecord(this.breakpoints, this.ordinal);
      if (this.breakpoints.length === 0 || expected !== this.recordStartLine) {
        this.breakpoints.push({ ordinal: this.ordinal, line: this.recordStartLine });
      }
      this.ordinal += 1;
    }
    this.recordBytes = 0;
    this.recordStartLine = this.line;
  }

  private checkUtf8(chunk: Buffer): string | null {
    const buf = this.utf8Tail.length ? Buffer.concat([this.utf8Tail, chunk]) : chunk;
    // Hold back an incomplete multi-byte sequence at the end for the next chunk.
    let cut = buf.length;
    for (let i = buf.length - 1; i >= Math.max(0, buf.length - 4); i--) {
      const b = buf[i] as number;
      if ((b & 0xc0) === 0x80) continue; // continuation byte
      const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
      if (buf.length - i < need) cut = i;
      break;
    }
    if (!isUtf8(buf.subarray(0, cut))) return `is not valid UTF-8 (near byte ${this.offset - this.utf8Tail.length + 1}): save it as UTF-8`;
    this.utf8Tail = Buffer.from(buf.subarray(cut));
    return null;
  }
}
