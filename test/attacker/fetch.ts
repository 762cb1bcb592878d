// The attacker's fetcher (issue 14): download everything a role can get from a running
// `closeloop serve`, over HTTP only, into a folder the Python attacker (attack.py) reads.
// It imports nothing from closeloop: the endpoints are found by asking the server
// (/api/filters, /api/metrics, /api/partners, /api/charts), as an outside evaluator would.
//
//   npx tsx test/attacker/fetch.ts --store DIR --out DIR [--partners all|none|ORG,ORG] [--port N]
//     makes an evaluator and one partner user per organization with the real binary
//     (`closeloop users add`), starts `closeloop serve`, fetches every role, stops it.
//   npx tsx test/attacker/fetch.ts --url http://127.0.0.1:8080 --token cl_... --out DIR/ROLE
//     fetches one role from a server that is already running.
//
// Each role folder holds index.jsonl (one line per request: url, status, file) and the
// bodies under files/. A refusal (403, 404, 400) is recorded, not an error: it tells the
// attacker what the role cannot see.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdir, writeFile, appendFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const BIN = new URL('../../bin/closeloop.js', import.meta.url).pathname;

interface Fetched {
  status: number;
  body: Buffer;
  type: string;
}

class RoleFetcher {
  private seen = new Set<string>();
  private n = 0;
  requests = 0;
  failures = 0;
  constructor(private base: string, private token: string, private dir: string, private concurrency: number) {}

  async init() {
    await rm(this.dir, { recursive: true, force: true });
    await mkdir(join(this.dir, 'files'), { recursive: true });
  }

  /** GET one URL (once), store the body, log it in index.jsonl. */
  async get(path: string): Promise<Fetched | null> {
    if (this.seen.has(path)) return null;
    this.seen.add(path);
    this.requests += 1;
    let res: Response | null = null;
    for (let attempt = 0; attempt < 3 && res === null; attempt++) {
      try {
        res = await fetch(this.base + path, { headers: { Authorization: `Bearer ${this.token}` } });
      } catch (err) {
        if (attempt === 2) throw new Error(`GET ${path}: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
      }
    }
    // A download refused for now (a few at a time per user): an attacker waits and asks again.
    for (let wait = 0; res !== null && res.status === 429 && wait < 120; wait++) {
      await res.arrayBuffer();
      const after = Math.min(4, Number(res.headers.get('retry-after') ?? 1) || 1);
      await new Promise((r) => setTimeout(r, 100 + 1000 * after * Math.random()));
      res = await fetch(this.base + path, { headers: { Authorization: `Bearer ${this.token}` } });
    }
    const body = Buffer.from(await res!.arrayBuffer());
    const type = res!.headers.get('content-type') ?? '';
    const ext = type.includes('json') ? 'json' : type.includes('csv') ? 'csv' : type.includes('markdown') ? 'md' : 'bin';
    this.n += 1;
    const file = `files/${String(this.n).padStart(5, '0')}.${ext}`;
    if (res!.status !== 200) this.failures += 1;
    // Images and workbooks carry nothing the CSV/JSON of the same view lacks: keep their size only.
    if (ext !== 'bin') await writeFile(join(this.dir, file), body);
    await appendFile(join(this.dir, 'index.jsonl'), JSON.stringify({ url: path, status: res!.status, type, file: ext !== 'bin' ? file : null, bytes: body.length }) + '\n');
    return { status: res!.status, body, type };
  }

  async json(path: string): Promise<any> {
    const r = await this.get(path);
    if (!r || r.status !== 200) return null;
    return JSON.parse(r.body.toString('utf8'));
  }

  /** Fetch many URLs, a few at a time. */
  async all(paths: string[]) {
    let i = 0;
    const worker = async () => {
      while (i < paths.length) {
        const p = paths[i++]!;
        await this.get(p);
      }
    };
    await Promise.all(Array.from({ length: this.concurrency }, worker));
  }
}

const q = (params: Record<string, string | undefined>) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) s.set(k, v);
  const t = s.toString();
  return t ? `?${t}` : '';
};

/** Everything one role can download, discovered from the server's own listings. */
export async function fetchRole(base: string, token: string, dir: string, concurrency = 4): Promise<{ requests: number; failures: number }> {
  const f = new RoleFetcher(base.replace(/\/$/, ''), token, dir, concurrency);
  await f.init();
  const filters = await f.json('/api/filters');
  const catalog = await f.json('/api/metrics');
  await f.all(['/api/run', '/api/dictionary?format=markdown', '/api/dictionary', '/api/charts', '/api/runs', '/api/quality', '/api/freshness']);
  if (!filters || !catalog) throw new Error(`${base}: /api/filters or /api/metrics refused: is the token valid?`);
  const partners = (await f.json('/api/partners'))?.partners ?? [];
  const metrics: Array<{ id: string; kind: string; snapshot: boolean; dimensions: string[]; available?: boolean; grains?: string[] }> = catalog.metrics.filter((m: any) => m.available !== false);
  // The filters offer a partner no organization cut, but some views narrow it to its own row: ask for every dimension the catalog names too.
  const dims: string[] = [...new Set<string>([...filters.dimensions.map((d: any) => d.id), ...catalog.metrics.flatMap((m: any) => m.dimensions)])].sort();
  const periods: Record<string, string[]> = filters.periods;
  const grains: string[] = filters.grains;
  const durations = metrics.filter((m) => m.kind === 'duration').map((m) => m.id);
  const urls: string[] = [];

  // The results table: the full export (evaluators), and every metric as JSON (every role).
  urls.push('/api/exports/metrics/all.csv');
  for (const m of metrics) urls.push(`/api/metrics/${m.id}`);
  for (const g of grains) urls.push(`/api/exports/report.csv${q({ grain: g })}`);
  // Kaplan-Meier curves: every duration metric by every dimension, as JSON and as the chart's CSV.
  for (const m of durations) {
    for (const d of ['all', ...dims.filter((x) => x !== 'all')]) {
      urls.push(`/api/km${q({ metric: m, dimension: d })}`);
      urls.push(`/api/charts/km.csv${q({ metric: m, dimension: d })}`);
    }
  }
  // Pre/post summary, PHQ-9, gaps, scorecards, overview, funnel.
  for (const d of ['all', ...dims.filter((x) => x !== 'all')]) {
    urls.push(`/api/prepost${q({ dimension: d })}`, `/api/charts/prepost.csv${q({ dimension: d })}`);
    urls.push(`/api/phq9${q({ dimension: d })}`);
  }
  urls.push('/api/gaps');
  for (const g of grains) {
    for (const p of g === 'all' ? [undefined] : periods[g] ?? []) {
      urls.push(`/api/scorecards${q({ grain: g, period_start: p })}`);
      urls.push(`/api/charts/funnel.csv${q({ grain: g, period_start: p })}`);
      urls.push(`/api/charts/scorecard.csv${q({ grain: g, period_start: p })}`);
    }
  }
  for (const g of ['year', 'quarter', 'month']) urls.push(`/api/overview${q({ grain: g })}`);
  for (const measure of ['unmet_need_rate', 'positive_needs', 'capacity_rejection_share']) {
    urls.push(`/api/charts/gap-heatmap.csv${q({ measure })}`, `/api/charts/gap-map.csv${q({ measure })}`);
  }
  urls.push('/api/charts/demand-capacity.csv', '/api/charts/phq9.csv', '/api/charts/quarantine.csv', '/api/charts/freshness.csv');
  // Disparities (whole span) for every metric by every dimension it is published by.
  for (const m of metrics) {
    for (const d of m.dimensions.filter((x) => x !== 'all' && dims.includes(x))) {
      urls.push(`/api/disparities${q({ metric: m.id, dimension: d })}`);
    }
    if (!m.snapshot) urls.push(`/api/charts/trend.csv${q({ metric: m.id, grain: 'month' })}`);
  }
  // Every organization's scorecard and gap analysis (a partner is refused all but its own).
  for (const p of partners) {
    const org = encodeURIComponent(p.org_id);
    urls.push(`/api/partners/${org}/scorecard`, `/api/partners/${org}/gap-analysis.json`, `/api/partners/${org}/gap-analysis.csv`);
  }
  await f.all(urls);
  return { requests: f.requests, failures: f.failures };
}

function runBin(args: string[]): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolvePromise(out) : reject(new Error(`closeloop ${args.join(' ')} exited ${code}:\n${out}`))));
  });
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

async function addUser(store: string, name: string, role: string, org?: string): Promise<string> {
  const out = await runBin(['users', 'add', '--name', name, '--role', role, ...(org ? ['--org', org] : []), '--days', '1', '--db', store]);
  const m = /\b(cl_[A-Za-z0-9_-]{20,})/.exec(out);
  if (!m) throw new Error(`closeloop users add printed no token:\n${out}`);
  return m[1]!;
}

async function startServe(store: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', String(port), '--db', store], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise<void>((res, rej) => {
    const t = setTimeout(() => rej(new Error(`closeloop serve did not start:\n${out}`)), 60_000);
    const on = (d: Buffer) => {
      out += d.toString();
      if (/closeloop dashboards: http/.test(out)) {
        clearTimeout(t);
        res();
      }
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
    child.once('exit', (code) => {
      clearTimeout(t);
      rej(new Error(`closeloop serve exited (${code}):\n${out}`));
    });
  });
  child.removeAllListeners('exit');
  return child;
}

/**
 * Fetch a store as an evaluator and as a partner of each organization, through the real
 * binary: users made with `closeloop users add`, the server started with `closeloop serve`.
 */
export async function fetchStore(store: string, out: string, o: { partners?: 'all' | 'none' | string[]; port?: number; tag?: string } = {}) {
  await mkdir(out, { recursive: true });
  const tag = o.tag ?? `${process.pid}-${Date.now()}`;
  const evaluator = await addUser(store, `attacker-evaluator-${tag}`, 'evaluator');
  const port = o.port ?? (await freePort());
  const server = await startServe(store, port);
  const base = `http://127.0.0.1:${port}`;
  const roles: Record<string, { role: string; org: string | null; requests: number; failures: number }> = {};
  try {
    const ev = await fetchRole(base, evaluator, join(out, 'evaluator'));
    roles.evaluator = { role: 'evaluator', org: null, ...ev };
    const listing = await (await fetch(`${base}/api/partners`, { headers: { Authorization: `Bearer ${evaluator}` } })).json() as { partners: Array<{ org_id: string }> };
    const wanted = o.partners ?? 'all';
    const orgs = wanted === 'none' ? [] : wanted === 'all' ? listing.partners.map((p) => p.org_id) : wanted;
    for (const org of orgs) {
      const token = await addUser(store, `attacker-partner-${org}-${tag}`, 'partner', org);
      const r = await fetchRole(base, token, join(out, `partner-${org}`));
      roles[`partner-${org}`] = { role: 'partner', org, ...r };
    }
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
  const manifest = { store: resolve(store), fetched_at: new Date().toISOString(), base, roles };
  await writeFile(join(out, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return manifest;
}

async function main() {
  const { values: v } = parseArgs({
    options: {
      store: { type: 'string' }, out: { type: 'string' }, partners: { type: 'string' }, port: { type: 'string' },
      url: { type: 'string' }, token: { type: 'string' }, help: { type: 'boolean' },
    },
  });
  if (v.help || !v.out || (!v.store && !(v.url && v.token))) {
    console.log('usage: npx tsx test/attacker/fetch.ts --store DIR --out DIR [--partners all|none|ORG,ORG] [--port N]\n       npx tsx test/attacker/fetch.ts --url URL --token TOKEN --out DIR');
    process.exit(v.help ? 0 : 1);
  }
  if (v.url) {
    const r = await fetchRole(v.url, v.token!, v.out);
    console.log(`fetched ${r.requests} URLs (${r.failures} refused or failed) into ${v.out}`);
    return;
  }
  const partners = v.partners === undefined || v.partners === 'all' ? 'all' : v.partners === 'none' ? 'none' : v.partners.split(',');
  const m = await fetchStore(v.store!, v.out, { partners, port: v.port ? Number(v.port) : undefined });
  for (const [name, r] of Object.entries(m.roles)) console.log(`${name}: ${r.requests} URLs, ${r.failures} refused or failed`);
}

if (process.argv[1] && resolve(process.argv[1]) === new URL(import.meta.url).pathname) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
