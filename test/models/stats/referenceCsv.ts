// Reads test/fixtures/reference/statistics-reference.csv (values computed in R 4.2; see
// the README beside it) and compares results with the tolerance the project uses.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export interface ReferenceRow {
  line: number;
  method: string;
  inputs: string;
  /** out1..out3; null for an empty cell (undefined / not reached in R) */
  outputs: Array<number | null>;
  /** out1..out3 as written (the BH row lists several numbers in one cell) */
  raw: string[];
}

const CSV_PATH = fileURLToPath(new URL('../../fixtures/reference/statistics-reference.csv', import.meta.url));

/** Minimal RFC 4180 parser: quoted fields may contain commas and doubled quotes. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      record.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  return records.filter((r) => !(r.length === 1 && r[0] === ''));
}

export function loadReferenceRows(): ReferenceRow[] {
  const [header, ...records] = parseCsv(readFileSync(CSV_PATH, 'utf8'));
  expect(header).toEqual(['method', 'inputs', 'out1', 'out2', 'out3']);
  return records.map((r, i) => {
    const raw = r.slice(2, 5);
    return {
      line: i + 2,
      method: r[0] as string,
      inputs: r[1] as string,
      raw,
      outputs: raw.map((cell) => (cell.trim() === '' || cell.includes(',') ? null : Number(cell))),
    };
  });
}

/** "x1=56;n1=70;x2=48;n2=80" -> { x1: 56, ... } */
export function namedInputs(inputs: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of inputs.split(';')) {
    const [name, value] = part.split('=');
    out[(name as string).trim()] = Number(value);
  }
  return out;
}

/** "y=0.8,0.7;n=500,200" -> { y: [0.8, 0.7], n: [500, 200] } */
export function namedLists(inputs: string): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const part of inputs.split(';')) {
    const [name, value] = part.split('=');
    out[(name as string).trim()] = (value as string).split(',').map(Number);
  }
  return out;
}

/** Relative 1e-6; absolute 1e-9 where R's value is 0. Tiny non-zero values (Fisher
 * p = 5e-35) are held to the relative tolerance: an absolute one would pass anything. */
export function expectClose(actual: number | null | undefined, expected: number | null, what: string): void {
  if (expected === null) {
    expect(actual, `${what}: R gives NA/empty`).toBeNull();
    return;
  }
  expect(actual, `${what}: R gives ${expected}`).not.toBeNull();
  expect(actual, `${what}: R gives ${expected}`).not.toBeUndefined();
  const a = actual as number;
  const ok = expected === 0 ? Math.abs(a) <= 1e-9 : Math.abs(a - expected) <= 1e-6 * Math.abs(expected);
  expect(ok, `${what}: got ${a}, R gives ${expected} (relative error ${Math.abs(a - expected) / Math.abs(expected)})`).toBe(true);
}
