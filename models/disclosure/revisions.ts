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
import { existsSync, rmSync } from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';
import { exec, rows, sqlIdent, sqlString as str } from '../duckdb.ts';
import { PENDING_REVISION } from './audit.ts';

/** A results row's key. */
const KEY = ['metric_id', 'period_grain', 'period_start', 'dimension', 'group_value'];
/** The same row in tables a and b (aliases). */
const sameRow = (a: string, b: string) => KEY.map((k) => `${a}.${k} = ${b}.${k}`).join(' AND ');

/** A table's columns in order (of an attached database's table when `database` is given; temp tables included). */
async function columnsOf(conn: DuckDBConnection, table: string, database?: string): Promise<string[]> {
  const where = `table_name = ${str(table)}${database ? ` AND database_name = ${str(database)}` : ''}`;
  return (await rows<{ c: string }>(conn, `SELECT column_name AS c FROM duckdb_columns() WHERE ${where} ORDER BY column_index`)).map((r) => r.c);
}

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
 * Rows withheld now that the previous publication showed: they show the figures last shown
 * (`known`: the previous publication's own, or after a rollback the newer ones the attacker
 * holds; every column the tables share but the row's key), pending revision. A row the
 * previous publication withheld stays withheld. Returns how many.
 */
export async function showPendingRevisions(conn: DuckDBConnection, previous: string, known = previous): Promise<number> {
  const theirs = new Set(await columnsOf(conn, previous));
  const shared = (await columnsOf(conn, 'metric_results')).filter((c) => theirs.has(c) && !KEY.includes(c) && c !== 'suppressed' && c !== 'note');
  await exec(conn, `UPDATE metric_results m SET ${shared.map((c) => `${sqlIdent(c)} = p.${sqlIdent(c)}`).join(', ')}, suppressed = false, note = ${str(PENDING_REVISION)}
FROM ${known} p
WHERE ${sameRow('m', 'p')} AND coalesce(m.suppressed, false) AND NOT coalesce(p.suppressed, false)
  AND EXISTS (SELECT 1 FROM ${previous} q WHERE ${sameRow('q', 'm')} AND NOT coalesce(q.suppressed, false))`);
  const n = await rows<{ n: number }>(conn, `SELECT count(*)::INTEGER AS n FROM metric_results WHERE note = ${str(PENDING_REVISION)}`);
  return n[0]?.n ?? 0;
}

// Every publication, not only the previous one (issue 14: the attacker "sees every
// consecutive publication"). A count shown in publication 1 (20), withheld in 2 and shown in 3
// (25) changed by 5 between two publications the attacker holds, although no two consecutive
// ones show it. And after `closeloop rollback` the previous generation is an older one, while
// the attacker holds the newer one too. So the store keeps, outside the generations (which are
// pruned and rolled back), the figures last shown for every row ever published
// (state/published-figures.duckdb, table `figures`), and the audit compares with those: the
// previous publication's shown rows, and for a row it withheld (or no longer published), the
// last figures shown before. Rows pending revision copy the previous publication only
// (showPendingRevisions): a row it withheld stays withheld.

/** The table of the history file. */
const HISTORY_TABLE = 'figures';

// Counts withheld before (issue 14's requirement covers the change of a count between two
// consecutive publications, withheld or not). A count withheld in one publication, where the
// attacker proved it within 11..15 (the audit lets a range that reaches 11 stand), and shown
// as 16 in the next changed by 1..5, and so did one withheld in both whose ranges were 11..15
// then and 16..20 now. The published figures of a withheld row are blank, so the store keeps
// their truth too, in the history file's table `withheld`: the true figures of every row of
// the designed surface the publication did not show (withheld, pending revision, or in a cut
// the rounds removed, which the attacker can still bound through the cuts it adds up to).
// The audit takes them as known to the attacker (audit.ts, withheldBefore), which is stronger
// than the attacker, who only holds ranges around them. Only the last publication's: kept
// from every publication, a count withheld at 500, 505 and 510 could never be shown again
// (510 is 10 from 500), although the attacker's range around 500 was 0..1000. So a withheld
// row is shown again once its counts are unchanged since the last publication or have moved
// by the threshold; the change since an older publication that withheld it is not checked.
const WITHHELD_TABLE = 'withheld';
/** The figures kept for a withheld row, with its key. */
const WITHHELD_COLUMNS = [...KEY, 'numerator', 'denominator', 'value'];

/**
 * `_withheld_before`: the true figures of the rows the last publication did not show (the
 * history file's `withheld`). Returns its name, or undefined when the history has none (a
 * store older than this table, or no publication yet).
 */
export async function withheldBefore(conn: DuckDBConnection, historyFile: string | undefined): Promise<string | undefined> {
  if (!historyFile || !existsSync(historyFile)) return undefined;
  await exec(conn, `ATTACH ${str(historyFile)} AS _history (READ_ONLY)`);
  try {
    if (!(await columnsOf(conn, WITHHELD_TABLE, '_history')).length) return undefined;
    await exec(conn, `CREATE OR REPLACE TEMP TABLE _withheld_before AS SELECT ${WITHHELD_COLUMNS.join(', ')}, false AS suppressed FROM _history.${WITHHELD_TABLE}`);
    return '_withheld_before';
  } finally {
    await exec(conn, 'DETACH _history');
  }
}

/**
 * `_previous_known`: for every row, the figures last shown by any publication (the history
 * file), and the previous publication's rows no publication showed. Returns its name, or
 * `previous` unchanged without a history file.
 */
export async function previousKnown(conn: DuckDBConnection, previous: string, historyFile: string | undefined): Promise<string> {
  if (!historyFile || !existsSync(historyFile)) return previous;
  await exec(conn, `ATTACH ${str(historyFile)} AS _history (READ_ONLY)`);
  try {
    const theirs = new Set(await columnsOf(conn, HISTORY_TABLE, '_history'));
    const cols = (await columnsOf(conn, previous)).filter((c) => theirs.has(c)).map(sqlIdent).join(', ');
    // The history's figures are the latest shown (without a rollback, the previous
    // publication's own for every row it shows); the previous publication's rows that no
    // publication ever showed complete it.
    await exec(conn, `CREATE OR REPLACE TEMP TABLE _previous_known AS
SELECT ${cols} FROM _history.${HISTORY_TABLE} h
UNION ALL BY NAME
SELECT ${cols} FROM ${previous} p WHERE NOT EXISTS (SELECT 1 FROM _history.${HISTORY_TABLE} h WHERE ${sameRow('h', 'p')})`);
    return '_previous_known';
  } finally {
    await exec(conn, 'DETACH _history');
  }
}

/**
 * Writes `${historyFile}.tmp`: this publication's shown rows (pending revisions included: they
 * show figures the attacker holds), and every older row last shown before that this one does
 * not show; with `truth`, the true figures of every row of it this publication does not show.
 * The run renames it over the history file once the pointer names the new generation; a
 * crash before that leaves it with the run's id beside it, and the next run puts it in place
 * only if the pointer names that run (store.ts, settleHistory).
 */
export async function writeHistory(conn: DuckDBConnection, historyFile: string, truth?: string): Promise<void> {
  const tmp = `${historyFile}.tmp`;
  rmSync(tmp, { force: true });
  rmSync(`${tmp}.wal`, { force: true });
  await exec(conn, `ATTACH ${str(tmp)} AS _history_next`);
  try {
    await exec(conn, `CREATE TABLE _history_next.${HISTORY_TABLE} AS SELECT * FROM metric_results WHERE NOT coalesce(suppressed, false)`);
    // the truth of every row this publication does not show (withheld, pending revision: its
    // figures are older, or in a cut the rounds removed); only this publication's (above)
    if (truth) {
      const pending = (await columnsOf(conn, 'metric_results')).includes('note') ? ` AND m.note IS DISTINCT FROM ${str(PENDING_REVISION)}` : '';
      await exec(conn, `CREATE TABLE _history_next.${WITHHELD_TABLE} AS
SELECT ${WITHHELD_COLUMNS.map((c) => `t.${c}`).join(', ')} FROM ${truth} t
WHERE NOT EXISTS (SELECT 1 FROM metric_results m WHERE ${sameRow('m', 't')} AND NOT coalesce(m.suppressed, false)${pending})`);
    }
    if (existsSync(historyFile)) {
      await exec(conn, `ATTACH ${str(historyFile)} AS _history (READ_ONLY)`);
      try {
        // the columns both have (a newer version may publish more)
        const now = new Set(await columnsOf(conn, 'metric_results'));
        const cols = (await columnsOf(conn, HISTORY_TABLE, '_history')).filter((c) => now.has(c)).map((c) => `h.${sqlIdent(c)}`).join(', ');
        await exec(conn, `INSERT INTO _history_next.${HISTORY_TABLE} BY NAME
SELECT ${cols} FROM _history.${HISTORY_TABLE} h
WHERE NOT EXISTS (SELECT 1 FROM metric_results r WHERE NOT coalesce(r.suppressed, false) AND ${sameRow('r', 'h')})`);
      } finally {
        await exec(conn, 'DETACH _history');
      }
    }
  } finally {
    await exec(conn, 'DETACH _history_next');
  }
}
