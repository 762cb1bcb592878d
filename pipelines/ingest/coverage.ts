// Coverage spans (models/contracts/coverage.ts): the one validation rule that looks across
// rows, coverage_conflict, and the roster's span loading as a coverage row.
//
// A span contradicts another span of the same person when the two share a day and name a
// different payer or a different program: closeloop cannot tell which is right, so the
// incoming span is quarantined and the loaded state stays as it was. Spans that overlap
// with the same payer and program are not a contradiction (two plans, a re-sent span with
// another start date): they load, and the intermediate model merges them for person-time.
import type { DuckDBConnection } from '@duckdb/node-api';
import { exec } from '../../models/duckdb.ts';

/** Columns of a table of candidate spans: the rows about to be loaded. */
export const CANDIDATE_COLUMNS = '_rowid, _line, _file, person_id, coverage_from, coverage_through, payer, program_id';

const OPEN = `DATE '9999-12-31'`;
const span = (t: string) =>
  `strftime(${t}.coverage_from, '%Y-%m-%d') || '..' || coalesce(strftime(${t}.coverage_through, '%Y-%m-%d'), 'open') || ' '
    || ${t}.payer || coalesce(' program ' || ${t}.program_id, ' no program')`;

/**
 * Fills temp table `out` (_rowid, _line, message) with the candidates (a temp table with
 * CANDIDATE_COLUMNS) that contradict another candidate or a loaded span. Loaded spans whose
 * key a candidate replaces do not count. Every candidate in a contradiction among the
 * candidates is named: neither is more credible than the other.
 */
export async function findCoverageConflicts(conn: DuckDBConnection, candidates: string, out: string): Promise<void> {
  const clash = (a: string, b: string) => `${a}.person_id = ${b}.person_id
      AND ${a}.coverage_from <= coalesce(${b}.coverage_through, ${OPEN}) AND ${b}.coverage_from <= coalesce(${a}.coverage_through, ${OPEN})
      AND (${a}.payer <> ${b}.payer OR ${a}.program_id IS DISTINCT FROM ${b}.program_id)`;
  const what = (a: string, b: string) => `CASE WHEN ${a}.payer <> ${b}.payer THEN 'two payers on one day' ELSE 'two programs on one day' END`;
  await exec(conn, `CREATE OR REPLACE TEMP TABLE ${out} AS
    WITH kept AS (
      SELECT s.person_id, s.coverage_from, s.coverage_through, s.payer, s.program_id, s._file, s._line
      FROM stg_coverage s ANTI JOIN ${candidates} c USING (person_id, coverage_from)
    ),
    pairs AS (
      SELECT a._rowid, a._line, b.coverage_from AS other_from,
        'coverage ' || ${span('a')} || ' overlaps ' || ${span('b')} || ' (' || b._file || ' line ' || b._line || ', in the same load): ' || ${what('a', 'b')} AS message
      FROM ${candidates} a JOIN ${candidates} b ON ${clash('a', 'b')} AND a._rowid <> b._rowid
      UNION ALL
      SELECT a._rowid, a._line, b.coverage_from,
        'coverage ' || ${span('a')} || ' overlaps the loaded span ' || ${span('b')} || ' (' || b._file || ' line ' || b._line || '): ' || ${what('a', 'b')}
      FROM ${candidates} a JOIN kept b ON ${clash('a', 'b')}
    )
    SELECT _rowid, any_value(_line) AS _line,
      arg_min(message, other_from) || '; send the corrected spans of this person together in one file' AS message
    FROM pairs GROUP BY _rowid`);
}

/**
 * Candidates for the roster spans of the people rows a file just loaded (the rows of
 * `source` with enrolled_from set), as a temp table with CANDIDATE_COLUMNS.
 */
export async function rosterCandidates(conn: DuckDBConnection, source: string, file: string, out: string): Promise<void> {
  await exec(conn, `CREATE OR REPLACE TEMP TABLE ${out} AS
    SELECT _rowid, _line, '${file.replace(/'/g, "''")}' AS _file, person_id, enrolled_from AS coverage_from, enrolled_through AS coverage_through, payer, program_id
    FROM ${source} WHERE enrolled_from IS NOT NULL`);
}

/**
 * The roster holds one span per person, the current one: a people row whose span starts
 * later than the person's earlier roster span says that span has ended. It ends the day
 * before the new start (spans from coverage files are never changed by a roster row).
 */
export async function endEarlierRosterSpans(conn: DuckDBConnection, candidates: string): Promise<void> {
  await exec(conn, `UPDATE stg_coverage s SET coverage_through = c.coverage_from - 1
    FROM ${candidates} c
    WHERE s._roster AND s.person_id = c.person_id AND s.coverage_from < c.coverage_from AND coalesce(s.coverage_through, ${OPEN}) >= c.coverage_from`);
}

/** Replaces (by key) or adds the roster candidates not in `conflicts` as coverage rows. */
export async function applyRosterSpans(conn: DuckDBConnection, candidates: string, conflicts: string, runId: string): Promise<void> {
  const keep = `(SELECT * FROM ${candidates} WHERE _rowid NOT IN (SELECT _rowid FROM ${conflicts}))`;
  await exec(conn, `DELETE FROM stg_coverage s USING ${keep} c WHERE s.person_id = c.person_id AND s.coverage_from = c.coverage_from`);
  await exec(conn, `INSERT INTO stg_coverage (person_id, coverage_from, coverage_through, payer, program_id, plan_id, _file, _line, _run_id, _roster)
    SELECT person_id, coverage_from, coverage_through, payer, program_id, NULL, _file, _line, '${runId.replace(/'/g, "''")}', true FROM ${keep}`);
}
