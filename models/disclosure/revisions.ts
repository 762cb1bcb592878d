// Consecutive publications (issue 14, route 8). An attacker who diffs two publications
// learns the change of every count shown in both: one referral added changed 236 shown
// cells by exactly 1 and told that referral's attributes. The rule: a published count whose
// change since the previous publication would be 1..threshold-1 keeps its previous figures,
// marked `pending revision`, until the change is 0 or at least the threshold.
//
// How (finalise.ts): the previous published generation is part of the audit's system
// (audit.ts, `previous`): a count shown in both publications that changed by 1..threshold-1
// is a primary disclosure, and the change of a count withheld now that was shown then is a
// protected quantity like any count. The suppressor's rounds withhold rows until neither is
// found. Every row withheld now that the previous publication showed then shows those
// previous figures (its run_id and as_of are the previous run's), with the note
// `pending revision`: its figures are already public, and its current ones stay hidden.
// A group new since the previous publication (in a cut it published without that group)
// had the zero row then, by the fixed frames, but no row to copy (no run, no as-of): its
// withheld rows stay withheld. The audit would also accept that zero row held as pending
// (audit.ts, previousFigures); withholding says less and needs no figures the previous
// publication did not print.
import type { DuckDBConnection } from '@duckdb/node-api';
import { exec, rows, sqlString as str } from '../duckdb.ts';
import { PENDING_REVISION } from './audit.ts';

/** Copies the previous generation's results table into `_previous_results`; its name, or undefined when it has none. */
export async function readPrevious(conn: DuckDBConnection, file: string): Promise<string | undefined> {
  await exec(conn, `ATTACH ${str(file)} AS _previous (READ_ONLY)`);
  try {
    const has = await rows<{ n: number }>(conn, `SELECT count(*)::INTEGER AS n FROM duckdb_tables() WHERE database_name = '_previous' AND table_name = 'metric_results'`);
    if (!has[0]?.n) return undefined;
    await exec(conn, 'CREATE OR REPLACE TEMP TABLE _previous_results AS SELECT * FROM _previous.metric_results');
    return '_previous_results';
  } finally {
    await exec(conn, 'DETACH _previous');
  }
}

/**
 * Rows withheld now that the previous publication showed: they show its figures (every
 * column the two tables share but the row's key), pending revision. Returns how many.
 */
export async function showPendingRevisions(conn: DuckDBConnection, previous: string): Promise<number> {
  const KEY = ['metric_id', 'period_grain', 'period_start', 'dimension', 'group_value'];
  const columns = async (t: string) => (await rows<{ c: string }>(conn, `SELECT column_name AS c FROM duckdb_columns() WHERE table_name = ${str(t)} ORDER BY column_index`)).map((r) => r.c);
  const mine = await columns('metric_results');
  const theirs = new Set(await columns(previous));
  const shared = mine.filter((c) => theirs.has(c) && !KEY.includes(c) && c !== 'suppressed' && c !== 'note');
  const q = (c: string) => `"${c.replaceAll('"', '""')}"`;
  await exec(conn, `UPDATE metric_results m SET ${shared.map((c) => `${q(c)} = p.${q(c)}`).join(', ')}, suppressed = false, note = ${str(PENDING_REVISION)}
FROM ${previous} p
WHERE ${KEY.map((k) => `m.${k} = p.${k}`).join(' AND ')} AND coalesce(m.suppressed, false) AND NOT coalesce(p.suppressed, false)`);
  const n = await rows<{ n: number }>(conn, `SELECT count(*)::INTEGER AS n FROM metric_results WHERE note = ${str(PENDING_REVISION)}`);
  return n[0]?.n ?? 0;
}
