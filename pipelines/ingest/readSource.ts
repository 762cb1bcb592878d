// Reads one inbox file into a temporary table of raw text (`raw_file`) and exposes it
// as `src_file`: the contract's columns (after the mapping) as text, the physical
// line of each record, and the mapping's unmapped-value errors.
import type { DuckDBConnection } from '@duckdb/node-api';
import { exec, rows, sqlIdent as id, sqlString as str } from '../../models/duckdb.ts';
import type { ColumnPlan, TargetSource } from './mapping.ts';
import { lineOfRecord, recordAtDuckDbLine, type ScanResult } from './scanFile.ts';

export interface RawRead {
  /** Physical header names, in file order. */
  header: string[];
  /** Records DuckDB could not split into the header's number of fields. */
  malformed: Array<{ line: number; text: string; message: string }>;
  /** Records read, malformed ones included. */
  rowsRead: number;
}

const rawName = (i: number) => `c${i}`;

export async function readCsv(conn: DuckDBConnection, path: string, header: string[], scan: ScanResult): Promise<RawRead> {
  const columns = `{${header.map((_, i) => `${str(rawName(i))}: 'VARCHAR'`).join(', ')}}`;
  await exec(conn, `DROP TABLE IF EXISTS raw_file`);
  await exec(conn, `CREATE TEMP TABLE raw_file AS
    SELECT * FROM read_csv(${str(path)}, header = true, auto_detect = false, columns = ${columns},
      delim = ',', quote = '"', escape = '"', strict_mode = true, compression = 'auto',
      store_rejects = true, rejects_table = 'csv_reject_errors', rejects_scan = 'csv_reject_scans', max_line_size = 10000000)`);
  const rejects = await rows<{ line: number; csv_line: string; error_message: string; error_type: string }>(conn,
    `SELECT DISTINCT ON (line) line, csv_line, error_message, error_type FROM csv_reject_errors ORDER BY line`);
  await exec(conn, `DROP TABLE IF EXISTS csv_reject_errors; DROP TABLE IF EXISTS csv_reject_scans`);
  const rejectedOrdinals = rejects.map((r) => recordAtDuckDbLine(scan, r.line));
  const malformed = rejects.map((r, i) => ({
    line: lineOfRecord(scan.breakpoints, rejectedOrdinals[i] as number),
    text: r.csv_line.replace(/^[\r\n]+/, ''),
    message: `record has the wrong number of fields (${r.error_message.replace(/\.$/, '')})`,
  }));
  await createLineMap(conn, scan, rejectedOrdinals);
  const good = (await rows<{ n: number }>(conn, 'SELECT count(*) AS n FROM raw_file'))[0]?.n ?? 0;
  return { header, malformed, rowsRead: good + malformed.length };
}

/**
 * Good rows are numbered 0.. by DuckDB's rowid, skipping rejected records. The map
 * from rowid to physical line is piecewise `line_at + (rowid - from_rowid)`; it
 * changes where a rejected record was skipped or a record spans several lines.
 */
async function createLineMap(conn: DuckDBConnection, scan: ScanResult, rejectedOrdinals: number[]) {
  const rejected = new Set(rejectedOrdinals);
  const sortedRejects = [...rejected].sort((a, b) => a - b);
  const changes = new Set<number>([0, ...scan.breakpoints.map((b) => b.ordinal), ...sortedRejects.map((o) => o + 1)]);
  const points: Array<[number, number]> = [];
  let rejectsBefore = 0;
  for (const start of [...changes].sort((a, b) => a - b)) {
    let o = start;
    while (rejected.has(o)) o++;
    if (o >= scan.records) continue;
    while (rejectsBefore < sortedRejects.length && (sortedRejects[rejectsBefore] as number) < o) rejectsBefore++;
    points.push([o - rejectsBefore, lineOfRecord(scan.breakpoints, o)]);
  }
  await exec(conn, `DROP TABLE IF EXISTS line_map`);
  await exec(conn, `CREATE TEMP TABLE line_map (from_rowid BIGINT, line_at BIGINT)`);
  if (points.length) {
    await exec(conn, `INSERT INTO line_map SELECT * FROM (VALUES ${points.map(([r, l]) => `(${r}, ${l})`).join(', ')})`);
  }
}

export async function readParquet(conn: DuckDBConnection, path: string): Promise<RawRead> {
  const described = await rows<{ column_name: string }>(conn, `DESCRIBE SELECT * FROM read_parquet(${str(path)})`);
  const header = described.map((d) => d.column_name);
  const casts = header.map((h, i) => `CAST(${id(h)} AS VARCHAR) AS ${rawName(i)}`).join(', ');
  await exec(conn, `DROP TABLE IF EXISTS raw_file`);
  // Parquet has no lines: row n (1-based) is reported as line n + 1, as if a header preceded it.
  await exec(conn, `CREATE TEMP TABLE raw_file AS SELECT ${casts} FROM read_parquet(${str(path)}) ORDER BY file_row_number`);
  await exec(conn, `DROP TABLE IF EXISTS line_map; CREATE TEMP TABLE line_map AS SELECT 0::BIGINT AS from_rowid, 2::BIGINT AS line_at`);
  const n = (await rows<{ n: number }>(conn, 'SELECT count(*) AS n FROM raw_file'))[0]?.n ?? 0;
  return { header, malformed: [], rowsRead: n };
}

function targetExpr(t: TargetSource, col: (source: string) => string): string {
  switch (t.kind) {
    case 'column':
      return col(t.source);
    case 'const':
      return str(t.value);
    case 'valueMap': {
      const cases = t.cases
        .map((c) => `WHEN ${str(c.when.trim().toLowerCase())} THEN ${'const' in c.value ? str(c.value.const) : col(c.value.from)}`)
        .join(' ');
      return `CASE lower(trim(${col(t.source)})) ${cases} ELSE ${t.fallback ? targetExpr(t.fallback, col) : 'NULL'} END`;
    }
  }
}

/** Creates view src_file over raw_file + line_map with the contract's columns as text. */
export async function createSourceView(conn: DuckDBConnection, header: string[], contractColumns: string[], plan: ColumnPlan) {
  const index = new Map(header.map((h, i) => [h, i]));
  const col = (source: string) => `r.${rawName(index.get(source) as number)}`;
  const targets = contractColumns.map((c) => {
    const t = plan.targets.get(c);
    return `${t ? targetExpr(t, col) : 'NULL'}::VARCHAR AS ${id(c)}`;
  });
  const mapErrors = plan.valueMaps.map((m) => {
    const v = col(m.source);
    const known = m.values.map((x) => str(x.trim().toLowerCase())).join(', ');
    return `CASE WHEN NULLIF(trim(${v}), '') IS NOT NULL AND lower(trim(${v})) NOT IN (${known}) THEN
      {'rule': 'unmapped_value', 'column': ${str(m.source)}, 'message': ${str(`${m.source} `)} || '''' || left(trim(${v}), 60) || ''' is not covered by the mapping'} END`;
  });
  const errorList = mapErrors.length
    ? `list_filter([${mapErrors.join(', ')}], x -> x IS NOT NULL)`
    : `[]::STRUCT(rule VARCHAR, "column" VARCHAR, message VARCHAR)[]`;
  // One segment (no record spans lines, none was rejected: the usual file) needs no
  // join: line = rowid + offset. The ASOF join costs about a second per 5M rows.
  const [map] = await rows<{ n: number; first: number; offset: number }>(conn, 'SELECT count(*) AS n, min(from_rowid) AS first, min(line_at) AS "offset" FROM line_map');
  const single = map?.n === 1 && map.first === 0;
  await exec(conn, `CREATE OR REPLACE TEMP VIEW src_file AS
    SELECT r._rowid, ${single ? `r._rowid + ${Number(map.offset)}` : 'm.line_at + (r._rowid - m.from_rowid)'} AS _line,
      ${targets.join(',\n      ')},
      ${errorList} AS _map_errors
    FROM (SELECT rowid AS _rowid, * FROM raw_file) r
    ${single ? '' : 'ASOF LEFT JOIN line_map m ON r._rowid >= m.from_rowid'}`);
}

/** JSON object of a raw record as it came: original header names -> text. */
export function rawRecordJson(header: string[], alias: string): string {
  return `json_object(${header.map((h, i) => `${str(h)}, ${alias}.${rawName(i)}`).join(', ')})`;
}
