// One pipeline run, phase by phase: discover -> build a new warehouse generation from
// a copy of the last good one -> load and validate -> compute -> publish aggregates ->
// switch the pointer. Until the pointer switches nothing the server reads has changed;
// a run that dies leaves only temporary files, which the next run removes.
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { appendFile, copyFile, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { DEFAULT_CONFIG, type Config, type EngineSetting } from '../models/config.ts';
import { ENTITIES, type EntityContract } from '../models/contracts/index.ts';
import { finaliseResults } from '../models/disclosure/finalise.ts';
import { buildEvaluation } from '../models/evaluation/index.ts';
import { buildPhq9Comparison } from '../models/evaluation/phq9.ts';
import { forgetEvaluation, recordEvaluation, reuseEvaluation, type EvaluationPart } from '../models/evaluation/reuse.ts';
import { METRICS } from '../models/metrics/catalog.ts';
import { computeMetrics } from '../models/metrics/engine.ts';
import { exec, openDatabase, rows, sqlString as str, type Database } from '../models/duckdb.ts';
import type { SqlEngine } from '../models/engines/engine.ts';
import { defaultAsOf } from './asOf.ts';
import { faultPoint } from './faults.ts';
import { dropBlockedQuarantine, keepBlockedQuarantine } from './ingest/blockedQuarantine.ts';
import { currentStamp, discoverInbox, InboxMissing, loadOrder, type InboxFile, type SkippedEntry } from './ingest/discover.ts';
import { HashCache } from './ingest/ledgerCache.ts';
import { loadFile, type FileReport } from './ingest/loadFile.ts';
import { loadMappings } from './ingest/mapping.ts';
import { retryOrphans } from './ingest/retryOrphans.ts';
import { ReadFailed, scanFile, type ScanResult } from './ingest/scanFile.ts';
import { scanPackage } from './ingest/hsds/package.ts';
import { prepareWarehouse } from './ingest/warehouseSchema.ts';
import { publishGeneration } from './publish.ts';
import { resolveChecks } from './quality/checks.ts';
import { blockedMessage, blocking, captureBaseline, evaluateChecks, qualityCounts, type Baseline, type CheckResult } from './quality/evaluate.ts';
import {
  acquireWriterLock, appendHistory, ensureStore, fsyncDir, fsyncFile, isTransient, newRunId, pruneGenerations, publishedRunIds, readPointer, settleHistory, historyPath, storePaths,
  PRIVATE_FILE, WriterBusy, writePointer, type StorePaths,
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
  /** Who started the run (recorded in the run history): cli, schedule, admin, test. */
  trigger?: string;
  /** Attempt number when the scheduler retries (recorded). */
  attempt?: number;
  /** The engine of the metric SQL; default: the configuration's (DuckDB unless set). */
  engine?: EngineSetting;
  /** PostgreSQL engine: write the EXPLAIN VERBOSE plan of every statement to this file. */
  explainFile?: string;
}

/** published; unchanged (nothing new); blocked (a data-quality gate); failed (an error, or the writer lock was busy). */
export type RunStatus = 'published' | 'unchanged' | 'blocked' | 'failed';

/** Why nothing was published: busy and io are transient (worth a retry), the others are not. */
export type FailureKind = 'busy' | 'io' | 'blocked' | 'audit' | 'error';

export interface RunSummary {
  run_id: string | null;
  status: RunStatus;
  as_of: string | null;
  files: FileReport[];
  /** Inbox entries that are not files to load (folders, pipes, hidden data files), with the reason. */
  skipped: SkippedEntry[];
  metrics_rows: number;
  seconds: number;
  message: string | null;
  /** 0 published (or nothing new), 2 files were rejected (the rest published, or nothing else was new), 1 nothing published. */
  exit_code: 0 | 1 | 2;
  phases: Record<string, number>;
  /** Data-quality gate results (also for a blocked run). */
  quality: CheckResult[];
  failure: FailureKind | null;
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
  const phases: Record<string, number> = {};
  const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    const t = Date.now();
    try {
      return await f();
    } finally {
      phases[name] = (phases[name] ?? 0) + (Date.now() - t) / 1000;
    }
  };
  let quality: CheckResult[] = [];
  const reports: FileReport[] = [];
  const skipped: SkippedEntry[] = [];
  const fail = (message: string, failure: FailureKind, files: FileReport[] = [], runId: string | null = null): RunSummary => ({
    run_id: runId, status: failure === 'blocked' ? 'blocked' : 'failed', as_of: null, files, skipped, metrics_rows: 0, seconds: (Date.now() - started) / 1000, message, exit_code: 1, phases,
    quality, failure,
  });
  const record = (s: RunSummary) => ({ ...s, trigger: opts.trigger ?? process.env.CLOSELOOP_TRIGGER ?? 'cli', attempt: opts.attempt ?? (Number(process.env.CLOSELOOP_ATTEMPT) || null), pid: process.pid, started_at: new Date(started).toISOString(), finished_at: new Date().toISOString(), quality_counts: qualityCounts(s.quality) });

  let release: () => Promise<void>;
  try {
    await ensureStore(paths, log);
    release = await acquireWriterLock(paths, `pipeline run${opts.trigger ? ` (${opts.trigger})` : ''}`);
  } catch (err) {
    // A second writer fails fast; the attempt is recorded (when the store can be written at all).
    const s = err instanceof WriterBusy ? fail(err.message, 'busy')
      : fail(`cannot write to the store ${paths.root}: ${(err as Error).message}`, isTransient(err) ? 'io' : 'error');
    await appendHistory(paths, record(s)).catch(() => undefined);
    return s;
  }
  faultPoint('run:after-lock');
  let runId: string | null = null;
  let summary: RunSummary;
  try {
    const claims = await loadMappings(opts.mappingsDir ?? paths.mappings);
    const inbox = await discoverInbox(opts.inbox ?? paths.inbox, claims);
    const pointer = await readPointer(paths);
    // before anything can end the run early: a history left by a crash at the last switch
    await settleHistory(paths, pointer?.run_id ?? null);
    const fullRefresh = opts.fullRefresh || !pointer;
    const ledger = fullRefresh ? [] : await readLedger(join(paths.warehouseDir, pointer.warehouse));
    const cache = await HashCache.open(paths.stateDir);

    // Which files carry content the ledger has not seen? A file that cannot be read now,
    // or changes while it is read, is reported and left out of the ledger and the hash
    // cache: the next run tries it again.
    const work: Array<{ file: InboxFile; scan: ScanResult }> = [];
    const notRead: FileReport[] = inbox.unopenable.map((u) => notReadReport(u.file, '', u.message));
    skipped.push(...inbox.skipped);
    for (const x of inbox.skipped) log(`  skipped ${x.file}: ${x.reason}`);
    await timed('discover', async () => {
      for (const f of inbox.files) {
        const mappingSha = f.claim?.mappingSha ?? null;
        const seen = (sha: string) => ledger.find((l) => l.sha256 === sha && l.entity === (f.entity?.name ?? null) && l.mapping_sha === mappingSha);
        const cached = cache.get(f.name, f.stamp);
        if (cached && seen(cached)) continue;
        let scan: ScanResult;
        try {
          scan = f.format === 'hsds-package' || f.format === 'fhir-directory' ? await scanPackage(f.path) : await scanFile(f.path, { text: f.format === 'csv', gzip: f.gzip });
        } catch (err) {
          if (!(err instanceof ReadFailed)) throw err;
          notRead.push(notReadReport(f.name, f.entity?.name ?? '', `${f.name}: could not be read (${err.message}); it is tried again on every run`));
          continue;
        }
        if ((await currentStamp(f.path)) !== f.stamp) {
          notRead.push(notReadReport(f.name, f.entity?.name ?? '', `${f.name}: changed while reading; will retry on the next run`));
          continue;
        }
        cache.set(f.name, f.stamp, scan.sha256);
        const before = seen(scan.sha256);
        if (before) {
          log(`  ${f.name}: same content as ${before.file}, already loaded`);
          continue;
        }
        work.push({ file: f, scan });
      }
    });
    for (const r of notRead) log(formatFileLine(r));
    reports.push(...notRead);
    faultPoint('discover:after-scan');
    await cache.save();
    faultPoint('discover:after-cache-save');

    const asOfChanged = opts.asOf !== undefined && opts.asOf !== pointer?.as_of;
    if (pointer && !opts.fullRefresh && work.length === 0 && !asOfChanged) {
      summary = {
        run_id: pointer.run_id, status: 'unchanged', as_of: pointer.as_of, files: notRead, skipped, metrics_rows: 0,
        seconds: (Date.now() - started) / 1000, message: 'nothing new in the inbox: the published generation stands', exit_code: notRead.length ? 2 : 0, phases, quality: [], failure: null,
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
    // every publication's figures, kept outside the generations (models/disclosure/revisions.ts)
    const historyFile = historyPath(paths);
    await removeLeftovers(paths, pointer?.run_id ?? null);
    const checks = resolveChecks(config.qualityGates);
    faultPoint('copy:before');
    if (!fullRefresh && pointer) await timed('copy', () => copyFile(join(paths.warehouseDir, pointer.warehouse), warehouseTmp));
    faultPoint('copy:after');

    let db: Database | null = await openDatabase(warehouseTmp, { memoryLimit: config.memoryLimit });
    try {
      const conn = db.conn;
      await prepareWarehouse(conn);
      faultPoint('load:after-ddl');
      // What the previous generation held, for the volume gates (also on a full refresh:
      // rebuilding from a truncated extract is what they are for). None on a first run.
      // Entities whose staging rows this run may change: an incremental run recomputes
      // only the metrics that read them.
      const changed = new Set<string>();
      const baseline: Baseline | null = !pointer ? null : !fullRefresh ? await captureBaseline(conn) : await readBaseline(join(paths.warehouseDir, pointer.warehouse));
      await timed('load', async () => {
        for (const entity of ENTITIES) {
          if (entity.name !== 'people') {
            const r = await retryOrphans(conn, entity, runId as string);
            if (r.loaded || r.superseded) changed.add(entity.name);
            if (r.loaded || r.superseded) log(`  ${entity.name}: ${r.loaded} earlier orphan row${r.loaded === 1 ? '' : 's'} loaded now that their person exists${r.superseded ? `, ${r.superseded} superseded` : ''}`);
          }
          for (const { file, scan } of work.filter((w) => w.file.entity?.name === entity.name).sort((a, b) => loadOrder(a.file, b.file))) {
            const report = await loadOne(conn, file, scan, entity, runId as string, runDate);
            reports.push(report);
            if (!report.rejected) changed.add(entity.name);
            log(formatFileLine(report));
            faultPoint('load:after-file');
          }
          faultPoint(`load:after-${entity.name as 'people'}`);
        }
      });
      for (const { file, scan } of work.filter((w) => !w.file.entity)) {
        const report: FileReport = {
          file: file.name, entity: '', rows_read: 0, rows_loaded: 0, rows_quarantined: 0, rejected: true,
          message: `${file.name}: rejected whole: not a data file of any entity (name it after one, e.g. referrals_2025.csv, use .csv, .csv.gz or .parquet, or claim it in a mapping)`,
          reasons: [], extra_columns: [], sha256: scan.sha256,
        };
        reports.push(report);
        log(formatFileLine(report));
        await recordLedger(conn, file, report, runId);
      }
      faultPoint('load:after-rejects');

      // Data-quality gates: a blocking failure publishes nothing.
      quality = await timed('quality', () => evaluateChecks(conn, checks, { baseline, files: reports }));
      const q = qualityCounts(quality);
      log(`  quality gates: ${q.pass} passed, ${q.warn} warned, ${q.block} blocking, ${q.skip} skipped`);
      for (const r of quality.filter((x) => x.status === 'warn' || x.status === 'block')) log(`    ${r.status === 'block' ? 'BLOCK' : 'warn '} ${r.message}`);
      faultPoint('quality:after-checks');
      if (blocking(quality).length) {
        // Nothing is published, but what this run quarantined stays readable (closeloop quarantine).
        await keepBlockedQuarantine(conn, paths, runId);
        throw new GateBlocked(blockedMessage(quality));
      }

      // With no event loaded yet (e.g. a roster-only first drop) there is nothing to
      // measure; the day of the run stands in as the as-of date.
      const asOf = opts.asOf ?? (await defaultAsOf(conn, runDate)) ?? runDate;
      log(`As of ${asOf}: computing the metrics, disparities and small-cell protection`);
      const metricsRows = await timed('metrics', () => computeAll(conn, {
        asOf, runId: runId as string, config, reuse: fullRefresh ? undefined : { changed },
        engine: opts.engine ?? config.engine, scratchDir: paths.warehouseDir, explainFile: opts.explainFile,
        previous: pointer ? join(paths.publishedDir, pointer.published) : undefined, history: historyFile,
      }, log));
      faultPoint('metrics:after-audit');
      await timed('publish', async () => {
        // The warehouse generation is complete: checkpoint it before anything is published.
        faultPoint('publish:before-checkpoint-warehouse');
        await exec(conn, 'CHECKPOINT');
        faultPoint('publish:after-checkpoint-warehouse');
        await publishGeneration(conn, publishedTmp, { runId: runId as string, asOf, files: reports, startedAt: new Date(started).toISOString(), checks: quality });
      });
      db.close();
      db = null;
      faultPoint('publish:after-close');
      await timed('switch', async () => {
        fsyncFile(warehouseTmp);
        faultPoint('switch:after-fsync-warehouse');
        fsyncFile(publishedTmp);
        faultPoint('switch:after-fsync-published');
        // The history's next version goes in place only once the pointer names this run: put
        // there before, a crash would leave figures users never saw as the figures last shown,
        // in place of the ones they did see. It says which run it belongs to, so the next run
        // (settleHistory) puts it in place if the publication happened, and drops it if not.
        const nextHistory = existsSync(`${historyFile}.tmp`);
        if (nextHistory) {
          chmodSync(`${historyFile}.tmp`, PRIVATE_FILE); // DuckDB created it under the process's umask
          fsyncFile(`${historyFile}.tmp`);
          writeFileSync(`${historyFile}.tmp.run`, runId as string, { mode: PRIVATE_FILE });
          fsyncFile(`${historyFile}.tmp.run`);
          fsyncDir(paths.stateDir);
        }
        await rename(warehouseTmp, join(paths.warehouseDir, warehouseName));
        faultPoint('switch:after-rename-warehouse');
        await rename(publishedTmp, join(paths.publishedDir, publishedName));
        faultPoint('switch:after-rename-published');
        fsyncDir(paths.warehouseDir);
        fsyncDir(paths.publishedDir);
        faultPoint('switch:after-fsync-dirs');
        await writePointer(paths, { run_id: runId as string, as_of: asOf, warehouse: warehouseName, published: publishedName, published_at: new Date().toISOString() });
        // published: from here a failure leaves the history's next version for the next run
        // (settleHistory), which puts it in place, as the pointer names this run
        if (nextHistory) {
          try {
            faultPoint('switch:after-pointer');
            await settleHistory(paths, runId as string);
          } catch (err) {
            log(`  the history of this publication stays beside the last one until the next run: ${(err as Error).message}`);
          }
        }
      });
      const rejected = reports.some((r) => r.rejected);
      await dropBlockedQuarantine(paths).catch((err: Error) => log(`  could not remove the blocked run's quarantine: ${err.message}`));
      summary = {
        run_id: runId, status: 'published', as_of: asOf, files: reports, skipped, metrics_rows: metricsRows,
        seconds: (Date.now() - started) / 1000, message: null, exit_code: rejected ? 2 : 0, phases, quality, failure: null,
      };
      // Published: a failure to prune is only logged (the next run prunes again).
      await timed('prune', () => pruneGenerations(paths, opts.keepGenerations ?? config.keepGenerations)).catch((err: Error) => log(`  prune failed: ${err.message}`));
      return summary;
    } finally {
      db?.close();
      if (summary!?.status !== 'published') {
        await rm(warehouseTmp, { force: true });
        await rm(`${warehouseTmp}.wal`, { force: true });
        await rm(publishedTmp, { force: true });
        await rm(`${publishedTmp}.wal`, { force: true });
        // once it says which run it belongs to, the next run decides (settleHistory): the
        // pointer may name this run already
        if (!existsSync(`${historyFile}.tmp.run`)) {
          await rm(`${historyFile}.tmp`, { force: true });
          await rm(`${historyFile}.tmp.wal`, { force: true });
        }
      }
    }
  } catch (err) {
    if (err instanceof GateBlocked) summary = fail(err.message, 'blocked', reports, runId);
    else if (err instanceof InboxMissing) summary = fail(err.message, 'error', reports, runId);
    else if (err instanceof PublishBlocked) summary = fail(err.message, 'audit', reports, runId);
    else summary = fail(`run failed: ${(err as Error).message}`, isTransient(err) ? 'io' : 'error', reports, runId);
    return summary;
  } finally {
    summary!.seconds = (Date.now() - started) / 1000;
    faultPoint('history:before-append');
    await appendHistory(paths, record(summary!)).catch(() => undefined);
    faultPoint('history:after-append');
    await release();
  }
}

/** A blocking data-quality gate failed: nothing is published. */
export class GateBlocked extends Error {}

/** Publishing is refused when the independent suppression audit finds a violation. */
export class PublishBlocked extends Error {}

/**
 * Compute every metric, then the disparity statistics, disclosure control over the
 * whole results table and the independent audit (models/disclosure/finalise.ts).
 */
async function computeAll(
  conn: DuckDBConnection,
  opts: { asOf: string; runId: string; config: Config; reuse?: { changed: ReadonlySet<string> }; engine: EngineSetting; scratchDir: string; explainFile?: string; previous?: string; history?: string },
  log: (l: string) => void,
): Promise<number> {
  const restrictedZip3 = await readRestrictedZip3(opts.config.restrictedZip3File);
  // A line per step with the run's elapsed time, so a long computation is never silent.
  const started = performance.now();
  const onPhase = (phase: string, seconds: number) => log(`    ${phase}: ${seconds.toFixed(1)} s  [metrics ${((performance.now() - started) / 1000).toFixed(1)} s]`);
  const r = await onEngine(conn, opts, log, onPhase, (engine) =>
    computeMetrics(conn, { asOf: opts.asOf, runId: opts.runId, twoWayCuts: opts.config.twoWayCuts, restrictedZip3, reuse: opts.reuse, onPhase, engine }));
  faultPoint('metrics:after-compute');
  const reused = r.reused.length ? ` (${r.recomputed.length} of ${r.reused.length + r.recomputed.length} facts recomputed; reused from the previous run, which read nothing that changed: ${r.reused.join(', ')})` : '';
  log(`  ${r.rows.toLocaleString('en-US')} metric rows computed in ${r.seconds.toFixed(1)} s${reused}`);
  const f = await finaliseResults(conn, { metrics: METRICS, config: opts.config, asOf: opts.asOf, restrictedZip3, onPhase, previous: opts.previous, history: opts.history });
  faultPoint('metrics:after-suppression');
  // an incremental run keeps an evaluation part whose inputs did not change (models/evaluation/reuse.ts)
  const evaluation = { changed: opts.reuse?.changed, asOf: opts.asOf, threshold: opts.config.suppressionThreshold };
  const reuseOrBuild = async (part: EvaluationPart, what: string, build: () => Promise<string>) => {
    if (await reuseEvaluation(conn, part, opts.runId, evaluation)) return log(`  evaluation: ${what}, reused from the previous run (none of its inputs changed)`);
    await forgetEvaluation(conn, part);
    const done = await build();
    await recordEvaluation(conn, part, evaluation, opts.runId);
    log(`  evaluation: ${done}`);
  };
  await reuseOrBuild('event_study', 'event study of ED visits and admissions', async () => {
    const ev = await buildEvaluation(conn, { runId: opts.runId, asOf: opts.asOf, threshold: evaluation.threshold });
    return `${ev.cohorts} monthly cohort(s) of first referrals, event study of ED visits and admissions (models/evaluation)`;
  });
  await reuseOrBuild('phq9', 'PHQ-9 change from an elevated index score', async () => {
    const ph = await buildPhq9Comparison(conn, { runId: opts.runId, asOf: opts.asOf, threshold: evaluation.threshold });
    return `PHQ-9 change from an elevated index score, referred against not-yet-referred people: ${ph.status}`;
  });
  log(`  ${f.comparisons.toLocaleString('en-US')} group comparisons; ${f.suppressedRows.toLocaleString('en-US')} rows withheld by the small-cell rule; attacker audit ${f.audit.ok ? 'passed' : 'FAILED'} after ${f.rounds} round(s) (${f.replayedRounds ? `the first ${f.replayedRounds} as the previous run ended them, whose true figures and rules were the same; ` : ''}${f.audit.relations.toLocaleString('en-US')} relations; ${f.auditComponents.reused} of ${f.auditComponents.decided} component decisions taken from earlier ones, unchanged)`);
  if (f.pendingRevision) log(`  ${f.pendingRevision.toLocaleString('en-US')} row(s) keep the previous publication's figures, pending revision: their counts changed by 1..${opts.config.suppressionThreshold - 1}, or withholding them protects such a change (models/disclosure/revisions.ts)`);
  if (f.partnerWithheld) log(`  partners' views: ${f.partnerWithheld.toLocaleString('en-US')} (organisation, metric, need domain or whole metric) withheld where another organisation could be singled out (table partner_withheld; models/disclosure/partners.ts)`);
  const coarsened = f.surface.coarsened ?? [];
  if (coarsened.length) {
    log(`  ${coarsened.length} cut(s) not published (mostly small cells, or withheld cells could not protect them; table withheld_cuts): ${coarsened.slice(0, 8).map((c) => `${c.metric} by ${c.dimension} (${c.grain})`).join(', ')}${coarsened.length > 8 ? ', ...' : ''}`);
  }
  if (!f.audit.ok) {
    const v = f.audit.violations[0]!;
    throw new PublishBlocked(`publish blocked: the independent suppression audit found ${f.audit.violations.length} violation(s), e.g. [${v.relation}] ${v.metric_id} ${v.period_grain} ${v.period_start} ${v.dimension}=${v.group_value}: ${v.message}`);
  }
  return r.rows;
}

/**
 * Runs the metric engine on DuckDB (engine undefined: the warehouse itself) or on
 * PostgreSQL: a schema of the run's own, the staging tables copied in, dropped afterwards
 * whatever happened (a failure to drop is reported, with the statement that drops it).
 */
async function onEngine<T>(
  conn: DuckDBConnection,
  opts: { runId: string; engine: EngineSetting; scratchDir: string; explainFile?: string },
  log: (l: string) => void,
  onPhase: (phase: string, seconds: number) => void,
  f: (engine?: SqlEngine) => Promise<T>,
): Promise<T> {
  if (opts.engine.kind === 'duckdb') return f();
  const { explainFile } = opts;
  if (explainFile) await writeFile(explainFile, `-- closeloop run ${opts.runId}: EXPLAIN (VERBOSE, COSTS OFF) of every statement the PostgreSQL engine ran\n`);
  const { PostgresEngine } = await import('../models/engines/postgres/engine.ts');
  let t = performance.now();
  const pg = await PostgresEngine.open({
    url: opts.engine.url, workers: opts.engine.workers, runId: opts.runId, scratchDir: opts.scratchDir, workMem: opts.engine.workMem,
    explain: explainFile ? (label, plan) => appendFile(explainFile, `\n-- ${label}\n${plan}\n`) : undefined,
  });
  let result: T;
  try {
    log(`  engine: ${pg.description}, schema ${pg.schema}`);
    const copied = await pg.loadStaging(conn);
    onPhase(`staging copied to PostgreSQL (${copied.tables} tables, ${copied.rows.toLocaleString('en-US')} rows)`, (performance.now() - t) / 1000);
    result = await f(pg);
  } catch (err) {
    await pg.close().catch((e: Error) => log(`  ${e.message}`));
    throw err;
  }
  t = performance.now();
  await pg.close().catch((e: Error) => log(`  warning: ${e.message}; drop it by hand: DROP SCHEMA ${pg.schema} CASCADE`));
  onPhase('PostgreSQL schema dropped', (performance.now() - t) / 1000);
  return result;
}

async function readRestrictedZip3(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8').catch(() => {
    throw new Error(`restricted ZIP3 list ${path} cannot be read (setting restrictedZip3File)`);
  });
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  if (lines[0] !== 'zip3' || lines.slice(1).some((z) => !/^\d{3}$/.test(z))) throw new Error(`${path}: expected a zip3 header and 3-digit prefixes`);
  return lines.slice(1);
}

async function readBaseline(warehouse: string): Promise<Baseline | null> {
  const db = await openDatabase(warehouse, { readOnly: true, memoryLimit: '512MB' });
  try {
    return await captureBaseline(db.conn);
  } catch {
    return null;
  } finally {
    db.close();
  }
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

/**
 * Loads one file in a transaction. The file must not change from before it was hashed
 * until DuckDB has read it; if it did, everything it loaded is rolled back and it is
 * reported (not recorded in the ledger) for the next run. A successful load supersedes
 * the open quarantine records of earlier loads of the same file.
 */
async function loadOne(conn: DuckDBConnection, file: InboxFile, scan: ScanResult, entity: EntityContract, runId: string, runDate: string): Promise<FileReport> {
  try {
    // A file that is not rejected comes back with its writes in an open transaction.
    const report = await loadFile(conn, { path: file.path, entity, claim: file.claim, scan, format: file.format, gzip: file.gzip, fhir: file.fhir, runId, runDate, transaction: true });
    if ((await currentStamp(file.path)) !== file.stamp) {
      if (!report.rejected) await exec(conn, 'ROLLBACK');
      return notReadReport(file.name, entity.name, `${file.name}: changed while reading; will retry on the next run`);
    }
    if (!report.rejected) {
      await exec(conn, `UPDATE quarantine SET status = 'superseded', resolved_run_id = ${str(runId)}
        WHERE status = 'open' AND entity = ${str(entity.name)} AND file = ${str(file.name)} AND run_id <> ${str(runId)}`);
    }
    await recordLedger(conn, file, report, runId);
    if (!report.rejected) await exec(conn, 'COMMIT');
    return report;
  } catch (err) {
    await exec(conn, 'ROLLBACK').catch(() => undefined); // nothing to roll back if the error came first
    if (err instanceof ReadFailed) return notReadReport(file.name, entity.name, `${file.name}: could not be read (${err.message}); it is tried again on every run`);
    throw err;
  }
}

/** A file not read in this run (and so neither in the ledger nor the hash cache). */
function notReadReport(file: string, entity: string, message: string): FileReport {
  return { file, entity, rows_read: 0, rows_loaded: 0, rows_quarantined: 0, rejected: true, message, reasons: [], extra_columns: [], sha256: '' };
}

async function recordLedger(conn: DuckDBConnection, f: InboxFile, r: FileReport, runId: string) {
  await exec(conn, `INSERT INTO load_ledger VALUES (${str(r.sha256)}, ${str(f.name)}, ${f.size}, ${f.mtimeMs}, ${f.entity ? str(f.entity.name) : 'NULL'},
    ${f.claim ? str(f.claim.mappingSha) : 'NULL'}, ${str(runId)}, ${str(r.rejected ? 'rejected' : 'loaded')}, ${r.rows_read}, ${r.rows_loaded}, ${r.rows_quarantined}, ${r.message ? str(r.message) : 'NULL'})`);
}

/**
 * Leftovers of runs that died (we hold the writer lock, so none is in use): temporary
 * files, a half-written pointer, and generation files a run renamed into place but died
 * before switching the pointer to (newer than the pointer, never published).
 */
async function removeLeftovers(paths: StorePaths, currentRunId: string | null) {
  for (const dir of [paths.warehouseDir, paths.publishedDir]) {
    for (const n of await readdir(dir)) if (/\.tmp(\.wal)?$/.test(n)) await rm(join(dir, n), { force: true });
  }
  for (const n of await readdir(paths.root)) if (/^current\.json\.\d+\.tmp$/.test(n)) await rm(join(paths.root, n), { force: true });
  for (const n of await readdir(paths.stateDir).catch(() => [] as string[])) if (/^published-figures\.duckdb\.tmp(\.wal|\.run)?$/.test(n)) await rm(join(paths.stateDir, n), { force: true });
  if (!currentRunId) return;
  const published = await publishedRunIds(paths);
  for (const dir of [paths.warehouseDir, paths.publishedDir]) {
    for (const n of await readdir(dir)) {
      const id = n.replace(/\.duckdb(\.wal)?$/, '');
      if (id !== n && id > currentRunId && !published.has(id)) await rm(join(dir, n), { force: true });
    }
  }
}

const fmt = (n: number) => n.toLocaleString('en-US');

export function formatFileLine(r: FileReport): string {
  if (r.rejected) return `  ✗ ${r.message}`;
  const reasons = r.reasons.slice(0, 3).map((x) => `${x.rule}${x.column ? `(${x.column})` : ''} ×${fmt(x.count)}`).join(', ');
  return `  ${r.file.padEnd(28)} ${r.entity.padEnd(12)} read ${fmt(r.rows_read).padStart(10)}  loaded ${fmt(r.rows_loaded).padStart(10)}  quarantined ${fmt(r.rows_quarantined).padStart(7)}${reasons ? `  [${reasons}]` : ''}`;
}
