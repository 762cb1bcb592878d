// Exports of the (already suppressed) results table: CSV, JSON and Parquet are written
// by DuckDB's COPY; XLSX by exceljs; Arrow IPC by apache-arrow, for R and Python users.
import type { DuckDBConnection } from '@duckdb/node-api';
import { Bool, DateDay, Field, Float64, Schema, Table, Utf8, tableToIPC, vectorFromArray, type DataType } from 'apache-arrow';
import ExcelJS from 'exceljs';
import { writeFile } from 'node:fs/promises';
import { exec, rows, sqlIdent as id, sqlString as str, type Row } from '../../models/duckdb.ts';
import { METRICS } from '../../models/metrics/catalog.ts';
import { RESULT_COLUMNS, XLSX_MAX_ROWS, type PeriodGrain } from '../../models/results.ts';
import { neutraliseSql, neutraliseText } from './neutralise.ts';

export const EXPORT_FORMATS = ['csv', 'xlsx', 'json', 'parquet', 'arrow'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportFilter {
  /** A metric id, or 'all'. */
  metric: string;
  dimension?: string;
  grain?: PeriodGrain;
}

export class ExportRefused extends Error {}

export function filterSql(f: ExportFilter, ordered = true): string {
  const where = [
    f.metric !== 'all' ? `metric_id = ${str(f.metric)}` : null,
    f.dimension ? `dimension = ${str(f.dimension)}` : null,
    f.grain ? `period_grain = ${str(f.grain)}` : null,
  ].filter(Boolean);
  const order = `metric_id, period_grain, period_start, dimension, group_value`;
  return `FROM metric_results${where.length ? ` WHERE ${where.join(' AND ')}` : ''}${ordered ? ` ORDER BY ${order}` : ''}`;
}

/** Counts, written as integers in CSV: DuckDB writes a whole DOUBLE as `394.0` (past 2^53 a double is not an exact count: left as DuckDB writes it). */
const COUNT_COLUMNS = new Set(['numerator', 'denominator']);

/** The columns to select; for CSV, text is neutralised and whole counts lose their `.0` (member-months and dollars keep their fractions). */
const selectColumns = (csv: boolean) =>
  RESULT_COLUMNS.map((c) => {
    const col = id(c.name);
    if (csv && c.type === 'VARCHAR') return `${neutraliseSql(col)} AS ${col}`;
    if (csv && COUNT_COLUMNS.has(c.name)) return `CASE WHEN ${col} = trunc(${col}) AND abs(${col}) < 9007199254740992 THEN CAST(CAST(${col} AS BIGINT) AS VARCHAR) ELSE CAST(${col} AS VARCHAR) END AS ${col}`;
    return col;
  }).join(', ');

export async function countResults(conn: DuckDBConnection, f: ExportFilter): Promise<number> {
  return (await rows<{ n: number }>(conn, `SELECT count(*) AS n ${filterSql(f, false)}`))[0]?.n ?? 0;
}

export async function exportResults(conn: DuckDBConnection, f: ExportFilter, format: ExportFormat, out: string): Promise<{ rows: number }> {
  const n = await countResults(conn, f);
  switch (format) {
    case 'csv':
      await exec(conn, `COPY (SELECT ${selectColumns(true)} ${filterSql(f)}) TO ${str(out)} (FORMAT csv, HEADER true)`);
      break;
    case 'json':
      await exec(conn, `COPY (SELECT ${selectColumns(false)} ${filterSql(f)}) TO ${str(out)} (FORMAT json, ARRAY true)`);
      break;
    case 'parquet':
      await exec(conn, `COPY (SELECT ${selectColumns(false)} ${filterSql(f)}) TO ${str(out)} (FORMAT parquet)`);
      break;
    case 'arrow':
      await writeFile(out, tableToIPC(await arrowTable(conn, f), 'file'));
      break;
    case 'xlsx':
      if (n + 1 > XLSX_MAX_ROWS) {
        throw new ExportRefused(`${n.toLocaleString('en-US')} rows do not fit in one Excel sheet (at most ${(XLSX_MAX_ROWS - 1).toLocaleString('en-US')}): narrow it with --metric, --dimension or --grain, or export CSV or Parquet`);
      }
      await writeXlsx(await rows(conn, `SELECT ${selectColumns(false)} ${filterSql(f)}`), out);
      break;
  }
  return { rows: n };
}

/**
 * The results table as CSV or Parquet for rows matching a WHERE clause the caller built
 * (with sqlString-quoted values), e.g. a report's selection.
 */
export async function exportWhere(conn: DuckDBConnection, where: string, format: 'csv' | 'parquet', out: string): Promise<{ rows: number }> {
  const n = (await rows<{ n: number }>(conn, `SELECT count(*) AS n FROM metric_results WHERE ${where}`))[0]?.n ?? 0;
  const options = format === 'csv' ? '(FORMAT csv, HEADER true)' : '(FORMAT parquet)';
  await exec(conn, `COPY (SELECT ${selectColumns(format === 'csv')} FROM metric_results WHERE ${where}
    ORDER BY metric_id, period_grain, period_start, dimension, group_value) TO ${str(out)} ${options}`);
  return { rows: n };
}

const ARROW_TYPES: Record<string, () => DataType> = { VARCHAR: () => new Utf8(), DOUBLE: () => new Float64(), BOOLEAN: () => new Bool(), DATE: () => new DateDay() };

async function arrowTable(conn: DuckDBConnection, f: ExportFilter): Promise<Table> {
  const data = await rows(conn, `SELECT ${selectColumns(false)} ${filterSql(f)}`);
  const fields = RESULT_COLUMNS.map((c) => new Field(c.name, ARROW_TYPES[c.type]!(), true));
  const vectors = Object.fromEntries(RESULT_COLUMNS.map((c, i) => {
    const values = data.map((r) => {
      const v = r[c.name];
      if (v === null || v === undefined) return null;
      return c.type === 'DATE' ? new Date(`${v as string}T00:00:00Z`) : v;
    });
    return [c.name, vectorFromArray(values as never[], fields[i]!.type)];
  }));
  return new Table(new Schema(fields), vectors as never);
}

/** One typed sheet: numbers as numbers, dates as dates, header frozen, readable widths. */
export async function writeXlsx(data: Row[], out: string, sheetName = 'results') {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'closeloop';
  addResultsSheet(wb, sheetName, data);
  await wb.xlsx.writeFile(out);
}

/** Number formats of a results sheet's columns; counts keep Excel's General (394, 12.5 member-months). */
const COLUMN_FORMATS: Record<string, string> = {
  value: '0.00', ci_low: '0.00', ci_high: '0.00', rate_difference: '0.00', rd_ci_low: '0.00', rd_ci_high: '0.00',
  rate_ratio: '0.00', rr_ci_low: '0.00', rr_ci_high: '0.00', p_value: '0.0000', q_value: '0.0000',
};
/** On a proportion's row these hold proportions (or differences of them): shown as percentages. */
const PROPORTION_COLUMNS = ['value', 'ci_low', 'ci_high', 'rate_difference', 'rd_ci_low', 'rd_ci_high'] as const;
const PROPORTIONS = new Set(METRICS.filter((m) => m.kind === 'proportion').map((m) => m.id));

/** Column layout of a results sheet: typed formats and readable widths. */
export function resultSheetColumns(): Array<Partial<ExcelJS.Column>> {
  return RESULT_COLUMNS.map((c) => ({
    header: c.name, key: c.name,
    width: c.type === 'VARCHAR' ? Math.min(40, Math.max(12, c.name.length + 2)) : c.type === 'DATE' ? 12 : 14,
    style: c.type === 'DATE' ? { numFmt: 'yyyy-mm-dd' } : COLUMN_FORMATS[c.name] ? { numFmt: COLUMN_FORMATS[c.name] } : {},
  }));
}

/** The header row of a results sheet with an autofilter over its `rows` data rows. */
export function resultSheetFilter(rows: number): string {
  return `A1:${columnLetter(RESULT_COLUMNS.length)}${rows + 1}`;
}

function columnLetter(n: number): string {
  let s = '';
  for (let k = n; k > 0; k = Math.floor((k - 1) / 26)) s = String.fromCharCode(65 + ((k - 1) % 26)) + s;
  return s;
}

/** Percentage formats on a proportion's row (the cell still holds the fraction: 25% is 0.25). */
export function formatResultRow(row: ExcelJS.Row, r: Row): void {
  if (!PROPORTIONS.has(String(r.metric_id))) return;
  for (const name of PROPORTION_COLUMNS) row.getCell(name).numFmt = '0.0%';
}

/** One result row as typed cell values: numbers stay numbers, dates become dates, text is neutralised. */
export function resultCells(r: Row): Record<string, ExcelJS.CellValue> {
  return Object.fromEntries(RESULT_COLUMNS.map((c) => {
    const v = r[c.name];
    if (v === null || v === undefined) return [c.name, null];
    if (c.type === 'DATE') return [c.name, new Date(`${v as string}T00:00:00Z`)];
    if (c.type === 'VARCHAR') return [c.name, neutraliseText(String(v))];
    return [c.name, v as ExcelJS.CellValue];
  }));
}

export function addResultsSheet(wb: ExcelJS.Workbook, name: string, data: Row[]) {
  const ws = wb.addWorksheet(name, { views: [{ state: 'frozen', ySplit: 1 }] });
  ws.columns = resultSheetColumns();
  ws.getRow(1).font = { bold: true };
  ws.autoFilter = resultSheetFilter(data.length);
  for (const r of data) formatResultRow(ws.addRow(resultCells(r)), r);
  return ws;
}
