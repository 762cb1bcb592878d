// One streaming pass over an inbox file: its SHA-256 (for the load ledger), whether it
// is valid UTF-8 without NUL bytes, its header record, and where each record starts.
// DuckDB numbers CSV records, not physical lines; the contract reports the physical
// line where a record starts (header = line 1), which differs once a quoted field
// spans lines or blank lines are skipped. We record those deviations as breakpoints.
//
// Record boundaries follow DuckDB's CSV state machine (delim ',', quote and escape '"',
// strict_mode), found by probing it (test/pipelines/ingest/scanFile.test.ts checks the
// two agree on generated files):
// - a quote opens a quoted field only at the start of a field, or after exactly one
//   space there; anywhere else it is a literal character (`Men's 12" Pantry`);
// - inside a quoted field `""` is a quote and a line end is data; the closing quote
//   may be followed by spaces, a delimiter, a line end, or a quote that reopens the
//   field; anything else makes the record invalid (DuckDB rejects it) and the rest of
//   the field is unquoted text;
// - a quoted field that is never closed runs to the end of the file (one record);
// - line ends are LF or CRLF, one kind per file (the first line end decides); DuckDB
//   fails on or misreads files that mix them or use bare CRs, so those are rejected;
// - lines with nothing on them are skipped, and count as lines in DuckDB's reject
//   numbering.
import { createHash } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
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
   * (also those skipped before the header) as one: duckLine = ordinal + 2 + blank
   * lines before the record. These breakpoints give that blank count wherever it changes.
   */
  blankBreakpoints: Array<{ ordinal: number; blanks: number }>;
  /** Blank lines before the header: DuckDB takes the first line as the header, so they are skipped. */
  leadingBlankLines: number;
  /**
   * Records the scanner found malformed on its own: a field count other than the
   * header's, or a quoted field with text after its closing quote or never closed.
   * Fields are counted only in records with a quote or ending in a delimiter; DuckDB
   * rejects the others itself if their count is wrong. This catches what DuckDB lets
   * through: extra empty fields at the end of a record.
   */
  flagged: number[];
}

/** One record taken whole from the file (readRecords). */
export interface RawRecord {
  ordinal: number;
  /** Physical line where the record starts. */
  line: number;
  /** Byte offset of its first byte in the (decompressed) text. */
  offset: number;
  /** The record exactly as it is in the file, without its line end. */
  text: string;
  /** Number of fields, as DuckDB splits them. */
  fields: number;
  quoting: 'ok' | 'text_after_quote' | 'unterminated';
}

const NL = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const COMMA = 0x2c;
const SPACE = 0x20;

/**
 * The file could not be read (EACCES, EIO, ...): a property of this moment, not of its
 * content, so nothing about it is recorded and the next run tries again.
 */
export class ReadFailed extends Error {
  constructor(readonly code: string | undefined, message: string) {
    super(message);
  }
}

export async function scanFile(path: string, opts: { text: boolean; gzip: boolean }): Promise<ScanResult> {
  const hash = createHash('sha256');
  let size = 0;
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  raw.on('data', (chunk) => {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  });
  if (!opts.text) {
    await new Promise<void>((resolve, reject) => raw.on('end', resolve).on('error', reject)).catch((err: NodeJS.ErrnoException) => {
      throw new ReadFailed(err.code, err.message);
    });
    return { sha256: hash.digest('hex'), size, textProblem: null, headerText: null, records: 0, breakpoints: [], blankBreakpoints: [], leadingBlankLines: 0, flagged: [] };
  }
  const scanner = new RecordScanner(null, opts.gzip);
  await feed(raw, opts.gzip, scanner);
  return {
    sha256: hash.digest('hex'),
    size,
    textProblem: scanner.problem,
    headerText: scanner.header,
    records: scanner.ordinal,
    breakpoints: scanner.breakpoints,
    blankBreakpoints: scanner.blankBreakpoints,
    leadingBlankLines: scanner.leadingBlankLines,
    flagged: scanner.flagged,
  };
}

/**
 * Takes the records with the given ordinals whole from the file (a second pass over
 * it, made only for files with malformed records). DuckDB's rejects table cuts records
 * at 10,000 characters; this does not. Batches go to `onRecords` as they fill.
 */
export async function readRecords(path: string, opts: { gzip: boolean }, ordinals: ReadonlySet<number>, onRecords: (batch: RawRecord[]) => Promise<void>): Promise<void> {
  if (ordinals.size === 0) return;
  const scanner = new RecordScanner(ordinals, opts.gzip);
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  await feed(raw, opts.gzip, scanner, async () => {
    if (scanner.capturedBytes >= 8 << 20) await onRecords(scanner.takeCaptured());
  });
  if (scanner.problem) throw new Error(`${path}: ${scanner.problem}`);
  if (scanner.captured.length) await onRecords(scanner.takeCaptured());
}

/** Feeds the file's text to the scanner. A read error throws ReadFailed; a corrupt gzip stream is a problem of the content. */
async function feed(raw: ReadStream, gzip: boolean, scanner: RecordScanner, afterChunk?: () => Promise<void>) {
  let ioError: NodeJS.ErrnoException | null = null;
  const text = gzip ? raw.pipe(createGunzip()) : raw;
  raw.on('error', (err) => {
    ioError = err;
    if (text !== raw) text.destroy(err);
  });
  try {
    for await (const chunk of text) {
      if (scanner.problem) continue; // keep draining so the hash covers the whole file
      scanner.push(chunk as Buffer);
      if (afterChunk) await afterChunk();
    }
  } catch (err) {
    const io = ioError as NodeJS.ErrnoException | null;
    if (io) throw new ReadFailed(io.code, io.message);
    scanner.problem ??= `cannot be read: ${(err as Error).message}`;
  }
  scanner.finish();
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

const enum S {
  FieldStart,
  /** One space at the start of a field: a quote may still open it. */
  Space1,
  Unquoted,
  Quoted,
  /** Just after a quote inside a quoted field: the close, or the first half of "". */
  AfterClose,
  /** Text after a closing quote: the record is invalid; quotes are literal from here. */
  Invalid,
}

/**
 * The state machine above, fed chunk by chunk. Lines without a quote (nearly all of
 * them) take a fast path: one native search for the line end, and no per-byte work
 * unless the line ends in a delimiter; DuckDB itself rejects such a record if its field
 * count is wrong in any other way. Everything else is walked byte by byte.
 */
class RecordScanner {
  header: string | null = null;
  headerFields = 0;
  ordinal = 0;
  breakpoints: LineBreakpoint[] = [];
  blankBreakpoints: Array<{ ordinal: number; blanks: number }> = [];
  leadingBlankLines = 0;
  flagged: number[] = [];
  problem: string | null = null;
  captured: RawRecord[] = [];
  capturedBytes = 0;

  private eol: 'lf' | 'crlf' | null = null;
  private state = S.FieldStart;
  /** A CR outside quotes waits for its LF. */
  private cr = false;
  private delimiters = 0;
  private recordBytes = 0; // bytes of the current record that are not line ends
  private badQuote = false;
  private blanks = 0;
  private line = 1; // physical line at the current position
  private recordStartLine = 1;
  private recordOffset = 0;
  private lineOffset = 0; // offset where the current physical line starts
  private offset = 0; // offset of the current chunk in the text
  private headerDone = false;
  private headerParts: Buffer[] = [];
  private capturing = false;
  private captureParts: Buffer[] = [];
  private utf8Tail: Buffer = Buffer.alloc(0);
  private firstChunk = true;

  constructor(private readonly capture: ReadonlySet<number> | null, private readonly gzip: boolean) {}

  push(chunk: Buffer) {
    this.problem = this.checkText(chunk);
    if (this.problem) return;
    let pos = 0;
    if (this.firstChunk) {
      this.firstChunk = false;
      if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) pos = 3;
      this.recordOffset = pos;
      this.lineOffset = pos;
    }
    const n = chunk.length;
    // Next quote / CR at or after pos (n when there is none), searched lazily and reused.
    let nextQuote = -1;
    let nextCr = -1;
    while (pos < n) {
      if (this.headerDone && this.eol !== null && this.atRecordStart() && !this.capture?.has(this.ordinal)) {
        const nl = chunk.indexOf(NL, pos);
        if (nl >= 0) {
          if (nextQuote < pos) nextQuote = indexOr(chunk, QUOTE, pos, n);
          if (nextCr < pos) nextCr = indexOr(chunk, CR, pos, n);
          const end = this.eol === 'crlf' ? nl - 1 : nl; // content end
          const eolOk = this.eol === 'crlf' ? end >= pos && nextCr === end : nextCr > nl;
          if (nextQuote > nl && eolOk) {
            // A line ending in a delimiter may have an extra empty field, which DuckDB
            // lets through: count its fields (a plain loop, no state machine).
            if (end > pos && chunk[end - 1] === COMMA) {
              let delimiters = 0;
              for (let i = pos; i < end; i++) if (chunk[i] === COMMA) delimiters++;
              if (delimiters + 1 !== this.headerFields) this.flagged.push(this.ordinal);
            }
            this.line += 1;
            this.recordBytes = end - pos;
            this.endRecord();
            pos = nl + 1;
            this.recordOffset = this.offset + pos;
            this.lineOffset = this.recordOffset;
            continue;
          }
        }
      }
      pos = this.walk(chunk, pos);
      if (this.problem) return;
    }
    if (!this.headerDone) this.headerParts.push(chunk.subarray(this.headerStart(), n));
    if (this.capturing) this.captureParts.push(chunk.subarray(Math.max(0, this.recordOffset - this.offset), n));
    this.offset += n;
  }

  finish() {
    if (this.problem) return;
    if (this.utf8Tail.length > 0) {
      this.problem = 'is not valid UTF-8 (the file ends inside a multi-byte character): save it as UTF-8';
      return;
    }
    if (this.cr) {
      this.problem = `line ${this.line} ends with a carriage return (CR) without a line feed: save the file with LF or CRLF line ends`;
      return;
    }
    if (this.state === S.Quoted && !this.headerDone) {
      this.problem = 'the header row has a quote that is never closed';
      return;
    }
    if (this.recordBytes > 0 || this.state === S.Quoted) this.endRecord(this.offset);
  }

  /** Records captured so far (readRecords), handed over and forgotten. */
  takeCaptured(): RawRecord[] {
    const out = this.captured;
    this.captured = [];
    this.capturedBytes = 0;
    return out;
  }

  private atRecordStart() {
    return this.state === S.FieldStart && this.delimiters === 0 && this.recordBytes === 0 && !this.cr;
  }

  private headerStart() {
    return Math.max(0, this.recordOffset - this.offset);
  }

  /** Walks bytes from `pos` to the end of the current record (past its line end) or of the chunk. */
  private walk(chunk: Buffer, pos: number): number {
    const n = chunk.length;
    if (this.atRecordStart() && this.capture?.has(this.ordinal)) this.capturing = true;
    for (let i = pos; i < n; i++) {
      const b = chunk[i] as number;
      if (this.cr) {
        this.cr = false;
        if (b !== NL) {
          this.problem = this.eol === null
            ? `uses carriage returns (CR) alone as line ends (classic Mac OS): save it with LF or CRLF line ends`
            : `line ${this.line} has a carriage return (CR) that is not part of a CRLF line end (byte ${fmt(this.offset + i)}): remove it or quote the field`;
          return n;
        }
        if (this.eol === 'lf') {
          this.problem = `mixes line ends: line ${this.line} ends with CRLF, earlier lines with LF alone; save it with one kind`;
          return n;
        }
        this.eol = 'crlf';
        return this.lineEnd(chunk, i);
      }
      if (this.state === S.Quoted) {
        if (b === QUOTE) this.state = S.AfterClose;
        else if (b === NL) {
          this.line += 1;
          this.lineOffset = this.offset + i + 1;
        }
        this.recordBytes += 1;
        continue;
      }
      if (b === COMMA) {
        this.delimiters += 1;
        this.recordBytes += 1;
        this.state = S.FieldStart;
        continue;
      }
      if (b === NL) {
        if (this.eol === 'crlf') {
          this.problem = `mixes line ends: line ${this.line} ends with LF alone, earlier lines with CRLF; save it with one kind`;
          return n;
        }
        this.eol = 'lf';
        return this.lineEnd(chunk, i);
      }
      if (b === CR) {
        this.cr = true;
        continue;
      }
      this.recordBytes += 1;
      switch (this.state) {
        case S.FieldStart:
          this.state = b === QUOTE ? S.Quoted : b === SPACE ? S.Space1 : S.Unquoted;
          break;
        case S.Space1:
          this.state = b === QUOTE ? S.Quoted : S.Unquoted;
          break;
        case S.AfterClose:
          if (b === QUOTE) this.state = S.Quoted;
          else if (b !== SPACE) {
            this.state = S.Invalid;
            this.badQuote = true;
          }
          break;
        default: // Unquoted, Invalid: quotes are literal
      }
    }
    return n;
  }

  /** The LF at chunk[i] ends the current line outside quotes: the record ends. */
  private lineEnd(chunk: Buffer, i: number): number {
    this.line += 1;
    if (!this.headerDone) this.headerParts.push(chunk.subarray(this.headerStart(), i));
    if (this.capturing) this.captureParts.push(chunk.subarray(Math.max(0, this.recordOffset - this.offset), i));
    this.endRecord(this.offset + i);
    this.recordOffset = this.offset + i + 1;
    this.lineOffset = this.recordOffset;
    return i + 1;
  }

  private endRecord(endOffset?: number) {
    const blank = this.recordBytes === 0 && this.delimiters === 0 && this.state !== S.Quoted;
    const fields = this.delimiters + 1;
    const unterminated = this.state === S.Quoted;
    if (!this.headerDone) {
      if (blank) this.leadingBlankLines = this.line - 1;
      else {
        this.header = Buffer.concat(this.headerParts).toString('utf8').replace(/\r$/, '');
        this.headerFields = fields;
        this.headerDone = true;
        this.blanks = this.leadingBlankLines;
        if (this.badQuote) this.problem = 'the header row has text after a closing quote';
      }
      this.headerParts = [];
    } else if (blank) {
      this.blanks += 1;
    } else {
      const lastBlanks = this.blankBreakpoints.at(-1)?.blanks ?? 0;
      if (this.blanks !== lastBlanks) this.blankBreakpoints.push({ ordinal: this.ordinal, blanks: this.blanks });
      const last = this.breakpoints.at(-1);
      if (!last || last.line + (this.ordinal - last.ordinal) !== this.recordStartLine) {
        this.breakpoints.push({ ordinal: this.ordinal, line: this.recordStartLine });
      }
      // endOffset is given by the byte walk (and at the end of the file): fields were counted.
      if (endOffset !== undefined && (this.badQuote || unterminated || fields !== this.headerFields)) this.flagged.push(this.ordinal);
      if (this.capturing) {
        const text = Buffer.concat(this.captureParts).toString('utf8');
        this.captured.push({
          ordinal: this.ordinal, line: this.recordStartLine, offset: this.recordOffset, fields,
          text: !unterminated && this.eol === 'crlf' ? text.replace(/\r$/, '') : text,
          quoting: unterminated ? 'unterminated' : this.badQuote ? 'text_after_quote' : 'ok',
        });
        this.capturedBytes += text.length;
      }
      this.ordinal += 1;
    }
    this.capturing = false;
    this.captureParts = [];
    this.recordBytes = 0;
    this.delimiters = 0;
    this.badQuote = false;
    this.state = S.FieldStart;
    this.recordStartLine = this.line;
  }

  /** NUL bytes, UTF-16 and invalid UTF-8, with the line and byte of the first bad byte. */
  private checkText(chunk: Buffer): string | null {
    if (this.firstChunk) {
      if ((chunk[0] === 0xff && chunk[1] === 0xfe) || (chunk[0] === 0xfe && chunk[1] === 0xff)) {
        return `is UTF-16 encoded (it starts with the byte-order mark ${hex(chunk[0]!)} ${hex(chunk[1]!)}): save it as UTF-8`;
      }
      const utf16 = utf16WithoutBom(chunk);
      if (utf16) return `looks UTF-16 (${utf16}) encoded: every other byte is NUL; save it as UTF-8`;
    }
    const nul = chunk.indexOf(0);
    if (nul >= 0) return `contains a NUL byte at byte ${fmt(this.offset + nul + 1)} (line ${this.line + countLf(chunk, 0, nul)}): not a text (CSV) file`;
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
    if (!isUtf8(buf.subarray(0, cut))) {
      const bad = firstInvalidUtf8(buf);
      const tail = this.utf8Tail.length; // held-back bytes of the previous chunk (no line ends among them)
      const line = this.line + countLf(chunk, 0, Math.max(0, bad - tail));
      const at = this.offset - tail + bad;
      const lf = bad > tail ? chunk.lastIndexOf(NL, bad - tail - 1) : -1;
      const lineStart = lf >= 0 ? this.offset + lf + 1 : this.lineOffset;
      const byte = buf[bad] as number;
      const as1252 = byte >= 0x80 ? new TextDecoder('windows-1252').decode(Uint8Array.of(byte)) : null;
      return `is not valid UTF-8: line ${line}, byte ${fmt(at - lineStart + 1)} of the line (byte ${fmt(at + 1)} of the ${this.gzip ? 'decompressed text' : 'file'}) is ${hex(byte)}` +
        `${as1252 ? `, which is "${as1252}" in Windows-1252 (Latin-1): the file looks Windows-1252 encoded` : ''}; save it as UTF-8`;
    }
    this.utf8Tail = Buffer.from(buf.subarray(cut));
    return null;
  }
}

function indexOr(chunk: Buffer, byte: number, from: number, none: number): number {
  const i = chunk.indexOf(byte, from);
  return i < 0 ? none : i;
}

function countLf(buf: Buffer, from: number, to: number): number {
  let n = 0;
  for (let i = buf.indexOf(NL, from); i >= 0 && i < to; i = buf.indexOf(NL, i + 1)) n++;
  return n;
}

/** Index of the first byte that breaks UTF-8 (called only on a chunk isUtf8 rejected). */
function firstInvalidUtf8(buf: Buffer): number {
  let i = 0;
  while (i < buf.length) {
    const b = buf[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    const need = b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    if (need < 0) return i;
    if (i + need >= buf.length) return i; // cut short at the end of the file
    if (!isUtf8(buf.subarray(i, i + need + 1))) return i;
    i += need + 1;
  }
  return buf.length;
}

/** 'UTF-16LE' or 'UTF-16BE' when the start of the file looks like ASCII text in UTF-16 without a byte-order mark. */
function utf16WithoutBom(chunk: Buffer): string | null {
  const n = Math.min(chunk.length, 64) & ~1;
  if (n < 8) return null;
  let evenNul = 0;
  let oddNul = 0;
  for (let i = 0; i < n; i += 2) {
    if (chunk[i] === 0) evenNul++;
    if (chunk[i + 1] === 0) oddNul++;
  }
  if (oddNul === n / 2 && evenNul === 0) return 'UTF-16LE';
  if (evenNul === n / 2 && oddNul === 0) return 'UTF-16BE';
  return null;
}

const hex = (b: number) => `0x${b.toString(16).toUpperCase().padStart(2, '0')}`;
const fmt = (n: number) => n.toLocaleString('en-US');
