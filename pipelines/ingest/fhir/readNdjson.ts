// Reads a FHIR Bulk Data file (ndjson, one resource per line, optionally gzip) into the
// same temporary tables the CSV reader makes (raw_file, line_map, skip_rowids), so the
// SQL rules, quarantine, orphans, keys and ledger are the CSV path's. Each line is parsed
// and mapped here (JSON cannot be split in SQL without losing the line of a bad one);
// rows go to DuckDB through an appender, set work (screening items -> one row per
// screening and domain) is SQL. Lines we cannot use go to temp table resource_rejects.
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api';
import { exec, rows, sqlIdent as id, sqlString as str } from '../../../models/duckdb.ts';
import { FileRejected, type RawRead } from '../readSource.ts';
import { ReadFailed } from '../scanFile.ts';
import { fhirCodes } from './codes.ts';
import { mapResource, SHARED, type FhirResourceType } from './resources.ts';

export interface NdjsonRead extends RawRead {
  /** Lines quarantined by this reader (temp table resource_rejects). */
  rejects: number;
  /** Resources of the file's type that are not ours to read, by reason (reported, not loaded). */
  notRead: Record<string, number>;
  /** Resources read by the load of another entity from the same file. */
  elsewhere: Record<string, number>;
  /** Lines holding a resource (rowsRead: those this load accounts for). */
  resources: number;
  /** PHQ-9 item Observations joined to their total (a row has up to nine). */
  itemsJoined: number;
  /** What else the file's resources became (a referral's Task versions, Tasks waiting for their ServiceRequest). */
  notes: string[];
  /** ServiceRequests or Task versions to keep in the warehouse side tables (saveReferralSides, inside the load's transaction). */
  sides: boolean;
}

/** The column holding the resource as it came (the raw record of a quarantined row). */
export const RESOURCE_COLUMN = 'fhir_resource';

const decoder = new TextDecoder('utf-8', { fatal: true });

export async function readNdjson(conn: DuckDBConnection, path: string, gzip: boolean, fileType: FhirResourceType, entity: string, columns: string[], reportsBadLines: boolean): Promise<NdjsonRead> {
  const header = [...columns, RESOURCE_COLUMN];
  const cols = header.map((_, i) => `c${i} VARCHAR`).join(', ');
  await exec(conn, `DROP TABLE IF EXISTS fhir_rows; CREATE TEMP TABLE fhir_rows (line BIGINT, ${cols})`);
  await exec(conn, `DROP TABLE IF EXISTS resource_rejects; CREATE TEMP TABLE resource_rejects (line BIGINT, rule VARCHAR, column_name VARCHAR, message VARCHAR, record VARCHAR)`);
  // PHQ-9 items and the item ids each total lists (hasMember), joined in SQL below.
  await exec(conn, `DROP TABLE IF EXISTS fhir_items; CREATE TEMP TABLE fhir_items (line BIGINT, id VARCHAR, item INTEGER, value VARCHAR)`);
  await exec(conn, `DROP TABLE IF EXISTS fhir_members; CREATE TEMP TABLE fhir_members (line BIGINT, member VARCHAR)`);
  const out = await conn.createAppender('fhir_rows', 'main', 'temp');
  const bad = await conn.createAppender('resource_rejects', 'main', 'temp');
  const items = await conn.createAppender('fhir_items', 'main', 'temp');
  const members = await conn.createAppender('fhir_members', 'main', 'temp');
  // ServiceRequest / Task: the resources go to a side table of their own (temp fhir_side).
  const sideColumns: readonly string[] = fileType === 'ServiceRequest' ? SR_COLUMNS : fileType === 'Task' ? TASK_COLUMNS : [];
  let side: DuckDBAppender | null = null;
  if (sideColumns.length) {
    await exec(conn, `DROP TABLE IF EXISTS fhir_side; CREATE TEMP TABLE fhir_side (line BIGINT, ${sideColumns.map((c) => `${id(c)} VARCHAR`).join(', ')}, resource VARCHAR)`);
    side = await conn.createAppender('fhir_side', 'main', 'temp');
  }
  const notRead: Record<string, number> = {};
  const elsewhere: Record<string, number> = {};
  const codes = fhirCodes();
  let rejects = 0;
  // Every line with a resource; and those this load accounts for (its rows, items and
  // rejects, and for the reporting load the lines no entity reads), so the rows_read of
  // a file's loads add up to its resources.
  let resources = 0;
  let read = 0;
  const onLine = (line: number, bytes: Buffer) => {
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      resources++;
      if (reportsBadLines) {
        appendReject(bad, line, 'bad_json', null, 'the line is not valid UTF-8', bytes.toString('latin1'));
        rejects++;
        read++;
      }
      return;
    }
    if (text.trim() === '') return; // a blank line holds no resource
    resources++;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      if (reportsBadLines) {
        appendReject(bad, line, 'bad_json', null, `not JSON: ${(err as Error).message}`, text);
        rejects++;
        read++;
      }
      return;
    }
    const o = mapResource(json, fileType, entity, codes);
    if (o.kind === 'elsewhere') {
      elsewhere[o.entity] = (elsewhere[o.entity] ?? 0) + 1;
      return;
    }
    if (!reportsBadLines && (o.kind === 'not_read' || (o.kind === 'reject' && ['bad_json', 'wrong_resource_type', 'bad_resource'].includes(o.rule)))) return;
    read++;
    if (o.kind === 'side') {
      side?.appendBigInt(BigInt(line));
      for (const c of sideColumns) {
        const v = o.values[c];
        if (v === null || v === undefined) side?.appendNull();
        else side?.appendVarchar(v);
      }
      side?.appendVarchar(text);
      side?.endRow();
    } else if (o.kind === 'row') {
      out.appendBigInt(BigInt(line));
      for (const c of columns) {
        const v = o.values[c];
        if (v === null || v === undefined) out.appendNull();
        else out.appendVarchar(v);
      }
      out.appendVarchar(text);
      out.endRow();
      for (const m of o.members ?? []) {
        members.appendBigInt(BigInt(line));
        members.appendVarchar(m);
        members.endRow();
      }
    } else if (o.kind === 'item') {
      items.appendBigInt(BigInt(line));
      items.appendVarchar(o.id);
      items.appendInteger(o.item);
      items.appendVarchar(o.value);
      items.endRow();
    } else if (o.kind === 'reject') {
      // The resource's own type and id, as it names them, lead the message.
      const { resourceType: rt, id: rid } = json as { resourceType?: unknown; id?: unknown };
      const named = typeof rt === 'string' && typeof rid === 'string' && rid !== '' ? `${rt}/${rid}: ` : '';
      appendReject(bad, line, o.rule, o.column, `${named}${o.message}`, text);
      rejects++;
    } else {
      notRead[o.reason] = (notRead[o.reason] ?? 0) + 1;
    }
  };
  try {
    await eachLine(path, gzip, onLine);
    for (const a of [out, bad, items, members, side]) a?.flushSync();
  } finally {
    for (const a of [out, bad, items, members, side]) a?.closeSync();
  }
  const notes: string[] = [];
  if (side) {
    if (columns.join() !== REFERRAL_COLUMNS.join()) throw new Error('referrals columns changed: update readNdjson');
    await exec(conn, `DROP TABLE IF EXISTS fhir_rows; CREATE TEMP TABLE fhir_rows AS ${fileType === 'ServiceRequest' ? referralsOfServiceRequests : referralsOfTasks}`);
    // The Task's patient (Task.for) must be the ServiceRequest's (subject): which one the
    // referral is for is not guessed, the referral is quarantined (c1 person_id, c13 Task.for).
    const mismatch = `c13 IS NOT NULL AND c13 IS DISTINCT FROM c1`;
    const [mm] = await rows<{ n: number }>(conn, `SELECT count(*) AS n FROM fhir_rows WHERE ${mismatch}`);
    if (mm?.n) {
      await exec(conn, `INSERT INTO resource_rejects SELECT line, 'patient_mismatch', 'person_id',
          'ServiceRequest/' || c0 || ': its Task is for Patient/' || c13 || ', the ServiceRequest (subject) for Patient/' || c1, c12
        FROM fhir_rows WHERE ${mismatch}`);
      await exec(conn, `DELETE FROM fhir_rows WHERE ${mismatch}`);
      rejects += mm.n;
    }
    await exec(conn, 'ALTER TABLE fhir_rows DROP COLUMN c13');
    if (fileType === 'Task') {
      const [c] = await rows<{ versions: number; referrals: number; waiting: number }>(conn, `SELECT count(*) AS versions,
        count(DISTINCT referral_id) FILTER (WHERE referral_id IN (SELECT c0 FROM fhir_rows)) AS referrals,
        count(*) FILTER (WHERE referral_id NOT IN (SELECT c0 FROM fhir_rows)) AS waiting FROM fhir_side`);
      const joined = (c?.versions ?? 0) - (c?.waiting ?? 0);
      if (joined) notes.push(`${joined} Task version${joined === 1 ? '' : 's'} read as the state of ${c?.referrals} referral${c?.referrals === 1 ? '' : 's'}`);
      if (c?.waiting) notes.push(`${c.waiting} kept until their ServiceRequest loads (a run loads Task files first)`);
    } else {
      const [c] = await rows<{ n: number }>(conn, `SELECT count(*) AS n FROM fhir_side WHERE referral_id IN (SELECT referral_id FROM fhir_task_versions)`);
      if (c?.n) notes.push(`${c.n} read with the Task versions kept for ${c.n === 1 ? 'it' : 'them'}`);
    }
  }
  const [itemCounts] = await rows<{ joined: number; alone: number }>(conn, `SELECT
    count(*) FILTER (WHERE id IN (SELECT member FROM fhir_members)) AS joined, count(*) FILTER (WHERE id NOT IN (SELECT member FROM fhir_members)) AS alone FROM fhir_items`);
  const itemsJoined = itemCounts?.joined ?? 0;
  if (itemCounts?.alone) notRead['PHQ-9 item that no total lists in hasMember'] = itemCounts.alone;
  // A total's items: the Observations its hasMember names (the first by line if two answer one item).
  const phq9 = `WITH it AS (
      SELECT m.line, i.item, arg_min(i.value, i.line) AS value FROM fhir_members m JOIN fhir_items i ON i.id = m.member GROUP BY m.line, i.item)
    SELECT f.line, any_value(f.c0) AS c0, any_value(f.c1) AS c1, any_value(f.c2) AS c2, any_value(f.c3) AS c3,
      ${[1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => `max(it.value) FILTER (WHERE it.item = ${n}) AS c${n + 3}`).join(', ')}, any_value(f.c13) AS c13
    FROM fhir_rows f LEFT JOIN it ON it.line = f.line GROUP BY f.line`;
  if (entity === 'phq9' && columns.join() !== 'assessment_id,person_id,assessed_on,total_score,item_1,item_2,item_3,item_4,item_5,item_6,item_7,item_8,item_9') throw new Error('phq9 columns changed: update readNdjson');
  // Screening items of one screening and domain (AHC asks two food questions) are one
  // row: positive if any item is, else negative if any is, else declined. Its line is
  // its first item's; its raw record holds every item.
  // An item whose instrument its answer does not settle (marked SHARED) takes the one its
  // screening's other items name in this file, else the first listed.
  const settled = `SELECT line, c0, c1, c2, CASE WHEN ends_with(c3, ${str(SHARED)})
      THEN coalesce(min(c3) FILTER (WHERE NOT ends_with(c3, ${str(SHARED)})) OVER (PARTITION BY c0), rtrim(c3, ${str(SHARED)})) ELSE c3 END AS c3, c4, c5, c6 FROM fhir_rows`;
  const source = side ? `SELECT * FROM fhir_rows` : entity === 'phq9' ? phq9 : entity === 'screenings'
    ? `SELECT min(line) AS line, c0, c1, c2, c3, c4,
         CASE WHEN bool_or(c5 = 'positive') THEN 'positive' WHEN bool_or(c5 = 'negative') THEN 'negative' WHEN bool_or(c5 = 'declined') THEN 'declined' END AS c5,
         string_agg(c6, '\n' ORDER BY line) AS c6
       FROM (${settled}) GROUP BY c0, c1, c2, c3, c4`
    : `SELECT * FROM fhir_rows`;
  if (entity === 'screenings' && columns.join() !== 'screening_id,person_id,screened_on,instrument,domain,result') throw new Error('screenings columns changed: update readNdjson');
  // raw_file in line order: row n is line_map's row n (rowid -> line, one point per row).
  await exec(conn, `DROP TABLE IF EXISTS fhir_source; CREATE TEMP TABLE fhir_source AS ${source}`);
  await exec(conn, `DROP TABLE IF EXISTS raw_file; CREATE TEMP TABLE raw_file AS SELECT ${header.map((_, i) => id(`c${i}`)).join(', ')} FROM fhir_source ORDER BY line`);
  await exec(conn, `DROP TABLE IF EXISTS line_map; CREATE TEMP TABLE line_map AS SELECT (row_number() OVER (ORDER BY line) - 1)::BIGINT AS from_rowid, line::BIGINT AS line_at FROM fhir_source`);
  await exec(conn, `DROP TABLE fhir_source; DROP TABLE fhir_rows; DROP TABLE fhir_items; DROP TABLE fhir_members; DROP TABLE IF EXISTS skip_rowids; CREATE TEMP TABLE skip_rowids (_rowid BIGINT)`);
  return { header, malformed: 0, rowsRead: read, emptyIsText: false, rejects, notRead, elsewhere, resources, itemsJoined, notes, sides: side !== null };
}

const SR_COLUMNS = ['referral_id', 'person_id', 'need_domain', 'referred_on', 'source_org_id', 'target_org_id', 'program_id'] as const;
const TASK_COLUMNS = ['task_id', 'referral_id', 'fhir_status', 'status', 'modified', 'version', 'on_date', 'started_on', 'ended_on', 'outcome', 'owner_org_id', 'for_person_id'] as const;
const REFERRAL_COLUMNS = ['referral_id', 'person_id', 'need_domain', 'referred_on', 'source_org_id', 'target_org_id', 'program_id', 'status', 'accepted_on', 'service_started_on', 'closed_on', 'outcome'];

/** The warehouse side tables a referral is built from: every ServiceRequest, and every version of every Task seen. */
export const REFERRAL_SIDE_DDL = [
  `CREATE TABLE IF NOT EXISTS fhir_service_requests (${SR_COLUMNS.map((c) => `${c} VARCHAR`).join(', ')}, resource VARCHAR, _file VARCHAR, _line BIGINT, _run_id VARCHAR)`,
  `CREATE TABLE IF NOT EXISTS fhir_task_versions (${TASK_COLUMNS.map((c) => `${c} VARCHAR`).join(', ')}, resource VARCHAR, _file VARCHAR, _line BIGINT, _run_id VARCHAR)`,
  // a warehouse made before Task.for was read (the Task versions kept then are checked as having none)
  `ALTER TABLE fhir_task_versions ADD COLUMN IF NOT EXISTS for_person_id VARCHAR`,
];

const TASK_COLS = TASK_COLUMNS.join(', ');
const SAME_VERSION = (a: string, b: string) => `${a}.task_id = ${b}.task_id AND ${a}.version IS NOT DISTINCT FROM ${b}.version AND ${a}.modified IS NOT DISTINCT FROM ${b}.modified`;
const CLOSED = `('completed', 'failed', 'rejected', 'cancelled')`;

/**
 * The state of each referral's Task, from the versions in T: the Task with the latest
 * version decides (a referral may have several Tasks); its status and outcome are the
 * latest version's; accepted_on is the first version accepted, service_started_on the
 * executionPeriod start (else the first version in progress), closed_on the end of the
 * executionPeriod of a closed Task (else the day its closing version was written).
 */
const taskStates = (versions: string) => `T AS (${versions}),
  ranked AS (SELECT *, row_number() OVER (PARTITION BY referral_id
      ORDER BY TRY_CAST(modified AS TIMESTAMPTZ) DESC NULLS LAST, TRY_CAST(version AS BIGINT) DESC NULLS LAST, ord DESC, _run_id DESC NULLS FIRST, _line DESC) AS rk FROM T),
  win AS (SELECT * FROM ranked WHERE rk = 1),
  hist AS (SELECT t.referral_id, min(t.on_date) FILTER (WHERE t.fhir_status = 'accepted') AS accepted_on, min(t.on_date) FILTER (WHERE t.fhir_status = 'in-progress') AS in_progress_on
    FROM T t JOIN win w ON w.referral_id = t.referral_id AND w.task_id = t.task_id GROUP BY t.referral_id),
  agg AS (SELECT w.referral_id, w.status, w.owner_org_id, w.for_person_id, h.accepted_on, coalesce(w.started_on, h.in_progress_on) AS service_started_on,
      CASE WHEN w.fhir_status IN ${CLOSED} THEN coalesce(w.ended_on, w.on_date) END AS closed_on, w.outcome
    FROM win w JOIN hist h USING (referral_id))`;

const referralColumns = (sr: string, a: string) => `${sr}.referral_id AS c0, ${sr}.person_id AS c1, ${sr}.need_domain AS c2, ${sr}.referred_on AS c3, ${sr}.source_org_id AS c4,
  coalesce(${a}.owner_org_id, ${sr}.target_org_id) AS c5, ${sr}.program_id AS c6, coalesce(${a}.status, 'pending') AS c7,
  ${a}.accepted_on AS c8, ${a}.service_started_on AS c9, ${a}.closed_on AS c10, ${a}.outcome AS c11`;

/** A ServiceRequest file: a referral per line, in the state of the Task versions already kept (none: pending). */
const referralsOfServiceRequests = `WITH ${taskStates(`SELECT ${TASK_COLS}, 0 AS ord, _run_id, _line FROM fhir_task_versions`)}
  SELECT s.line, ${referralColumns('s', 'a')}, s.resource AS c12, a.for_person_id AS c13 FROM fhir_side s LEFT JOIN agg a USING (referral_id)`;

/** A Task file: each referral its versions touch, from its kept ServiceRequest (none yet: the versions wait for it). */
const referralsOfTasks = `WITH ${taskStates(`SELECT ${TASK_COLS}, 0 AS ord, _run_id, _line FROM fhir_task_versions v WHERE NOT EXISTS (SELECT 1 FROM fhir_side n WHERE ${SAME_VERSION('n', 'v')})
      UNION ALL SELECT ${TASK_COLS}, 1, NULL, line FROM fhir_side`)},
    touched AS (SELECT referral_id, min(line) AS line, string_agg(resource, '\n' ORDER BY line) AS resource FROM fhir_side GROUP BY referral_id)
  SELECT t.line, ${referralColumns('s', 'a')}, s.resource || '\n' || t.resource AS c12, a.for_person_id AS c13
  FROM touched t JOIN fhir_service_requests s USING (referral_id) JOIN agg a USING (referral_id)`;

/** Keeps this file's ServiceRequests (the first copy of an id) or Task versions in the side tables, replacing what they restate. */
export async function saveReferralSides(conn: DuckDBConnection, fileType: FhirResourceType, file: string, runId: string) {
  const lineage = `${str(file)}, line, ${str(runId)}`;
  if (fileType === 'ServiceRequest') {
    await exec(conn, `DELETE FROM fhir_service_requests WHERE referral_id IN (SELECT referral_id FROM fhir_side)`);
    await exec(conn, `INSERT INTO fhir_service_requests SELECT ${SR_COLUMNS.join(', ')}, resource, ${lineage} FROM fhir_side QUALIFY row_number() OVER (PARTITION BY referral_id ORDER BY line) = 1`);
  } else {
    await exec(conn, `DELETE FROM fhir_task_versions v WHERE EXISTS (SELECT 1 FROM fhir_side n WHERE ${SAME_VERSION('n', 'v')})`);
    await exec(conn, `INSERT INTO fhir_task_versions (${TASK_COLS}, resource, _file, _line, _run_id) SELECT ${TASK_COLS}, resource, ${lineage} FROM fhir_side
      QUALIFY row_number() OVER (PARTITION BY task_id, version, modified ORDER BY line) = 1`);
  }
  await exec(conn, 'DROP TABLE fhir_side');
}

function appendReject(a: DuckDBAppender, line: number, rule: string, column: string | null, message: string, record: string) {
  a.appendBigInt(BigInt(line));
  a.appendVarchar(rule);
  if (column === null) a.appendNull();
  else a.appendVarchar(column);
  a.appendVarchar(message);
  a.appendVarchar(record);
  a.endRow();
}

/** Calls onLine(line number, bytes without the line end) for every line; \r\n and \n end a line. */
async function eachLine(path: string, gzip: boolean, onLine: (line: number, bytes: Buffer) => void) {
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  let ioError: NodeJS.ErrnoException | null = null;
  raw.on('error', (err) => {
    ioError = err;
  });
  const stream = gzip ? raw.pipe(createGunzip()) : raw;
  if (stream !== raw) raw.on('error', (err) => stream.destroy(err));
  let carry: Buffer = Buffer.alloc(0);
  let line = 0;
  try {
    for await (const chunk of stream) {
      let buf = carry.length ? Buffer.concat([carry, chunk as Buffer]) : (chunk as Buffer);
      let start = 0;
      for (let nl = buf.indexOf(0x0a, start); nl !== -1; nl = buf.indexOf(0x0a, start)) {
        line++;
        onLine(line, buf.subarray(start, nl > start && buf[nl - 1] === 0x0d ? nl - 1 : nl));
        start = nl + 1;
      }
      buf = buf.subarray(start);
      carry = Buffer.from(buf);
    }
  } catch (err) {
    const io = ioError as NodeJS.ErrnoException | null;
    if (io) throw new ReadFailed(io.code, io.message);
    throw new FileRejected(`rejected whole: cannot be read${gzip ? ' as gzip' : ''}: ${(err as Error).message}`);
  }
  if (carry.length) onLine(line + 1, carry[carry.length - 1] === 0x0d ? carry.subarray(0, -1) : carry);
}
