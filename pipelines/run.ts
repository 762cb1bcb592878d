// One pipeline run, phase by phase: discover -> build a new warehouse generation from
// a copy of the last good one -> load and validate -> compute -> publish aggregates ->
// switch the pointer. Until the pointer switches nothing the server reads has changed;
// a run that dies leaves only temporary files, which the next run removes.
import { copyFile, readFile, rename, rm } from 'node:fs/promises';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { DEFAULT_CONFIG, type Config } from '../models/config.ts';
import { ENTITIES } from '../models/contracts/index.ts';
import { finaliseResults } from '../models/disclosure/finalise.ts';
import { METRICS } from '../models/metrics/catalog.ts';
import { computeMetrics } from '../models/metrics/engine.ts';
import { exec, openDatabase, rows, sqlString as str, type Database } from '../models/duckdb.ts';
import { defaultAsOf } from './asOf.ts';
import { discoverInbox, type InboxFile } from './ingest/discover.ts';
import { HashCache } from './ingest/ledgerCache.ts';
import { loadFile, type FileReport } from './ingest/loadFile.ts';
import { loadMappings } from './ingest/mapping.ts';
import { retryOrphans } from './ingest/retryOrphans.ts';
import { scanFile, type ScanResult } from './ingest/scanFile.ts';
import { WAREHOUSE_DDL } from './ingest/warehouseSchema.ts';
import { publishGeneration } from './publish.ts';
import {
  acquireWriterLock, ensureStore, fsyncDir, fsyncFile, newRunId, pruneGenerations, readPointer, storePaths, writePointer,
  type StorePaths,
} from './store.ts';

export interface RunOptions {
  /** Store folder: warehouse, published generations, pointer, control state. */
  root: string;
  inbox?: string;
  mappingsDir?: string;
  asOf?: string;
  fullRefresh?: boolean;
  now?: () => Date;
  log?: (line: string) => void;
  keepGenerations?: number;
  config?: Config;
}

export type RunStatus = 'published' | 'unchanged' | 'failed';

export interface RunSummary {
  run_id: string | null;
  status: RunStatus;
  as_of: string | null;
  files: FileReport[];
  metrics_rows: number;
  seconds: number;
  message: string | null;
  /** 0 published (or nothing new), 2 published with files rejected whole, 1 nothing published. */
  exit_code: 0 | 1 | 2;
  phases: Record<string, number>;
}

interface LedgerRow {
  sha256: string;
  entity: string | null;
  mapping_sha: string | null;
  status: string;
  file: string;
}

export async function runPipeline(opts: RunOptions): Promise<RunSummary> {
  const started = Date.now();
  const config = opts.config ?? DEFAULT_CONFIG;
  const now = opts.now ?? (() => new Date());
  const log = opts.log ?? (() => undefined);
  const paths = storePaths(opts.root);
  await ensureStore(paths);
  const phases: Record<string, number> = {};
  const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    const t = Date.now();
    try {
      return await f();
    } finally {
      phases[name] = (phases[name] ?? 0) + (Date.now() - t) / 1000;
    }
  };
  const fail = (message: string, files: FileReport[] = [], runId: string | null = null): RunSummary => ({
    run_id: runId, status: 'failed', as_of: null, files, metrics_rows: 0, seconds: (Date.now() - started) / 1000, message, exit_code: 1, phases,
  });

  const release = await acquireWriterLock(paths, 'pipeline run');
  let runId: string | null = null;
  let summary: RunSummary;
  try {
    const claims = await loadMappings(opts.mappingsDir ?? paths.mappings);
    const inbox = await discoverInbox(opts.inbox ?? paths.inbox, claims);
    const pointer = await readPointer(paths);
    const fullRefresh = opts.fullRefresh || !pointer;
    const ledger = fullRefresh ? [] : await readLedger(join(paths.warehouseDir, pointer.warehouse));
    const cache = await HashCache.open(paths.stateDir);

    // Which files carry content the ledger has not seen?
    const work: Array<{ file: InboxFile; scan: ScanResult | null }> = [];
    const skipped: FileReport[] = [];
    await timed('discover', async () => {
      for (const f of inbox) {
        const mappingSha = f.claim?.mappingSha ?? null;
        const seen = (sha: string) => ledger.find((l) => l.sha256 === sha && l.entity === (f.entity?.name ?? null) && l.mapping_sha === mappingSha);
        const cached = cache.get(f.name, f.size, f.mtimeMs);
        if (cached && seen(cached)) continue;
        const scan = await scanFile(f.path, { text: f.format === 'csv', gzip: f.gzip });
        cache.set(f.name, f.size, f.mtimeMs, scan.sha256);
        const before = seen(scan.sha256);
        if (before) {
          log(`  ${f.name}: same content as ${before.file}, already loaded`);
          continue;
        }
        work.push({ file: f, scan });
      }
    });
    await cache.save();

    const asOfChanged = opts.asOf !== undefined && opts.asOf !== pointer?.as_of;
    if (pointer && !opts.fullRefresh && work.length === 0 && !asOfChanged) {
      summary = {
        run_id: pointer.run_id, status: 'unchanged', as_of: pointer.as_of, files: skipped, metrics_rows: 0,
        seconds: (Date.now() - started) / 1000, message: 'nothing new in the inbox: the published generation stands', exit_code: 0, phases,
      };
      log(`Nothing new in the inbox; run ${pointer.run_id} (as of ${pointer.as_of}) stays published.`);
      return summary;
    }

    runId = newRunId(now());
    const runDate = now().toISOString().slice(0, 10);
    log(`Run ${runId}: ${work.length} file${work.length === 1 ? '' : 's'} to load${fullRefresh ? ' (full refresh)' : ''}`);
    const warehouseName = `${runId}.duckdb`;
    const warehouseTmp = join(paths.warehouseDir, `${warehouseName}.tmp`);
    const publishedName = `${runId}.duckdb`;
    const publishedTmp = join(paths.publishedDir, `${publishedName}.tmp`);
    await removeLeftovers(paths);
    if (!fullRefresh && pointer) await timed('copy', () => copyFile(join(paths.warehouseDir, pointer.warehouse), warehouseTmp));

    let db: Database | null = await openDatabase(warehouseTmp, { memoryLimit: config.memoryLimit });
    const reports: FileReport[] = [];
    try {
      const conn = db.conn;
      for (const ddl of WAREHOUSE_DDL) await exec(conn, ddl);
      await timed('load', async () => {
        for (const entity of ENTITIES) {
          if (entity.name !== 'people') {
            const r = await retryOrphans(conn, entity, runId as string);
            if (r.loaded || r.superseded) log(`  ${entity.name}: ${r.loaded} earlier orphan row${r.loaded === 1 ? '' : 's'} loaded now that their person exists${r.superseded ? `, ${r.superseded} superseded` : ''}`);
          }
          for (const { file, scan } of work.filter((w) => w.file.entity?.name === entity.name)) {
            const report = await loadFile(conn, { path: file.path, entity, claim: file.claim, scan: scan as ScanResult, format: file.format, runId: runId as string, runDate });
            reports.push(report);
            log(formatFileLine(report));
            await recordLedger(conn, file, report, runId as string);
          }
        }
      });
      for (const { file, scan } of work.filter((w) => !w.file.entity)) {
        const report: FileReport = {
          file: file.name, entity: '', rows_read: 0, rows_loaded: 0, rows_quarantined: 0, rejected: true,
          message: `${file.name}: rejected whole: not a data file of any entity (name it after one, e.g. referrals_2025.csv, use .csv, .csv.gz or .parquet, or claim it in a mapping)`,
          reasons: [], extra_columns: [], sha256: scan?.sha256 ?? '',
        };
        reports.push(report);
        log(formatFileLine(report));
        await recordLedger(conn, file, report, runId);
      }

      // With no event loaded yet (e.g. a roster-only first drop) there is nothing to
      // measure; the day of the run stands in as the as-of date.
      const asOf = opts.asOf ?? (await defaultAsOf(conn, runDate)) ?? runDate;
      log(`As of ${asOf}`);
      const metricsRows = await timed('metrics', () => computeAll(conn, { asOf, runId: runId as string, config }, log));
      await timed('publish', async () => {
        await publishGeneration(conn, publishedTmp, { runId: runId as string, asOf, files: reports, startedAt: new Date(started).toISOString() });
        await exec(conn, 'CHECKPOINT');
      });
      db.close();
      db = null;
      await timed('switch', async () => {
        fsyncFile(warehouseTmp);
        fsyncFile(publishedTmp);
        await rename(warehouseTmp, join(paths.warehouseDir, warehouseName));
        await rename(publishedTmp, join(paths.publishedDir, publishedName));
        fsyncDir(paths.warehouseDir);
        fsyncDir(paths.publishedDir);
        await writePointer(paths, { run_id: runId as string, as_of: asOf, warehouse: warehouseName, published: publishedName, published_at: new Date().toISOString() });
      });
      await pruneGenerations(paths, opts.keepGenerations ?? config.keepGenerations);
      const rejected = reports.some((r) => r.rejected);
      summary = {
        run_id: runId, status: 'published', as_of: asOf, files: reports, metrics_rows: metricsRows,
        seconds: (Date.now() - started) / 1000, message: null, exit_code: rejected ? 2 : 0, phases,
      };
      return summary;
    } finally {
      db?.close();
      if (summary!?.status !== 'published') {
        await rm(warehouseTmp, { force: true });
        await rm(`${warehouseTmp}.wal`, { force: true });
        await rm(publishedTmp, { force: true });
        await rm(`${publishedTmp}.wal`, { force: true });
      }
    }
  } catch (err) {
    summary = fail(`run failed: ${(err as Error).message}`, [], runId);
    return summary;
  } finally {
    summary!.seconds = (Date.now() - started) / 1000;
    await appendRunHistory(paths, summary!, new Date(started)).catch(() => undefined);
    await release();
  }
}

/** Publishing is refused when the independent suppression audit finds a violation. */
export class PublishBlocked extends Error {}

/**
 * Compute every metric, then the disparity statistics, disclosure control over the
 * whole results table and the independent audit (models/disclosure/finalise.ts).
 */
async function computeAll(conn: DuckDBConnection, opts: { asOf: string; runId: string; config: Config }, log: (l: string) => void): Promise<number> {
  const restrictedZip3 = await readRestrictedZip3(opts.config.restrictedZip3File);
  const r = await computeMetrics(conn, { asOf: opts.asOf, runId: opts.runId, twoWayCuts: opts.config.twoWayCuts, restrictedZip3 });
  log(`  ${r.rows.toLocaleString('en-US')} metric rows computed in ${r.seconds.toFixed(1)} s`);
  const f = await finaliseResults(conn, { metrics: METRICS, config: opts.config });
  log(`  ${f.comparisons.toLocaleString('en-US')} group comparisons; ${f.suppressedRows.toLocaleString('en-US')} rows withheld by the small-cell rule; audit ${f.audit.ok ? 'passed' : 'FAILED'} (${f.audit.relations.toLocaleString('en-US')} relations)`);
  if (!f.audit.ok) {
    const v = f.audit.violations[0]!;
    throw new PublishBlocked(`publish blocked: the independent suppression audit found ${f.audit.violations.length} violation(s), e.g. [${v.relation}] ${v.metric_id} ${v.period_grain} ${v.period_start} ${v.dimension}=${v.group_value}: ${v.message}`);
  }
  return r.rows;
}

async function readRestrictedZip3(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8').catch(() => {
    throw new Error(`restricted ZIP3 list ${path} cannot be read (setting restrictedZip3File)`);
  });
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  if (lines[0] !== 'zip3' || lines.slice(1).some((z) => !/^\d{3}$/.test(z))) throw new Error(`${path}: expected a zip3 header and 3-digit prefixes`);
  return lines.slice(1);
}

async function readLedger(warehouse: string): Promise<LedgerRow[]> {
  const db = await openDatabase(warehouse, { readOnly: true });
  try {
    return await rows<LedgerRow>(db.conn, `SELECT sha256, entity, mapping_sha, status, file FROM load_ledger`);
  } catch {
    return [];
  } finally {
    db.close();
  }
}

async function recordLedger(conn: DuckDBConnection, f: InboxFile, r: FileReport, runId: string) {
  await exec(conn, `INSERT INTO load_ledger VALUES (${str(r.sha256)}, ${str(f.name)}, ${f.size}, ${f.mtimeMs}, ${f.entity ? str(f.entity.name) : 'NULL'},
    ${f.claim ? str(f.claim.mappingSha) : 'NULL'}, ${str(runId)}, ${str(r.rejected ? 'rejected' : 'loaded')}, ${r.rows_read}, ${r.rows_loaded}, ${r.rows_quarantined}, ${r.message ? str(r.message) : 'NULL'})`);
}

async function removeLeftovers(paths: StorePaths) {
  // Temporary files of runs that died: we hold the writer lock, so none is in use.
  const { readdir } = await import('node:fs/promises');
  for (const dir of [paths.warehouseDir, paths.publishedDir]) {
    for (const n of await readdir(dir)) if (/\.tmp(\.wal)?$/.test(n)) await rm(join(dir, n), { force: true });
  }
}

async function appendRunHistory(paths: StorePaths, s: RunSummary, startedAt: Date) {
  const record = { ...s, started_at: startedAt.toISOString(), finished_at: new Date().toISOString() };
  await appendFile(join(paths.stateDir, 'runs.jsonl'), `${JSON.stringify(record)}\n`);
}

const fmt = (n: number) => n.toLocaleString('en-US');

export function formatFileLine(r: FileReport): string {
  if (r.rejected) return `  ✗ ${r.message}`;
  const reasons = r.reasons.slice(0, 3).map((x) => `${x.rule}${x.column ? `(${x.column})` : ''} ×${fmt(x.count)}`).join(', ');
  return `  ${r.file.padEnd(28)} ${r.entity.padEnd(12)} read ${fmt(r.rows_read).padStart(10)}  loaded ${fmt(r.rows_loaded).padStart(10)}  quarantined ${fmt(r.rows_quarantined).padStart(7)}${reasons ? `  [${reasons}]` : ''}`;
}
