// Exports of the (already suppressed) results table: CSV, JSON and Parquet are written
// by DuckDB's COPY; XLSX by exceljs; Arrow IPC by apache-arrow, for R and Python users.
import type { DuckDBConnection } from '@duckdb/node-api';
import { Bool, DateDay, Field, Float64, Schema, Table, Utf8, tableToIPC, vectorFromArray, type DataType } from 'apache-arrow';
import ExcelJS from 'exceljs';
import { writeFile } from 'node:fs/promises';
import { exec, rows, sqlIdent as id, sqlString as str, type Row } from '../../models/duckdb.ts';
import { METRICS } from '../../models/metrics/catalog.ts';
import { RESULT_COLUMNS, XLSX_MAX_ROWS, type PeriodGrain } from '../../models/results.ts';
import { dimensionLabel, groupLabel } from '../labels.ts';
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

/** The export's WHERE conditions (values quoted with sqlString), or '' for every row. */
function whereSql(f: ExportFilter): string {
  return [
    f.metric !== 'all' ? `metric_id = ${str(f.metric)}` : null,
    f.dimension ? `dimension = ${str(f.dimension)}` : null,
    f.grain ? `period_grain = ${str(f.grain)}` : null,
  ].filter(Boolean).join(' AND ');
}

const ORDER = 'ORDER BY metric_id, period_grain, period_start, dimension, group_value';

/**
 * Words beside the codes (issue 16; server/labels.ts): the metric's title, the dimension's
 * and the group's labels. They follow the spec's columns (outputs.md: "more columns may
 * follow"), so every column keeps its place and the codes stay in their own columns.
 */
export const LABEL_COLUMNS = [
  { name: 'metric_title', type: 'VARCHAR' },
  { name: 'dimension_label', type: 'VARCHAR' },
  { name: 'group_label', type: 'VARCHAR' },
] as const;
export const EXPORT_COLUMNS = [...RESULT_COLUMNS, ...LABEL_COLUMNS];

/** Organization names from the published service directory, when the database has one. */
async function directoryNames(conn: DuckDBConnection): Promise<Map<string, string>> {
  const has = await rows<{ n: number }>(conn, `SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = 'service_directory'`);
  if (!has[0]?.n) return new Map();
  return new Map((await rows<{ org_id: string; org_name: string }>(conn, 'SELECT DISTINCT org_id, org_name FROM service_directory')).map((r) => [r.org_id, r.org_name]));
}

/**
 * `metric_results` with the label columns joined on: the labels of the (few hundred)
 * dimension x group pairs that `where` selects are worked out here and joined as a VALUES
 * list, so the rows themselves stay in SQL.
 */
export async function labelledResults(conn: DuckDBConnection, where: string, params: unknown[] = []): Promise<string> {
  const pairs = await rows<{ dimension: string | null; group_value: string | null }>(conn, `SELECT DISTINCT dimension, group_value FROM metric_results${where ? ` WHERE ${where}` : ''}`, params);
  const orgs = await directoryNames(conn);
  const labels = pairs.flatMap(({ dimension: d, group_value: g }) => (d === null || g === null ? [] : [`(${str(d)}, ${str(g)}, ${str(dimensionLabel(d))}, ${str(groupLabel(d, g, orgs))})`]));
  const titles = METRICS.map((m) => `(${str(m.id)}, ${str(m.title)})`);
  return `metric_results
    LEFT JOIN (VALUES ${labels.join(', ') || '(NULL::VARCHAR, NULL::VARCHAR, NULL::VARCHAR, NULL::VARCHAR)'}) AS labels(dimension, group_value, dimension_label, group_label) USING (dimension, group_value)
    LEFT JOIN (VALUES ${titles.join(', ')}) AS titles(metric_id, metric_title) USING (metric_id)`;
}

/** Counts, written as integers in CSV: DuckDB writes a whole DOUBLE as `394.0` (past 2^53 a double is not an exact count: left as DuckDB writes it). */
const COUNT_COLUMNS = new Set(['numerator', 'denominator']);

/** The columns to select; for CSV, text is neutralised and whole counts lose their `.0` (member-months and dollars keep their fractions). */
const selectColumns = (csv: boolean) =>
  EXPORT_COLUMNS.map((c) => {
    const col = id(c.name);
    if (csv && c.type === 'VARCHAR') return `${neutraliseSql(col)} AS ${col}`;
    if (csv && COUNT_COLUMNS.has(c.name)) return `CASE WHEN ${col} = trunc(${col}) AND abs(${col}) < 9007199254740992 THEN CAST(CAST(${col} AS BIGINT) AS VARCHAR) ELSE CAST(${col} AS VARCHAR) END AS ${col}`;
    return col;
  }).join(', ');

export async function countResults(conn: DuckDBConnection, f: ExportFilter): Promise<number> {
  const where = whereSql(f);
  return (await rows<{ n: number }>(conn, `SELECT count(*) AS n FROM metric_results${where ? ` WHERE ${where}` : ''}`))[0]?.n ?? 0;
}

export async function exportResults(conn: DuckDBConnection, f: ExportFilter, format: ExportFormat, out: string): Promise<{ rows: number }> {
  const n = await countResults(conn, f);
  const where = whereSql(f);
  const from = `FROM ${await labelledResults(conn, where)}${where ? ` WHERE ${where}` : ''} ${ORDER}`;
  switch (format) {
    case 'csv':
      await exec(conn, `COPY (SELECT ${selectColumns(true)} ${from}) TO ${str(out)} (FORMAT csv, HEADER true)`);
      break;
    case 'json':
      await exec(conn, `COPY (SELECT ${selectColumns(false)} ${from}) TO ${str(out)} (FORMAT json, ARRAY true)`);
      break;
    case 'parquet':
      await exec(conn, `COPY (SELECT ${selectColumns(false)} ${from}) TO ${str(out)} (FORMAT parquet)`);
      break;
    case 'arrow':
      await writeFile(out, tableToIPC(arrowTable(await rows(conn, `SELECT ${selectColumns(false)} ${from}`)), 'file'));
      break;
    case 'xlsx':
      if (n + 1 > XLSX_MAX_ROWS) {
        throw new ExportRefused(`${n.toLocaleString('en-US')} rows do not fit in one Excel sheet (at most ${(XLSX_MAX_ROWS - 1).toLocaleString('en-US')}): narrow it with --metric, --dimension or --grain, or export CSV or Parquet`);
      }
      await writeXlsx(await rows(conn, `SELECT ${selectColumns(false)} ${from}`), out);
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
  await exec(conn, `COPY (SELECT ${selectColumns(format === 'csv')} FROM ${await labelledResults(conn, where)} WHERE ${where} ${ORDER}) TO ${str(out)} ${options}`);
  return { rows: n };
}

const ARROW_TYPES: Record<string, () => DataType> = { VARCHAR: () => new Utf8(), DOUBLE: () => new Float64(), BOOLEAN: () => new Bool(), DATE: () => new DateDay() };

function arrowTable(data: Row[]): Table {
  const fields = EXPORT_COLUMNS.map((c) => new Field(c.name, ARROW_TYPES[c.type]!(), true));
  const vectors = Object.fromEntries(EXPORT_COLUMNS.map((c, i) => {
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
  return EXPORT_COLUMNS.map((c) => ({
    header: c.name, key: c.name,
    width: c.name.endsWith('_label') || c.name === 'metric_title' ? 36 : c.type === 'VARCHAR' ? Math.min(40, Math.max(12, c.name.length + 2)) : c.type === 'DATE' ? 12 : 14,
    style: c.type === 'DATE' ? { numFmt: 'yyyy-mm-dd' } : COLUMN_FORMATS[c.name] ? { numFmt: COLUMN_FORMATS[c.name] } : {},
  }));
}

/** The header row of a results sheet with an autofilter over its `rows` data rows. */
export function resultSheetFilter(rows: number): string {
  return `A1:${columnLetter(EXPORT_COLUMNS.length)}${rows + 1}`;
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
  return Object.fromEntries(EXPORT_COLUMNS.map((c) => {
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
