// Writing figures computed in JS back to DuckDB in bulk: one appender per table, never an
// INSERT per row. Dates travel as YYYY-MM-DD strings into VARCHAR columns and are cast in SQL.
import type { DuckDBConnection } from '@duckdb/node-api';
import { exec, sqlIdent } from '../duckdb.ts';

export type BulkType = 'VARCHAR' | 'DOUBLE';
export type BulkValue = string | number | null;

/** (Re)creates a temporary table with these columns and appends the rows. */
export async function bulkTable(
  conn: DuckDBConnection,
  table: string,
  columns: ReadonlyArray<readonly [name: string, type: BulkType]>,
  data: ReadonlyArray<readonly BulkValue[]>,
): Promise<void> {
  await exec(conn, `CREATE OR REPLACE TEMP TABLE ${sqlIdent(table)} (${columns.map(([n, t]) => `${sqlIdent(n)} ${t}`).join(', ')})`);
  if (data.length === 0) return;
  const appender = await conn.createAppender(table, 'main', 'temp');
  try {
    for (const row of data) {
      columns.forEach(([name, type], i) => {
        const v = row[i];
        if (v === null || v === undefined) appender.appendNull();
        else if (type === 'DOUBLE') {
          if (typeof v !== 'number') throw new Error(`${table}.${name}: expected a number, got ${JSON.stringify(v)}`);
          appender.appendDouble(v);
        } else appender.appendVarchar(String(v));
      });
      appender.endRow();
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}
