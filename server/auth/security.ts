// The security layer (issue 7) as the server's hooks: ONE authenticate middleware
// (Bearer token or session cookie; same-site checks; the per-user export limit; the
// access log), authorize (the policy; refusals audited), onDownload (the audit record, on
// disk before the first byte), and the routes of sign-in, sign-out, the session, and
// administration. See the README, "Security model".
import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { storePaths } from '../../pipelines/store.ts';
import { PAGES } from '../../dashboards/pages/pages.ts';
import type { DownloadHook } from '../exports/downloads.ts';
import type { AccessRequest, Grant, ServerHooks } from '../hooks.ts';
import { HttpError, isoDate, parseParams } from '../http.ts';
import { accessPath, AUDIT_KINDS, AuditLog, auditPath, loggableParams, readLog, redact, type AccessRecord, type AuditRecord } from './audit.ts';
import type { Principal } from './credentials.ts';
import { adminPage, signinPage } from './pages.ts';
import { decide, pageResource } from './policy.ts';
import { ConcurrencyLimit, DEFAULT_FAILURE_LIMIT, RateLimiter, type RateLimitOptions } from './rateLimit.ts';
import { credentialTag, DEFAULT_SESSION_OPTIONS, SessionStore, type SessionOptions } from './sessions.ts';
import { principalOfUser, publicUser, UserDirectory, type TokenCheck } from './users.ts';

export interface SecurityOptions {
  session?: Partial<SessionOptions>;
  /** Failed sign-ins (form or Bearer token) per client address before further failures get 429 (default 10 a minute); a valid token always signs in. */
  failureLimit?: Partial<RateLimitOptions>;
  /** Secure cookies: 'auto' (default) when the request came over HTTPS (req.secure, which honours `trust proxy`). */
  secureCookies?: 'auto' | boolean;
  /** Downloads one user may have in flight at once (default 2; closeloop.config.json `exports.maxConcurrentPerUser`). */
  exportsPerUser?: number;
}

export interface Security {
  hooks: ServerHooks;
  audit: AuditLog;
  sessions: SessionStore;
  users: UserDirectory;
  /** Write what is queued (audit, access log, sessions). */
  flush(): Promise<void>;
}

export const SESSION_COOKIE = 'closeloop_session';
/** Under TLS the cookie is `__Host-` prefixed: only this origin, over https, can set it, so a same-site page cannot plant one. */
export const SECURE_SESSION_COOKIE = `__Host-${SESSION_COOKIE}`;
/** Seconds a client is told to wait when it has too many exports in flight. */
export const EXPORT_RETRY_AFTER_SECONDS = 5;

/** Paths open without a session: the sign-in page, sign-out, and the liveness probe. */
const PUBLIC_PATHS = new Set(['/signin', '/signout', '/api/health']);
/** Requests that produce a file (their failures are audited as downloads too). */
const DOWNLOAD_PATH = /^\/api\/(exports\/.+|partners\/[^/]+\/gap-analysis\.(csv|xlsx)|charts\/[^/]+\.(csv|svg|png))$/;
/** Where a sign-in may send the browser: the dashboard pages and the admin page, nothing else. */
const LANDING_PATHS = new Set([...PAGES.map((p) => p.path), '/admin']);

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * A request from another site: the browser says so in Sec-Fetch-Site; without it, an
 * Origin naming another site (under Referrer-Policy no-referrer a same-origin form post
 * says Origin "null", so Origin is checked only when it names a site).
 */
function crossSite(req: Request): boolean {
  const site = req.get('sec-fetch-site');
  const origin = req.get('origin');
  if (site ? site !== 'same-origin' && site !== 'none' : origin === 'null') return true;
  return Boolean(origin && origin !== 'null' && origin !== `${req.protocol}://${req.get('host')}`);
}

/**
 * A read under /api that the user did not ask for: SameSite=Strict sends the cookie with
 * every request from the same site, another port of this host included, so an image or a
 * no-cors fetch there could run an export in the user's name. Allowed: the site's own
 * pages (same-origin), the user's own address bar or bookmark (none) and a top-level
 * navigation (a link followed in a tab). A browser without Sec-Fetch-Site (older than
 * about 2020-2023) is refused only when its Origin names another site.
 */
function foreignRead(req: Request): boolean {
  const site = req.get('sec-fetch-site');
  if (!site) return crossSite(req);
  if (site === 'same-origin' || site === 'none') return false;
  return !(req.get('sec-fetch-mode') === 'navigate' && req.get('sec-fetch-dest') === 'document');
}

interface Locals {
  principal?: Principal;
  auditedDenial?: boolean;
  auditedDownload?: boolean;
}
const locals = (res: Response) => res.locals as Locals;

/** The signed-in principal of a request (set by authenticate), if any. */
export function principalOf(req: Request): Principal | undefined {
  return req.res ? locals(req.res).principal : undefined;
}

function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/** A landing path checked against the pages that exist (never an address from the request as such). */
export function safeNext(next: string | undefined): string | undefined {
  if (!next) return undefined;
  const m = /^(\/[a-z0-9-]*)(\?[A-Za-z0-9_=&.*+%-]{0,400})?$/.exec(next);
  if (!m || !LANDING_PATHS.has(m[1]!)) return undefined;
  return `${m[1]}${m[2] ?? ''}`;
}

const SigninBody = z.strictObject({ token: z.string().min(1).max(200), next: z.string().max(500).optional() });
const NoParams = z.strictObject({});
const SigninQuery = z.strictObject({ next: z.string().max(500).optional() });
const AuditQuery = z.strictObject({
  since: z.union([isoDate, z.iso.datetime()]).optional(),
  user: z.string().min(1).max(80).regex(/^[A-Za-z0-9 _.@+-]+$/).optional(),
  kind: z.enum(AUDIT_KINDS).optional(),
  limit: z.coerce.number().int().min(1).max(5000).default(200),
});
const AdminQuery = AuditQuery.extend({ since: z.union([z.literal(''), isoDate, z.iso.datetime()]).optional(), user: z.union([z.literal(''), z.string().min(1).max(80).regex(/^[A-Za-z0-9 _.@+-]+$/)]).optional(), kind: z.union([z.literal(''), z.enum(AUDIT_KINDS)]).optional() });

export function createSecurity(o: { root: string; production: boolean; log: (line: string) => void; options?: SecurityOptions }): Security {
  const stateDir = storePaths(o.root).stateDir;
  const opts = o.options ?? {};
  const sessionOpts: SessionOptions = { ...DEFAULT_SESSION_OPTIONS, ...opts.session };
  const users = new UserDirectory(stateDir);
  const sessions = new SessionStore(stateDir, sessionOpts, o.log);
  const audit = new AuditLog(stateDir, o.log);
  const failures = new RateLimiter({ ...DEFAULT_FAILURE_LIMIT, ...opts.failureLimit });
  const exports = new ConcurrencyLimit(opts.exportsPerUser ?? 2);
  const ready = audit.flush().then(() => sessions.load());
  // Once the state is loaded, requests need not wait on it (a failed load keeps failing them).
  let isReady = false;
  ready.then(() => {
    isReady = true;
  }, () => undefined);

  const secure = (req: Request) => (opts.secureCookies === undefined || opts.secureCookies === 'auto' ? req.secure : opts.secureCookies);
  const cookieName = (req: Request) => (secure(req) ? SECURE_SESSION_COOKIE : SESSION_COOKIE);
  const who = (p: Principal | undefined) => ({ user_id: p?.user_id ?? null, user_name: p?.name ?? null, role: p?.role ?? null, org: p?.org ?? null });
  // Redacted before it is cut, so no part of a token survives the cut.
  const pathOf = (req: Request) => redact(req.originalUrl.split('?')[0]!).slice(0, 300);
  const where = (req: Request) => ({ ip: req.ip ?? null, method: req.method, path: pathOf(req) });

  function setSessionCookie(req: Request, res: Response, id: string) {
    res.cookie(cookieName(req), id, { httpOnly: true, sameSite: 'strict', secure: secure(req), path: '/', maxAge: sessionOpts.maxAgeMs });
  }
  function clearSessionCookie(req: Request, res: Response) {
    res.clearCookie(cookieName(req), { httpOnly: true, sameSite: 'strict', secure: secure(req), path: '/' });
  }

  /**
   * A failed sign-in (form or Bearer), counted per client address: audited while under the
   * limit; beyond it, 429 with Retry-After and only the first refusal of the window audited
   * (a flood is not written line by line). Valid tokens never come here.
   */
  async function signinFailed(req: Request, res: Response, check: TokenCheck & { ok: false }, method: 'form' | 'bearer'): Promise<void> {
    const key = req.ip ?? '';
    if (!failures.hit(key)) {
      res.setHeader('Retry-After', String(failures.retryAfter(key)));
      if (failures.noteRefusal(key)) await audit.audit({ kind: 'signin', outcome: 'failure', ...who(undefined), ...where(req), reason: 'rate_limited', status: 429, params: { method } });
      throw new HttpError(429, 'too many failed sign-ins from this address; wait a minute and try again', { reason: 'rate_limited' });
    }
    await audit.audit({ kind: 'signin', outcome: 'failure', ...who(check.user ? principalOfUser(check.user, method === 'form' ? 'session' : 'bearer') : undefined), ...where(req), reason: `${check.reason} token`, status: 401, params: { method } });
  }

  /** Refused before any route runs (a same-site read, a cross-site change): audited as an authorization refusal. */
  async function refuseForeign(req: Request, res: Response, p: Principal): Promise<never> {
    locals(res).auditedDenial = true;
    const fetch = [req.get('sec-fetch-site'), req.get('sec-fetch-mode'), req.get('sec-fetch-dest')].map((v) => v ?? '-').join(' ').slice(0, 80);
    await audit.audit({ kind: 'authorization', outcome: 'denied', ...who(p), ...where(req), status: 403, reason: 'cross-site request', fetch });
    throw new HttpError(403, 'cross-site requests are refused', { reason: 'cross_site' });
  }

  function logAccess(req: Request, res: Response, started: bigint) {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      const p = locals(res).principal;
      const status = res.writableFinished ? res.statusCode : 499;
      const record: AccessRecord = {
        time: new Date().toISOString(),
        user_id: p?.user_id ?? null,
        role: p?.role ?? null,
        method: req.method,
        path: pathOf(req),
        status,
        duration_ms: Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10,
      };
      audit.access(record);
      // A download that failed before its file was made (bad parameters, nothing published...) is audited as such.
      if (p && DOWNLOAD_PATH.test(record.path) && status >= 400 && !locals(res).auditedDownload && !locals(res).auditedDenial) {
        void audit.audit({ kind: 'download', outcome: 'failed', ...who(p), ...where(req), status, ...loggableParams(req.query as Record<string, unknown>) }).catch(() => undefined);
      }
    };
    res.once('finish', finish);
    res.once('close', finish);
  }

  const authenticate: RequestHandler = async (req, res, next) => {
    const started = process.hrtime.bigint();
    logAccess(req, res, started);
    try {
      if (!isReady) await ready;
      const now = new Date();
      const header = req.headers.authorization;
      if (header !== undefined) {
        // API clients: a Bearer token on every request (a failure counts against the per-address failure limit).
        const m = /^Bearer ([^\s,]{1,200})$/.exec(header);
        const check: TokenCheck = m ? await users.checkToken(m[1]!, now) : { ok: false, reason: 'malformed' };
        if (!check.ok) {
          await signinFailed(req, res, check, 'bearer');
          res.setHeader('WWW-Authenticate', 'Bearer realm="closeloop", error="invalid_token"');
          throw new HttpError(401, 'the access token is not valid (unknown, revoked or expired)', { reason: 'invalid_token' });
        }
        locals(res).principal = principalOfUser(check.user, 'bearer');
      } else {
        const sid = readCookie(req, cookieName(req));
        if (sid) {
          const s = sessions.touch(sid, now.getTime());
          const u = s ? await users.activeUser(s.user_id, now) : null;
          // A session lives only as long as the token it was started with: rotation ends it.
          if (u && s && s.credential === credentialTag(u.token_sha256)) locals(res).principal = principalOfUser(u, 'session');
          else {
            if (s && !u) sessions.destroyUser(s.user_id);
            else if (s) sessions.destroy(sid);
            clearSessionCookie(req, res);
          }
        }
      }
      const p = locals(res).principal;
      if (p?.via === 'session') {
        // With the session cookie: a change must come from our own pages (CSRF), a read under /api from them or from the user.
        if (SAFE_METHODS.has(req.method) ? /^\/api(\/|$)/i.test(req.path) && foreignRead(req) : crossSite(req)) await refuseForeign(req, res, p);
      }
      if (p && DOWNLOAD_PATH.test(req.path)) {
        // Downloads take seconds and memory: a few at a time per user, whoever else is exporting.
        const release = exports.acquire(p.user_id);
        if (!release) {
          res.setHeader('Retry-After', String(EXPORT_RETRY_AFTER_SECONDS));
          throw new HttpError(429, `too many downloads in progress for this user (at most ${exports.max} at a time); wait for one to finish and try again`, { reason: 'too_many_exports' });
        }
        res.once('close', release);
        res.once('finish', release);
      }
      if (PUBLIC_PATHS.has(req.path) || p) {
        next();
        return;
      }
      // Nobody signed in: pages send the browser to sign in; everything else is a 401.
      if ((req.method === 'GET' || req.method === 'HEAD') && !/^\/api(\/|$)/i.test(req.path)) {
        const back = safeNext(req.originalUrl);
        res.redirect(303, back && back !== '/' ? `/signin?next=${encodeURIComponent(back)}` : '/signin');
        return;
      }
      res.setHeader('WWW-Authenticate', 'Bearer realm="closeloop"');
      throw new HttpError(401, 'sign in first: send Authorization: Bearer <token>, or sign in at /signin', { reason: 'unauthenticated' });
    } catch (err) {
      next(err);
    }
  };

  const authorize = async (req: Request, access: AccessRequest): Promise<Grant> => {
    const p = principalOf(req);
    if (!p) throw new HttpError(401, 'sign in first', { reason: 'unauthenticated' });
    const d = decide(p, access);
    if (d.allow) return d.narrowTo === undefined ? {} : { narrowTo: d.narrowTo };
    if (req.res) locals(req.res).auditedDenial = true;
    await audit.audit({
      kind: 'authorization', outcome: 'denied', ...who(p), ...where(req), status: 403, reason: d.reason,
      resource: access.resource, requested_org: access.org ?? null, ...loggableParams(access.params),
    });
    throw new HttpError(403, `not allowed: ${d.reason}`, { reason: 'forbidden' });
  };

  const onDownload: DownloadHook = async (req, info) => {
    const p = principalOf(req);
    const base = {
      kind: 'download' as const, ...who(p), ...where(req), what: info.kind, filename: info.filename, ...loggableParams(info.params),
      rows: info.rows, bytes: info.bytes, sha256: info.sha256, run_id: info.run_id,
    };
    const res = req.res;
    if (req.method === 'HEAD') {
      // Headers only: nothing of the file leaves, so one record, with 0 bytes (and no digest of bytes not sent).
      await audit.audit({ ...base, outcome: 'head', rows: 0, bytes: 0, sha256: undefined, status: 200 });
      if (res) locals(res).auditedDownload = true;
      return;
    }
    // On disk before the first byte is sent: if this write fails, nothing is sent.
    await audit.audit({ ...base, outcome: 'started' });
    if (!res) return;
    locals(res).auditedDownload = true;
    let ended = false;
    const end = (outcome: 'completed' | 'aborted') => {
      if (ended) return;
      ended = true;
      void audit.audit({ ...base, outcome, status: res.statusCode }).catch(() => undefined);
    };
    res.once('finish', () => end('completed'));
    res.once('close', () => end(res.writableFinished ? 'completed' : 'aborted'));
  };

  /** Form posts only from our own pages (SameSite=Strict already keeps the cookie off cross-site requests; this also stops login CSRF). */
  const sameOrigin: RequestHandler = (req, _res, next) => {
    if (crossSite(req)) {
      next(new HttpError(403, 'cross-site form posts are refused', { reason: 'cross_site' }));
      return;
    }
    next();
  };

  const wantsJson = (req: Request) => (req.get('accept') ?? '').includes('application/json') && !(req.get('accept') ?? '').includes('text/html');

  const routes = (app: Express) => {
    app.get('/signin', (req, res) => {
      const q = parseParams(SigninQuery, req.query);
      res.setHeader('Cache-Control', 'no-store');
      res.type('html').send(signinPage({ next: safeNext(q.next) ?? '' }));
    });

    app.post('/signin', sameOrigin, express.urlencoded({ extended: false, limit: '2kb', parameterLimit: 4 }), async (req: Request, res: Response) => {
      res.setHeader('Cache-Control', 'no-store');
      const body = parseParams(SigninBody, req.body ?? {}, 'body');
      const next = safeNext(body.next);
      const check = await users.checkToken(body.token.trim(), new Date());
      if (!check.ok) {
        try {
          await signinFailed(req, res, check, 'form');
        } catch (err) {
          // A person at the form gets the form back, with the reason (and the 429 status).
          if (wantsJson(req) || !(err instanceof HttpError)) throw err;
          res.status(err.status).type('html').send(signinPage({ next: next ?? '', error: 'Too many failed sign-ins from this address: wait a minute and try again.' }));
          return;
        }
        if (wantsJson(req)) throw new HttpError(401, 'sign-in failed: the token is not valid (unknown, revoked or expired)', { reason: 'invalid_token' });
        res.status(401).type('html').send(signinPage({ next: next ?? '', error: 'Sign-in failed: that token is not valid. It may have been mistyped, revoked or expired; ask an administrator for a new one.' }));
        return;
      }
      const p = principalOfUser(check.user, 'session');
      locals(res).principal = p;
      setSessionCookie(req, res, sessions.create(check.user.id, credentialTag(check.user.token_sha256)));
      await audit.audit({ kind: 'signin', outcome: 'success', ...who(p), ...where(req), status: 200, params: { method: 'form' } });
      if (wantsJson(req)) {
        res.json({ ok: true, user: { id: p.user_id, name: p.name, role: p.role, org: p.org } });
        return;
      }
      res.redirect(303, next ?? (p.role === 'admin' ? '/admin' : '/'));
    });

    app.post('/signout', sameOrigin, express.urlencoded({ extended: false, limit: '1kb', parameterLimit: 2 }), async (req: Request, res: Response) => {
      parseParams(NoParams, req.body ?? {}, 'body');
      const sid = readCookie(req, cookieName(req));
      const p = principalOf(req);
      if (sid) sessions.destroy(sid);
      clearSessionCookie(req, res);
      if (p) await audit.audit({ kind: 'signout', outcome: 'success', ...who(p), ...where(req), status: 303 });
      res.setHeader('Cache-Control', 'no-store');
      res.redirect(303, '/signin');
    });

    // Who am I, and which pages may I open (the navigation hides the others).
    app.get('/api/session', async (req, res) => {
      parseParams(NoParams, req.query);
      await authorize(req, { resource: 'meta' });
      const p = principalOf(req)!;
      const pages = PAGES.filter((pg) => pg.inNav && decide(p, { resource: pageResource(pg.id) }).allow).map((pg) => ({ path: pg.path, nav: pg.nav }));
      if (p.role === 'admin') pages.push({ path: '/admin', nav: 'Administration' });
      res.setHeader('Cache-Control', 'private, no-store');
      res.json({ user: { id: p.user_id, name: p.name, role: p.role, org: p.org }, via: p.via, idle_minutes: Math.round(sessionOpts.idleMs / 60_000), pages });
    });

    app.get('/api/admin/users', async (req, res) => {
      parseParams(NoParams, req.query);
      await authorize(req, { resource: 'admin' });
      const now = new Date();
      res.setHeader('Cache-Control', 'private, no-store');
      res.json({ users: (await users.list()).map((u) => publicUser(u, now)) });
    });

    app.get('/api/admin/audit', async (req, res) => {
      const q = parseParams(AuditQuery, req.query);
      await authorize(req, { resource: 'admin', params: q });
      res.setHeader('Cache-Control', 'private, no-store');
      res.json({ records: await readLog<AuditRecord>(auditPath(stateDir), q) });
    });

    app.get('/admin', async (req, res) => {
      const q = parseParams(AdminQuery, req.query);
      await authorize(req, { resource: 'admin', params: q });
      const filter = { since: q.since || undefined, user: q.user || undefined, kind: q.kind || undefined, limit: q.limit };
      const now = new Date();
      await audit.flush();
      res.setHeader('Cache-Control', 'private, no-store');
      res.type('html').send(adminPage({
        users: (await users.list()).map((u) => publicUser(u, now)),
        audit: await readLog<AuditRecord>(auditPath(stateDir), filter),
        access: await readLog<AccessRecord & { kind?: string }>(accessPath(stateDir), { since: filter.since, user: filter.user, limit: 100 }),
        filter,
        kinds: AUDIT_KINDS,
        me: { name: principalOf(req)!.name },
      }));
    });
  };

  return {
    hooks: { authenticate, authorize, onDownload, routes },
    audit,
    sessions,
    users,
    flush: async () => {
      await audit.flush();
      await sessions.flush();
    },
  };
}

/** Express's own limit on a URL: longer ones are refused before routing (414). */
export const MAX_URL_LENGTH = 4096;
/** No endpoint takes more than a sign-in form; anything bigger is refused before it is read (413). */
export const MAX_BODY_BYTES = 8 * 1024;

/** A path that climbs out of where it points (`..`, also percent-encoded once or twice), or carries a backslash or NUL. */
export function traversal(rawPath: string): boolean {
  let p = rawPath;
  for (let i = 0; i < 3; i++) {
    if (/(^|[/\\])\.\.([/\\]|$)|\\|\0/.test(p)) return true;
    let next: string;
    try {
      next = decodeURIComponent(p);
    } catch {
      return false; // not decodable: the router answers 400 itself
    }
    if (next === p) return false;
    p = next;
  }
  return /(^|[/\\])\.\.([/\\]|$)|\\|\0/.test(p);
}

/**
 * Refuse oversized requests up front (the sign-in parser has its own, smaller, limit),
 * and paths that try to climb out of a folder: no route takes a path from the request,
 * but such a request is refused before any of them sees it (400).
 */
export function requestLimits(): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction) => {
    if (req.originalUrl.length > MAX_URL_LENGTH) {
      next(new HttpError(414, `request URL too long (at most ${MAX_URL_LENGTH} characters)`));
      return;
    }
    if (traversal(req.originalUrl.split('?')[0]!)) {
      next(new HttpError(400, 'invalid path', { reason: 'invalid_path' }));
      return;
    }
    const length = req.headers['content-length'];
    if (length !== undefined && (!/^\d+$/.test(length) || Number(length) > MAX_BODY_BYTES)) {
      next(new HttpError(413, `request body too large (at most ${MAX_BODY_BYTES} bytes)`));
      return;
    }
    next();
  };
}
