// Orphans are not lost: each run retries the quarantined orphans and loads those
// whose person now exists. A retried row is older than anything loaded after its
// own run, so a newer row with the same key supersedes it.
import type { DuckDBConnection } from '@duckdb/node-api';
import { contractColumns, type EntityContract } from '../../models/contracts/index.ts';
import { exec, rows, sqlIdent as id, sqlString as str } from '../../models/duckdb.ts';
import { sqlType, stagingTable } from '../../models/staging/tables.ts';
import { findCoverageConflicts } from './coverage.ts';

export async function retryOrphans(conn: DuckDBConnection, entity: EntityContract, runId: string): Promise<{ loaded: number; superseded: number }> {
  const cols = contractColumns(entity);
  const personRef = cols.find((c) => c.personRef);
  if (!personRef) return { loaded: 0, superseded: 0 };
  const extract = cols.map((c) => `CAST(json_extract_string(q.typed_record, ${str(`$.${c.name}`)}) AS ${sqlType(c.kind)}) AS ${id(c.name)}`).join(', ');
  const key = entity.key.map(id).join(', ');
  await exec(conn, `DROP TABLE IF EXISTS retry`);
  await exec(conn, `CREATE TEMP TABLE retry AS
    SELECT * FROM (
      SELECT q.rowid AS _qid, q.run_id AS _from_run, q.file AS _file, q.line AS _line, ${extract}
      FROM quarantine q
      WHERE q.status = 'open' AND q.rule = 'orphan' AND q.entity = ${str(entity.name)}
    ) r
    WHERE EXISTS (SELECT 1 FROM stg_people p WHERE p.person_id = r.${id(personRef.name)})`);
  // Per key, the newest orphan wins; older ones and those a newer loaded row replaced are superseded.
  const stg = stagingTable(entity);
  const match = entity.key.map((k) => `s.${id(k)} = r.${id(k)}`).join(' AND ');
  await exec(conn, `CREATE OR REPLACE TEMP TABLE retry AS
    SELECT r.*, row_number() OVER (PARTITION BY ${key} ORDER BY _from_run DESC, _file DESC, _line DESC) = 1
      AND NOT EXISTS (SELECT 1 FROM ${stg} s WHERE ${match} AND s._run_id > r._from_run) AS _apply
    FROM retry r`);
  if (entity.name === 'coverage') await holdBackConflicts(conn);
  const names = cols.map((c) => id(c.name)).join(', ');
  await exec(conn, `DELETE FROM ${stg} s USING retry r WHERE r._apply AND ${match}`);
  await exec(conn, `INSERT INTO ${stg} (${names}, _file, _line, _run_id) SELECT ${names}, _file, _line, ${str(runId)} FROM retry WHERE _apply`);
  await exec(conn, `UPDATE quarantine SET status = CASE WHEN r._apply THEN 'resolved' ELSE 'superseded' END, resolved_run_id = ${str(runId)}
    FROM retry r WHERE quarantine.rowid = r._qid`);
  const counts = await rows<{ loaded: number; superseded: number }>(conn,
    `SELECT count(*) FILTER (WHERE _apply) AS loaded, count(*) FILTER (WHERE NOT _apply) AS superseded FROM retry`);
  await exec(conn, `DROP TABLE retry`);
  return counts[0] ?? { loaded: 0, superseded: 0 };
}

/**
 * A coverage orphan whose person has arrived may still contradict a loaded span: it stays
 * in quarantine, its record now saying so (rule coverage_conflict, no longer retried).
 */
async function holdBackConflicts(conn: DuckDBConnection): Promise<void> {
  await exec(conn, `CREATE OR REPLACE TEMP TABLE cov_new AS SELECT _qid AS _rowid, _line, _file, * EXCLUDE (_qid, _line, _file) FROM retry WHERE _apply`);
  await findCoverageConflicts(conn, 'cov_new', 'cov_conflicts');
  await exec(conn, `UPDATE quarantine SET rule = 'coverage_conflict', rules = ['coverage_conflict'], column_name = 'coverage_from', message = c.message
    FROM cov_conflicts c WHERE quarantine.rowid = c._rowid`);
  await exec(conn, `DELETE FROM retry WHERE _qid IN (SELECT _rowid FROM cov_conflicts)`);
  await exec(conn, 'DROP TABLE cov_new; DROP TABLE cov_conflicts');
}
