// API latency under load: `closeloop serve` on a finished store in a child process,
// autocannon in this one (50 connections), each connection cycling through a fixed mix:
// five metrics x dimension=race_ethnicity x grain=quarter, plus the overview page.
// A second pass asks the five metric endpoints only (the requests/s target is theirs).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';

const repo = resolve(new URL('../..', import.meta.url).pathname);
const cli = join(repo, 'bin/closeloop.js');

export const LOAD_METRICS = ['closed_loop_rate', 'referral_acceptance_rate', 'need_referral_rate', 'phq9_response_rate', 'screening_rate'] as const;

export interface LoadFigures {
  requests: number;
  requests_per_second: number;
  latency_ms: { p50: number; p97_5: number; p99: number; max: number };
  errors: number;
  non_2xx: number;
  timeouts: number;
}

export interface ApiLoadResult {
  connections: number;
  seconds: number;
  mix: LoadFigures;
  metrics_only: LoadFigures;
}

/** A throwaway evaluator for the bench: its token, from `closeloop users add`. */
function benchToken(store: string): string {
  const r = spawnSync(process.execPath, [cli, 'users', 'add', '--name', `bench-${Date.now()}`, '--role', 'evaluator', '--days', '1', '--db', store], { encoding: 'utf8' });
  const token = /^\s{2}(\S{20,})$/m.exec(r.stdout ?? '')?.[1];
  if (r.status !== 0 || !token) throw new Error(`closeloop users add failed: ${r.stderr || r.stdout}`);
  return token;
}

function startServer(store: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [cli, 'serve', '--db', store, '--port', '0'], { stdio: ['ignore', 'pipe', 'ignore'] });
  return new Promise((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`server did not start within 60 s: ${out}`)), 60_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const url = /closeloop dashboards: (http:\/\/\S+?)\/\s/.exec(out)?.[1];
      if (url) {
        clearTimeout(timer);
        ok({ child, url });
      }
    });
    child.once('exit', (code) => fail(new Error(`server exited ${code}: ${out}`)));
  });
}

async function load(url: string, token: string, paths: string[], seconds: number, connections: number): Promise<LoadFigures> {
  const headers = { authorization: `Bearer ${token}`, 'accept-encoding': 'gzip' };
  // Warm the per-generation caches first: the figures are for the steady state.
  for (const p of paths) {
    const r = await fetch(url + p, { headers });
    if (!r.ok) throw new Error(`GET ${p}: HTTP ${r.status} ${await r.text()}`);
  }
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    headers,
    requests: paths.map((path) => ({ method: 'GET' as const, path })),
  });
  return {
    requests: result.requests.total,
    requests_per_second: result.requests.average,
    latency_ms: { p50: result.latency.p50, p97_5: result.latency.p97_5, p99: result.latency.p99, max: result.latency.max },
    errors: result.errors,
    non_2xx: result.non2xx,
    timeouts: result.timeouts,
  };
}

export async function apiLoad(store: string, opts: { seconds?: number; connections?: number } = {}): Promise<ApiLoadResult> {
  const seconds = opts.seconds ?? 15;
  const connections = opts.connections ?? 50;
  const token = benchToken(store);
  const { child, url } = await startServer(store);
  try {
    const metricPaths = LOAD_METRICS.map((m) => `/api/metrics/${m}?dimension=race_ethnicity&grain=quarter`);
    const mix = await load(url, token, [...metricPaths, '/'], seconds, connections);
    const metricsOnly = await load(url, token, metricPaths, seconds, connections);
    return { connections, seconds, mix, metrics_only: metricsOnly };
  } finally {
    child.kill('SIGTERM');
  }
}
