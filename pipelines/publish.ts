// Writes a published generation: aggregates only (never a person-level row), into a
// new DuckDB file that is never written again. The server opens it read-only.
import { chmod } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import { exec, rows, sqlString as str } from '../models/duckdb.ts';
import { EVENT_DATE_COLUMNS } from './asOf.ts';
import { faultPoint } from './faults.ts';
import type { FileReport } from './ingest/loadFile.ts';
import type { CheckResult } from './quality/evaluate.ts';
import { PRIVATE_FILE, runIdTime } from './store.ts';

export interface PublishInput {
  runId: string;
  asOf: string;
  files: FileReport[];
  startedAt: string;
  /** Data-quality gate results of this run (all of them passed or only warned). */
  checks?: CheckResult[];
}

/** Tables the metric engine may leave in the warehouse that are published as they are. */
const AGGREGATE_TABLES = ['metric_results', 'km_curves', 'gap_table', 'prepost_summary', 'disparity_summary', 'withheld_cuts',
  // what partners' views withhold on top of this publication (models/disclosure/partners.ts); served to no one as such
  'partner_withheld',
  // the evaluation (models/evaluation): small-cell rule applied where it is built
  'evaluation_summary', 'evaluation_event_study', 'evaluation_balance', 'evaluation_phq9', 'evaluation_phq9_balance'];

export async function publishGeneration(conn: DuckDBConnection, path: string, input: PublishInput) {
  await exec(conn, `ATTACH ${str(path)} AS pub`);
  await chmod(path, PRIVATE_FILE); // DuckDB created it under the process's umask
  faultPoint('publish:after-attach');
  try {
    await exec(conn, `CREATE TABLE pub.run_info AS SELECT ${str(input.runId)} AS run_id, DATE ${str(input.asOf)} AS as_of,
      ${str(input.startedAt)}::TIMESTAMPTZ AS started_at, now() AS published_at`);
    // Operational counts per file: shown to admins and evaluators only, never exported.
    await exec(conn, `CREATE TABLE pub.load_report (file VARCHAR, entity VARCHAR, rows_read BIGINT, rows_loaded BIGINT,
      rows_quarantined BIGINT, rejected BOOLEAN, message VARCHAR, reasons JSON)`);
    for (const f of input.files) {
      await exec(conn, `INSERT INTO pub.load_report VALUES (${str(f.file)}, ${str(f.entity)}, ${f.rows_read}, ${f.rows_loaded},
        ${f.rows_quarantined}, ${f.rejected}, ${f.message ? str(f.message) : 'NULL'}, ${str(JSON.stringify(f.reasons))})`);
    }
    faultPoint('publish:mid-tables');
    // Freshness: each entity's row count and latest event date, and the last run that
    // loaded a file of it (every run in this warehouse's ledger was published, or is this one).
    const parts = Object.entries(EVENT_DATE_COLUMNS).map(([t, cols]) =>
      `SELECT ${str(t.replace(/^stg_/, ''))} AS entity, count(*) AS rows_loaded, max(greatest(${cols.join(', ')})) AS latest_date FROM ${t}`);
    parts.push(`SELECT 'people', count(*), NULL::DATE FROM stg_people`, `SELECT 'services', count(*), NULL::DATE FROM stg_services`);
    const lastLoads = await rows<{ entity: string; run_id: string }>(conn, `SELECT entity, max(run_id) AS run_id FROM load_ledger WHERE status = 'loaded' AND entity IS NOT NULL GROUP BY entity`);
    const loads = lastLoads.map((l) => `(${str(l.entity)}, ${str(l.run_id)}, ${runIdTime(l.run_id) ? `${str(runIdTime(l.run_id)!)}::TIMESTAMPTZ` : 'NULL::TIMESTAMPTZ'})`);
    const loadsSql = loads.length ? `(VALUES ${loads.join(', ')}) AS l(entity, last_loaded_run_id, last_loaded_at)` : `(SELECT NULL::VARCHAR AS entity, NULL::VARCHAR AS last_loaded_run_id, NULL::TIMESTAMPTZ AS last_loaded_at WHERE FALSE) AS l`;
    await exec(conn, `CREATE TABLE pub.entity_freshness AS SELECT f.entity, f.rows_loaded, f.latest_date, l.last_loaded_run_id, l.last_loaded_at
      FROM (${parts.join(' UNION ALL ')}) AS f LEFT JOIN ${loadsSql} USING (entity) ORDER BY f.entity`);
    // Data-quality gate results (the data-quality page).
    await exec(conn, `CREATE TABLE pub.quality_checks (check_id VARCHAR, entity VARCHAR, kind VARCHAR, severity VARCHAR, status VARCHAR,
      observed DOUBLE, threshold DOUBLE, violations BIGINT, rows_checked BIGINT, message VARCHAR)`);
    for (const c of input.checks ?? []) {
      await exec(conn, `INSERT INTO pub.quality_checks VALUES (${str(c.id)}, ${str(c.entity)}, ${str(c.kind)}, ${str(c.severity)}, ${str(c.status)},
        ${c.observed ?? 'NULL'}, ${c.threshold}, ${c.violations ?? 'NULL'}, ${c.rows ?? 'NULL'}, ${str(c.message)})`);
    }
    // The service directory is published as it is: organisations' programs, counties and
    // capacities are directory facts, not counts of people.
    await exec(conn, `CREATE TABLE pub.service_directory AS SELECT org_id, org_name, program_id, program_name, domain, county_fips,
      monthly_capacity FROM stg_services ORDER BY org_id, program_id, county_fips`);
    const present = await rows<{ name: string }>(conn, `SELECT table_name AS name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main'`);
    for (const t of AGGREGATE_TABLES) {
      if (present.some((p) => p.name === t)) await exec(conn, `CREATE TABLE pub.${t} AS SELECT * FROM main.${t}`);
    }
    faultPoint('publish:after-tables');
    await exec(conn, 'CHECKPOINT pub');
    faultPoint('publish:after-checkpoint-published');
  } finally {
    await exec(conn, 'DETACH pub');
  }
  faultPoint('publish:after-detach');
}
