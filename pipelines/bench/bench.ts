// Benchmark (a script, not a test): demo drops at chosen sizes, cached by seed and size,
// then per size, each measured `--repeats` times (median, min-max):
//   - the full `closeloop run` in a child process (wall time, phases, peak RSS);
//   - the engine's limit: the same files loaded by plain DuckDB `CREATE TABLE AS SELECT *
//     FROM read_csv(...)` (the contract's column types, bad rows skipped) into a fresh file;
//   - the pandas peer: four core metrics end to end, its answers checked cell by cell
//     against ours (pipelines/bench/peer.ts);
//   - a no-change re-run; re-runs after phq9.csv gains copies of rows already loaded under
//     new ids (no published figure moves); re-runs after referrals.csv gains 12 referrals
//     (figures move);
// and, on the largest size, API latency under load (pipelines/bench/apiLoad.ts).
// Prints one table and writes bench-results.json with machine info.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { contractColumns, entityByName } from '../../models/contracts/index.ts';
import { DEFAULT_CONFIG } from '../../models/config.ts';
import { openDatabase } from '../../models/duckdb.ts';
import { sqlType } from '../../models/staging/tables.ts';
import { DEMO_FILES, generateDemo } from '../demo/generate.ts';
import { apiLoad, type ApiLoadResult } from './apiLoad.ts';
import { ensurePandas, runPeer, runPeerScript } from './peer.ts';
import { targetRows, targetTable, type SizeFigures } from './targets.ts';
import { timedSpawn } from './timedSpawn.ts';

const SIZES: Record<string, number> = { S: 20_000, M: 200_000, L: 1_000_000 };
const repo = resolve(new URL('../..', import.meta.url).pathname);
const cli = join(repo, 'bin/closeloop.js');
/** The file the incremental re-run changes: a PHQ-9 extract with copies of assessments already loaded (no figure moves). */
const CHANGED_FILE = 'phq9.csv';
/** The file of the second changed-file re-run, whose new rows move figures, and how many each run adds. */
const MOVING_FILE = 'referrals.csv';
const ADDED_REFERRALS = 12;

interface Timed { seconds: number; peakRssMb: number | null }
interface Stat { median: number; min: number; max: number }

/** Run a closeloop command in a child process: wall time and peak RSS. */
function timedRun(args: string[]): Timed {
  const { seconds, peakRssMb, result: r } = timedSpawn(process.execPath, args);
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${(r.stdout ?? '').slice(-1000)}${(r.stderr ?? '').slice(-2000)}`);
  return { seconds, peakRssMb };
}

/** The engine's limit: typed CREATE TABLE AS SELECT * FROM read_csv, one table per file. */
async function rawDuckDbLoad(inbox: string, dbFile: string): Promise<number> {
  rmSync(dbFile, { force: true });
  rmSync(`${dbFile}.wal`, { force: true });
  const db = await openDatabase(dbFile, { memoryLimit: DEFAULT_CONFIG.memoryLimit }); // a run's own setting
  const t = performance.now();
  try {
    for (const f of DEMO_FILES) {
      const types = contractColumns(entityByName(f.entity)).map((c) => `'${c.name}': '${sqlType(c.kind)}'`).join(', ');
      await db.conn.run(`CREATE TABLE ${f.entity} AS SELECT * FROM read_csv('${join(inbox, f.file)}', header = true, types = {${types}}, ignore_errors = true)`);
    }
    await db.conn.run('CHECKPOINT');
  } finally {
    db.close();
  }
  return (performance.now() - t) / 1000;
}

const stat = (xs: number[]): Stat => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return { median: s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2, min: s[0] as number, max: s[s.length - 1] as number };
};

/** The bench's own inbox: links to the cached demo files (one is replaced to test a change). */
function linkInbox(demo: string, inbox: string) {
  rmSync(inbox, { recursive: true, force: true });
  mkdirSync(inbox, { recursive: true });
  for (const f of DEMO_FILES) symlinkSync(join(demo, f.file), join(inbox, f.file));
}

/** A changed extract: the original rows plus copies of its last 1% under new ids. */
function changeFile(demo: string, inbox: string, round: number) {
  const lines = readFileSync(join(demo, CHANGED_FILE), 'utf8').trimEnd().split('\n');
  const extra = lines.slice(-Math.max(10, Math.floor(lines.length / 100))).map((l) => l.replace(/^([^,]+)/, `$1-b${round}`));
  rmSync(join(inbox, CHANGED_FILE), { force: true });
  writeFileSync(join(inbox, CHANGED_FILE), `${[...lines, ...extra].join('\n')}\n`);
}

/**
 * Referrals added: copies of the last closed referrals under new ids (the same person, need,
 * organisation and dates), so counts move by a few, as one more day of referrals would.
 */
function addReferrals(demo: string, inbox: string, round: number) {
  const path = join(inbox, MOVING_FILE);
  const lines = readFileSync(round === 0 ? join(demo, MOVING_FILE) : path, 'utf8').trimEnd().split('\n');
  // each round copies other referrals of the demo's own (the demo files have no quoted commas)
  const source = readFileSync(join(demo, MOVING_FILE), 'utf8').trimEnd().split('\n');
  const head = source[0]!.split(',');
  const closed = head.indexOf('closed_on');
  const id = head.indexOf('referral_id');
  const closedLines = source.slice(1).filter((l) => l.split(',')[closed]);
  const added = closedLines.slice(closedLines.length - (round + 1) * ADDED_REFERRALS, closedLines.length - round * ADDED_REFERRALS).map((l, k) => {
    const x = l.split(',');
    x[id] = `R${9_000_000 + round * 100 + k}-ADDED`;
    return x.join(',');
  });
  rmSync(path, { force: true });
  writeFileSync(path, `${[...lines, ...added].join('\n')}\n`);
}

const fmt = (s: Stat, d = 1) => `${s.median.toFixed(d)} (${s.min.toFixed(d)}-${s.max.toFixed(d)})`;

export async function main(argv: string[]): Promise<number> {
  const arg = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const sizes = (arg('sizes') ?? 'S,M,L').split(',');
  const repeats = Number(arg('repeats') ?? 3);
  const skipPeer = argv.includes('--no-peer');
  const skipApi = argv.includes('--no-api');
  const seed = 42;
  const cache = join(repo, 'bench-cache');
  mkdirSync(cache, { recursive: true });
  if (!skipPeer) ensurePandas();
  const results: Array<Record<string, any>> = [];
  let api: (ApiLoadResult & { size: string }) | null = null;
  for (const [i, size] of sizes.entries()) {
    const people = SIZES[size] ?? Number(size);
    if (!Number.isInteger(people) || people <= 0) throw new Error(`unknown size ${size}: use S, M, L or a number of people`);
    const demo = join(cache, `demo-${seed}-${people}`);
    let demoSeconds: number | null = null;
    if (!existsSync(join(demo, 'people.csv'))) {
      console.log(`Generating ${people.toLocaleString('en-US')} people ...`);
      demoSeconds = timedRun([cli, 'demo', '--people', String(people), '--seed', String(seed), '--out', demo]).seconds;
    }
    const inbox = join(cache, `inbox-${people}`);
    const store = join(cache, `store-${people}`);
    const report = join(cache, `report-${people}.json`);
    linkInbox(demo, inbox);

    const full: Array<Timed & { phases: Record<string, number>; rows: number }> = [];
    for (let r = 0; r < repeats; r++) {
      rmSync(store, { recursive: true, force: true });
      const t = timedRun([cli, 'run', '--inbox', inbox, '--db', store, '--report', report]);
      const rep = JSON.parse(readFileSync(report, 'utf8')) as { phases: Record<string, number>; files: Array<{ rows_read: number }> };
      full.push({ ...t, phases: rep.phases, rows: rep.files.reduce((s, f) => s + f.rows_read, 0) });
      console.log(`  ${size} full run ${r + 1}/${repeats}: ${t.seconds.toFixed(1)} s, peak RSS ${t.peakRssMb?.toFixed(0)} MB`);
    }

    const raw: number[] = [];
    for (let r = 0; r < repeats; r++) raw.push(await rawDuckDbLoad(inbox, join(cache, `raw-${people}.duckdb`)));
    rmSync(join(cache, `raw-${people}.duckdb`), { force: true });
    console.log(`  ${size} raw DuckDB load: ${fmt(stat(raw))} s`);

    let peer: Record<string, unknown> | null = null;
    if (!skipPeer) {
      const out = join(cache, `peer-${people}.json`);
      const checked = await runPeer({ inbox, store, out });
      const times = [checked.seconds];
      const rss = [checked.peakRssMb ?? 0];
      for (let r = 1; r < repeats; r++) {
        const p = runPeerScript({ inbox, out, asOf: checked.asOf, runDate: checked.runDate ?? undefined });
        times.push(p.seconds);
        rss.push(p.peakRssMb ?? 0);
      }
      peer = { seconds: stat(times), peak_rss_mb: Math.max(...rss), cells_compared: checked.cells, cells_withheld: checked.withheld, mismatches: checked.mismatches.length, first_mismatches: checked.mismatches.slice(0, 5) };
      console.log(`  ${size} pandas peer: ${fmt(stat(times))} s, ${checked.cells} cells compared, ${checked.mismatches.length} mismatches`);
      if (checked.mismatches.length) console.log(`    e.g. ${checked.mismatches.slice(0, 3).join('\n    ')}`);
    }

    const unchanged: number[] = [];
    for (let r = 0; r < repeats; r++) unchanged.push(timedRun([cli, 'run', '--inbox', inbox, '--db', store]).seconds);
    const incremental: Array<Timed & { phases: Record<string, number> }> = [];
    for (let r = 0; r < repeats; r++) {
      changeFile(demo, inbox, r);
      const t = timedRun([cli, 'run', '--inbox', inbox, '--db', store, '--report', report]);
      incremental.push({ ...t, phases: (JSON.parse(readFileSync(report, 'utf8')) as { phases: Record<string, number> }).phases });
    }
    // phq9.csv stays as the last run left it: each referrals run changes one extract
    const moving: Array<Timed & { phases: Record<string, number> }> = [];
    for (let r = 0; r < repeats; r++) {
      addReferrals(demo, inbox, r);
      const t = timedRun([cli, 'run', '--inbox', inbox, '--db', store, '--report', report]);
      moving.push({ ...t, phases: (JSON.parse(readFileSync(report, 'utf8')) as { phases: Record<string, number> }).phases });
    }
    linkInbox(demo, inbox);
    const each = (xs: Timed[]) => xs.map((x) => x.seconds.toFixed(1)).join(', ');
    console.log(`  ${size} no-change re-run ${fmt(stat(unchanged), 2)} s; ${CHANGED_FILE} changed: ${fmt(stat(incremental.map((x) => x.seconds)))} s (each: ${each(incremental)}); ${MOVING_FILE} changed: ${fmt(stat(moving.map((x) => x.seconds)))} s (each: ${each(moving)})`);

    if (!skipApi && i === sizes.length - 1) {
      api = { size, ...(await apiLoad(store)) };
      console.log(`  ${size} API: ${api.metrics_only.requests_per_second.toFixed(0)} req/s on metric endpoints, p99 ${api.mix.latency_ms.p99} ms (mix)`);
    }

    const fullStat = stat(full.map((f) => f.seconds));
    const rawStat = stat(raw);
    const incStat = stat(incremental.map((x) => x.seconds));
    const movStat = stat(moving.map((x) => x.seconds));
    results.push({
      size, people, rows_read: full[0]?.rows, demo_seconds: demoSeconds,
      full_run: { ...fullStat, peak_rss_mb: Math.max(...full.map((f) => f.peakRssMb ?? 0)), phases: medianPhases(full.map((f) => f.phases)) },
      raw_duckdb_load: rawStat,
      ratio_full_run_to_raw_load: fullStat.median / rawStat.median,
      pandas_peer: peer,
      speedup_vs_pandas: peer ? (peer.seconds as Stat).median / fullStat.median : null,
      no_change_rerun: stat(unchanged),
      one_file_changed: { file: CHANGED_FILE, ...incStat, each: incremental.map((x) => x.seconds), share_of_full_run: incStat.median / fullStat.median, phases: medianPhases(incremental.map((x) => x.phases)), peak_rss_mb: Math.max(...incremental.map((f) => f.peakRssMb ?? 0)) },
      figures_moved: { file: MOVING_FILE, added_per_run: ADDED_REFERRALS, ...movStat, each: moving.map((x) => x.seconds), share_of_full_run: movStat.median / fullStat.median, phases: medianPhases(moving.map((x) => x.phases)), peak_rss_mb: Math.max(...moving.map((f) => f.peakRssMb ?? 0)) },
    });
  }

  const machine = { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memory_gb: Math.round(os.totalmem() / 2 ** 30), node: process.version, load_avg: os.loadavg(), git: gitRev(), repeats };
  console.log('');
  console.log('| size | people | rows read | full run s | peak RSS MB | raw DuckDB load s | full / raw | pandas peer s (4 metrics) | pandas / full | no-change re-run s | phq9.csv changed, no figure moves, s (share of full) | referrals.csv +12, figures move, s (share of full) |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const peer = r.pandas_peer ? `${fmt(r.pandas_peer.seconds)}${r.pandas_peer.mismatches ? ` (${r.pandas_peer.mismatches} MISMATCHES)` : ''}` : 'n/a';
    console.log(`| ${r.size} | ${r.people.toLocaleString('en-US')} | ${r.rows_read.toLocaleString('en-US')} | ${fmt(r.full_run)} | ${r.full_run.peak_rss_mb.toFixed(0)} | ${fmt(r.raw_duckdb_load)} | ${r.ratio_full_run_to_raw_load.toFixed(2)} | ${peer} | ${r.speedup_vs_pandas?.toFixed(2) ?? 'n/a'} | ${fmt(r.no_change_rerun, 2)} | ${fmt(r.one_file_changed)} (${(r.one_file_changed.share_of_full_run * 100).toFixed(0)}%) | ${fmt(r.figures_moved)} (${(r.figures_moved.share_of_full_run * 100).toFixed(0)}%) |`);
  }
  const last = results[results.length - 1];
  if (last) console.log(`\nPhases of the ${last.size} full run (median s): ${Object.entries(last.full_run.phases as Record<string, number>).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
  if (api) {
    console.log(`\nAPI on the ${api.size} data (${api.connections} connections, ${api.seconds} s each):`);
    console.log('| requests | req/s | p50 ms | p97.5 ms | p99 ms | max ms | errors | non-2xx |');
    console.log('|---|---|---|---|---|---|---|---|');
    for (const [name, f] of [['five metrics + overview page', api.mix], ['five metric endpoints only', api.metrics_only]] as const) {
      console.log(`| ${name}: ${f.requests.toLocaleString('en-US')} | ${f.requests_per_second.toFixed(0)} | ${f.latency_ms.p50} | ${f.latency_ms.p97_5} | ${f.latency_ms.p99} | ${f.latency_ms.max} | ${f.errors + f.timeouts} | ${f.non_2xx} |`);
    }
  }
  const targets = targetRows(results as unknown as SizeFigures[], api);
  console.log(`\nIssue 19's targets, on this run's figures (load average at the end ${machine.load_avg.map((x) => x.toFixed(1)).join(' ')}):`);
  console.log(targetTable(targets));
  writeFileSync(join(repo, 'bench-results.json'), `${JSON.stringify({ at: new Date().toISOString(), machine, results, api, targets }, null, 2)}\n`);
  console.log(`\nWrote bench-results.json (machine: ${machine.cpus} cores, ${machine.memory_gb} GiB, load average ${machine.load_avg.map((x) => x.toFixed(1)).join(' ')}).`);
  return 0;
}

/** Per phase, the median over runs (phases a run skipped count as absent). */
function medianPhases(runs: Array<Record<string, number>>): Record<string, number> {
  const names = [...new Set(runs.flatMap((r) => Object.keys(r)))];
  return Object.fromEntries(names.map((n) => [n, stat(runs.map((r) => r[n]).filter((x): x is number => x !== undefined)).median]));
}

function gitRev(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}
