// Loads one inbox file into its staging table: read -> validate (SQL) -> quarantine
// bad rows, in-file duplicates and orphans -> replace rows with the same key.
import { basename } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { contractColumns, type EntityContract } from '../../models/contracts/index.ts';
import { exec, rows, sqlIdent as id, sqlString as str } from '../../models/duckdb.ts';
import { stagingTable } from '../../models/staging/tables.ts';
import { parseCsvRecord } from './csvHeader.ts';
import { planColumns, type LoadedClaim } from './mapping.ts';
import { applyRosterSpans, endEarlierRosterSpans, findCoverageConflicts, rosterCandidates } from './coverage.ts';
import { createSourceView, FileRejected, rawRecordJson, readCsv, readParquet, type RawRead } from './readSource.ts';
import { ReadFailed, type ScanResult } from './scanFile.ts';
import { readNdjson, saveReferralSides, type NdjsonRead } from './fhir/readNdjson.ts';
import { FHIR_SOURCES, type FhirResourceType } from './fhir/resources.ts';
import { validationSelect } from './validateSql.ts';
import type { InboxFormat } from './discover.ts';
import { readHsds, type HsdsRead } from './hsds/readHsds.ts';

export interface FileReport {
  file: string;
  entity: string;
  rows_read: number;
  rows_loaded: number;
  rows_quarantined: number;
  rejected: boolean;
  message: string | null;
  reasons: Array<{ rule: string; column: string | null; count: number }>;
  /** Columns the file has that the contract (or mapping) does not use. */
  extra_columns: string[];
  sha256: string;
}

export interface LoadFileInput {
  path: string;
  entity: EntityContract;
  claim?: LoadedClaim;
  scan: ScanResult;
  format: InboxFormat;
  gzip: boolean;
  /** ndjson: the file's FHIR resource type, and whether this load reports its unusable lines (a file that feeds two entities reports them once). */
  fhir?: { resourceType: FhirResourceType; reportsBadLines: boolean };
  runId: string;
  /** The day of the run (future_date rule). */
  runDate: string;
  /**
   * Begin a transaction before the first write and leave it open (files not rejected),
   * for the caller to commit or roll back. It begins after the read and the checks: rows
   * of a table made inside a transaction get provisional rowids (lines are mapped by
   * rowid), and such a table is slower to read.
   */
  transaction?: boolean;
}

export async function loadFile(conn: DuckDBConnection, input: LoadFileInput): Promise<FileReport> {
  const file = basename(input.path);
  const base = { file, entity: input.entity.name, sha256: input.scan.sha256 };
  try {
    return { ...base, ...(await loadChecked(conn, input, file)) };
  } catch (err) {
    if (!(err instanceof FileRejected)) throw err;
    return { ...base, rows_read: 0, rows_loaded: 0, rows_quarantined: 0, rejected: true, message: `${file}: ${err.message}`, reasons: [], extra_columns: [] };
  }
}

async function loadChecked(conn: DuckDBConnection, input: LoadFileInput, file: string) {
  const { entity, scan, runId } = input;
  if (scan.textProblem) throw new FileRejected(`rejected whole: the file ${scan.textProblem}`);
  const names = contractColumns(entity).map((c) => c.name);

  let read: RawRead;
  let header: string[];
  let fhirRead: NdjsonRead | null = null;
  let hsdsRead: HsdsRead | null = null;
  try {
    if (input.format === 'hsds-json' || input.format === 'hsds-package' || input.format === 'fhir-directory') {
      if (entity.name !== 'services') throw new FileRejected(`rejected whole: a service directory loads as services, not ${entity.name}`);
      hsdsRead = await readHsds(conn, input.path, input.format === 'hsds-json' ? 'json' : input.format === 'fhir-directory' ? 'fhir' : 'package', names, file);
      read = hsdsRead;
      header = read.header;
    } else if (input.format === 'ndjson') {
      if (!input.fhir) throw new Error('an ndjson load needs its FHIR resource type');
      fhirRead = await readNdjson(conn, input.path, input.gzip, input.fhir.resourceType, entity.name, names, input.fhir.reportsBadLines);
      read = fhirRead;
      header = read.header;
    } else if (input.format === 'parquet') {
      read = await readParquet(conn, input.path);
      header = read.header;
    } else {
      if (scan.headerText === null) throw new FileRejected('rejected whole: the file is empty (no header row)');
      header = parseCsvRecord(scan.headerText).map((h) => h.trim());
      const dup = header.find((h, i) => header.findIndex((x) => x.toLowerCase() === h.toLowerCase()) !== i);
      if (dup !== undefined) throw new FileRejected(`rejected whole: the header names column "${dup}" twice`);
      read = await readCsv(conn, input.path, header, scan, input.gzip);
    }
  } catch (err) {
    if (err instanceof FileRejected || err instanceof ReadFailed) throw err;
    throw new FileRejected(`rejected whole: cannot be read as ${input.format.startsWith('hsds') ? 'an HSDS directory' : input.format.toUpperCase()}: ${firstLine((err as Error).message)}`);
  }

  let plan;
  try {
    plan = planColumns(names, header, input.claim);
  } catch (err) {
    throw new FileRejected(`rejected whole: ${(err as Error).message} (mapping ${input.claim?.mappingFile})`);
  }
  const missing = contractColumns(entity).filter((c) => c.required && !plan.targets.has(c.name)).map((c) => c.name);
  if (missing.length) throw new FileRejected(`rejected whole: missing required column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}${delimiterHint(header)}`);
  const used = new Set<string>();
  for (const t of plan.targets.values()) collectSources(t, used);
  for (const m of plan.valueMaps) used.add(m.source);
  const extra = fhirRead || hsdsRead ? [] : header.filter((h) => !used.has(h));

  await createSourceView(conn, header, names, plan);
  await exec(conn, `DROP TABLE IF EXISTS checked`);
  await exec(conn, `CREATE TEMP TABLE checked AS ${validationSelect(entity, 'src_file', { dateFormat: input.claim?.date_format, runDate: input.runDate, missingValues: plan.missingValues })}`);

  // The writes begin here. `checked` is made before the transaction: reading a table
  // made inside one is several times slower.
  if (input.transaction) await exec(conn, 'BEGIN TRANSACTION');
  if (fhirRead?.sides && input.fhir) await saveReferralSides(conn, input.fhir.resourceType, file, runId);
  const q = quarantineInsert(runId, file, scan.sha256, entity.name);
  // Each step below touches only the few rows it quarantines; the millions of clean
  // rows are read once more, by the final insert (the rows to skip are in `dropped`).
  const rawOf = (t: string) => `(SELECT rowid AS _rowid, * FROM raw_file WHERE rowid IN (SELECT _rowid FROM ${t}))`;
  // 1. Rows that break a column or cross-field rule, kept whole as they came.
  await exec(conn, `DROP TABLE IF EXISTS dropped`);
  await exec(conn, `CREATE TEMP TABLE dropped AS SELECT _rowid, _line FROM checked WHERE _errors IS NOT NULL`);
  await exec(conn, `${q.columns}
    SELECT ${q.values}, c._line, c._errors[1].rule, list_transform(c._errors, x -> x.rule), c._errors[1].column, c._errors[1].message,
      ${rawRecordJson(header, 'r', read.emptyIsText)}, NULL, 'open', NULL
    FROM checked c JOIN ${rawOf('dropped')} r USING (_rowid)
    WHERE c._errors IS NOT NULL`);
  // 2. Records with the wrong number of fields or broken quoting, whole, as the file has them.
  if (read.malformed) {
    await exec(conn, `${q.columns}
      SELECT ${q.values}, m.line, 'malformed_row', ['malformed_row'], NULL, m.message, json_object('record', m.record), NULL, 'open', NULL
      FROM malformed_rows m`);
  }
  // 2b. FHIR resources we cannot use (bad JSON, wrong type, unknown code, no patient reference), whole as the line has them;
  //     HSDS records (a service with no domain, an area that is no county), whole as they came.
  if (fhirRead?.rejects || hsdsRead?.rejects) {
    await exec(conn, `${q.columns}
      SELECT ${q.values}, b.line, b.rule, [b.rule], b.column_name, b.message, json_object(${fhirRead ? "'resource', b.record" : "'record', b.record::JSON"}), NULL, 'open', NULL
      FROM resource_rejects b`);
  }
  // 3. Duplicate keys within the file: the first valid copy wins. A hash aggregate finds
  //    the keys seen more than once; only their rows are numbered.
  const key = entity.key.map(id).join(', ');
  const keyText = entity.key.map((k) => `${str(`${k}=`)} || ${id(k)}`).join(` || ', ' || `);
  await exec(conn, `DROP TABLE IF EXISTS dup_rows`);
  await exec(conn, `CREATE TEMP TABLE dup_rows AS
    SELECT * FROM (
      SELECT _rowid, _line, ${keyText} AS _key_text, row_number() OVER (PARTITION BY ${key} ORDER BY _line) AS _copy,
        min(_line) OVER (PARTITION BY ${key}) AS _first_line
      FROM checked c SEMI JOIN (SELECT ${key} FROM checked WHERE _errors IS NULL GROUP BY ALL HAVING count(*) > 1) d USING (${key})
      WHERE c._errors IS NULL
    ) WHERE _copy > 1`);
  await exec(conn, `${q.columns}
    SELECT ${q.values}, v._line, 'duplicate_key', ['duplicate_key'], ${str(entity.key.join(','))},
      'duplicate key (' || v._key_text || '), first seen on line ' || v._first_line, ${rawRecordJson(header, 'r', read.emptyIsText)}, NULL, 'open', NULL
    FROM dup_rows v JOIN ${rawOf('dup_rows')} r USING (_rowid)`);
  await exec(conn, `INSERT INTO dropped SELECT _rowid, _line FROM dup_rows`);
  // 4. Orphans: kept with their typed values so a later run can load them.
  const personRef = contractColumns(entity).find((c) => c.personRef);
  const cols = names.map(id).join(', ');
  if (personRef) {
    await exec(conn, `DROP TABLE IF EXISTS orphan_rows`);
    await exec(conn, `CREATE TEMP TABLE orphan_rows AS
      SELECT * FROM checked v
      WHERE v._errors IS NULL AND NOT EXISTS (SELECT 1 FROM stg_people p WHERE p.person_id = v.${id(personRef.name)})
        AND v._rowid NOT IN (SELECT _rowid FROM dup_rows)`);
    await exec(conn, `${q.columns}
      SELECT ${q.values}, v._line, 'orphan', ['orphan'], ${str(personRef.name)},
        ${str(`${personRef.name} `)} || '''' || v.${id(personRef.name)} || ''' is not among the loaded people (kept; retried on every run)',
        ${rawRecordJson(header, 'r', read.emptyIsText)}, to_json(struct_pack(${names.map((n) => `${id(n)} := v.${id(n)}`).join(', ')})), 'open', NULL
      FROM orphan_rows v JOIN ${rawOf('orphan_rows')} r USING (_rowid)`);
    await exec(conn, `INSERT INTO dropped SELECT _rowid, _line FROM orphan_rows`);
    await exec(conn, `DROP TABLE orphan_rows`);
  }
  const kept = `(SELECT * FROM checked WHERE _errors IS NULL AND _rowid NOT IN (SELECT _rowid FROM dropped))`;
  // 4b. Coverage spans that contradict another span of the same person (pipelines/ingest/coverage.ts).
  if (entity.name === 'coverage') {
    await exec(conn, `CREATE OR REPLACE TEMP TABLE cov_new AS SELECT *, ${str(file)} AS _file FROM ${kept}`);
    await quarantineConflicts(conn, q, header, read.emptyIsText, 'coverage_from', true);
  }
  // 5. A row whose key was loaded before replaces it (nothing to replace in an empty table).
  const stg = stagingTable(entity);
  const hasRows = ((await rows<{ n: number }>(conn, `SELECT count(*) AS n FROM (SELECT 1 FROM ${stg} LIMIT 1)`))[0]?.n ?? 0) > 0;
  if (hasRows) await exec(conn, `DELETE FROM ${stg} s USING ${kept} v WHERE ${entity.key.map((k) => `s.${id(k)} = v.${id(k)}`).join(' AND ')}`);
  await exec(conn, `INSERT INTO ${stg} (${cols}, _file, _line, _run_id) SELECT ${cols}, ${str(file)}, _line, ${str(runId)} FROM ${kept}`);
  // 6. The roster span of each people row loaded loads as a coverage row: a later start adds
  //    a span and ends the earlier roster span, unless the new span contradicts another.
  if (entity.name === 'people') {
    await rosterCandidates(conn, kept, file, 'cov_new');
    await endEarlierRosterSpans(conn, 'cov_new');
    // the people row itself stays loaded: only its span is held back
    await quarantineConflicts(conn, q, header, read.emptyIsText, 'enrolled_from', false);
    await applyRosterSpans(conn, 'cov_new', 'cov_conflicts', runId);
  }

  const loaded = (await rows<{ n: number }>(conn, `SELECT (SELECT count(*) FROM checked) - (SELECT count(*) FROM dropped) AS n`))[0]?.n ?? 0;
  const reasons = await rows<{ rule: string; column: string | null; count: number }>(conn,
    `SELECT rule, column_name AS "column", count(*) AS count FROM quarantine
     WHERE run_id = ${str(runId)} AND file = ${str(file)} AND sha256 = ${str(scan.sha256)} AND entity = ${str(entity.name)}
     GROUP BY ALL ORDER BY count DESC, rule, "column"`);
  const quarantined = reasons.reduce((s, r) => s + r.count, 0);
  await exec(conn, `DROP TABLE IF EXISTS checked; DROP TABLE IF EXISTS dropped; DROP TABLE IF EXISTS dup_rows; DROP VIEW IF EXISTS src_file; DROP TABLE IF EXISTS raw_file; DROP TABLE IF EXISTS malformed_rows; DROP TABLE IF EXISTS skip_rowids;
    DROP TABLE IF EXISTS cov_new; DROP TABLE IF EXISTS resource_rejects; DROP TABLE IF EXISTS fhir_side; DROP TABLE IF EXISTS cov_conflicts`);
  return {
    rows_read: read.rowsRead,
    rows_loaded: loaded,
    rows_quarantined: quarantined,
    rejected: false,
    message: hsdsRead ? `${file} (${input.format === 'fhir-directory' ? 'FHIR' : 'HSDS'} directory): ${hsdsRead.notes.join(', ')}`
      : fhirRead && input.fhir ? fhirMessage(file, entity.name, fhirRead, input.fhir)
      : extra.length ? `${file}: ignored column${extra.length > 1 ? 's' : ''} not in the contract: ${extra.join(', ')}` : null,
    reasons,
    extra_columns: extra,
  };
}

/** Quarantines the spans of cov_new that contradict another span (the record kept whole as it came); `drop`: leave the row out of the load. */
async function quarantineConflicts(conn: DuckDBConnection, q: ReturnType<typeof quarantineInsert>, header: string[], emptyIsText: boolean, column: string, drop: boolean) {
  await findCoverageConflicts(conn, 'cov_new', 'cov_conflicts');
  await exec(conn, `${q.columns}
    SELECT ${q.values}, v._line, 'coverage_conflict', ['coverage_conflict'], ${str(column)}, v.message, ${rawRecordJson(header, 'r', emptyIsText)}, NULL, 'open', NULL
    FROM cov_conflicts v JOIN (SELECT rowid AS _rowid, * FROM raw_file WHERE rowid IN (SELECT _rowid FROM cov_conflicts)) r USING (_rowid)`);
  if (drop) await exec(conn, `INSERT INTO dropped SELECT _rowid, _line FROM cov_conflicts`);
}

function quarantineInsert(runId: string, file: string, sha: string, entity: string) {
  return {
    columns: `INSERT INTO quarantine (run_id, file, sha256, entity, line, rule, rules, column_name, message, raw_record, typed_record, status, resolved_run_id)`,
    values: `${str(runId)}, ${str(file)}, ${str(sha)}, ${str(entity)}`,
  };
}

function collectSources(t: import('./mapping.ts').TargetSource, into: Set<string>) {
  if (t.kind === 'column') into.add(t.source);
  if (t.kind === 'valueMap') {
    into.add(t.source);
    for (const c of t.cases) if ('from' in c.value) into.add(c.value.from);
    if (t.fallback) collectSources(t.fallback, into);
  }
}

/** What a FHIR file held besides this entity's rows: resources read by another entity's load, and those not read, by reason. */
function fhirMessage(file: string, entity: string, r: NdjsonRead, fhir: NonNullable<LoadFileInput['fhir']>): string | null {
  const type = fhir.resourceType;
  const parts = [
    ...Object.entries(r.elsewhere).map(([e, n]) => `${n} read as ${e}`),
    ...(r.itemsJoined ? [`${r.itemsJoined} read as items of their PHQ-9 total`] : []),
    ...r.notes,
    ...Object.entries(r.notRead).map(([why, n]) => `${n} not read: ${why}`),
    ...(fhir.reportsBadLines || r.rowsRead + Object.values(r.elsewhere).reduce((a, n) => a + n, 0) === r.resources ? [] : [`the rest in the ${FHIR_SOURCES[type][0]} report`]),
  ];
  return parts.length ? `${file} (${entity}): of its ${r.resources} ${type} resources, ${parts.join(', ')}` : null;
}

const firstLine = (s: string) => s.split('\n')[0] ?? s;

/** A header that is one name holding another delimiter: say so, rather than only listing missing columns. */
function delimiterHint(header: string[]): string {
  if (header.length !== 1) return '';
  const only = header[0] as string;
  const found = ([[';', 'semicolon (;)'], ['\t', 'tab'], ['|', 'pipe (|)']] as const).find(([d]) => only.split(d).length > 2);
  return found ? `; the header "${only.slice(0, 80)}" looks ${found[1]}-delimited: save the file comma-separated` : '';
}
