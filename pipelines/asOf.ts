import type { DuckDBConnection } from '@duckdb/node-api';
import { rows } from '../models/duckdb.ts';

/** Event dates that set the default as-of date (metrics.md); roster dates never do. */
export const EVENT_DATE_COLUMNS: Record<string, string[]> = {
  stg_screenings: ['screened_on'],
  stg_referrals: ['referred_on', 'accepted_on', 'service_started_on', 'closed_on'],
  stg_enrollments: ['applied_on', 'enrolled_on', 'ended_on'],
  stg_phq9: ['assessed_on'],
  stg_encounters: ['start_date', 'end_date'],
};

/** The latest event date of any loaded row, never later than the day of the run. */
export async function defaultAsOf(conn: DuckDBConnection, runDate: string): Promise<string | null> {
  const parts = Object.entries(EVENT_DATE_COLUMNS).flatMap(([table, cols]) =>
    cols.map((c) => `SELECT max(${c}) AS d FROM ${table} WHERE ${c} <= DATE '${runDate}'`));
  const r = await rows<{ d: string | null }>(conn, `SELECT strftime(max(d), '%Y-%m-%d') AS d FROM (${parts.join(' UNION ALL ')})`);
  return r[0]?.d ?? null;
}
