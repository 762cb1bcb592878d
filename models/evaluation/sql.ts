// The evaluation's SQL files, run after the covered runs they share (covered_runs.sql), with
// the run's as-of date filled in.
import type { DuckDBConnection } from '@duckdb/node-api';
import { exec, sqlString } from '../duckdb.ts';
import { readSqlFile } from '../intermediate/sql.ts';

export async function runEvaluationSql(conn: DuckDBConnection, file: 'event_study.sql' | 'phq9.sql', asOf: string): Promise<void> {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(asOf)) throw new Error(`as-of date must be YYYY-MM-DD, got ${JSON.stringify(asOf)}`);
  const date = `DATE ${sqlString(asOf)}`;
  for (const f of ['covered_runs.sql', file]) await exec(conn, readSqlFile(new URL(`./${f}`, import.meta.url)).replaceAll('{{as_of}}', date));
}
