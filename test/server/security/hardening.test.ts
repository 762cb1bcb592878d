// Hardening: security headers on every response (whatever its status or kind), no
// X-Powered-By, errors that leak no stack or path in production, oversized requests
// refused (413/414), sign-in floods refused (429, bounded memory), and path traversal in
// every spelling refused (400/404) before it reaches a route or the file system.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../../server/app.ts';
import { readLog, auditPath, type AuditRecord } from '../../../server/auth/audit.ts';
import { RateLimiter } from '../../../server/auth/rateLimit.ts';
import { vendor } from '../../../server/routes/assets.ts';
import { storePaths } from '../../../pipelines/store.ts';
import { addTestUser, getAs, type TestUser } from '../../helpers/auth.ts';
import { publishedFixture, type PublishedFixture } from '../../helpers/publishedFixture.ts';

let fx: PublishedFixture;
let app: App;
let prod: App;
let evaluator: TestUser;
let partner: TestUser;

beforeAll(async () => {
  fx = await publishedFixture();
  app = createApp({ root: fx.root, log: () => undefined, security: { failureLimit: { max: 1000 } } });
  const boom = (a: import('express').Express) => a.get('/api/boom', () => {
    throw new Error(`cannot open ${fx.root}/published/secret.duckdb`);
  });
  prod = createApp({ root: fx.root, production: true, log: () => undefined, security: { failureLimit: { max: 1000 } }, hooks: { routes: boom } });
  evaluator = await addTestUser(fx.root, 'evaluator');
  partner = await addTestUser(fx.root, 'partner', { org: 'ORG-04' });
});
afterAll(() => {
  app.close();
  prod.close();
  fx.cleanup();
});

function expectHeaders(r: request.Response, what: string) {
  const csp = r.headers['content-security-policy'] ?? '';
  expect(csp, what).toContain("default-src 'self'");
  expect(csp, what).toContain("script-src 'self'");
  expect(csp, what).toContain("style-src 'self'");
  expect(csp, what).toContain("object-src 'none'");
  expect(csp, what).toContain("frame-ancestors 'none'");
  expect(csp, what).toContain("form-action 'self'");
  expect(csp, what).not.toContain('unsafe');
  expect(r.headers['x-content-type-options'], what).toBe('nosniff');
  expect(r.headers['x-frame-options'], what).toBe('DENY');
  expect(r.headers['referrer-policy'], what).toBe('no-referrer');
  expect(r.headers['cross-origin-opener-policy'], what).toBe('same-origin');
  expect(r.headers['x-powered-by'], what).toBeUndefined();
}

describe('headers on every response', () => {
  it('pages, API, downloads, static files, redirects and every kind of error', async () => {
    const cases: Array<[string, () => Promise<request.Response>, number]> = [
      ['page', () => getAs(app, evaluator, '/closed-loop'), 200],
      ['sign-in page', () => request(app).get('/signin'), 200],
      ['redirect to sign-in', () => request(app).get('/access'), 303],
      ['API JSON', () => getAs(app, evaluator, '/api/metrics/closed_loop_rate?grain=all'), 200],
      ['CSV download', () => getAs(app, evaluator, '/api/exports/metrics/closed_loop_rate.csv?grain=all'), 200],
      ['static file', () => request(app).get('/static/css/app.css'), 200],
      ['vendored library', () => request(app).get(vendor().shim.url), 200],
      ['health', () => request(app).get('/api/health'), 200],
      ['400', () => getAs(app, evaluator, '/api/metrics/closed_loop_rate?grain=weekly'), 400],
      ['401', () => request(app).get('/api/metrics'), 401],
      ['403', () => getAs(app, partner, '/api/partners/ORG-07/scorecard'), 403],
      ['404 API', () => getAs(app, evaluator, '/api/nothing'), 404],
      ['404 page', () => getAs(app, evaluator, '/nothing'), 404],
      ['404 static', () => request(app).get('/static/nothing.js'), 404],
      ['413', () => request(app).post('/signin').type('form').send(`token=${'a'.repeat(9000)}`), 413],
      ['500 production', () => getAs(prod, evaluator, '/api/boom'), 500],
    ];
    for (const [what, go, status] of cases) {
      const r = await go();
      expect(r.status, what).toBe(status);
      expectHeaders(r, what);
    }
  });

  it('API responses are private to the signed-in user (no shared cache keeps them)', async () => {
    expect((await getAs(app, evaluator, '/api/metrics')).headers['cache-control']).toBe('private, no-cache');
    expect((await getAs(app, evaluator, '/api/exports/metrics/closed_loop_rate.csv?grain=all')).headers['cache-control']).toBe('private, no-store');
    expect((await request(app).get('/signin')).headers['cache-control']).toBe('no-store');
  });
});

describe('errors in production leak nothing', () => {
  it('an internal error: no stack, no message, no path', async () => {
    const r = await getAs(prod, evaluator, '/api/boom');
    expect(r.body).toEqual({ error: 'internal error', status: 500 });
    expect(r.text).not.toMatch(/secret|duckdb|\/tmp|at |Error/);
  });

  it('client errors say what was wrong with the request, never where the server keeps things', async () => {
    for (const path of ['/api/metrics/closed_loop_rate?grain=weekly', '/api/nothing', '/nothing', '/api/%E0%A4%A', '/api/partners/ORG-99/scorecard', '/api/exports/metrics/nope.csv', '/api/charts/trend.exe']) {
      const r = await getAs(prod, evaluator, path);
      expect(r.status, path).toBeGreaterThanOrEqual(400);
      expect(r.status, path).toBeLessThan(500);
      expect(r.type, path).toBe('application/json');
      expect(r.text, path).not.toContain(fx.root);
      expect(r.text, path).not.toMatch(/node_modules|\/work\/|\.ts:\d+|\n\s+at /);
    }
  });
});

describe('request limits', () => {
  it('an oversized body is refused before it is read (413), on any path', async () => {
    const big = 'x'.repeat(20_000);
    expect((await request(app).post('/signin').type('form').send(`token=${big}`)).status).toBe(413);
    expect((await getAs(app, evaluator, '/api/metrics').set('Content-Type', 'application/json').send(JSON.stringify({ big }))).status).toBe(413);
    expect((await request(app).post('/api/metrics').type('json').send(JSON.stringify({ big }))).status).toBe(413);
    // Just over the sign-in form's own limit (2 KB), under the global one.
    const r = await request(app).post('/signin').type('form').send(`token=${'a'.repeat(3000)}`);
    expect(r.status).toBe(413);
    expect(r.body.status).toBe(413);
  });

  it('a sign-in body is validated: unknown fields and missing tokens are 400', async () => {
    const extra = await request(app).post('/signin').type('form').send({ token: evaluator.token, role: 'admin' });
    expect(extra.status).toBe(400);
    expect(extra.body.error).toBe("unknown body parameter 'role'");
    expect((await request(app).post('/signin').type('form').send({})).status).toBe(400);
    expect((await request(app).post('/signin').type('json').send({ token: evaluator.token })).status).toBe(400);
  });

  it('an overlong URL is refused (414)', async () => {
    expect((await getAs(app, evaluator, `/api/metrics/closed_loop_rate?group=${'a'.repeat(5000)}`)).status).toBe(414);
  });
});

describe('sign-in floods', () => {
  it('failed sign-ins from one address: 429 after the limit, audited once; a good token still signs in (issue 18)', async () => {
    const strict = createApp({ root: fx.root, log: () => undefined, security: { failureLimit: { max: 5, windowMs: 60_000 } } });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await request(strict).post('/signin').type('form').send({ token: `cl_${'x'.repeat(43)}` })).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    const bad = await request(strict).post('/signin').type('form').send({ token: `cl_${'w'.repeat(43)}` });
    expect(bad.status).toBe(429);
    expect(Number(bad.headers['retry-after'])).toBeGreaterThan(0);
    expect(bad.headers['set-cookie']).toBeUndefined();
    expect((await request(strict).post('/signin').type('form').send({ token: evaluator.token })).status).toBe(303);
    expect((await getAs(strict, evaluator, '/api/run')).status).toBe(200);
    await strict.security!.flush();
    const limited = (await readLog<AuditRecord>(auditPath(storePaths(fx.root).stateDir), { kind: 'signin' })).filter((r) => r.reason === 'rate_limited');
    expect(limited).toHaveLength(1);
    strict.close();
  });

  it('failed Bearer tokens count too', async () => {
    const strict = createApp({ root: fx.root, log: () => undefined, security: { failureLimit: { max: 3 } } });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await request(strict).get('/api/run').set('Authorization', `Bearer cl_${'y'.repeat(43)}`)).status);
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    strict.close();
  });

  it('the limiter tracks a bounded number of addresses', () => {
    const l = new RateLimiter({ max: 2, windowMs: 60_000, maxKeys: 100 });
    for (let i = 0; i < 10_000; i++) l.hit(`10.0.${i >> 8}.${i & 255}`, 1000 + i);
    expect(l.size).toBeLessThanOrEqual(100);
    expect(l.hit('a', 0)).toBe(true);
    expect(l.hit('a', 1)).toBe(true);
    expect(l.hit('a', 2)).toBe(false);
    expect(l.hit('a', 60_001)).toBe(true);
  });
});

describe('path traversal', () => {
  const ATTEMPTS = [
    '/static/../package.json',
    '/static/..%2f..%2fpackage.json',
    '/static/%2e%2e/%2e%2e/package.json',
    '/static/%2e%2e%2f%2e%2e%2fpackage.json',
    '/static/%252e%252e%252fpackage.json',
    '/static/..%5c..%5cpackage.json',
    '/static/css/..%00/app.css',
    '/vendor/..%2f..%2fpackage.json',
    '/api/partners/..%2F..%2Fetc/scorecard',
    '/api/partners/%2e%2e/gap-analysis.csv',
    '/api/partners/%252e%252e%252fstate/gap-analysis.csv',
    '/api/charts/..%2f..%2fpackage.json',
    '/api/exports/metrics/..%2Fsecret.csv',
    '/api/exports/metrics/%2e%2e%2f%2e%2e%2fstate%2fusers.json',
    '/api/exports/..%2f..%2fstate%2fusers.json',
    '/api/metrics/..%2f..%2fstate',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/..%2f..%2fdata/state/users.json',
  ];

  it('every spelling, signed in or not, gets 400 or 404, never a file', async () => {
    for (const path of ATTEMPTS) {
      for (const r of [await getAs(app, evaluator, path), await request(app).get(path)]) {
        expect([400, 404], `${path} -> ${r.status}`).toContain(r.status);
        expect(r.type, path).toBe('application/json');
        expect(r.text, path).not.toMatch(/"name"\s*:\s*"closeloop"|token_sha256|root:x:0/);
      }
    }
  });

  it('ids in paths are looked up, never used as file names', async () => {
    expect((await getAs(app, evaluator, '/api/partners/ORG-04%2F..%2FORG-07/gap-analysis.csv')).status).toBe(400);
    expect((await getAs(app, evaluator, '/api/charts/trend.json%00.csv')).status).toBe(400);
    expect((await getAs(app, evaluator, '/api/exports/metrics/closed_loop_rate.csv%2F')).status).toBe(400);
  });
});

describe('state-changing requests', () => {
  it('triggering a run is for admins only; with a session cookie it must come from our own pages', async () => {
    const staff = await addTestUser(fx.root, 'staff');
    const admin = await addTestUser(fx.root, 'admin');
    const post = (u: TestUser | null) => (u ? request(app).post('/api/admin/run').set('Authorization', `Bearer ${u.token}`) : request(app).post('/api/admin/run'));
    expect((await post(null)).status).toBe(401);
    for (const u of [evaluator, staff, partner]) {
      const r = await post(u);
      expect(r.status, u.role).toBe(403);
      expect(r.body.error).toBe('not allowed: only an admin may trigger run');
    }
    // An admin passes authorization (503: no scheduler registered a trigger in this process).
    expect((await post(admin)).status).toBe(503);
    const signin = await request(app).post('/signin').type('form').send({ token: admin.token });
    const cookie = (signin.headers['set-cookie'] as unknown as string[])[0]!.split(';')[0]!;
    expect((await request(app).post('/api/admin/run').set('Cookie', cookie).set('Sec-Fetch-Site', 'same-origin')).status).toBe(503);
    const forged = await request(app).post('/api/admin/run').set('Cookie', cookie).set('Sec-Fetch-Site', 'cross-site');
    expect(forged.status).toBe(403);
    expect(forged.body.reason).toBe('cross_site');
    expect((await request(app).post('/api/admin/run').set('Cookie', cookie).set('Origin', 'https://evil.example')).status).toBe(403);
  });
});
