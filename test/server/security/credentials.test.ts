// Tokens and sessions: only SHA-256 hashes are stored; a raw token or session id appears
// in no file of the store and no log line; revoked, expired, rotated and malformed
// tokens are refused; the CLI's changes reach a running server at once; browser
// sessions are HttpOnly, SameSite=Strict cookies (Secure over https), end when idle, at
// sign-out and when their user is revoked, and survive a server restart.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storePaths } from '../../../pipelines/store.ts';
import { createApp, type App } from '../../../server/app.ts';
import { DEMO_EVALUATOR, ensureDemoEvaluator, usersCommand } from '../../../server/auth/cli.ts';
import { serveCommand, settingsFromEnv } from '../../../server/cli.ts';
import { sha256Hex } from '../../../server/auth/credentials.ts';
import { addUser, readUsersFile } from '../../../server/auth/users.ts';
import { addTestUser, getAs, type TestUser } from '../../helpers/auth.ts';
import { publishedFixture, type PublishedFixture } from '../../helpers/publishedFixture.ts';

let fx: PublishedFixture;
let app: App;
const logs: string[] = [];
const secrets: string[] = [];
let evaluator: TestUser;

const stateDir = () => storePaths(fx.root).stateDir;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every file under the store, as text (the DuckDB files too: a token must not be in them either). */
function storeFiles(dir: string): Array<{ path: string; text: string }> {
  const out: Array<{ path: string; text: string }> = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...storeFiles(p));
    else out.push({ path: p, text: readFileSync(p).toString('latin1') });
  }
  return out;
}

/** Sign in through the form as a browser does; returns the session cookie ("name=value"). */
async function signIn(a: App, token: string, headers: Record<string, string> = {}) {
  const r = await request(a).post('/signin').set(headers).type('form').send({ token, next: '/closed-loop' });
  const cookie = (r.headers['set-cookie'] as unknown as string[] | undefined)?.[0] ?? '';
  return { r, cookie, pair: cookie.split(';')[0]! };
}

beforeAll(async () => {
  fx = await publishedFixture();
  // Many deliberate failures from one address here: the sign-in limits are raised (their own test: hardening.test.ts).
  app = createApp({ root: fx.root, log: (l) => logs.push(l), security: { session: { idleMs: 60_000 }, failureLimit: { max: 1000 } } });
  evaluator = await addTestUser(fx.root, 'evaluator');
  secrets.push(evaluator.token);
});
afterAll(() => {
  app.close();
  fx.cleanup();
});

describe('token storage', () => {
  it('`closeloop users add` prints a 256-bit token once and stores only its SHA-256', async () => {
    const out: string[] = [];
    expect(await usersCommand('add', undefined, { db: fx.root, name: 'Ada Evaluator', role: 'evaluator', days: '30' }, (l) => out.push(l))).toBe(0);
    const token = out.join('\n').match(/cl_[A-Za-z0-9_-]{43}/)![0];
    secrets.push(token);
    expect(out.join('\n').match(/cl_[A-Za-z0-9_-]{43}/g)).toHaveLength(1);
    expect(Buffer.from(token.slice(3), 'base64url')).toHaveLength(32);
    const file = await readUsersFile(join(stateDir(), 'users.json'));
    const ada = file.users.find((u) => u.name === 'Ada Evaluator')!;
    expect(ada.token_sha256).toBe(sha256Hex(token));
    expect(JSON.stringify(file)).not.toContain(token);
    expect(JSON.stringify(file)).not.toContain(token.slice(3));
    expect(Date.parse(ada.expires_at!) - Date.now()).toBeGreaterThan(29.9 * 86_400_000);
    expect((await getAs(app, { ...evaluator, token }, '/api/run')).status).toBe(200);
  });

  it('users list shows no hashes and no tokens', async () => {
    const out: string[] = [];
    await usersCommand('list', undefined, { db: fx.root, json: true }, (l) => out.push(l));
    const listed = JSON.parse(out.join('\n')) as Array<Record<string, unknown>>;
    expect(listed.map((u) => u.name)).toContain('Ada Evaluator');
    expect(listed.every((u) => !('token_sha256' in u))).toBe(true);
    expect(out.join('\n')).not.toMatch(/[0-9a-f]{64}|cl_/);
  });

  it('role and organization rules: a partner needs exactly one organization, others none', async () => {
    await expect(usersCommand('add', undefined, { db: fx.root, name: 'p1', role: 'partner' })).rejects.toThrow(/needs --org/);
    await expect(usersCommand('add', undefined, { db: fx.root, name: 's1', role: 'staff', org: 'ORG-01' })).rejects.toThrow(/partner users only/);
    await expect(usersCommand('add', undefined, { db: fx.root, name: 'x', role: 'superuser' })).rejects.toThrow(/--role must be one of evaluator, staff, partner, admin/);
    await expect(usersCommand('add', undefined, { db: fx.root, name: 'p2', role: 'partner', org: '../ORG-01' })).rejects.toThrow(/--org/);
    await expect(usersCommand('add', undefined, { db: fx.root, name: 'Ada Evaluator', role: 'staff' })).rejects.toThrow(/exists already/);
    await expect(usersCommand('add', undefined, { db: fx.root, name: 'e', role: 'staff', expires: '2020-01-01' })).rejects.toThrow(/past/);
  });

  it('malformed, unknown, revoked, expired and rotated tokens are refused', async () => {
    for (const header of ['Bearer nope', `Bearer ${evaluator.token}x`, `Bearer cl_${'A'.repeat(43)}`, `Basic ${Buffer.from('a:b').toString('base64')}`, `Bearer ${evaluator.token} ${evaluator.token}`, 'Bearer']) {
      const r = await request(app).get('/api/run').set('Authorization', header);
      expect(r.status, header).toBe(401);
      expect(r.body).toMatchObject({ status: 401, reason: 'invalid_token' });
      expect(r.headers['www-authenticate']).toMatch(/^Bearer realm="closeloop"/);
    }
    // Expired: made when it was still valid, refused now (API and sign-in form alike).
    const old = await addUser(stateDir(), { name: 'expired-user', role: 'evaluator', expiresAt: '2020-02-01T00:00:00.000Z', createdBy: 'test', now: new Date('2020-01-01T00:00:00Z') });
    secrets.push(old.token);
    expect((await getAs(app, { ...evaluator, token: old.token }, '/api/run')).status).toBe(401);
    expect((await signIn(app, old.token)).r.status).toBe(401);
    // Revoked: at once, on the running server.
    const doomed = await addTestUser(fx.root, 'staff');
    secrets.push(doomed.token);
    expect((await getAs(app, doomed, '/api/run')).status).toBe(200);
    await usersCommand('revoke', doomed.name, { db: fx.root }, () => undefined);
    expect((await getAs(app, doomed, '/api/run')).status).toBe(401);
    expect((await signIn(app, doomed.token)).r.status).toBe(401);
    await expect(usersCommand('revoke', doomed.id, { db: fx.root })).rejects.toThrow(/revoked already/);
    // Rotated: the old token stops, the new one works.
    const rot = await addTestUser(fx.root, 'evaluator');
    secrets.push(rot.token);
    const out: string[] = [];
    await usersCommand('rotate', rot.id, { db: fx.root }, (l) => out.push(l));
    const fresh = out.join('\n').match(/cl_[A-Za-z0-9_-]{43}/)![0];
    secrets.push(fresh);
    expect((await getAs(app, rot, '/api/run')).status).toBe(401);
    expect((await getAs(app, { ...rot, token: fresh }, '/api/run')).status).toBe(200);
  });

  it('concurrent CLI commands never lose each other\'s users (users.json is locked while it changes)', async () => {
    const made = await Promise.all(Array.from({ length: 12 }, (_, i) => addUser(stateDir(), { name: `parallel-${i}`, role: 'staff', expiresAt: new Date(Date.now() + 86_400_000).toISOString(), createdBy: 'test' })));
    secrets.push(...made.map((m) => m.token));
    const names = (await readUsersFile(join(stateDir(), 'users.json'))).users.map((u) => u.name);
    for (let i = 0; i < 12; i++) expect(names).toContain(`parallel-${i}`);
    for (const m of made) expect((await getAs(app, { ...evaluator, token: m.token }, '/api/run')).status).toBe(200);
  });
});

describe('browser sessions', () => {
  it('sign-in sets an HttpOnly, SameSite=Strict session cookie (not Secure over plain http) and lands on the page asked for', async () => {
    const { r, cookie, pair } = await signIn(app, evaluator.token);
    expect(r.status).toBe(303);
    expect(r.headers.location).toBe('/closed-loop');
    expect(cookie).toMatch(/^closeloop_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Strict/);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).not.toMatch(/; Secure/);
    secrets.push(pair.split('=')[1]!);
    const page = await request(app).get('/closed-loop').set('Cookie', pair);
    expect(page.status).toBe(200);
    expect((await request(app).get('/api/session').set('Cookie', pair)).body.via).toBe('session');
  });

  it('behind a TLS proxy (trust proxy set) the cookie is Secure; a forged X-Forwarded-Proto without trust is ignored', async () => {
    const proxied = createApp({ root: fx.root, log: () => undefined, trustProxy: 'loopback' });
    const viaProxy = await signIn(proxied, evaluator.token, { 'X-Forwarded-Proto': 'https' });
    expect(viaProxy.cookie).toMatch(/; Secure/);
    secrets.push(viaProxy.pair.split('=')[1]!);
    const direct = await signIn(app, evaluator.token, { 'X-Forwarded-Proto': 'https' });
    expect(direct.cookie).not.toMatch(/; Secure/);
    secrets.push(direct.pair.split('=')[1]!);
    proxied.close();
  });

  it('a failed sign-in says nothing about why, and sets no cookie', async () => {
    const r = await request(app).post('/signin').type('form').send({ token: 'cl_wrong' });
    expect(r.status).toBe(401);
    expect(r.type).toBe('text/html');
    expect(r.text).toContain('Sign-in failed');
    expect(r.headers['set-cookie']).toBeUndefined();
    const j = await request(app).post('/signin').set('Accept', 'application/json').type('form').send({ token: 'cl_wrong' });
    expect(j.body).toEqual({ error: 'sign-in failed: the token is not valid (unknown, revoked or expired)', status: 401, reason: 'invalid_token' });
  });

  it('sign-in lands only on pages of this site (no open redirect)', async () => {
    for (const next of ['https://evil.example/', '//evil.example', '/\\evil.example', '/api/exports/metrics/all.csv', '/nope', 'javascript:alert(1)']) {
      const r = await request(app).post('/signin').type('form').send({ token: evaluator.token, next });
      expect(r.status, next).toBe(303);
      expect(r.headers.location, next).toBe('/');
      secrets.push((r.headers['set-cookie'] as unknown as string[])[0]!.split(';')[0]!.split('=')[1]!);
    }
    const admin = await addTestUser(fx.root, 'admin');
    secrets.push(admin.token);
    const a = await request(app).post('/signin').type('form').send({ token: admin.token });
    expect(a.headers.location).toBe('/admin');
    secrets.push((a.headers['set-cookie'] as unknown as string[])[0]!.split(';')[0]!.split('=')[1]!);
  });

  it('cross-site sign-in and sign-out posts are refused', async () => {
    const r = await request(app).post('/signin').set('Origin', 'https://evil.example').type('form').send({ token: evaluator.token });
    expect(r.status).toBe(403);
    expect(r.headers['set-cookie']).toBeUndefined();
    expect((await request(app).post('/signin').set('Sec-Fetch-Site', 'cross-site').type('form').send({ token: evaluator.token })).status).toBe(403);
    expect((await request(app).post('/signout').set('Sec-Fetch-Site', 'same-site')).status).toBe(403);
  });

  it('sign-out ends the session: the old cookie no longer works', async () => {
    const { pair } = await signIn(app, evaluator.token);
    secrets.push(pair.split('=')[1]!);
    expect((await request(app).get('/api/run').set('Cookie', pair)).status).toBe(200);
    const out = await request(app).post('/signout').set('Cookie', pair);
    expect(out.status).toBe(303);
    expect(out.headers.location).toBe('/signin');
    expect((out.headers['set-cookie'] as unknown as string[])[0]).toMatch(/^closeloop_session=;.*Expires=Thu, 01 Jan 1970/);
    expect((await request(app).get('/api/run').set('Cookie', pair)).status).toBe(401);
    expect((await request(app).get('/closed-loop').set('Cookie', pair)).status).toBe(303);
  });

  it('a session ends when idle (configurable), and when its user is revoked', async () => {
    // Margins wide enough for a loaded 2-core machine (a request there can take 200 ms).
    const quick = createApp({ root: fx.root, log: () => undefined, security: { session: { idleMs: 900 } } });
    const { pair } = await signIn(quick, evaluator.token);
    secrets.push(pair.split('=')[1]!);
    for (let i = 0; i < 3; i++) {
      await sleep(300);
      expect((await request(quick).get('/api/run').set('Cookie', pair)).status, 'activity keeps it alive').toBe(200);
    }
    await sleep(1000);
    expect((await request(quick).get('/api/run').set('Cookie', pair)).status).toBe(401);
    quick.close();

    const leaving = await addTestUser(fx.root, 'staff');
    secrets.push(leaving.token);
    const s = await signIn(app, leaving.token);
    secrets.push(s.pair.split('=')[1]!);
    expect((await request(app).get('/api/run').set('Cookie', s.pair)).status).toBe(200);
    await usersCommand('revoke', leaving.id, { db: fx.root }, () => undefined);
    expect((await request(app).get('/api/run').set('Cookie', s.pair)).status).toBe(401);
  });

  it('sessions survive a restart (the file keeps their hashes), not a revocation', async () => {
    const { pair } = await signIn(app, evaluator.token);
    const id = pair.split('=')[1]!;
    secrets.push(id);
    await app.security!.flush();
    const file = readFileSync(join(stateDir(), 'sessions.json'), 'utf8');
    expect(file).toContain(sha256Hex(id));
    expect(file).not.toContain(id);
    const restarted = createApp({ root: fx.root, log: () => undefined });
    expect((await request(restarted).get('/api/run').set('Cookie', pair)).status).toBe(200);
    restarted.close();
  });
});

describe('closeloop start: the demo evaluator and its sign-in link', () => {
  it('is made on the first start and given a fresh token on every later one (the old one stops working)', async () => {
    const first = await ensureDemoEvaluator(fx.root);
    const second = await ensureDemoEvaluator(fx.root);
    secrets.push(first.token, second.token);
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.user.id).toBe(first.user.id);
    expect(first.user).toMatchObject({ name: DEMO_EVALUATOR, role: 'evaluator' });
    expect((await getAs(app, { ...evaluator, token: first.token }, '/api/run')).status).toBe(401);
    expect((await getAs(app, { ...evaluator, token: second.token }, '/api/run')).status).toBe(200);
  });

  it('the server listens on 127.0.0.1 and prints a sign-in link with the token in the fragment', async () => {
    const demo = await ensureDemoEvaluator(fx.root);
    secrets.push(demo.token);
    const lines: string[] = [];
    const server = await serveCommand({ db: fx.root, port: 0, signInToken: demo.token, log: (l) => lines.push(l), env: {} });
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const link = lines.find((l) => l.includes('/signin#token='))!;
      expect(link).toBe(`Sign in as the demo evaluator: ${server.url}/signin#token=${demo.token}`);
      const r = await fetch(`${server.url}/signin`, { method: 'POST', body: new URLSearchParams({ token: demo.token }), redirect: 'manual' });
      expect(r.status).toBe(303);
      expect(r.headers.get('set-cookie')).toMatch(/^closeloop_session=/);
      secrets.push(r.headers.get('set-cookie')!.split(';')[0]!.split('=')[1]!);
    } finally {
      await server.close();
    }
  });

  it('session and proxy settings come from the environment, checked', () => {
    expect(settingsFromEnv({})).toEqual({ security: { session: {}, secureCookies: 'auto' }, trustProxy: false });
    expect(settingsFromEnv({ CLOSELOOP_SESSION_IDLE_MINUTES: '15', CLOSELOOP_SESSION_MAX_HOURS: '8', CLOSELOOP_TRUST_PROXY: 'loopback', CLOSELOOP_SECURE_COOKIES: 'true' }))
      .toEqual({ security: { session: { idleMs: 900_000, maxAgeMs: 28_800_000 }, secureCookies: true }, trustProxy: 'loopback' });
    expect(settingsFromEnv({ CLOSELOOP_TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(() => settingsFromEnv({ CLOSELOOP_SESSION_IDLE_MINUTES: 'soon' })).toThrow(/CLOSELOOP_SESSION_IDLE_MINUTES must be a number/);
  });
});

describe('no raw credential anywhere', () => {
  it('no token or session id in any file of the store (users, sessions, audit and access logs, published files) or log line', async () => {
    // Some traffic first: downloads, refusals, failures, each with a credential in play.
    await getAs(app, evaluator, '/api/exports/metrics/closed_loop_rate.csv');
    await getAs(app, evaluator, '/api/admin/users');
    await request(app).get(`/api/run?token=${evaluator.token}`).set('Authorization', `Bearer ${evaluator.token}`);
    // A token pasted into a path or a download's parameters is blanked in the logs.
    await getAs(app, evaluator, `/api/partners/${evaluator.token}/scorecard`);
    await getAs(app, evaluator, `/api/exports/metrics/closed_loop_rate.csv?grain=${evaluator.token}`);
    await request(app).get(`/api/exports/${evaluator.token}.csv`);
    await request(app).get('/api/run').set('Authorization', `Bearer ${evaluator.token.slice(0, -2)}xx`);
    await app.security!.flush();
    const files = storeFiles(fx.root);
    expect(files.map((f) => f.path.split('/').at(-1))).toEqual(expect.arrayContaining(['users.json', 'sessions.json', 'audit.jsonl', 'access.jsonl']));
    expect(secrets.length).toBeGreaterThan(20);
    for (const s of secrets) {
      for (const f of files) expect(f.text.includes(s), `${f.path} contains a raw credential`).toBe(false);
      for (const l of logs) expect(l.includes(s)).toBe(false);
    }
    // The access log keeps paths only: no query string (where a careless client might put a token).
    const access = readFileSync(join(stateDir(), 'access.jsonl'), 'utf8');
    expect(access).not.toContain('?');
    expect(JSON.parse(access.trim().split('\n')[0]!)).toEqual({ time: expect.any(String), user_id: expect.any(String), role: expect.any(String), method: 'GET', path: expect.any(String), status: expect.any(Number), duration_ms: expect.any(Number) });
  });
});
