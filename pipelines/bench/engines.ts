// The engines compared (npm run bench:engines, and the equivalence tests): a demo drop loaded
// through the real ingestion steps into a DuckDB warehouse, the metric engine run on DuckDB,
// on one PostgreSQL server and on PostgreSQL sharded over two workers (postgres_fdw) over the
// same staging tables, every table the engine writes compared row for row (counts exact,
// other numbers to a relative 1e-9), the time of each, and what the sharded plans push down
// to the workers (EXPLAIN VERBOSE of every statement). Person-level rows never reach JS.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { ENTITIES } from '../../models/contracts/index.ts';
import { openDatabase, rows, type Database, type Row } from '../../models/duckdb.ts';
import { PostgresEngine } from '../../models/engines/postgres/engine.ts';
import { computeMetrics } from '../../models/metrics/engine.ts';
import { generateDemo } from '../demo/generate.ts';
import { discoverInbox } from '../ingest/discover.ts';
import { loadFile } from '../ingest/loadFile.ts';
import { scanFile } from '../ingest/scanFile.ts';
import { WAREHOUSE_DDL } from '../ingest/warehouseSchema.ts';
import { localPostgresMissing, startLocalCluster, type LocalCluster } from '../postgres/localCluster.ts';

/** A warehouse file holding the inbox's rows, loaded as a run loads them (no metrics). */
export async function loadWarehouse(inbox: string, dir: string): Promise<Database> {
  const db = await openDatabase(join(dir, 'warehouse.duckdb'), { memoryLimit: '2GB' });
  for (const ddl of WAREHOUSE_DDL) await db.conn.run(ddl);
  const { files } = await discoverInbox(inbox, []);
  for (const entity of ENTITIES) {
    for (const f of files.filter((x) => x.entity?.name === entity.name)) {
      const scan = await scanFile(f.path, { text: f.format === 'csv', gzip: f.gzip });
      const r = await loadFile(db.conn, { path: f.path, entity, scan, format: f.format, gzip: f.gzip, runId: 'equivalence', runDate: '2026-11-01' });
      if (r.rejected) throw new Error(r.message ?? `${f.name} rejected`);
    }
  }
  return db;
}

/** What the engine writes to the warehouse: the results and the tables beside them. */
export const ENGINE_TABLES = {
  metric_results: 'metric_id, period_grain, period_start, dimension, group_value',
  km_curves: 'metric_id, period_grain, period_start, dimension, group_value, time',
  gap_table: 'domain, county_fips',
  prepost_summary: 'measure, dimension, group_value',
} as const;

/** The tables' rows in a fixed order, without run_id (each run has its own). */
export async function snapshot(db: Database, tables: Record<string, string> = ENGINE_TABLES): Promise<Record<string, Row[]>> {
  const out: Record<string, Row[]> = {};
  for (const [t, order] of Object.entries(tables)) {
    out[t] = (await rows(db.conn, `SELECT * FROM ${t} ORDER BY ${order}`)).map(({ run_id: _, ...r }) => r);
  }
  return out;
}

export interface Difference {
  table: string;
  row: number;
  column: string;
  a: unknown;
  b: unknown;
}

/**
 * Counts exactly (a number that is a whole number on either side must be the same whole
 * number on the other), other numbers to a relative 1e-9, everything else exactly.
 */
export function sameValue(a: unknown, b: unknown, tolerance = 1e-9): boolean {
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isInteger(a) || Number.isInteger(b)) return a === b;
    if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
    return Math.abs(a - b) <= tolerance * Math.max(1, Math.abs(a), Math.abs(b));
  }
  return a === b;
}

/** Every differing cell (row counts first), up to `limit`. */
export function compareSnapshots(a: Record<string, Row[]>, b: Record<string, Row[]>, limit = 20): { differences: Difference[]; rows: Record<string, number> } {
  const differences: Difference[] = [];
  const counts: Record<string, number> = {};
  for (const table of Object.keys(a)) {
    const x = a[table] ?? [];
    const y = b[table] ?? [];
    counts[table] = x.length;
    if (x.length !== y.length) differences.push({ table, row: -1, column: '(rows)', a: x.length, b: y.length });
    for (let i = 0; i < Math.min(x.length, y.length) && differences.length < limit; i++) {
      for (const column of Object.keys(x[i] ?? {})) {
        const va = x[i]?.[column];
        const vb = y[i]?.[column];
        if (!sameValue(va, vb)) differences.push({ table, row: i, column, a: va, b: vb });
      }
    }
  }
  return { differences, rows: counts };
}

/** Columns that differ between two runs of the same drop by nature: ids and times of the run. */
const RUN_COLUMNS = new Set(['run_id', 'last_loaded_run_id', 'last_loaded_at', 'started_at', 'published_at']);

/** Every table of a published file, each in a fixed order, without the run's ids and times. */
export async function publishedSnapshot(file: string): Promise<Record<string, Row[]>> {
  const db = await openDatabase(file, { readOnly: true, memoryLimit: '1GB' });
  try {
    const out: Record<string, Row[]> = {};
    for (const { t } of await rows<{ t: string }>(db.conn, 'SELECT table_name AS t FROM duckdb_tables() ORDER BY 1')) {
      const cols = (await rows<{ c: string }>(db.conn, `SELECT column_name AS c FROM duckdb_columns() WHERE table_name = '${t}' ORDER BY column_index`))
        .map((r) => r.c).filter((c) => !RUN_COLUMNS.has(c));
      out[t] = await rows(db.conn, `SELECT ${cols.map((c) => `"${c}"`).join(', ')} FROM ${t} ORDER BY ALL`);
    }
    return out;
  } finally {
    db.close();
  }
}

/** What the sharded plans run where: per statement, what postgres_fdw pushed to the workers. */
export interface PushdownReport {
  statements: number;
  /** Statements reading a distributed table. */
  reading: number;
  remoteScans: number;
  asyncScans: number;
  /** Statements with a join of two shards done on a worker, and how many such joins. */
  withRemoteJoin: number;
  remoteJoins: number;
  withRemoteAggregate: number;
  remoteAggregates: number;
  /** Coordinator nodes above the remote scans, by kind: how often each appears. */
  coordinator: Record<string, number>;
  /** Per statement: label, remote joins, remote aggregates, coordinator node kinds. */
  detail: Array<{ label: string; remoteJoins: number; remoteAggregates: number; coordinator: string[] }>;
}

const COORDINATOR_NODES: Array<[RegExp, string]> = [
  [/^(Hash Join|Merge Join|Nested Loop)\b/, 'join'],
  [/^(MixedAggregate|GroupAggregate|HashAggregate)\b/, 'aggregate'],
  [/^WindowAgg\b/, 'window function'],
  [/^(Sort|Incremental Sort)\b/, 'sort'],
  [/^Recursive Union\b/, 'recursive CTE'],
  [/^Insert on\b/, 'insert'],
];

/** Reads the plans the engine's explain option wrote ("-- label" then the plan). */
export function pushdownReport(plans: string): PushdownReport {
  const report: PushdownReport = { statements: 0, reading: 0, remoteScans: 0, asyncScans: 0, withRemoteJoin: 0, remoteJoins: 0, withRemoteAggregate: 0, remoteAggregates: 0, coordinator: {}, detail: [] };
  for (const section of plans.split(/^-- /m).slice(1)) {
    const [label = '', ...lines] = section.split('\n');
    if (lines.every((l) => !l.trim())) continue;
    report.statements++;
    const nodes = lines.map((l) => l.replace(/^\s*(->\s*)?/, ''));
    const scans = nodes.filter((n) => /^(Async )?Foreign Scan\b/.test(n)).length;
    if (scans === 0) continue;
    report.reading++;
    report.remoteScans += scans;
    report.asyncScans += nodes.filter((n) => /^Async Foreign Scan\b/.test(n)).length;
    const joins = nodes.filter((n) => /^Relations: .*\bJOIN\b/.test(n)).length;
    const aggs = nodes.filter((n) => /^Relations: Aggregate on\b/.test(n)).length;
    report.remoteJoins += joins;
    report.remoteAggregates += aggs;
    if (joins) report.withRemoteJoin++;
    if (aggs) report.withRemoteAggregate++;
    const kinds = new Set<string>();
    for (const n of nodes) for (const [re, kind] of COORDINATOR_NODES) if (re.test(n)) kinds.add(kind);
    for (const k of kinds) report.coordinator[k] = (report.coordinator[k] ?? 0) + 1;
    report.detail.push({ label: label.slice(0, 80), remoteJoins: joins, remoteAggregates: aggs, coordinator: [...kinds] });
  }
  return report;
}

interface EngineTiming {
  engine: string;
  seconds: number;
  /** The staging copy into PostgreSQL, part of seconds. */
  copySeconds: number | null;
  rows: Record<string, number>;
  differences: Difference[];
}

const repo = resolve(new URL('../..', import.meta.url).pathname);

/** A short hash of every file of the demo generator (pipelines/demo). */
function generatorHash(): string {
  const dir = join(repo, 'pipelines', 'demo');
  const h = createHash('sha256');
  for (const f of (readdirSync(dir, { recursive: true }) as string[]).sort()) {
    const path = join(dir, f);
    if (/\.(ts|sql)$/.test(f) && statSync(path).isFile()) h.update(f).update(readFileSync(path));
  }
  return h.digest('hex').slice(0, 10);
}

/**
 * npm run bench:engines [-- --people=N] [--repeats=R]: the metric engine on DuckDB, on one
 * PostgreSQL server and on PostgreSQL sharded over two workers, all three on this machine.
 */
export async function main(argv: string[]): Promise<number> {
  const arg = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const people = Number(arg('people') ?? 200_000);
  const repeats = Number(arg('repeats') ?? 1);
  const missing = localPostgresMissing();
  if (missing) {
    console.error(missing);
    return 1;
  }
  const cache = join(repo, 'bench-cache');
  mkdirSync(cache, { recursive: true });
  // the drop is cached under a hash of the generator's sources: a changed generator (a new
  // entity, other planted rows) makes a new drop, never a stale one
  const demo = join(cache, `demo-42-${people}-${generatorHash()}`);
  if (!ENTITIES.every((e) => existsSync(join(demo, `${e.name}.csv`)))) {
    console.log(`Generating ${people.toLocaleString('en-US')} people ...`);
    await generateDemo({ people, seed: 42, outDir: demo });
  }
  const work = mkdtempSync(join(os.tmpdir(), 'closeloop-bench-engines-'));
  const clusters: LocalCluster[] = [];
  const plansFile = join(cache, `engines-plans-${people}.txt`);
  try {
    for (const name of ['coordinator', 'worker1', 'worker2']) clusters.push(await startLocalCluster({ name }));
    const [server, ...workers] = clusters as [LocalCluster, LocalCluster, LocalCluster];
    console.log(`Loading ${demo} into a DuckDB warehouse ...`);
    const db = await loadWarehouse(demo, work);
    const asOf = '2026-10-31';
    const timings: EngineTiming[] = [];
    let reference: Record<string, Row[]> | null = null;
    const engines = [
      { name: 'DuckDB (embedded)', pg: null },
      { name: 'PostgreSQL 15, one server', pg: { url: server.url, workers: [] as string[] } },
      { name: 'PostgreSQL 15, coordinator + 2 workers (postgres_fdw)', pg: { url: server.url, workers: workers.map((w) => w.url) } },
    ];
    // the timed passes, then (untimed: EXPLAIN asks the workers for estimates again) the
    // sharded engine once more, writing every plan
    const passes = [
      ...Array.from({ length: repeats }, () => engines.map((e) => ({ ...e, plans: false }))).flat(),
      ...(argv.includes('--no-plans') ? [] : [{ ...engines[2] as (typeof engines)[number], plans: true }]),
    ];
    for (const e of passes) {
      if (e.plans) writeFileSync(plansFile, '');
      const started = performance.now();
      let copySeconds: number | null = null;
      if (!e.pg) await computeMetrics(db.conn, { asOf, runId: 'bench' });
      else {
        const pg = await PostgresEngine.open({
          url: e.pg.url, workers: e.pg.workers, runId: `bench-${timings.length}`, scratchDir: work,
          explain: e.plans ? (label, plan) => appendFileSync(plansFile, `\n-- ${label}\n${plan}\n`) : undefined,
        });
        try {
          await pg.loadStaging(db.conn);
          copySeconds = (performance.now() - started) / 1000;
          await computeMetrics(db.conn, { asOf, runId: 'bench', engine: pg });
        } finally {
          await pg.close();
        }
      }
      const seconds = (performance.now() - started) / 1000;
      const snap = await snapshot(db);
      reference ??= snap;
      const c = compareSnapshots(reference, snap);
      const engine = e.plans ? `${e.name}, with EXPLAIN VERBOSE of every statement` : e.name;
      timings.push({ engine, seconds, copySeconds, rows: c.rows, differences: c.differences });
      console.log(`  ${engine}: ${seconds.toFixed(1)} s${copySeconds === null ? '' : ` (staging copy ${copySeconds.toFixed(1)} s)`}, ${c.differences.length} differences from DuckDB`);
    }
    db.close();
    const pushdown = pushdownReport(existsSync(plansFile) ? readFileSync(plansFile, 'utf8') : '');
    console.log(`\n| engine (${people.toLocaleString('en-US')} people) | seconds | staging copy s | differences from DuckDB |\n|---|---|---|---|`);
    for (const t of timings) console.log(`| ${t.engine} | ${t.seconds.toFixed(1)} | ${t.copySeconds?.toFixed(1) ?? '-'} | ${t.differences.length} |`);
    console.log(`\nSharded plans (${plansFile}): ${pushdown.statements} statements, ${pushdown.reading} read distributed tables with ${pushdown.remoteScans} remote scans (${pushdown.asyncScans} async);`);
    console.log(`  ${pushdown.withRemoteJoin} statements had ${pushdown.remoteJoins} joins of two shards run on a worker; ${pushdown.withRemoteAggregate} had ${pushdown.remoteAggregates} aggregates run on a worker;`);
    console.log(`  work left on the coordinator, statements with: ${Object.entries(pushdown.coordinator).map(([k, n]) => `${k} ${n}`).join(', ')}`);
    writeFileSync(join(repo, 'bench-results-engines.json'), JSON.stringify({ people, repeats, machine: { cpus: os.availableParallelism(), memoryGb: Math.round(os.totalmem() / 2 ** 30), load: os.loadavg() }, timings, pushdown }, null, 2));
    return timings.some((t) => t.differences.length > 0) ? 1 : 0;
  } finally {
    for (const c of clusters) await c.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
