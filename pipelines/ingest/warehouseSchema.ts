// Bookkeeping tables inside the warehouse (person-level, never served): the
// quarantine and the load ledger live beside the staging tables so that one
// generation file holds a consistent state of all three.
import { ALL_STAGING_DDL } from '../../models/staging/tables.ts';

export const WAREHOUSE_DDL = [
  ...ALL_STAGING_DDL,
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
