// The gap table: a mart over the results table and the service directory (see
// sql/mart_gap_table.sql), built after metric_results.
import type { DuckDBConnection } from '@duckdb/node-api';
import { exec, sqlString } from '../duckdb.ts';
import { readSqlFile, renderSql } from '../intermediate/sql.ts';

export async function buildGapTable(conn: DuckDBConnection, opts: { runId: string; asOfSql: string }): Promise<void> {
  const sql = renderSql(readSqlFile(new URL('./sql/mart_gap_table.sql', import.meta.url)), {
    run_id: sqlString(opts.runId),
    as_of: opts.asOfSql,
  }, 'mart_gap_table.sql');
  await exec(conn, `CREATE OR REPLACE TABLE gap_table AS\n${sql}`);
}
