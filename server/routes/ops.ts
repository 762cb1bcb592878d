// Monitoring and operation (README, "Operating it"):
//   GET /healthz        liveness, no auth: the process answers.
//   GET /readyz         readiness, no auth: a published generation exists and is fresh,
//                       else 503 with the reason (for load balancers and monitors).
//   GET /api/freshness  the stale-data banner: { stale, reasons, ... } for the pages.
//   POST /api/admin/run trigger a pipeline run (only under `closeloop schedule`, which
//                       registers the trigger; 503 otherwise).
import { Router, type Request } from 'express';
import { configPath, DEFAULT_CONFIG, loadConfig, type Config } from '../../models/config.ts';
import type { GenerationManager } from '../generation.ts';
import type { ServerHooks } from '../hooks.ts';

export type Freshness = Config['freshness'];

export interface Staleness {
  run_id: string | null;
  as_of: string | null;
  published_at: string | null;
  published_age_hours: number | null;
  as_of_age_days: number | null;
  stale: boolean;
  reasons: string[];
  limits: Freshness;
}

/**
 * Milliseconds since the epoch of a timestamp as DuckDB prints TIMESTAMPTZ
 * ('2026-11-01 06:04:12.5+00') or as ISO 8601; NaN when unreadable. JavaScript's Date
 * rejects the bare '+00' offset, so it is widened to '+00:00'.
 */
export function parseTimestamp(s: string): number {
  return Date.parse(s.trim().replace(' ', 'T').replace(/([+-]\d{2})$/, '$1:00'));
}

/** Is the published generation stale? Pure: pass the clock. */
export function staleness(info: { run_id: string; as_of: string; published_at: string | null } | null, limits: Freshness, now: Date): Staleness {
  if (!info) {
    return { run_id: null, as_of: null, published_at: null, published_age_hours: null, as_of_age_days: null, stale: true, reasons: ['nothing is published yet'], limits };
  }
  const reasons: string[] = [];
  const pub = info.published_at ? parseTimestamp(info.published_at) : NaN;
  const publishedAge = Number.isFinite(pub) ? (now.getTime() - pub) / 3_600_000 : null;
  const asOfAge = (now.getTime() - Date.parse(`${info.as_of}T00:00:00Z`)) / 86_400_000;
  if (publishedAge !== null && publishedAge > limits.maxPublishedAgeHours) {
    reasons.push(`the last publish was ${publishedAge.toFixed(1)} hours ago (limit ${limits.maxPublishedAgeHours} h): scheduled runs are failing or blocked`);
  }
  if (asOfAge > limits.maxAsOfAgeDays) reasons.push(`the data is as of ${info.as_of}, ${Math.floor(asOfAge)} days ago (limit ${limits.maxAsOfAgeDays} days): the extracts are not current`);
  return {
    run_id: info.run_id, as_of: info.as_of, published_at: info.published_at,
    published_age_hours: publishedAge === null ? null : Math.round(publishedAge * 100) / 100,
    as_of_age_days: Math.floor(asOfAge), stale: reasons.length > 0, reasons, limits,
  };
}

export type RunTrigger = (by: string) => Promise<{ started: boolean; reason?: string }>;
let runTrigger: RunTrigger | null = null;

/** `closeloop schedule` registers how a run is started; plain `serve` has none. */
export function setRunTrigger(t: RunTrigger | null) {
  runTrigger = t;
}

export interface OpsOptions {
  generations: GenerationManager;
  hooks?: ServerHooks;
  freshness?: Freshness;
  now?: () => Date;
}

function limitsLoader(opts: OpsOptions): () => Promise<Freshness> {
  let cached: Promise<Freshness> | null = null;
  return () => {
    if (opts.freshness) return Promise.resolve(opts.freshness);
    cached ??= loadConfig(configPath()).then((c) => c.freshness, () => DEFAULT_CONFIG.freshness);
    return cached;
  };
}

async function current(opts: OpsOptions, limits: Freshness): Promise<Staleness> {
  const now = (opts.now ?? (() => new Date()))();
  const lease = await opts.generations.acquire().catch(() => null);
  if (!lease) return staleness(null, limits, now);
  try {
    const { run_id, as_of, published_at } = lease.gen.runInfo;
    return staleness({ run_id, as_of, published_at: published_at ?? lease.gen.pointer.published_at }, limits, now);
  } finally {
    lease.release();
  }
}

/** /healthz and /readyz: mounted before authentication (they carry no data). */
export function healthRouter(opts: OpsOptions): Router {
  const r = Router();
  const limits = limitsLoader(opts);
  r.get('/healthz', (_req, res) => {
    res.json({ ok: true, pid: process.pid, uptime_seconds: Math.round(process.uptime()) });
  });
  r.get('/readyz', async (_req, res) => {
    const s = await current(opts, await limits());
    res.status(s.stale ? 503 : 200).json({ ready: !s.stale, reason: s.reasons.join('; ') || null, run_id: s.run_id, as_of: s.as_of, published_at: s.published_at, published_age_hours: s.published_age_hours, as_of_age_days: s.as_of_age_days });
  });
  return r;
}

/** /api/freshness and /api/admin/run: mounted after authentication. */
export function opsApiRouter(opts: OpsOptions): Router {
  const r = Router();
  const limits = limitsLoader(opts);
  const authorize = async (req: Request, params?: Record<string, unknown>) => {
    await opts.hooks?.authorize?.(req, { resource: 'admin', params });
  };
  r.get('/freshness', async (req, res) => {
    // Whether the data is stale is said on every page, to every role: no figures, no counts.
    await opts.hooks?.authorize?.(req, { resource: 'meta' });
    res.json(await current(opts, await limits()));
  });
  r.post('/admin/run', async (req, res) => {
    // An admin action: the admin resource is for admins only.
    await authorize(req, { action: 'trigger_run' });
    if (!runTrigger) {
      res.status(503).json({ error: 'runs can only be triggered from the server started by `closeloop schedule`; use `closeloop run`' });
      return;
    }
    const t = await runTrigger('admin');
    res.status(t.started ? 202 : 409).json(t);
  });
  return r;
}
