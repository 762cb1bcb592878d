// Reads one inbox file into a temporary table of raw text (`raw_file`) and exposes it
// as `src_file`: the contract's columns (after the mapping) as text, the physical
// line of each record, and the mapping's unmapped-value errors.
import type { DuckDBConnection } from '@duckdb/node-api';
import { exec, rows, sqlIdent as id, sqlString as str } from '../../models/duckdb.ts';
import { parseCsvRecord } from './csvHeader.ts';
import type { ColumnPlan, TargetSource } from './mapping.ts';
import { placeholderList, trimWs } from './validateSql.ts';
import { lineOfRecord, ReadFailed, readRecords, recordAtDuckDbLine, type RawRecord, type ScanResult } from './scanFile.ts';

export interface RawRead {
  /** Physical header names, in file order. */
  header: string[];
  /** Malformed records (wrong number of fields, broken quoting), in temp table `malformed_rows`. */
  malformed: number;
  /** Records read, malformed ones included. */
  rowsRead: number;
  /** CSV has no nulls: an empty field is "" in the raw record (DuckDB reads it as NULL). */
  emptyIsText: boolean;
}

/** A file the loader refuses as a whole, with the reason (the rest of the drop still loads). */
export class FileRejected extends Error {}

const rawName = (i: number) => `c${i}`;

/** The read_csv call the loader makes (also run by the scanner's agreement test). */
export function readCsvSql(path: string, columnCount: number, skipLines: number): string {
  const columns = `{${Array.from({ length: columnCount }, (_, i) => `${str(rawName(i))}: 'VARCHAR'`).join(', ')}}`;
  return `read_csv(${str(path)}, header = true, auto_detect = false, columns = ${columns},
      delim = ',', quote = '"', escape = '"', strict_mode = true, compression = 'auto', skip = ${skipLines},
      store_rejects = true, rejects_table = 'csv_reject_errors', rejects_scan = 'csv_reject_scans', max_line_size = 10000000)`;
}

export async function readCsv(conn: DuckDBConnection, path: string, header: string[], scan: ScanResult, gzip: boolean): Promise<RawRead> {
  await exec(conn, `DROP TABLE IF EXISTS raw_file`);
  await exec(conn, `CREATE TEMP TABLE raw_file AS SELECT * FROM ${readCsvSql(path, header.length, scan.leadingBlankLines)}`);
  // DuckDB may list one record more than once (one row per problem).
  const rejects = await rows<{ line: number; error_message: string }>(conn,
    `SELECT line, min(error_message) AS error_message FROM csv_reject_errors GROUP BY line ORDER BY line`);
  await exec(conn, `DROP TABLE IF EXISTS csv_reject_errors; DROP TABLE IF EXISTS csv_reject_scans`);
  const good = (await rows<{ n: number }>(conn, 'SELECT count(*) AS n FROM raw_file'))[0]?.n ?? 0;
  const duckMessage = new Map(rejects.map((r) => [recordAtDuckDbLine(scan, r.line), r.error_message]));
  const rejected = [...duckMessage.keys()].sort((a, b) => a - b);
  // Line numbers are only right if both readers see the same records; never load a file they disagree on.
  if (good + rejected.length !== scan.records || rejected.some((o) => o < 0 || o >= scan.records)) {
    throw new FileRejected(`rejected whole: the line scanner found ${fmt(scan.records)} records but DuckDB's CSV reader ${fmt(good + rejected.length)}, ` +
      'so line numbers could not be trusted; nothing from the file was loaded (please report the file\'s layout)');
  }
  // Records the scanner counted wrong but DuckDB accepted (extra empty fields at the end)
  // are malformed too: they are taken out of raw_file by rowid (rowid = ordinal minus the
  // records DuckDB skipped before it).
  const accepted = scan.flagged.filter((o) => !duckMessage.has(o));
  const skipRowids: number[] = [];
  let before = 0;
  for (const o of accepted) {
    while (before < rejected.length && (rejected[before] as number) < o) before++;
    skipRowids.push(o - before);
  }
  await exec(conn, `DROP TABLE IF EXISTS skip_rowids; CREATE TEMP TABLE skip_rowids (_rowid BIGINT)`);
  await insertBatches(conn, 'skip_rowids', skipRowids.map((r) => [r]));
  const malformed = await takeMalformed(conn, path, gzip, header.length, new Set([...rejected, ...accepted]), duckMessage);
  await createLineMap(conn, scan, rejected);
  return { header, malformed, rowsRead: scan.records, emptyIsText: true };
}

/** Malformed records, whole, from the file itself into temp table malformed_rows. */
async function takeMalformed(conn: DuckDBConnection, path: string, gzip: boolean, headerFields: number, ordinals: Set<number>, duckMessage: Map<number, string>): Promise<number> {
  await exec(conn, `DROP TABLE IF EXISTS malformed_rows; CREATE TEMP TABLE malformed_rows (line BIGINT, record VARCHAR, message VARCHAR)`);
  let taken = 0;
  try {
    await readRecords(path, { gzip }, ordinals, async (batch) => {
      taken += batch.length;
      await insertBatches(conn, 'malformed_rows', batch.map((r) => [r.line, r.text, malformedMessage(r, headerFields, duckMessage.get(r.ordinal))]));
    });
  } catch (err) {
    if (err instanceof ReadFailed) throw err; // not the file's fault: tried again on the next run
    throw new FileRejected(`rejected whole: reading its malformed records again failed: ${(err as Error).message}`);
  }
  // A file that changed meanwhile is caught by the caller (its stamp); this is the last guard.
  if (taken !== ordinals.size) throw new FileRejected(`rejected whole: ${taken} of its ${ordinals.size} malformed records were found on reading them again`);
  return taken;
}

function malformedMessage(r: RawRecord, headerFields: number, duck: string | undefined): string {
  if (r.quoting === 'unterminated') return `a quote opens a field on line ${r.line} that is never closed: the record runs to the end of the file`;
  if (r.quoting === 'text_after_quote') return 'a quoted field has text after its closing quote (inside a quoted field, write a quote as "")';
  if (r.fields !== headerFields) {
    const extraEmpty = r.fields > headerFields && parseCsvRecord(r.text).slice(headerFields).every((v) => v === '');
    return `record has ${r.fields} fields, the header ${headerFields}${extraEmpty ? ` (the extra field${r.fields - headerFields > 1 ? 's are' : ' is'} empty)` : ''}`;
  }
  return `DuckDB could not read the record (${(duck ?? 'unknown reason').replace(/\.$/, '')})`;
}

/** INSERT rows of parameters in batches (no giant SQL text, however many rows). */
async function insertBatches(conn: DuckDBConnection, table: string, values: Array<Array<string | number>>) {
  for (let i = 0; i < values.length; i += 500) {
    const batch = values.slice(i, i + 500);
    const width = batch[0]?.length ?? 0;
    const placeholders = batch.map(() => `(${Array.from({ length: width }, () => '?').join(', ')})`).join(', ');
    await exec(conn, `INSERT INTO ${table} VALUES ${placeholders}`, batch.flat());
  }
}

/**
 * Good rows are numbered 0.. by DuckDB's rowid, skipping rejected records. The map
 * from rowid to physical line is piecewise `line_at + (rowid - from_rowid)`; it
 * changes where a rejected record was skipped or a record spans several lines.
 */
async function createLineMap(conn: DuckDBConnection, scan: ScanResult, rejectedOrdinals: number[]) {
  const rejected = new Set(rejectedOrdinals);
  const changes = new Set<number>([0, ...scan.breakpoints.map((b) => b.ordinal), ...rejectedOrdinals.map((o) => o + 1)]);
  const points: Array<[number, number]> = [];
  let rejectsBefore = 0;
  for (const start of [...changes].sort((a, b) => a - b)) {
    let o = start;
    while (rejected.has(o)) o++;
    if (o >= scan.records) continue;
    while (rejectsBefore < rejectedOrdinals.length && (rejectedOrdinals[rejectsBefore] as number) < o) rejectsBefore++;
    points.push([o - rejectsBefore, lineOfRecord(scan.breakpoints, o)]);
  }
  await exec(conn, `DROP TABLE IF EXISTS line_map`);
  await exec(conn, `CREATE TEMP TABLE line_map (from_rowid BIGINT, line_at BIGINT)`);
  await insertBatches(conn, 'line_map', points);
}

/**
 * Parquet columns as text. pandas writes dates as timestamps and integer columns with
 * gaps as doubles: a timestamp at midnight becomes its date, a whole double its integer,
 * NaN (pandas' missing value) NULL. Anything else keeps its full text, so a time of
 * day or a fraction fails the column's rule and the row is quarantined, as for CSV.
 */
function parquetText(column: string, type: string): string {
  const c = id(column);
  if (/^TIMESTAMP(_NS|_MS|_S)?$/.test(type) || type === 'TIMESTAMP WITH TIME ZONE') {
    const ts = type === 'TIMESTAMP WITH TIME ZONE' ? `timezone('UTC', ${c})` : c;
    return `CASE WHEN ${ts} = date_trunc('day', ${ts}) THEN strftime(${ts}, '%Y-%m-%d') ELSE CAST(${c} AS VARCHAR) END`;
  }
  if (type === 'DOUBLE' || type === 'FLOAT') {
    return `CASE WHEN isnan(${c}) THEN NULL WHEN ${c} = trunc(${c}) AND abs(${c}) < 1e15 THEN CAST(CAST(${c} AS BIGINT) AS VARCHAR) ELSE CAST(${c} AS VARCHAR) END`;
  }
  if (type.startsWith('DECIMAL')) {
    return `CASE WHEN ${c} = trunc(${c}) THEN CAST(CAST(${c} AS HUGEINT) AS VARCHAR) ELSE rtrim(CAST(${c} AS VARCHAR), '0') END`;
  }
  return `CAST(${c} AS VARCHAR)`;
}

export async function readParquet(conn: DuckDBConnection, path: string): Promise<RawRead> {
  const described = await rows<{ column_name: string; column_type: string }>(conn, `DESCRIBE SELECT * FROM read_parquet(${str(path)})`);
  const header = described.map((d) => d.column_name);
  const casts = described.map((d, i) => `${parquetText(d.column_name, d.column_type)} AS ${rawName(i)}`).join(', ');
  await exec(conn, `DROP TABLE IF EXISTS raw_file`);
  // Parquet has no lines: row n (1-based) is reported as line n + 1, as if a header preceded it.
  await exec(conn, `CREATE TEMP TABLE raw_file AS SELECT ${casts} FROM read_parquet(${str(path)}) ORDER BY file_row_number`);
  await exec(conn, `DROP TABLE IF EXISTS line_map; CREATE TEMP TABLE line_map AS SELECT 0::BIGINT AS from_rowid, 2::BIGINT AS line_at`);
  await exec(conn, `DROP TABLE IF EXISTS skip_rowids; CREATE TEMP TABLE skip_rowids (_rowid BIGINT)`);
  await exec(conn, `DROP TABLE IF EXISTS malformed_rows; CREATE TEMP TABLE malformed_rows (line BIGINT, record VARCHAR, message VARCHAR)`);
  const n = (await rows<{ n: number }>(conn, 'SELECT count(*) AS n FROM raw_file'))[0]?.n ?? 0;
  return { header, malformed: 0, rowsRead: n, emptyIsText: false };
}

const fmt = (n: number) => n.toLocaleString('en-US');

function targetExpr(t: TargetSource, col: (source: string) => string, missing: readonly string[]): string {
  switch (t.kind) {
    case 'column':
      return col(t.source);
    case 'const':
      return str(t.value);
    case 'valueMap': {
      const cases = t.cases
        .map((c) => `WHEN ${str(c.when.trim().toLowerCase())} THEN ${'const' in c.value ? str(c.value.const) : col(c.value.from)}`)
        .join(' ');
      const placeholders = placeholderList(unmappedPlaceholders(missing, t.cases.map((c) => c.when)));
      const value = `CASE lower(${trimWs(col(t.source))}) ${cases} ELSE ${t.fallback ? targetExpr(t.fallback, col, missing) : 'NULL'} END`;
      return placeholders ? `CASE WHEN ${trimWs(col(t.source))} IN (${placeholders}) THEN NULL ELSE ${value} END` : value;
    }
  }
}

/** Placeholder tokens a value map does not list itself (a mapping that names one means it). */
function unmappedPlaceholders(missing: readonly string[], values: string[]): string[] {
  const mapped = new Set(values.map((v) => v.trim().toLowerCase()));
  return missing.filter((m) => !mapped.has(m.toLowerCase()));
}

/** Creates view src_file over raw_file + line_map with the contract's columns as text. */
export async function createSourceView(conn: DuckDBConnection, header: string[], contractColumns: string[], plan: ColumnPlan) {
  const index = new Map(header.map((h, i) => [h, i]));
  const col = (source: string) => `r.${rawName(index.get(source) as number)}`;
  const targets = contractColumns.map((c) => {
    const t = plan.targets.get(c);
    return `${t ? targetExpr(t, col, plan.missingValues) : 'NULL'}::VARCHAR AS ${id(c)}`;
  });
  const mapErrors = plan.valueMaps.map((m) => {
    const v = trimWs(col(m.source));
    const known = m.values.map((x) => str(x.trim().toLowerCase())).join(', ');
    const placeholders = placeholderList(unmappedPlaceholders(plan.missingValues, m.values));
    return `CASE WHEN NULLIF(${v}, '') IS NOT NULL AND lower(${v}) NOT IN (${known})${placeholders ? ` AND ${v} NOT IN (${placeholders})` : ''} THEN
      {'rule': 'unmapped_value', 'column': ${str(m.source)}, 'message': ${str(`${m.source} `)} || '''' || left(${v}, 60) || ''' is not covered by the mapping'} END`;
  });
  const errorList = mapErrors.length
    ? `list_filter([${mapErrors.join(', ')}], x -> x IS NOT NULL)`
    : `[]::STRUCT(rule VARCHAR, "column" VARCHAR, message VARCHAR)[]`;
  // One segment (no record spans lines, none was rejected: the usual file) needs no
  // join: line = rowid + offset. The ASOF join costs about a second per 5M rows.
  const [map] = await rows<{ n: number; first: number; offset: number }>(conn, 'SELECT count(*) AS n, min(from_rowid) AS first, min(line_at) AS "offset" FROM line_map');
  const single = map?.n === 1 && map.first === 0;
  // Rows the scanner found malformed although DuckDB read them (readCsv) are left out.
  const skip = ((await rows<{ n: number }>(conn, 'SELECT count(*) AS n FROM skip_rowids'))[0]?.n ?? 0) > 0;
  await exec(conn, `CREATE OR REPLACE TEMP VIEW src_file AS
    SELECT r._rowid, ${single ? `r._rowid + ${Number(map.offset)}` : 'm.line_at + (r._rowid - m.from_rowid)'} AS _line,
      ${targets.join(',\n      ')},
      ${errorList} AS _map_errors
    FROM (SELECT rowid AS _rowid, * FROM raw_file${skip ? ' WHERE rowid NOT IN (SELECT _rowid FROM skip_rowids)' : ''}) r
    ${single ? '' : 'ASOF LEFT JOIN line_map m ON r._rowid >= m.from_rowid'}`);
}

/** JSON object of a raw record as it came: original header names -> text (CSV: an empty field is ""). */
export function rawRecordJson(header: string[], alias: string, emptyIsText: boolean): string {
  return `json_object(${header.map((h, i) => `${str(h)}, ${emptyIsText ? `coalesce(${alias}.${rawName(i)}, '')` : `${alias}.${rawName(i)}`}`).join(', ')})`;
}
