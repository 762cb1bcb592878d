// The closeloop server: Express 5 serving the dashboards and the JSON API from the current
// published generation, read-only. Order of middleware:
//   security headers -> compression -> request size limits -> static assets (no data) -> authenticate
//   (ONE point: sessions, Bearer tokens, the access log) -> sign-in, session and admin
//   routes -> API -> downloads -> pages -> 404 -> JSON errors.
// Security (server/auth/security.ts) is on unless `security: false` (only the tests of
// the plug points in hooks.ts turn it off).
import express, { type Express, type Request } from 'express';
import compression from 'compression';
import helmet from 'helmet';
import { createSecurity, requestLimits, type Security, type SecurityOptions } from './auth/security.ts';
import { GenerationManager, type GenerationOptions } from './generation.ts';
import { apiNotFound, errorHandler, notFound } from './http.ts';
import type { AccessRequest, Grant, ServerHooks } from './hooks.ts';
import { ExportFolder } from './exports/downloads.ts';
import { apiRouter } from './routes/api.ts';
import { assetsRouter } from './routes/assets.ts';
import { downloadsRouter } from './routes/downloads.ts';
import { healthRouter, opsApiRouter } from './routes/ops.ts';
import { pagesRouter } from './routes/pages.ts';

export interface AppOptions {
  /** Store folder (the same --db DIR as every command): pointer, published/, state/. */
  root: string;
  /** No stack traces or paths in error responses (default: NODE_ENV === 'production'). */
  production?: boolean;
  /** Sessions, sign-in limits, cookies; `false` turns the security layer off (tests of the plug points only). */
  security?: SecurityOptions | false;
  /**
   * Express's `trust proxy` (default false): set it to the proxy's address or hop count when
   * a TLS-terminating reverse proxy sits in front, so client addresses and https are seen.
   */
  trustProxy?: boolean | number | string;
  /** Hooks added after the security layer's own (e.g. a test's download recorder). */
  hooks?: ServerHooks;
  generation?: GenerationOptions;
  /** Stale-data limits (default: the configuration's `freshness`). */
  freshness?: import('./routes/ops.ts').Freshness;
  log?: (line: string) => void;
}

export type App = Express & {
  /** Close the published generation and remove temporary export files. */
  close(): void;
  generations: GenerationManager;
  /** The security layer (null when turned off). */
  security: Security | null;
};

/** The strict policy the pages are built for: no inline script or style, nothing from outside. */
export const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:', 'blob:'],
  fontSrc: ["'self'"],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  upgradeInsecureRequests: null,
};

/** The security layer's hooks first, then the extra ones (a refusal by either stops the request). */
function composeHooks(first: ServerHooks | undefined, extra: ServerHooks | undefined): ServerHooks {
  if (!first) return extra ?? {};
  if (!extra) return first;
  const both = <T extends unknown[]>(a?: (...x: T) => unknown, b?: (...x: T) => unknown) => (a && b ? async (...x: T) => { await a(...x); await b(...x); } : (a ?? b));
  return {
    authenticate: first.authenticate && extra.authenticate
      ? (req, res, next) => first.authenticate!(req, res, (err?: unknown) => (err ? next(err) : extra.authenticate!(req, res, next)))
      : (first.authenticate ?? extra.authenticate),
    authorize: first.authorize && extra.authorize
      ? async (req: Request, access: AccessRequest): Promise<Grant> => ({ ...((await extra.authorize!(req, access)) ?? {}), ...((await first.authorize!(req, access)) ?? {}) })
      : (first.authorize ?? extra.authorize),
    onDownload: both(first.onDownload, extra.onDownload) as ServerHooks['onDownload'],
    routes: first.routes && extra.routes ? (app: Express) => { first.routes!(app); extra.routes!(app); } : (first.routes ?? extra.routes),
  };
}

export function createApp(opts: AppOptions): App {
  const production = opts.production ?? process.env.NODE_ENV === 'production';
  const log = opts.log ?? ((line: string) => console.error(line));
  const security = opts.security === false ? null : createSecurity({ root: opts.root, production, log, options: opts.security });
  const hooks = composeHooks(security?.hooks, opts.hooks);
  const generations = new GenerationManager(opts.root, { log, ...opts.generation });
  const folder = new ExportFolder();
  const app = express() as App;
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('etag', 'weak');
  app.set('trust proxy', opts.trustProxy ?? false);

  app.use(helmet({
    contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
    crossOriginEmbedderPolicy: false,
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  }));
  // gzip or brotli, as the client accepts, for every response of a compressible type (the
  // `compressible` list: text, JSON, JavaScript, SVG); images, XLSX, Parquet and Arrow
  // files are left as they are.
  app.use(compression());
  app.use(requestLimits());
  app.use(assetsRouter({ production }));
  app.use(healthRouter({ generations, freshness: opts.freshness })); // /healthz, /readyz (README, "Operating it"): no auth, no data
  if (hooks.authenticate) app.use(hooks.authenticate);
  hooks.routes?.(app);
  app.use('/api', opsApiRouter({ generations, hooks, freshness: opts.freshness })); // /api/freshness, POST /api/admin/run
  // Responses with data are for the signed-in user only: no shared cache may keep them.
  app.use('/api', (_req, res, next) => {
    res.setHeader('Cache-Control', 'private, no-cache');
    next();
  });
  app.use('/api', apiRouter({ root: opts.root, generations, hooks }));
  app.use('/api', downloadsRouter({ generations, hooks, folder }));
  app.use('/api', apiNotFound);
  app.use(pagesRouter(hooks));
  app.use((req, _res, next) => next(notFound(`no such page: ${req.path}`)));
  app.use(errorHandler({ production, log }));

  app.generations = generations;
  app.security = security;
  app.close = () => {
    generations.close();
    folder.close();
    void security?.flush();
  };
  return app;
}
