// PostgreSQL as the engine of the intermediate models, facts and aggregations (issue 21).
// A run gets a schema of its own, closeloop_<run id>, holding the staging tables (copied from
// the DuckDB warehouse with COPY), DuckDB's functions PostgreSQL lacks (compat.sql) and every
// table the models build (UNLOGGED: rebuilt each run, so no write-ahead log is worth its
// cost); close() drops it, so no person-level row stays on the server after the run.
//
// Sharded (workers given): every table with a person_id column is hash-partitioned by it on
// the coordinator, one partition per worker, each a postgres_fdw foreign table on that worker
// (enable_partitionwise_join/aggregate on, async_capable on the servers); tables without one
// (spans, periods, aggregates) stay on the coordinator, and the reference tables (the service
// directory, the restricted ZIP3 list: stg_ and ref_ tables without one) are copied to every
// worker as well. docs/scale-out.md says what postgres_fdw
// pushes down to the workers and what it does not.
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { ENTITIES, contractColumns } from '../../contracts/index.ts';
import { exec as duckExec, sqlString, type Row } from '../../duckdb.ts';
import { sqlType, stagingTable } from '../../staging/tables.ts';
import { POSTGRES } from '../dialect.ts';
import type { SqlEngine } from '../engine.ts';
import { PG_TYPES } from './values.ts';

export interface PostgresEngineOptions {
  /** postgresql://user[:password]@host[:port]/database; PG* environment variables fill in what it leaves out. */
  url: string;
  /** Worker servers: tables with a person_id are hash-partitioned across them (postgres_fdw). */
  workers?: readonly string[];
  runId: string;
  /** A private folder for the COPY files (the run's warehouse folder). */
  scratchDir: string;
  /** Called with the EXPLAIN VERBOSE plan of every statement that reads data, when given. */
  explain?: (label: string, plan: string) => void | Promise<void>;
  /** work_mem of the run's sessions (sorts and hashes beyond it spill to disk). */
  workMem?: string;
}

const COMPAT_SQL = readFileSync(new URL('./compat.sql', import.meta.url), 'utf8');

/** host:port/database of a client, never its user or password. */
const where = (c: pg.Client) => `${c.host}:${c.port}/${c.database}`;

async function connect(url: string, role: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, types: PG_TYPES, application_name: 'closeloop' });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`PostgreSQL ${role} at ${where(client)}: ${(err as Error).message}`);
  }
  // an idle connection error (server restart) is reported by the next query; never an uncaught event
  client.on('error', () => undefined);
  return client;
}

export class PostgresEngine implements SqlEngine {
  readonly dialect = POSTGRES;
  readonly description: string;
  readonly schema: string;
  /** What close() undoes, last made first: only what this run made (never a same-named schema of another). */
  private readonly cleanup: Array<{ sql: string; on: pg.Client }> = [];
  /** Tables that also live on the workers: distributed ones and copies of reference tables. */
  private readonly onWorkers = new Set<string>();

  private constructor(
    private readonly client: pg.Client,
    private readonly workers: pg.Client[],
    private readonly opts: PostgresEngineOptions,
    version: string,
  ) {
    this.schema = `closeloop_${opts.runId.toLowerCase().replace(/[^a-z0-9]+/g, '_')}`;
    this.description = `PostgreSQL ${version} at ${where(client)}${workers.length ? `, tables with a person_id hash-partitioned over ${workers.length} workers (${workers.map(where).join(', ')}) by postgres_fdw` : ''}`;
  }

  static async open(opts: PostgresEngineOptions): Promise<PostgresEngine> {
    const client = await connect(opts.url, 'server');
    const workers: pg.Client[] = [];
    try {
      for (const [i, url] of (opts.workers ?? []).entries()) workers.push(await connect(url, `worker ${i + 1}`));
      const version = ((await client.query('SHOW server_version')).rows[0] as { server_version: string }).server_version.split(' ')[0] as string;
      const major = Number(version.split('.')[0]);
      if (!(major >= 15)) throw new Error(`PostgreSQL ${version} at ${where(client)}: closeloop needs PostgreSQL 15 or later`);
      const engine = new PostgresEngine(client, workers, opts, version);
      try {
        await engine.setUp();
      } catch (err) {
        // whatever setUp made (schemas, shard servers) goes, and the clients end
        await engine.close().catch(() => undefined);
        throw err;
      }
      return engine;
    } catch (err) {
      await Promise.all([client, ...workers].map((c) => c.end().catch(() => undefined)));
      throw err;
    }
  }

  private async setUp(): Promise<void> {
    const { schema } = this;
    // enable_nestloop off: the run's tables have no index, so a nested loop only wins over a
    // hash join on a tiny input, and the planner's row estimates for CTEs are often far too
    // low; at 200,000 people such an estimate (7 rows for 22,133) made fct_prepost a nested
    // loop over two CTEs that ran for minutes, where the hash joins take seconds. A join with
    // no equality (a CROSS JOIN with the spans) is still a nested loop.
    const session = `SET TimeZone = 'UTC'; SET work_mem = ${sqlString(this.opts.workMem ?? '256MB')}; SET enable_nestloop = off; SET search_path = ${schema}`;
    await this.query(`CREATE SCHEMA ${schema}`);
    this.cleanup.push({ sql: `DROP SCHEMA IF EXISTS ${schema} CASCADE`, on: this.client });
    await this.query(session);
    await this.query(COMPAT_SQL);
    if (this.workers.length === 0) return;
    await this.query(`CREATE EXTENSION IF NOT EXISTS postgres_fdw; SET enable_partitionwise_join = on; SET enable_partitionwise_aggregate = on`);
    for (const [i, w] of this.workers.entries()) {
      await this.query(`CREATE SCHEMA ${schema}`, w);
      this.cleanup.push({ sql: `DROP SCHEMA IF EXISTS ${schema} CASCADE`, on: w });
      await this.query(session, w);
      const server = `${schema}_shard${i}`;
      // use_remote_estimate: the workers cost each remote query, and only then does the
      // planner choose to push a join between two shards of one worker down to it
      const options = { host: w.host, port: String(w.port), dbname: w.database ?? '', async_capable: 'true', use_remote_estimate: 'true', fetch_size: '10000', batch_size: '1000' };
      const user: Record<string, string> = { user: w.user ?? '' };
      if (typeof w.password === 'string' && w.password) user.password = w.password;
      const opt = (o: Record<string, string>) => Object.entries(o).map(([k, v]) => `${k} ${sqlString(v)}`).join(', ');
      await this.query(`CREATE SERVER ${server} FOREIGN DATA WRAPPER postgres_fdw OPTIONS (${opt(options)})`);
      this.cleanup.push({ sql: `DROP SERVER IF EXISTS ${server} CASCADE`, on: this.client });
      await this.query(`CREATE USER MAPPING FOR CURRENT_USER SERVER ${server} OPTIONS (${opt(user)})`);
    }
  }

  private async query(sql: string, on: pg.Client = this.client): Promise<pg.QueryResult> {
    const t = TRACE ? performance.now() : 0;
    try {
      return await on.query(sql);
    } catch (err) {
      const e = err as Error & { position?: string };
      const at = e.position ? ` (at ${JSON.stringify(sql.slice(Math.max(0, Number(e.position) - 40), Number(e.position) + 40))})` : '';
      throw new Error(`PostgreSQL at ${where(on)}: ${e.message}${at}`);
    } finally {
      if (TRACE) trace(sql, t);
    }
  }

  private async explain(label: string, select: string): Promise<void> {
    if (!this.opts.explain) return;
    const r = await this.query(`EXPLAIN (VERBOSE, COSTS OFF) ${select}`);
    await this.opts.explain(label, r.rows.map((x: Record<string, string>) => x['QUERY PLAN']).join('\n'));
  }

  async exec(sql: string): Promise<void> {
    if (/^\s*INSERT\b/i.test(sql)) await this.explain(sql.split('\n')[0] as string, sql);
    await this.query(sql);
  }

  async rows<T = Row>(sql: string): Promise<T[]> {
    await this.explain('query', sql);
    return (await this.query(sql)).rows as T[];
  }

  async createTable(name: string, select: string): Promise<void> {
    await this.explain(name, select);
    await this.dropTable(name);
    if (this.workers.length === 0) {
      await this.query(`CREATE UNLOGGED TABLE ${name} AS\n${select}`);
      await this.query(`ANALYZE ${name}`);
      return;
    }
    // The columns the SELECT yields decide the layout: the plan alone, nothing is run.
    await this.query(`CREATE TEMP TABLE _shape AS\n${select}\nWITH NO DATA`);
    const columns = (await this.query(`SELECT a.attname AS name, format_type(coalesce(nullif(t.typbasetype, 0), a.atttypid), CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END) AS type
FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
WHERE a.attrelid = '_shape'::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`)).rows as Array<{ name: string; type: string }>;
    await this.query('DROP TABLE _shape');
    const ddl = columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ');
    if (!columns.some((c) => c.name === 'person_id')) {
      await this.query(`CREATE UNLOGGED TABLE ${name} AS\n${select}`);
      await this.query(`ANALYZE ${name}`);
      if (REFERENCE.test(name)) await this.replicate(name, ddl);
      return;
    }
    await this.createDistributed(name, ddl);
    await this.query(`INSERT INTO ${name}\n${select}`);
    await this.analyzeDistributed(name);
  }

  /** A coordinator table's rows copied into a table of the same name on every worker. */
  private async replicate(name: string, ddl: string): Promise<void> {
    for (const w of this.workers) {
      await this.query(`CREATE UNLOGGED TABLE ${this.schema}.${name} (${ddl})`, w);
      const into = w.query(copyFrom(`COPY ${this.schema}.${name} FROM STDIN`));
      await pipeline(this.client.query(copyTo(`COPY ${name} TO STDOUT`)), into);
      await this.query(`ANALYZE ${this.schema}.${name}`, w);
    }
    this.onWorkers.add(name);
  }

  /** A table hash-partitioned by person_id whose partition i is the table of the same name on worker i. */
  private async createDistributed(name: string, columns: string): Promise<void> {
    const n = this.workers.length;
    for (const w of this.workers) await this.query(`CREATE UNLOGGED TABLE ${this.schema}.${name} (${columns})`, w);
    const parts = this.workers.map((_, i) => `CREATE FOREIGN TABLE ${name}_shard${i} PARTITION OF ${name} FOR VALUES WITH (MODULUS ${n}, REMAINDER ${i})
  SERVER ${this.schema}_shard${i} OPTIONS (schema_name ${sqlString(this.schema)}, table_name ${sqlString(name)})`);
    await this.query(`CREATE TABLE ${name} (${columns}) PARTITION BY HASH (person_id);\n${parts.join(';\n')}`);
    this.onWorkers.add(name);
  }

  /**
   * Statistics on each worker, which the coordinator asks for (use_remote_estimate). Not on
   * the coordinator: ANALYZE of a foreign partition fetches every row of it (PostgreSQL 15).
   */
  private async analyzeDistributed(name: string): Promise<void> {
    await Promise.all(this.workers.map((w) => this.query(`ANALYZE ${this.schema}.${name}`, w)));
  }

  async createEmptyTable(name: string, columns: string): Promise<void> {
    await this.dropTable(name);
    await this.query(`CREATE UNLOGGED TABLE ${name} (${columns})`);
  }

  async dropTable(name: string): Promise<void> {
    await this.query(`DROP TABLE IF EXISTS ${name}`);
    if (this.onWorkers.delete(name)) {
      for (const w of this.workers) await this.query(`DROP TABLE IF EXISTS ${this.schema}.${name}`, w);
    }
  }

  /**
   * The staging tables (the contract's columns, no lineage) from the DuckDB warehouse, each
   * written by DuckDB as CSV into the private scratch folder and streamed into COPY FROM
   * STDIN: bytes pass through Node, rows never become JS values.
   */
  async loadStaging(warehouse: DuckDBConnection): Promise<{ tables: number; rows: number }> {
    let total = 0;
    for (const entity of ENTITIES) {
      const table = stagingTable(entity);
      const cols = contractColumns(entity);
      const names = cols.map((c) => c.name).join(', ');
      const ddl = cols.map((c) => `${c.name} ${sqlType(c.kind)}`).join(', ');
      const file = join(this.opts.scratchDir, `${this.opts.runId}.pg-${table}.csv.tmp`);
      try {
        await duckExec(warehouse, `COPY (SELECT ${names} FROM ${table}) TO ${sqlString(file)} (FORMAT csv, HEADER false)`);
        const sharded = this.workers.length > 0 && cols.some((c) => c.name === 'person_id');
        const target = sharded ? `_load_${table}` : table;
        await this.createEmptyTable(target, ddl);
        total += await this.copyIn(target, names, file);
        if (sharded) {
          await this.createDistributed(table, ddl);
          await this.query(`INSERT INTO ${table} SELECT * FROM ${target}`);
          await this.dropTable(target);
          await this.analyzeDistributed(table);
        } else {
          await this.query(`ANALYZE ${table}`);
          if (this.workers.length > 0) await this.replicate(table, ddl);
        }
      } finally {
        await rm(file, { force: true });
      }
    }
    return { tables: ENTITIES.length, rows: total };
  }

  private async copyIn(table: string, columns: string, file: string): Promise<number> {
    const t = TRACE ? performance.now() : 0;
    const stream = this.client.query(copyFrom(`COPY ${table} (${columns}) FROM STDIN (FORMAT csv)`));
    try {
      await pipeline(createReadStream(file), stream);
    } catch (err) {
      throw new Error(`PostgreSQL at ${where(this.client)}: COPY ${table}: ${(err as Error).message}`);
    }
    if (TRACE) trace(`COPY ${table} FROM STDIN`, t);
    return stream.rowCount;
  }

  async copyToWarehouse(table: string, columns: string, warehouse: DuckDBConnection): Promise<void> {
    const file = join(this.opts.scratchDir, `${this.opts.runId}.pg-${table}.csv.tmp`);
    try {
      const stream = this.client.query(copyTo(`COPY (SELECT * FROM ${table}) TO STDOUT (FORMAT csv)`));
      await pipeline(stream, createWriteStream(file, { mode: 0o600 }));
      await duckExec(warehouse, `CREATE OR REPLACE TEMP TABLE ${table} (${columns})`);
      // every value as text, cast on insert: doubles as PostgreSQL prints them (shortest
      // exact form) parse back to the same bits; an empty quoted field is '', unquoted NULL
      await duckExec(warehouse, `INSERT INTO ${table} SELECT * FROM read_csv(${sqlString(file)}, header = false, all_varchar = true,
  delim = ',', quote = '"', escape = '"', allow_quoted_nulls = false, auto_detect = false, columns = {${columnsOf(columns).map((c, i) => `'c${i}': 'VARCHAR'`).join(', ')}})`);
    } finally {
      await rm(file, { force: true });
    }
  }

  /** Drops the run's schema (and the shard servers and worker schemas) and disconnects. */
  async close(): Promise<void> {
    const errors: string[] = [];
    const attempt = async (sql: string, on: pg.Client) => {
      try {
        await this.query(sql, on);
      } catch (err) {
        errors.push((err as Error).message);
      }
    };
    for (const { sql, on } of this.cleanup.splice(0).reverse()) await attempt(sql, on);
    await Promise.all([this.client, ...this.workers].map((c) => c.end().catch(() => undefined)));
    if (errors.length) throw new Error(`cleaning up schema ${this.schema} failed: ${errors.join('; ')}`);
  }
}

/** Reference tables: copied to every worker when they have no person_id to be partitioned by. */
const REFERENCE = /^(stg|ref)_/;

/** The column names of "name TYPE, name TYPE(p, s), ..." */
function columnsOf(ddl: string): string[] {
  return ddl.split(/,(?![^(]*\))/).map((c) => (c.trim().split(/\s+/)[0] as string));
}

function quoteIdent(s: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(s) ? s : `"${s.replaceAll('"', '""')}"`;
}

const TRACE = Boolean(process.env.CLOSELOOP_TRACE);
function trace(sql: string, startedAt: number) {
  const ms = performance.now() - startedAt;
  if (ms >= Number(process.env.CLOSELOOP_TRACE_MIN_MS ?? 50)) process.stderr.write(`[trace pg] ${ms.toFixed(0).padStart(7)} ms  ${sql.replace(/\s+/g, ' ').slice(0, 140)}\n`);
}
