// The one place DuckDB is opened and its values become JSON-safe JS values.
// getRowObjectsJson() gives BIGINT and DECIMAL as exact strings and DATE as
// YYYY-MM-DD; rows() converts the numeric strings to numbers where that is exact.
import { chmod } from 'node:fs/promises';
import os from 'node:os';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

export interface OpenOptions {
  readOnly?: boolean;
  threads?: number;
  memoryLimit?: string;
}

export interface Database {
  instance: DuckDBInstance;
  conn: DuckDBConnection;
  path: string;
  close(): void;
}

export async function openDatabase(path: string, opts: OpenOptions = {}): Promise<Database> {
  const config: Record<string, string> = {
    threads: String(opts.threads ?? (Number(process.env.CLOSELOOP_THREADS) || Math.max(1, os.availableParallelism()))),
    memory_limit: opts.memoryLimit ?? process.env.CLOSELOOP_MEMORY_LIMIT ?? '4GB',
  };
  if (opts.readOnly) config.access_mode = 'READ_ONLY';
  const instance = await DuckDBInstance.create(path, config);
  // A file opened for writing holds person-level data or aggregates of it: private to this
  // account (0600), whatever the umask DuckDB created it under or the mode it was copied with.
  if (!opts.readOnly && path !== ':memory:') await chmod(path, 0o600);
  const conn = await instance.connect();
  return {
    instance,
    conn,
    path,
    close() {
      conn.closeSync();
      instance.closeSync();
    },
  };
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };
export type Row = Record<string, JsonValue>;

/** Run a statement that returns nothing of interest. */
export async function exec(conn: DuckDBConnection, sql: string, params?: Record<string, unknown> | unknown[]): Promise<void> {
  const t = TRACE ? performance.now() : 0;
  await conn.run(sql, params as never);
  if (TRACE) trace(sql, t);
}

// CLOSELOOP_TRACE=1 prints each statement's wall time to stderr: the profiler for
// finding where a run spends its time (npm run bench says how long; this says where).
const TRACE = Boolean(process.env.CLOSELOOP_TRACE);
function trace(sql: string, startedAt: number) {
  const ms = performance.now() - startedAt;
  if (ms >= Number(process.env.CLOSELOOP_TRACE_MIN_MS ?? 50)) process.stderr.write(`[trace] ${ms.toFixed(0).padStart(7)} ms  ${sql.replace(/\s+/g, ' ').slice(0, 140)}\n`);
}

/** Run a query and return JSON-safe rows (see normaliseValue). */
export async function rows<T = Row>(conn: DuckDBConnection, sql: string, params?: Record<string, unknown> | unknown[]): Promise<T[]> {
  const t = TRACE ? performance.now() : 0;
  const reader = await conn.runAndReadAll(sql, params as never);
  if (TRACE) trace(sql, t);
  const types = reader.columnTypes().map((t) => t.typeId);
  const names = reader.columnNames();
  return reader.getRowObjectsJson().map((r) => {
    const out: Row = {};
    names.forEach((n, i) => {
      out[n] = normaliseValue(r[n] as JsonValue, types[i] as number);
    });
    return out as T;
  });
}

export async function scalar<T extends JsonValue = JsonValue>(conn: DuckDBConnection, sql: string, params?: Record<string, unknown> | unknown[]): Promise<T> {
  const r = await rows(conn, sql, params);
  const first = r[0];
  if (!first) throw new Error(`query returned no rows: ${sql.slice(0, 80)}`);
  return Object.values(first)[0] as T;
}

// DuckDBTypeId values for integer-like and decimal types (see @duckdb/node-api).
const BIG_INTEGER_TYPES = new Set([5 /* BIGINT */, 9 /* UBIGINT */, 16 /* HUGEINT */, 32 /* UHUGEINT */]);
const DECIMAL_TYPE = 19;

/**
 * BIGINT/HUGEINT become numbers when they are safe integers (counts always are), and
 * stay strings otherwise; DECIMAL becomes a number (our decimals are money and
 * ratios, well inside double precision). DATE stays a YYYY-MM-DD string.
 */
export function normaliseValue(v: JsonValue, typeId: number): JsonValue {
  if (v === null || typeof v !== 'string') return v;
  if (BIG_INTEGER_TYPES.has(typeId)) {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : v;
  }
  if (typeId === DECIMAL_TYPE) return Number(v);
  return v;
}

/** Quote a string as a SQL literal. */
export function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** Quote an identifier. */
export function sqlIdent(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}

/** Whether this connection's own database has a table of that name (main schema). */
export async function tableExists(conn: DuckDBConnection, name: string): Promise<boolean> {
  const r = await rows<{ n: number }>(conn, `SELECT count(*)::INTEGER AS n FROM duckdb_tables() WHERE table_name = ${sqlString(name)} AND database_name = current_database() AND schema_name = 'main'`);
  return (r[0]?.n ?? 0) > 0;
}
