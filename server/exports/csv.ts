// CSV of small in-memory tables (chart data, gap analyses): RFC 4180 quoting, text cells
// neutralised against formula injection, numbers written as numbers, empty for null.
import { neutraliseText } from './neutralise.ts';

export interface CsvColumn {
  key: string;
  /** Header text; the key when omitted (keys are the stable machine-readable names). */
  header?: string;
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  const text = neutraliseText(Array.isArray(v) ? v.join('; ') : String(v));
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function toCsv(columns: CsvColumn[], rows: Array<Record<string, unknown>>): string {
  const lines = [columns.map((c) => cell(c.header ?? c.key)).join(',')];
  for (const r of rows) lines.push(columns.map((c) => cell(r[c.key])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
