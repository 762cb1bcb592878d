// The columns issue 15 added to the results table, settled after suppression (whatever
// order the disparity statistics and suppression run in):
// - disparity_flag_unadjusted goes wherever suppression withheld the statistics (it is one);
// - disparity_flag = the AHRQ rule (disparity_flag_unadjusted) and q < 0.05, from the q-value
//   as published (a comparison without a q-value, outside the default family, is not flagged);
// - unreliable goes with the figures of a withheld row: withheld and unreliable are
//   different states, and a withheld row shows neither its figures nor their precision.
import type { DuckDBConnection } from '@duckdb/node-api';
import { exec } from '../duckdb.ts';

export async function settleAddedColumns(conn: DuckDBConnection, table = 'metric_results'): Promise<void> {
  await exec(conn, `UPDATE ${table} SET disparity_flag_unadjusted = NULL
WHERE disparity_flag_unadjusted IS NOT NULL AND (disparity_flag IS NULL OR coalesce(suppressed, false))`);
  await exec(conn, `UPDATE ${table} SET disparity_flag = disparity_flag_unadjusted AND coalesce(q_value < 0.05, false)
WHERE disparity_flag_unadjusted IS NOT NULL`);
  await exec(conn, `UPDATE ${table} SET unreliable = NULL WHERE unreliable IS NOT NULL AND coalesce(suppressed, false)`);
}
