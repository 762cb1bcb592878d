// The engine equivalence harness: a demo drop loaded through the real ingestion steps into a
// DuckDB warehouse, the metric engine run on DuckDB and on PostgreSQL over the same staging
// tables, and every table the engine writes compared row for row (counts exact, other
// numbers to a relative 1e-9).
import { join } from 'node:path';
import { ENTITIES } from '../../models/contracts/index.ts';
import { openDatabase, rows, type Database, type Row } from '../../models/duckdb.ts';
import { discoverInbox } from '../../pipelines/ingest/discover.ts';
import { loadFile } from '../../pipelines/ingest/loadFile.ts';
import { scanFile } from '../../pipelines/ingest/scanFile.ts';
import { WAREHOUSE_DDL } from '../../pipelines/ingest/warehouseSchema.ts';

/** A warehouse file holding the inbox's rows, loaded as a run loads them (no metrics). */
export async function loadWarehouse(inbox: string, dir: string): Promise<Database> {
  const db = await openDatabase(join(dir, 'warehouse.duckdb'), { memoryLimit: '2GB' });
  for (const ddl of WAREHOUSE_DDL) await db.conn.run(ddl);
  const files = await discoverInbox(inbox, []);
  for (const entity of ENTITIES) {
    for (const f of files.filter((x) => x.entity?.name === entity.name)) {
      const scan = await scanFile(f.path, { text: f.format === 'csv', gzip: f.gzip });
      const r = await loadFile(db.conn, { path: f.path, entity, scan, format: f.format, runId: 'equivalence', runDate: '2026-11-01' });
      if (r.rejected) throw new Error(r.message ?? `${f.name} rejected`);
    }
  }
  return db;
}

/** What the engine writes to the warehouse: the results and the tables beside them. */
export const ENGINE_TABLES = {
  metric_results: 'metric_id, period_grain, period_start, dimension, group_value',
  km_curves: 'metric_id, period_grain, period_start, dimension, group_value, time',
  gap_table: 'domain, county_fips',
  prepost_summary: 'measure, dimension, group_value',
} as const;

/** The tables' rows in a fixed order, without run_id (each run has its own). */
export async function snapshot(db: Database, tables: Record<string, string> = ENGINE_TABLES): Promise<Record<string, Row[]>> {
  const out: Record<string, Row[]> = {};
  for (const [t, order] of Object.entries(tables)) {
    out[t] = (await rows(db.conn, `SELECT * FROM ${t} ORDER BY ${order}`)).map(({ run_id: _, ...r }) => r);
  }
  return out;
}

export interface Difference {
  table: string;
  row: number;
  column: string;
  a: unknown;
  b: unknown;
}

/**
 * Counts exactly (a number that is a whole number on either side must be the same whole
 * number on the other), other numbers to a relative 1e-9, everything else exactly.
 */
export function sameValue(a: unknown, b: unknown, tolerance = 1e-9): boolean {
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isInteger(a) || Number.isInteger(b)) return a === b;
    if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
    return Math.abs(a - b) <= tolerance * Math.max(1, Math.abs(a), Math.abs(b));
  }
  return a === b;
}

/** Every differing cell (row counts first), up to `limit`. */
export function compareSnapshots(a: Record<string, Row[]>, b: Record<string, Row[]>, limit = 20): { differences: Difference[]; rows: Record<string, number> } {
  const differences: Difference[] = [];
  const counts: Record<string, number> = {};
  for (const table of Object.keys(a)) {
    const x = a[table] ?? [];
    const y = b[table] ?? [];
    counts[table] = x.length;
    if (x.length !== y.length) differences.push({ table, row: -1, column: '(rows)', a: x.length, b: y.length });
    for (let i = 0; i < Math.min(x.length, y.length) && differences.length < limit; i++) {
      for (const column of Object.keys(x[i] ?? {})) {
        const va = x[i]?.[column];
        const vb = y[i]?.[column];
        if (!sameValue(va, vb)) differences.push({ table, row: i, column, a: va, b: vb });
      }
    }
  }
  return { differences, rows: counts };
}

/** Columns that differ between two runs of the same drop by nature: ids and times of the run. */
const RUN_COLUMNS = new Set(['run_id', 'last_loaded_run_id', 'last_loaded_at', 'started_at', 'published_at']);

/** Every table of a published file, each in a fixed order, without the run's ids and times. */
export async function publishedSnapshot(file: string): Promise<Record<string, Row[]>> {
  const db = await openDatabase(file, { readOnly: true, memoryLimit: '1GB' });
  try {
    const out: Record<string, Row[]> = {};
    for (const { t } of await rows<{ t: string }>(db.conn, 'SELECT table_name AS t FROM duckdb_tables() ORDER BY 1')) {
      const cols = (await rows<{ c: string }>(db.conn, `SELECT column_name AS c FROM duckdb_columns() WHERE table_name = '${t}' ORDER BY column_index`))
        .map((r) => r.c).filter((c) => !RUN_COLUMNS.has(c));
      out[t] = await rows(db.conn, `SELECT ${cols.map((c) => `"${c}"`).join(', ')} FROM ${t} ORDER BY ALL`);
    }
    return out;
  } finally {
    db.close();
  }
}
