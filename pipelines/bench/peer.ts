// The pandas peer (issue 9): four core metrics computed end to end from the inbox by a
// small pandas script (peer/peer_metrics.py, Debian's python3-pandas), timed like a
// closeloop run (wall time and peak RSS under /usr/bin/time -v), and its answers checked
// against closeloop's: every cell's numerator and denominator must be equal exactly, and
// a cell present on one side only is a mismatch.
//
// Which cells: referral_acceptance_rate and closed_loop_rate by race_ethnicity*payer,
// need_referral_rate by domain, phq9_response_rate overall, each with its `all` row, for
// grain `all` (the whole span) and every quarter (`grains` to choose).
//
// What "ours" is: the store keeps only the published results table, where small cells
// have been suppressed (numerator and denominator NULL, suppressed = true): no unsuppressed
// copy is kept. So runPeer compares values for the cells shown and, for withheld ones,
// only that both sides have the cell (reported as `withheld`). `against: 'recomputed'`
// instead recomputes closeloop's unsuppressed figures with the metric engine over a copy
// of the store's warehouse generation (the same loaded rows and as-of date), so every cell
// is compared; it costs a second metrics pass.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase, rows, sqlString } from '../../models/duckdb.ts';
import { computeMetrics } from '../../models/metrics/engine.ts';
import { openPublished } from '../published.ts';
import { timedSpawn } from './timedSpawn.ts';
import { readPointer, runIdTime, storePaths } from '../store.ts';

export const PYTHON = '/usr/bin/python3';
export const PEER_SCRIPT = fileURLToPath(new URL('./peer/peer_metrics.py', import.meta.url));
const INSTALL = 'apt-get install -y python3-pandas';

/** The peer's metrics and the dimensions each is compared on. */
export const PEER_CUTS: Record<string, readonly string[]> = {
  referral_acceptance_rate: ['all', 'race_ethnicity*payer'],
  closed_loop_rate: ['all', 'race_ethnicity*payer'],
  need_referral_rate: ['all', 'domain'],
  phq9_response_rate: ['all'],
};
export const DEFAULT_GRAINS = ['all', 'quarter'] as const;

/** One cell: a metric's numerator and denominator for a period (its first day) and group. */
export interface Cell {
  metric_id: string;
  grain: string;
  period: string;
  dimension: string;
  group: string;
  numerator: number | null;
  denominator: number | null;
  /** closeloop's small-cell rule withheld the figures (ours only). */
  suppressed?: boolean;
}

export interface PeerOutput {
  as_of: string;
  grains: string[];
  seconds: { read: number; validate: number; compute: number; total: number };
  rows: Record<string, number>;
  metrics: Array<Cell & { rate: number }>;
}

/** Whether Debian's python3 has pandas. */
export function hasPandas(): boolean {
  return existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import pandas'], { stdio: 'ignore' }).status === 0;
}

/** Makes sure `/usr/bin/python3 -c 'import pandas'` works: installs python3-pandas when root, else says how. */
export function ensurePandas(): void {
  if (hasPandas()) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`the pandas peer needs pandas for ${PYTHON} (Debian's python3-pandas), which is not installed: run \`sudo ${INSTALL}\``);
  }
  const apt = (args: string[]) =>
    spawnSync('apt-get', args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status;
  // a machine whose package lists were never fetched finds nothing: update once, then retry
  if (apt(['install', '-y', 'python3-pandas']) !== 0) {
    apt(['update']);
    apt(['install', '-y', 'python3-pandas']);
  }
  if (!hasPandas()) throw new Error(`\`${INSTALL}\` did not give ${PYTHON} a working pandas; install it by hand`);
}

export interface PeerRun {
  /** Wall time of the whole script (Python start, imports, reading, validation, compute, writing). */
  seconds: number;
  peakRssMb: number | null;
  output: PeerOutput;
}

/** Runs the script under /usr/bin/time -v (when present), like bench.ts's timedRun. */
export function runPeerScript(opts: { inbox: string; out: string; asOf: string; runDate?: string; grains?: readonly string[] }): PeerRun {
  const args = [PEER_SCRIPT, '--inbox', opts.inbox, '--out', opts.out, '--as-of', opts.asOf, '--grains', (opts.grains ?? DEFAULT_GRAINS).join(',')];
  if (opts.runDate) args.push('--run-date', opts.runDate);
  const { seconds, peakRssMb, result: r } = timedSpawn(PYTHON, args);
  if (r.status !== 0) {
    const stderr = (r.stderr ?? '').replace(/\n\tCommand being timed:[\s\S]*$/, '');
    const hint = /No module named '?(pandas|numpy)/.test(stderr) ? ` (python3-pandas is missing: ${INSTALL})` : '';
    throw new Error(`pandas peer exited ${r.status ?? r.signal}${hint}: ${stderr.slice(-2000)}`);
  }
  return { seconds, peakRssMb, output: JSON.parse(readFileSync(opts.out, 'utf8')) as PeerOutput };
}

const cellsSql = (grains: readonly string[]) => `SELECT metric_id, period_grain AS grain, period_start AS period, dimension, group_value AS "group",
  numerator, denominator, suppressed
FROM metric_results
WHERE period_grain IN (${grains.map(sqlString).join(', ')}) AND (${Object.entries(PEER_CUTS)
  .map(([m, dims]) => `(metric_id = ${sqlString(m)} AND dimension IN (${dims.map(sqlString).join(', ')}))`).join(' OR ')})`;

export interface OurCells {
  asOf: string;
  /** The day the run started (UTC): birth dates after it broke the contract. */
  runDate: string | null;
  cells: Cell[];
}

/** closeloop's published cells (suppressed ones with NULL figures). */
export async function publishedCells(store: string, grains: readonly string[] = DEFAULT_GRAINS): Promise<OurCells> {
  const { db, pointer } = await openPublished(store);
  try {
    return { asOf: pointer.as_of, runDate: runIdTime(pointer.run_id)?.slice(0, 10) ?? null, cells: await rows<Cell>(db.conn, cellsSql(grains)) };
  } finally {
    db.close();
  }
}

/**
 * closeloop's unsuppressed cells: the metric engine run again, as of the published as-of
 * date, over a copy of the store's current warehouse generation (the store itself is not touched).
 */
export async function recomputedCells(store: string, grains: readonly string[] = DEFAULT_GRAINS): Promise<OurCells> {
  const paths = storePaths(store);
  const pointer = await readPointer(paths);
  if (!pointer) throw new Error(`nothing is published in ${store} yet: run \`closeloop run\` first`);
  const dir = mkdtempSync(join(tmpdir(), 'closeloop-peer-'));
  try {
    const copy = join(dir, 'warehouse.duckdb');
    copyFileSync(join(paths.warehouseDir, pointer.warehouse), copy);
    const db = await openDatabase(copy, { memoryLimit: '2GB' });
    try {
      await computeMetrics(db.conn, { asOf: pointer.as_of, runId: pointer.run_id });
      return { asOf: pointer.as_of, runDate: runIdTime(pointer.run_id)?.slice(0, 10) ?? null, cells: await rows<Cell>(db.conn, cellsSql(grains)) };
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface Comparison {
  /** Cells on both sides whose numerator and denominator were compared. */
  compared: number;
  /** Cells on both sides that closeloop withheld (small cells): compared for presence only. */
  withheld: number;
  /** Peer cells of cuts closeloop does not publish (its designed surface): not compared. */
  outsideSurface: number;
  mismatches: string[];
}

const keyOf = (c: Cell) => `${c.metric_id} ${c.grain} ${c.period} ${c.dimension}=${c.group}`;

const cutOf = (c: Cell) => `${c.metric_id} ${c.grain} ${c.dimension}`;

/**
 * Every cell of either side: equal numerator and denominator, or a mismatch. Cells of `ours`
 * may be withheld. With `surface` (closeloop's published table), only the cuts closeloop
 * publishes are compared, and its zero rows (the fixed frames: groups with nobody in them)
 * need no peer cell.
 */
export function compareCells(peer: readonly Cell[], ours: readonly Cell[], names: readonly [string, string] = ['peer', 'closeloop'], surface = false): Comparison {
  const [a, b] = names;
  const mine = new Map(ours.map((c) => [keyOf(c), c]));
  const theirs = new Map(peer.map((c) => [keyOf(c), c]));
  const cuts = new Set(ours.map(cutOf));
  const mismatches: string[] = [];
  let compared = 0;
  let withheld = 0;
  let outsideSurface = 0;
  for (const [key, p] of theirs) {
    const o = mine.get(key);
    if (!o && surface && !cuts.has(cutOf(p))) {
      outsideSurface++;
    } else if (!o) {
      mismatches.push(`${key}: only in ${a} (${p.numerator}/${p.denominator})`);
    } else if (o.suppressed) {
      withheld++;
    } else {
      compared++;
      for (const f of ['numerator', 'denominator'] as const) {
        if (p[f] !== o[f]) mismatches.push(`${key}: ${f} ${p[f]} (${a}) vs ${o[f]} (${b})`);
      }
    }
  }
  for (const [key, o] of mine) {
    // a zero row of a fixed frame, shown or withheld (a withheld zero protects like any withheld cell)
    if (surface && !o.numerator && !o.denominator) continue;
    if (!theirs.has(key)) mismatches.push(`${key}: only in ${b} (${o.suppressed ? 'withheld' : `${o.numerator}/${o.denominator}`})`);
  }
  return { compared, withheld, outsideSurface, mismatches };
}

export interface PeerResult {
  /** Wall time of the peer script. */
  seconds: number;
  peakRssMb: number | null;
  /** Cells whose numerator and denominator were compared (shown on both sides). */
  cells: number;
  /** Cells withheld by closeloop's small-cell rule, compared for presence only (0 with against: 'recomputed'). */
  withheld: number;
  mismatches: string[];
  /** The script's own split: read_csv, contract checks, metrics. */
  peerSeconds: PeerOutput['seconds'];
  /** The as-of and run dates the peer was given (those of the published run). */
  asOf: string;
  runDate: string | null;
}

/**
 * Runs the pandas peer on `inbox` as of the as-of date of the run published in `store`
 * (`closeloop run --inbox INBOX --db STORE`), writes its answers to `out` and compares
 * them with closeloop's. Call ensurePandas() first.
 */
export async function runPeer(opts: {
  inbox: string;
  store: string;
  out: string;
  grains?: readonly string[];
  against?: 'published' | 'recomputed';
}): Promise<PeerResult> {
  const grains = opts.grains ?? DEFAULT_GRAINS;
  const ours = opts.against === 'recomputed' ? await recomputedCells(opts.store, grains) : await publishedCells(opts.store, grains);
  const run = runPeerScript({ inbox: opts.inbox, out: opts.out, asOf: ours.asOf, runDate: ours.runDate ?? undefined, grains });
  const c = compareCells(run.output.metrics, ours.cells, undefined, opts.against !== 'recomputed');
  return { seconds: run.seconds, peakRssMb: run.peakRssMb, cells: c.compared, withheld: c.withheld, mismatches: c.mismatches, peerSeconds: run.output.seconds, asOf: ours.asOf, runDate: ours.runDate ?? null };
}
