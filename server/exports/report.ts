// The metric report for ACO/Medicaid staff (one workbook they can send as it is): a cover
// sheet (program, as-of date, run, periods, suppression note, contents), one sheet per
// metric group with the results table, and the definitions from the catalog. Written with
// exceljs's streaming writer, results read in chunks, so a large report never sits in
// memory whole; a group larger than one sheet is split over several ("Access (2)"), never
// past Excel's 1,048,576 rows.
import ExcelJS from 'exceljs';
import type { Row } from '../../models/duckdb.ts';
import { XLSX_MAX_ROWS, type PeriodGrain } from '../../models/results.ts';
import { GROUP_TITLES, METRICS, METRIC_GROUPS } from '../data/catalog.ts';
import type { Generation } from '../generation.ts';
import { EXPORT_COLUMNS, formatResultRow, labelledResults, resultCells, resultSheetColumns, resultSheetFilter } from './exportResults.ts';
import { parseTimestamp } from '../routes/ops.ts';
import { neutraliseText } from './neutralise.ts';

export interface ReportOptions {
  /** The period grain besides the whole span ('all' rows are always included). */
  grain: PeriodGrain;
  from?: string;
  to?: string;
  /** An attributed program: its rows beside everyone's. */
  program?: string;
  /** One dimension beside `all` (default: every dimension). */
  dimension?: string;
  /** Rows per sheet, header included (tests lower it). */
  maxSheetRows?: number;
}

export const SUPPRESSION_NOTE =
  'Figures for fewer than 11 people or events are withheld: the row says suppressed = TRUE and its numerator, denominator, value, interval and statistics are empty, ' +
  'as are figures from which such a count could be worked out. An empty cell is never zero. Suppression was applied once, when the run was published, to the whole results table. ' +
  'Withheld is not the same as unreliable: unreliable = TRUE marks a figure whose relative standard error is above 30% or that rests on fewer than 20 events (NCHS). ' +
  'period_status says whether a period is final (every outcome window has passed), provisional (it can still change) or partial (it began before the data did); compare final periods only.';

function where(o: ReportOptions, metrics: string[]): { sql: string; params: unknown[] } {
  const conds = [`metric_id IN (${metrics.map(() => '?').join(', ')})`];
  const params: unknown[] = [...metrics];
  if (o.grain === 'all') conds.push(`period_grain = 'all'`);
  else {
    const range: string[] = ['period_grain = ?'];
    params.push(o.grain);
    if (o.from) {
      range.push('period_start >= CAST(? AS DATE)');
      params.push(o.from);
    }
    if (o.to) {
      range.push('period_start <= CAST(? AS DATE)');
      params.push(o.to);
    }
    conds.push(`(period_grain = 'all' OR (${range.join(' AND ')}))`);
  }
  if (o.program) {
    conds.push(`(dimension = 'all' OR (dimension = 'program_id' AND group_value = ?))`);
    params.push(o.program);
  } else if (o.dimension) {
    conds.push(`dimension IN ('all', ?)`);
    params.push(o.dimension);
  }
  return { sql: conds.join(' AND '), params };
}

/** Every text cell of a workbook goes through the formula-injection rule (even text of our own making). */
const textSafe = (v: ExcelJS.CellValue): ExcelJS.CellValue => (typeof v === 'string' ? neutraliseText(v) : v);

const ORDER = `metric_id, CASE period_grain WHEN 'all' THEN 0 WHEN 'year' THEN 1 WHEN 'quarter' THEN 2 ELSE 3 END, period_start, dimension, group_value`;
const CHUNK = 10_000;

export async function writeReport(gen: Generation, path: string, o: ReportOptions): Promise<{ rows: number; sheets: Array<{ name: string; rows: number }> }> {
  const maxData = (o.maxSheetRows ?? XLSX_MAX_ROWS) - 1;
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: path, useStyles: true, useSharedStrings: true });
  wb.creator = 'closeloop';
  wb.created = new Date();
  const groups = METRIC_GROUPS.map((g) => ({ group: g, title: GROUP_TITLES[g], metrics: METRICS.filter((m) => m.group === g).map((m) => m.id) }));
  const counts = new Map<string, number>();
  if (gen.hasTable('metric_results')) {
    for (const g of groups) {
      const w = where(o, g.metrics);
      counts.set(g.group, (await gen.query<{ n: number }>(`SELECT count(*) AS n FROM metric_results WHERE ${w.sql}`, w.params))[0]?.n ?? 0);
    }
  }
  // The cover lists the contents, so sheet names are worked out before any is written.
  const plan = groups.flatMap((g) => {
    const n = counts.get(g.group) ?? 0;
    const parts = Math.max(1, Math.ceil(n / maxData));
    return Array.from({ length: parts }, (_, i) => ({ ...g, name: parts > 1 ? `${g.title} (${i + 1})` : g.title, offset: i * maxData, rows: Math.min(maxData, n - i * maxData) }));
  });
  writeCover(wb, gen, o, plan);
  for (const sheet of plan) {
    const ws = wb.addWorksheet(sheet.name, { views: [{ state: 'frozen', ySplit: 1 }] });
    ws.columns = resultSheetColumns();
    ws.autoFilter = resultSheetFilter(Math.max(0, sheet.rows));
    ws.getRow(1).font = { bold: true };
    ws.getRow(1).commit();
    const w = where(o, sheet.metrics);
    // the labels of the sheet's codes, worked out once per sheet
    const source = sheet.rows > 0 ? await gen.withConnection((conn) => labelledResults(conn, w.sql, w.params)) : '';
    for (let done = 0; done < sheet.rows; done += CHUNK) {
      const take = Math.min(CHUNK, sheet.rows - done);
      const chunk: Row[] = sheet.rows > 0
        ? await gen.query(`SELECT ${EXPORT_COLUMNS.map((c) => `"${c.name}"`).join(', ')} FROM ${source} WHERE ${w.sql} ORDER BY ${ORDER} LIMIT ${take} OFFSET ${sheet.offset + done}`, w.params)
        : [];
      for (let i = 0; i < chunk.length; i++) {
        const row = ws.addRow(resultCells(chunk[i]!));
        formatResultRow(row, chunk[i]!);
        row.commit();
        // Writing a row is synchronous work: let other requests in now and then.
        if (i % 500 === 499) await new Promise((resolve) => setImmediate(resolve));
      }
    }
    ws.commit();
  }
  writeDefinitions(wb);
  await wb.commit();
  return { rows: plan.reduce((t, p) => t + Math.max(0, p.rows), 0), sheets: plan.map((p) => ({ name: p.name, rows: Math.max(0, p.rows) })) };
}

function writeCover(wb: ExcelJS.stream.xlsx.WorkbookWriter, gen: Generation, o: ReportOptions, plan: Array<{ name: string; rows: number }>) {
  const ws = wb.addWorksheet('Cover');
  ws.columns = [{ key: 'a', width: 26 }, { key: 'b', width: 100 }];
  const add = (a: ExcelJS.CellValue, b: ExcelJS.CellValue, style?: (r: ExcelJS.Row) => void) => {
    const r = ws.addRow([a, b].map(textSafe));
    r.getCell(2).alignment = { wrapText: true, vertical: 'top' };
    r.getCell(1).alignment = { vertical: 'top' };
    style?.(r);
    r.commit();
  };
  add('closeloop metric report', null, (r) => (r.getCell(1).font = { bold: true, size: 16 }));
  add('Outcomes of coordinated health and social care: screening, closed-loop referrals, PHQ-9 and utilization.', null, (r) => (r.getCell(1).font = { italic: true, color: { argb: 'FF555555' } }));
  add(null, null);
  const bold = (r: ExcelJS.Row) => (r.getCell(1).font = { bold: true });
  add('Program', o.program ? neutraliseText(o.program) : 'All attributed programs', bold);
  add('As-of date', new Date(`${gen.asOf}T00:00:00Z`), (r) => {
    bold(r);
    r.getCell(2).numFmt = 'yyyy-mm-dd';
    r.getCell(2).alignment = { horizontal: 'left' };
  });
  add('Run id', gen.runId, bold);
  const published = gen.runInfo.published_at ? parseTimestamp(gen.runInfo.published_at) : NaN;
  if (!Number.isNaN(published)) {
    add('Published (UTC)', new Date(published), (r) => {
      bold(r);
      r.getCell(2).numFmt = 'yyyy-mm-dd hh:mm:ss';
      r.getCell(2).alignment = { horizontal: 'left' };
    });
  } else if (gen.runInfo.published_at) add('Published', gen.runInfo.published_at, bold);
  const range = o.grain === 'all' ? 'whole span only' : `whole span and by ${o.grain}${o.from || o.to ? `, periods starting ${o.from ?? 'from the first'} to ${o.to ?? 'the last'}` : ''}`;
  add('Periods', range, bold);
  add('Population cuts', o.program ? `everyone and program ${o.program}` : o.dimension ? `everyone and ${o.dimension}` : 'every published cut', bold);
  add('Suppression', SUPPRESSION_NOTE, (r) => {
    bold(r);
    r.height = 60;
  });
  add('Definitions', 'See the Definitions sheet. Measures that mirror HEDIS or CMS measures are closeloop\'s own implementation, not certified by NCQA or CMS.', bold);
  add('Values', 'Proportions are shown as percentages (the cell holds the fraction: 25% is 0.25); rates are per 1,000 member-months (paid_pmpm: US dollars per member-month); durations are median days.', bold);
  add(null, null);
  add('Contents', 'Rows', (r) => (r.font = { bold: true }));
  for (const p of plan) add(p.name, Math.max(0, p.rows));
  add('Definitions', METRICS.length);
  ws.commit();
}

function writeDefinitions(wb: ExcelJS.stream.xlsx.WorkbookWriter) {
  const ws = wb.addWorksheet('Definitions', { views: [{ state: 'frozen', ySplit: 1 }] });
  ws.columns = [
    { header: 'metric_id', key: 'id', width: 34 },
    { header: 'group', key: 'group', width: 14 },
    { header: 'title', key: 'title', width: 40 },
    { header: 'definition', key: 'definition', width: 90, style: { alignment: { wrapText: true, vertical: 'top' } } },
    { header: 'numerator', key: 'numerator', width: 50, style: { alignment: { wrapText: true, vertical: 'top' } } },
    { header: 'denominator', key: 'denominator', width: 50, style: { alignment: { wrapText: true, vertical: 'top' } } },
    { header: 'kind', key: 'kind', width: 12 },
    { header: 'unit', key: 'unit', width: 28 },
    { header: 'direction', key: 'direction', width: 16 },
    { header: 'anchor', key: 'anchor', width: 28 },
    { header: 'windows_days', key: 'windows', width: 14 },
    { header: 'final_after_days', key: 'final_after', width: 14 },
    { header: 'dimensions', key: 'dimensions', width: 60 },
    { header: 'mirrors', key: 'mirrors', width: 22 },
  ];
  ws.getRow(1).font = { bold: true };
  ws.getRow(1).commit();
  ws.autoFilter = `A1:N${METRICS.length + 1}`;
  for (const m of METRICS) {
    const row: Record<string, ExcelJS.CellValue> = {
      id: m.id, group: GROUP_TITLES[m.group], title: m.title, definition: m.definition, numerator: m.numerator, denominator: m.denominator, kind: m.kind, unit: m.unit,
      direction: m.direction === 'higher_better' ? 'higher is better' : 'lower is better', anchor: m.anchor, windows: m.windows.join(', '), final_after: m.maturityDays, dimensions: m.dimensions.join(', '), mirrors: m.mirrors ?? '',
    };
    ws.addRow(Object.fromEntries(Object.entries(row).map(([k, v]) => [k, textSafe(v)]))).commit();
  }
  ws.commit();
}
