// Fault-injection harness: a base store with one published generation; each case copies
// it, adds a file to the inbox, starts `closeloop run` in a child process that kills
// itself (SIGKILL) at a named point (or is killed from outside at a random time, or
// fails with an injected error), while a server in this process answers requests from
// the same store. Then it checks that nothing users see was corrupted or mixed, and
// that the next run succeeds.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { expect } from 'vitest';
import { ConfigSchema } from '../../../models/config.ts';
import { openDatabase, rows } from '../../../models/duckdb.ts';
import { generateDemo } from '../../../pipelines/demo/generate.ts';
import { POINTS_AFTER_SWITCH, type FaultPoint } from '../../../pipelines/faults.ts';
import { runPipeline } from '../../../pipelines/run.ts';
import { PointerSchema, storePaths, type Pointer } from '../../../pipelines/store.ts';
import { createApp } from '../../../server/app.ts';

const BIN = new URL('../../../bin/closeloop.js', import.meta.url).pathname;
/** Kept generations 1: prune really removes files, so the prune points are reached. */
export const CONFIG = ConfigSchema.parse({ keepGenerations: 1 });

export interface Base {
  dir: string;
  store: string;
  extra: string;
  configFile: string;
  cleanup(): void;
}

/** A demo drop; the base store has published it all but encounters.csv, which each case adds. */
export async function makeBase(): Promise<Base> {
  const dir = mkdtempSync(join(tmpdir(), 'closeloop-faults-'));
  const drop = join(dir, 'drop');
  await generateDemo({ people: 60, seed: 7, outDir: drop, months: 6 });
  const store = join(dir, 'base');
  mkdirSync(join(store, 'inbox'), { recursive: true });
  for (const f of readdirSync(drop)) if (f !== 'encounters.csv') cpSync(join(drop, f), join(store, 'inbox', f));
  const configFile = join(dir, 'closeloop.config.json');
  writeFileSync(configFile, JSON.stringify({ keepGenerations: 1 }));
  const s = await runPipeline({ root: store, config: CONFIG, trigger: 'test' });
  if (s.status !== 'published') throw new Error(`base run: ${s.status}: ${s.message}`);
  return { dir, store, extra: join(drop, 'encounters.csv'), configFile, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

export interface CaseResult {
  signal: string | null;
  code: number | null;
  before: Pointer;
  after: Pointer;
  published: boolean;
  responses: number;
  nextStatus: string;
  ms: number;
}

export interface CaseOptions {
  kill?: FaultPoint;
  fail?: string;
  /** Kill from outside after this many ms. */
  killAfterMs?: number;
  /** Store folder to use instead of a fresh copy of the base (e.g. on a small tmpfs). */
  root?: string;
  /** Skip the "next run succeeds" step (the caller does it). */
  noNextRun?: boolean;
}

/** One case, with every invariant checked. */
export async function runCase(base: Base, o: CaseOptions): Promise<CaseResult> {
  const t0 = Date.now();
  const root = o.root ?? mkdtempSync(join(base.dir, 'case-'));
  if (!o.root) cpSync(base.store, root, { recursive: true });
  cpSync(base.extra, join(root, 'inbox', 'encounters.csv'));
  const paths = storePaths(root);
  const pointerText = readFileSync(paths.pointer, 'utf8');
  const before = PointerSchema.parse(JSON.parse(pointerText));
  const oldFile = join(paths.publishedDir, before.published);
  const oldSha = sha256(oldFile);

  const app = createApp({ root, security: false, generation: { checkIntervalMs: 10, connections: 2 }, log: () => undefined });
  try {
    const first = await request(app).get('/api/run');
    expect(first.status).toBe(200);
    expect(first.body.run_id).toBe(before.run_id);

    const env: NodeJS.ProcessEnv = { ...process.env, CLOSELOOP_CONFIG: base.configFile, CLOSELOOP_KILL_AT: o.kill ?? '', CLOSELOOP_FAIL_AT: o.fail ?? '', CLOSELOOP_TRIGGER: 'fault-test' };
    const child = spawn(process.execPath, [BIN, 'run', '--db', root], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    let exited = false;
    void exit.then(() => (exited = true));
    if (o.killAfterMs !== undefined) setTimeout(() => child.kill('SIGKILL'), o.killAfterMs);

    // The server keeps answering while the run goes: every answer complete, from one generation.
    const seen: string[] = [];
    while (!exited) {
      const r = await request(app).get('/api/run');
      expect(r.status, `server answered ${r.status} during the run: ${JSON.stringify(r.body)}`).toBe(200);
      seen.push(r.body.run_id);
      await new Promise((res) => setTimeout(res, 25));
    }
    const { code, signal } = await exit;
    if (o.kill) expect(signal, `kill point ${o.kill} was not reached (exit ${code}): ${stderr.slice(-500)}`).toBe('SIGKILL');

    // The pointer is intact JSON naming a complete generation.
    const after = PointerSchema.parse(JSON.parse(readFileSync(paths.pointer, 'utf8')));
    const published = after.run_id !== before.run_id;
    if (o.kill) expect(published).toBe(POINTS_AFTER_SWITCH.has(o.kill));
    if (!published) {
      expect(readFileSync(paths.pointer, 'utf8')).toBe(pointerText);
      expect(sha256(oldFile)).toBe(oldSha);
    } else {
      if (existsSync(oldFile)) expect(sha256(oldFile)).toBe(oldSha);
      const db = await openDatabase(join(paths.publishedDir, after.published), { readOnly: true, memoryLimit: '256MB', threads: 1 });
      try {
        expect((await rows<{ run_id: string }>(db.conn, 'SELECT run_id FROM run_info'))[0]!.run_id).toBe(after.run_id);
        expect((await rows<{ n: number }>(db.conn, 'SELECT count(*) AS n FROM metric_results'))[0]!.n).toBeGreaterThan(0);
      } finally {
        db.close();
      }
    }
    const allowed = new Set([before.run_id, after.run_id]);
    for (const id of seen) expect(allowed.has(id), `a response came from run ${id}`).toBe(true);
    await new Promise((res) => setTimeout(res, 30));
    const now = await request(app).get('/api/run');
    expect(now.status).toBe(200);
    expect(now.body.run_id).toBe(after.run_id);

    // The next run succeeds (takes the dead run's stale lock, removes its leftovers).
    let nextStatus = 'skipped';
    if (!o.noNextRun) {
      const next = await runPipeline({ root, config: CONFIG, trigger: 'test' });
      nextStatus = next.status;
      expect(next.status, next.message ?? '').toBe(published ? 'unchanged' : 'published');
      const final = PointerSchema.parse(JSON.parse(readFileSync(paths.pointer, 'utf8')));
      expect(existsSync(join(paths.publishedDir, final.published))).toBe(true);
      for (const d of [paths.publishedDir, paths.warehouseDir, paths.root]) {
        expect(readdirSync(d).filter((n) => n.endsWith('.tmp') || n.endsWith('.tmp.wal'))).toEqual([]);
      }
      const served = await waitFor(async () => (await request(app).get('/api/run')).body.run_id, final.run_id);
      expect(served).toBe(final.run_id);
    }
    if (!o.root) rmSync(root, { recursive: true, force: true });
    return { signal, code, before, after, published, responses: seen.length, nextStatus, ms: Date.now() - t0 };
  } finally {
    app.close();
  }
}

async function waitFor<T>(f: () => Promise<T>, want: T, ms = 2000): Promise<T> {
  const end = Date.now() + ms;
  let v = await f();
  while (v !== want && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 20));
    v = await f();
  }
  return v;
}
