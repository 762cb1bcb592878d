// The engine boundary: the intermediate models, the facts and their aggregations run on a
// SqlEngine, the embedded DuckDB warehouse (the default) or PostgreSQL (./postgres/). The
// aggregated rows then come back to the warehouse, where the statistics, disparities,
// suppression and the audit run whichever engine aggregated them.
import type { DuckDBConnection } from '@duckdb/node-api';
import { exec, rows, type Row } from '../duckdb.ts';
import { DUCKDB, type Dialect } from './dialect.ts';

export interface SqlEngine {
  readonly dialect: Dialect;
  /** For the run log, e.g. "PostgreSQL 15.18 at 127.0.0.1:5432/closeloop". */
  readonly description: string;
  exec(sql: string): Promise<void>;
  /** JSON-safe rows, as models/duckdb.ts rows() gives them. */
  rows<T = Row>(sql: string): Promise<T[]>;
  /** CREATE OR REPLACE TEMP TABLE name AS select (statistics gathered where the engine needs them). */
  createTable(name: string, select: string): Promise<void>;
  /** CREATE OR REPLACE TEMP TABLE name (columns). */
  createEmptyTable(name: string, columns: string): Promise<void>;
  dropTable(name: string): Promise<void>;
  /**
   * Makes the engine's table (aggregated rows only) a temporary table of the same name and
   * columns in the DuckDB warehouse: nothing to do when the engine is that warehouse.
   */
  copyToWarehouse(table: string, columns: string, warehouse: DuckDBConnection): Promise<void>;
}

/** The default engine: the run's own DuckDB connection. */
export function duckdbEngine(conn: DuckDBConnection): SqlEngine {
  return {
    dialect: DUCKDB,
    description: 'DuckDB',
    exec: (sql) => exec(conn, sql),
    rows: <T = Row>(sql: string) => rows<T>(conn, sql),
    createTable: (name, select) => exec(conn, `CREATE OR REPLACE TEMP TABLE ${name} AS\n${select}`),
    createEmptyTable: (name, columns) => exec(conn, `CREATE OR REPLACE TEMP TABLE ${name} (${columns})`),
    dropTable: (name) => exec(conn, `DROP TABLE IF EXISTS ${name}`),
    async copyToWarehouse(table, _columns, warehouse) {
      if (warehouse !== conn) throw new Error(`${table}: this DuckDB engine is another connection than the warehouse's`);
    },
  };
}

/** An engine, or a DuckDB connection (the default engine on it). */
export function asEngine(target: SqlEngine | DuckDBConnection): SqlEngine {
  return 'dialect' in target ? target : duckdbEngine(target);
}
