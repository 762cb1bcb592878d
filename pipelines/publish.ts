// Writes a published generation: aggregates only (never a person-level row), into a
// new DuckDB file that is never written again. The server opens it read-only.
import type { DuckDBConnection } from '@duckdb/node-api';
import { exec, rows, sqlString as str } from '../models/duckdb.ts';
import { EVENT_DATE_COLUMNS } from './asOf.ts';
import type { FileReport } from './ingest/loadFile.ts';

export interface PublishInput {
  runId: string;
  asOf: string;
  files: FileReport[];
  startedAt: string;
}

/** Tables the metric engine may leave in the warehouse that are published as they are. */
const AGGREGATE_TABLES = ['metric_results', 'km_curves', 'gap_table', 'prepost_summary', 'disparity_summary'];

export async function publishGeneration(conn: DuckDBConnection, path: string, input: PublishInput) {
  await exec(conn, `ATTACH ${str(path)} AS pub`);
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
    // Freshness: each entity's row count and latest event date.
    const parts = Object.entries(EVENT_DATE_COLUMNS).map(([t, cols]) =>
      `SELECT ${str(t.replace(/^stg_/, ''))} AS entity, count(*) AS rows_loaded, max(greatest(${cols.join(', ')})) AS latest_date FROM ${t}`);
    parts.push(`SELECT 'people', count(*), NULL::DATE FROM stg_people`, `SELECT 'services', count(*), NULL::DATE FROM stg_services`);
    await exec(conn, `CREATE TABLE pub.entity_freshness AS ${parts.join(' UNION ALL ')}`);
    // The service directory is published as it is: organisations' programs, counties and
    // capacities are directory facts, not counts of people.
    await exec(conn, `CREATE TABLE pub.service_directory AS SELECT org_id, org_name, program_id, program_name, domain, county_fips,
      monthly_capacity FROM stg_services ORDER BY org_id, program_id, county_fips`);
    const present = await rows<{ name: string }>(conn, `SELECT table_name AS name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main'`);
    for (const t of AGGREGATE_TABLES) {
      if (present.some((p) => p.name === t)) await exec(conn, `CREATE TABLE pub.${t} AS SELECT * FROM main.${t}`);
    }
  } finally {
    await exec(conn, 'DETACH pub');
  }
}
