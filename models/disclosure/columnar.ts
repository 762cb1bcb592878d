// Columnar reads and bulk writes for disparity and disclosure work over ~1M result rows:
// one query -> one array per column (JSON-safe values, as models/duckdb.ts gives them),
// and one appender per staged table, never a statement per row.
import type { DuckDBConnection } from '@duckdb/node-api';
import { exec, sqlIdent } from '../duckdb.ts';

export type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

/** Runs a query and returns its columns by name (BIGINT as string: cast counts to INTEGER or DOUBLE in SQL). */
export async function readColumns(conn: DuckDBConnection, sql: string): Promise<{ length: number; columns: Record<string, Json[]> }> {
  const reader = await conn.runAndReadAll(sql);
  const columns = reader.getColumnsObjectJson() as Record<string, Json[]>;
  const first = Object.values(columns)[0];
  return { length: first ? first.length : 0, columns };
}

/** A DOUBLE column as a Float64Array, NULL -> NaN. */
export function toFloat64(values: readonly Json[] | undefined, length: number): Float64Array {
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) {
    const v = values?.[i];
    out[i] = v === null || v === undefined ? Number.NaN : Number(v);
  }
  return out;
}

/** An INTEGER column as an Int32Array (NULL is an error: ids are never null). */
export function toInt32(values: readonly Json[] | undefined, length: number, what: string): Int32Array {
  const out = new Int32Array(length);
  for (let i = 0; i < length; i++) {
    const v = values?.[i];
    if (typeof v !== 'number') throw new Error(`${what}: expected an integer at row ${i}, got ${JSON.stringify(v)}`);
    out[i] = v;
  }
  return out;
}

export type StagedType = 'INTEGER' | 'DOUBLE' | 'BOOLEAN' | 'VARCHAR';
export type StagedColumn =
  | { name: string; type: 'INTEGER'; values: ArrayLike<number> }
  | { name: string; type: 'DOUBLE'; values: ArrayLike<number | null> }
  | { name: string; type: 'BOOLEAN'; values: ArrayLike<boolean | null> }
  | { name: string; type: 'VARCHAR'; values: ArrayLike<string | null> };

/**
 * (Re)creates a temporary table and appends `length` rows given column by column.
 * DOUBLE: null and non-finite numbers (Infinity from a ratio with a zero reference) are
 * stored as NULL: exports and JSON need finite-or-empty.
 */
export async function stageTable(conn: DuckDBConnection, table: string, length: number, columns: readonly StagedColumn[]): Promise<void> {
  await exec(conn, `CREATE OR REPLACE TEMP TABLE ${sqlIdent(table)} (${columns.map((c) => `${sqlIdent(c.name)} ${c.type}`).join(', ')})`);
  if (length === 0) return;
  const appender = await conn.createAppender(table, 'main', 'temp');
  try {
    for (let i = 0; i < length; i++) {
      for (const c of columns) {
        switch (c.type) {
          case 'INTEGER':
            appender.appendInteger(c.values[i] as number);
            break;
          case 'DOUBLE': {
            const v = c.values[i];
            if (v === null || v === undefined || !Number.isFinite(v)) appender.appendNull();
            else appender.appendDouble(v);
            break;
          }
          case 'BOOLEAN': {
            const v = c.values[i];
            if (v === null || v === undefined) appender.appendNull();
            else appender.appendBoolean(v);
            break;
          }
          case 'VARCHAR': {
            const v = c.values[i];
            if (v === null || v === undefined) appender.appendNull();
            else appender.appendVarchar(v);
            break;
          }
        }
      }
      appender.endRow();
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}

/** Runs a statement and returns the number of rows it changed. */
export async function execCount(conn: DuckDBConnection, sql: string): Promise<number> {
  const result = await conn.run(sql);
  return Number(result.rowsChanged);
}
