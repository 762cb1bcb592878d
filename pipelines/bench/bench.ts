// Benchmark (a script, not a test): demo drops at chosen sizes, cached by seed and size,
// then per size: the full `closeloop run` in a child process (wall time, phases, peak RSS),
// a no-change re-run, and the engine's limit: the same files loaded by plain DuckDB
// `CREATE TABLE AS SELECT * FROM read_csv(...)` into a fresh file. Prints one table and
// writes bench-results.json with machine info.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { openDatabase } from '../../models/duckdb.ts';
import { DEMO_FILES, generateDemo } from '../demo/generate.ts';

const SIZES: Record<string, number> = { S: 20_000, M: 200_000, L: 1_000_000 };
const repo = resolve(new URL('../..', import.meta.url).pathname);
const cli = join(repo, 'bin/closeloop.js');

interface Timed { seconds: number; peakRssMb: number | null }

/** Run a command, timing it with /usr/bin/time -v when present (peak RSS of the child). */
function timedRun(args: string[], env: NodeJS.ProcessEnv = process.env): Timed & { status: number | null } {
  const useTime = existsSync('/usr/bin/time');
  const t = performance.now();
  const r = useTime
    ? spawnSync('/usr/bin/time', ['-v', process.execPath, ...args], { env, encoding: 'utf8' })
    : spawnSync(process.execPath, args, { env, encoding: 'utf8' });
  const seconds = (performance.now() - t) / 1000;
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr ?? '');
  if (r.status !== 0 && r.status !== 2) throw new Error(`${args.join(' ')} exited ${r.status}: ${(r.stderr ?? '').slice(-2000)}`);
  return { seconds, peakRssMb: rss ? Number(rss[1]) / 1024 : null, status: r.status };
}

async function rawDuckDbLoad(inbox: string, dbFile: string): Promise<number> {
  rmSync(dbFile, { force: true });
  const db = await openDatabase(dbFile);
  const t = performance.now();
  try {
    for (const f of DEMO_FILES) {
      await db.conn.run(`CREATE TABLE ${f.entity} AS SELECT * FROM read_csv('${join(inbox, f.file)}')`);
    }
    await db.conn.run('CHECKPOINT');
  } finally {
    db.close();
  }
  return (performance.now() - t) / 1000;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

export async function main(argv: string[]): Promise<number> {
  const sizes = (argv.find((a) => a.startsWith('--sizes='))?.slice(8) ?? 'S').split(',');
  const repeats = Number(argv.find((a) => a.startsWith('--repeats='))?.slice(10) ?? 3);
  const seed = 42;
  const cache = join(repo, 'bench-cache');
  mkdirSync(cache, { recursive: true });
  const results: Record<string, unknown>[] = [];
  for (const size of sizes) {
    const people = SIZES[size] ?? Number(size);
    if (!Number.isInteger(people) || people <= 0) throw new Error(`unknown size ${size}: use S, M, L or a number of people`);
    const inbox = join(cache, `demo-${seed}-${people}`);
    let demoSeconds: number | null = null;
    if (!existsSync(join(inbox, 'people.csv'))) {
      console.log(`Generating ${people.toLocaleString('en-US')} people ...`);
      demoSeconds = (await generateDemo({ people, seed, outDir: inbox })).seconds;
    }
    const full: Array<Timed & { phases: Record<string, number> }> = [];
    const store = join(cache, `store-${people}`);
    for (let i = 0; i < repeats; i++) {
      rmSync(store, { recursive: true, force: true });
      const report = join(cache, `report-${people}.json`);
      const r = timedRun([cli, 'run', '--inbox', inbox, '--db', store, '--report', report]);
      const phases = (JSON.parse(readFileSync(report, 'utf8')) as { phases: Record<string, number> }).phases;
      full.push({ ...r, phases });
      console.log(`  ${size} full run ${i + 1}/${repeats}: ${r.seconds.toFixed(1)} s, peak RSS ${r.peakRssMb?.toFixed(0)} MB`);
    }
    const unchanged = timedRun([cli, 'run', '--inbox', inbox, '--db', store]);
    const raw: number[] = [];
    for (let i = 0; i < repeats; i++) raw.push(await rawDuckDbLoad(inbox, join(cache, `raw-${people}.duckdb`)));
    rmSync(join(cache, `raw-${people}.duckdb`), { force: true });
    const walls = full.map((f) => f.seconds);
    results.push({
      size, people, demo_seconds: demoSeconds,
      full_run: { median: median(walls), min: Math.min(...walls), max: Math.max(...walls), peak_rss_mb: Math.max(...full.map((f) => f.peakRssMb ?? 0)), phases: full[full.length - 1]!.phases },
      no_change_rerun_seconds: unchanged.seconds,
      raw_duckdb_load: { median: median(raw), min: Math.min(...raw), max: Math.max(...raw) },
      ratio_full_run_to_raw_load: median(walls) / median(raw),
    });
  }
  const machine = { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memory_gb: Math.round(os.totalmem() / 2 ** 30), node: process.version, load_avg: os.loadavg(), git: gitRev() };
  console.log('');
  console.log('| size | people | full run s (median, min-max) | peak RSS MB | raw DuckDB load s | ratio | no-change re-run s |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of results as Array<Record<string, any>>) {
    console.log(`| ${r.size} | ${r.people.toLocaleString('en-US')} | ${r.full_run.median.toFixed(1)} (${r.full_run.min.toFixed(1)}-${r.full_run.max.toFixed(1)}) | ${r.full_run.peak_rss_mb.toFixed(0)} | ${r.raw_duckdb_load.median.toFixed(1)} | ${r.ratio_full_run_to_raw_load.toFixed(2)} | ${r.no_change_rerun_seconds.toFixed(2)} |`);
  }
  writeFileSync(join(repo, 'bench-results.json'), `${JSON.stringify({ at: new Date().toISOString(), machine, results }, null, 2)}\n`);
  console.log(`\nWrote bench-results.json (machine: ${machine.cpus} cores, ${machine.memory_gb} GiB, load ${machine.load_avg.map((x) => x.toFixed(1)).join(' ')}).`);
  return 0;
}

function gitRev(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}
