// Hand-made download folders for the attacker's own tests: what fetch.ts would have saved
// for one role (index.jsonl plus bodies), built from a few rows whose leaks are worked out
// by hand next to each case in attack.test.ts.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

export const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
export const ATTACK = new URL('./attack.py', import.meta.url).pathname;

/** Why the attacker cannot run here (no python3, or no scipy with milp), or null. */
export function missingPython(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import numpy, scipy; from scipy.optimize import milp, linprog'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} is missing`;
  if (r.status !== 0) return `${PYTHON} lacks numpy or scipy >= 1.9 (scipy.optimize.milp)`;
  return null;
}

export interface CatalogEntry {
  id: string;
  kind: 'proportion' | 'rate' | 'duration' | 'count' | 'mean' | 'ratio';
  anchor?: string;
  windows?: number[];
  dimensions?: string[];
  snapshot?: boolean;
  interval?: string;
  unit?: string;
  direction?: 'higher_better' | 'lower_better';
  disparities?: boolean;
}

const INTERVAL: Record<string, string> = { proportion: 'wilson', rate: 'poisson_exact', duration: 'kaplan_meier', count: 'none', mean: 't', ratio: 'none' };

export interface ResultRow {
  metric_id: string;
  period_grain?: string;
  period_start?: string;
  period_end?: string;
  dimension: string;
  group_value: string;
  numerator?: number | null;
  denominator?: number | null;
  suppressed?: boolean;
  reference_group?: string | null;
  p_value?: number | null;
  q_value?: number | null;
  note?: string;
}

const COLUMNS = ['metric_id', 'period_grain', 'period_start', 'period_end', 'dimension', 'group_value', 'numerator', 'denominator', 'value', 'ci_low', 'ci_high', 'suppressed',
  'reference_group', 'rate_difference', 'rd_ci_low', 'rd_ci_high', 'rate_ratio', 'rr_ci_low', 'rr_ci_high', 'p_value', 'q_value', 'disparity_flag', 'run_id', 'as_of', 'note'];

/** The results table as the CSV export writes it (outputs.md columns). Withheld rows carry no figures. */
export function resultsCsv(rows: ResultRow[], asOf = '2026-10-31'): string {
  const lines = [COLUMNS.join(',')];
  for (const r of rows) {
    const sup = r.suppressed === true;
    const rec: Record<string, unknown> = {
      period_grain: 'all', period_start: '2025-01-01', period_end: asOf, ...r,
      numerator: sup ? '' : r.numerator ?? '', denominator: sup ? '' : r.denominator ?? '',
      value: !sup && r.numerator != null && r.denominator ? r.numerator / r.denominator : '',
      suppressed: sup, run_id: 'fixture', as_of: asOf,
    };
    lines.push(COLUMNS.map((c) => (rec[c] === undefined || rec[c] === null ? '' : String(rec[c]))).join(','));
  }
  return lines.join('\n') + '\n';
}

export interface RoleFiles {
  catalog: CatalogEntry[];
  rows?: ResultRow[];
  /** Other downloads: URL -> JSON value or CSV text. */
  files?: Record<string, unknown>;
  asOf?: string;
}

/** Write one role's folder (index.jsonl + files/) as fetch.ts does. */
export function writeRole(dir: string, role: string, r: RoleFiles) {
  const asOf = r.asOf ?? '2026-10-31';
  const folder = join(dir, role);
  mkdirSync(join(folder, 'files'), { recursive: true });
  const index: string[] = [];
  let n = 0;
  const put = (url: string, body: string, ext: string, status = 200) => {
    n += 1;
    const file = `files/${String(n).padStart(5, '0')}.${ext}`;
    writeFileSync(join(folder, file), body);
    index.push(JSON.stringify({ url, status, type: ext === 'json' ? 'application/json' : 'text/csv', file, bytes: body.length }));
  };
  put('/api/metrics', JSON.stringify({
    run_id: 'fixture', as_of: asOf,
    metrics: r.catalog.map((m) => ({
      anchor: 'referred_on', windows: [], dimensions: ['all'], snapshot: false, unit: 'proportion of referrals (0-1)', ...m,
      interval: m.interval ?? INTERVAL[m.kind], available: true,
    })),
  }), 'json');
  if (r.rows) put('/api/exports/metrics/all.csv', resultsCsv(r.rows, asOf), 'csv');
  for (const [url, body] of Object.entries(r.files ?? {})) {
    put(url, typeof body === 'string' ? body : JSON.stringify(body), typeof body === 'string' ? 'csv' : 'json');
  }
  writeFileSync(join(folder, 'index.jsonl'), index.join('\n') + '\n');
}

export function writeManifest(dir: string, roles: Record<string, { role: string; org: string | null }>) {
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ roles }, null, 2));
}

export function writeServices(path: string, pairs: Array<[org: string, domain: string]>) {
  writeFileSync(path, ['program_id,org_id,org_name,program_name,domain,county_fips,monthly_capacity',
    ...pairs.map(([o, d], i) => `SVC-${i},${o},${o} name,program ${i},${d},37001,10`)].join('\n') + '\n');
}

export interface Finding {
  route: string;
  role: string;
  metric: string;
  grain: string | null;
  period: string | null;
  dimension: string;
  group: string;
  quantity: string;
  interval: [number | null, number | null];
  exact: boolean;
  evidence: string;
}

/** Run attack.py; returns its findings and exit code. */
export function attack(fetchDir: string, services: string, extra: string[] = [], env: Record<string, string> = {}): Promise<{ code: number | null; findings: Finding[]; stderr: string }> {
  const out = join(fetchDir, 'findings.jsonl');
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [ATTACK, fetchDir, '--services', services, '--out', out, '--quiet', ...extra], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      const findings = existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Finding) : [];
      resolve({ code, findings, stderr });
    });
  });
}
