// Bookkeeping tables inside the warehouse (person-level, never served): the
// quarantine and the load ledger live beside the staging tables so that one
// generation file holds a consistent state of all three.
import type { DuckDBConnection } from '@duckdb/node-api';
import { contractColumns, ENTITIES } from '../../models/contracts/index.ts';
import { exec, rows, sqlIdent as id } from '../../models/duckdb.ts';
import { ALL_STAGING_DDL, sqlType, stagingTable } from '../../models/staging/tables.ts';
import { REFERRAL_SIDE_DDL } from './fhir/readNdjson.ts';

export const WAREHOUSE_DDL = [
  ...ALL_STAGING_DDL,
  ...REFERRAL_SIDE_DDL,
  `CREATE TABLE IF NOT EXISTS quarantine (
    run_id VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    sha256 VARCHAR,
    entity VARCHAR NOT NULL,
    line BIGINT,
    rule VARCHAR NOT NULL,
    rules VARCHAR[] NOT NULL,
    column_name VARCHAR,
    message VARCHAR NOT NULL,
    raw_record JSON,
    typed_record JSON,
    status VARCHAR NOT NULL DEFAULT 'open',
    resolved_run_id VARCHAR
  )`,
  `CREATE TABLE IF NOT EXISTS load_ledger (
    sha256 VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    size BIGINT NOT NULL,
    mtime_ms DOUBLE NOT NULL,
    entity VARCHAR,
    mapping_sha VARCHAR,
    run_id VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    rows_read BIGINT,
    rows_loaded BIGINT,
    rows_quarantined BIGINT,
    message VARCHAR
  )`,
];

/**
 * Creates what is missing and brings a warehouse made by an earlier version up to the
 * contract: columns the contract added, NOT NULL dropped where a column became optional,
 * and, when the coverage table is new, the roster spans of the loaded people as coverage
 * rows (their files are in the ledger and will not load again).
 */
export async function prepareWarehouse(conn: DuckDBConnection): Promise<void> {
  const existing = await rows<{ table_name: string; column_name: string; is_nullable: string }>(conn,
    `SELECT table_name, column_name, is_nullable FROM information_schema.columns WHERE table_schema = 'main' AND starts_with(table_name, 'stg_')`);
  const had = new Set(existing.map((c) => c.table_name));
  for (const ddl of WAREHOUSE_DDL) await exec(conn, ddl);
  for (const e of ENTITIES) {
    const t = stagingTable(e);
    if (!had.has(t)) continue;
    for (const c of contractColumns(e)) {
      const found = existing.find((x) => x.table_name === t && x.column_name === c.name);
      if (!found) await exec(conn, `ALTER TABLE ${t} ADD COLUMN ${id(c.name)} ${sqlType(c.kind)}`);
      else if (found.is_nullable === 'NO' && !c.required && !c.emptyAs) await exec(conn, `ALTER TABLE ${t} ALTER COLUMN ${id(c.name)} DROP NOT NULL`);
    }
  }
  if (had.has('stg_people') && !had.has('stg_coverage')) await exec(conn, ROSTER_SPANS_SQL);
}

/** The roster spans of every loaded people row as coverage rows (a warehouse that had no coverage table). */
export const ROSTER_SPANS_SQL = `INSERT INTO stg_coverage (person_id, coverage_from, coverage_through, payer, program_id, plan_id, _file, _line, _run_id, _roster)
  SELECT person_id, enrolled_from, enrolled_through, payer, program_id, NULL, _file, _line, _run_id, true FROM stg_people WHERE enrolled_from IS NOT NULL`;
