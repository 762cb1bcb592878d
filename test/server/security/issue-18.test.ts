// Issue 18: the gaps an application-security review found, one regression test each
// (item 5, file permissions, is in issue-18-permissions.test.ts; item 4 in a real
// browser is in issue-18-same-site.browser.test.ts). Each case is the attack as the
// review ran it, written down with the attacker and what they hold.
import { readFileSync, writeFileSync } from 'node:fs';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, ConfigSchema, loadConfig } from '../../../models/config.ts';
import { storePaths } from '../../../pipelines/store.ts';
import { createApp, type App } from '../../../server/app.ts';
import { accessPath, auditPath, type AccessRecord, type AuditRecord } from '../../../server/auth/audit.ts';
import { serverSettings } from '../../../server/cli.ts';
import { addTestUser, getAs, type TestUser } from '../../helpers/auth.ts';
import { runCli } from '../../helpers/cli.ts';
import { publishedFixture, type PublishedFixture } from '../../helpers/publishedFixture.ts';

let fx: PublishedFixture;
let app: App;
let evaluator: TestUser;
let partner: TestUser;

const stateDir = () => storePaths(fx.root).stateDir;
const auditText = () => readFileSync(auditPath(stateDir()), 'utf8');
const auditLines = () => auditText().trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
const accessLines = () => readFileSync(accessPath(stateDir()), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AccessRecord);

/** Sign in through the form as a browser does; returns "name=value" of the session cookie. */
async function signIn(a: App, token: string, headers: Record<string, string> = {}) {
  const r = await request(a).post('/signin').set(headers).type('form').send({ token });
  const cookie = (r.headers['set-cookie'] as unknown as string[] | undefined)?.[0] ?? '';
  return { r, cookie, pair: cookie.split(';')[0]! };
}

beforeAll(async () => {
  fx = await publishedFixture();
  app = createApp({ root: fx.root, log: () => undefined, security: { failureLimit: { max: 1000 } } });
  evaluator = await addTestUser(fx.root, 'evaluator', { name: 'Eve Evaluator' });
  partner = await addTestUser(fx.root, 'partner', { org: 'ORG-04', name: 'Homes First staff' });
});
afterAll(() => {
  app.close();
  fx.cleanup();
});

describe('issue 18.1: rotating a token ends the sessions started with the old token', () => {
  // Attacker: whoever holds a browser session started with a token that has since been
  // rotated (a leaked token was signed in with, then rotated by the administrator).
  it('after `closeloop users rotate`, a session signed in with the old token can no longer read or export; the new token signs in', async () => {
    const user = await addTestUser(fx.root, 'evaluator');
    const old = await signIn(app, user.token);
    expect(old.r.status).toBe(303);
    expect((await request(app).get('/api/run').set('Cookie', old.pair)).status).toBe(200);
    expect((await request(app).get('/api/exports/metrics/closed_loop_rate.csv?grain=all').set('Cookie', old.pair)).status).toBe(200);

    const rotated = await runCli(['users', 'rotate', user.name, '--db', fx.root]);
    expect(rotated.code, rotated.stderr).toBe(0);
    const fresh = rotated.stdout.match(/cl_[A-Za-z0-9_-]{43}/)![0];

    const read = await request(app).get('/api/run').set('Cookie', old.pair);
    expect(read.status).toBe(401);
    expect((read.headers['set-cookie'] as unknown as string[])[0]).toMatch(/^closeloop_session=;/);
    expect((await request(app).get('/api/exports/metrics/closed_loop_rate.csv?grain=all').set('Cookie', old.pair)).status).toBe(401);
    expect((await request(app).get('/closed-loop').set('Cookie', old.pair)).status).toBe(303);
    // Ended for good, also after a restart (the file keeps which token a session was started with).
    const restarted = createApp({ root: fx.root, log: () => undefined });
    expect((await request(restarted).get('/api/run').set('Cookie', old.pair)).status).toBe(401);
    restarted.close();

    const again = await signIn(app, fresh);
    expect(again.r.status).toBe(303);
    expect((await request(app).get('/api/run').set('Cookie', again.pair)).status).toBe(200);
    expect((await signIn(app, user.token)).r.status).toBe(401);
  });
});

describe('issue 18.2: `closeloop audit` printed forged lines and terminal escapes', () => {
  // Attacker: any signed-in user (or a link they send one) who wants the administrator,
  // reading `closeloop audit` in a terminal, to see a forged record or to receive escape
  // sequences (screen clearing, window title, OSC 8 links).
  const FORGED = '2026-11-01T09:00:00.000Z  signin        success   admin1';
  const ESC = '\x1b[2J\x1b]0;owned\x07\x1b]8;;https://evil.example\x07click\x1b]8;;\x07';

  it('a parameter name and value with CR, LF, ESC and OSC sequences: stored as known names only, printed quoted and escaped', async () => {
    const name = `\n${FORGED}${ESC}`;
    const value = `\r\n${FORGED} ${ESC}\u009b31m\u202e`;
    // A refused download (bad grain, unknown parameter) and an authorization refusal.
    const a = await getAs(app, evaluator, `/api/exports/metrics/closed_loop_rate.csv?grain=${encodeURIComponent(value)}&${encodeURIComponent(name)}=1`);
    expect(a.status).toBe(400);
    const b = await getAs(app, partner, `/api/metrics/closed_loop_rate?dimension=target_org_id&group=${encodeURIComponent(value)}`);
    expect(b.status).toBe(403);
    await app.security!.flush();

    // The file: one JSON record per line, no control character in its bytes, no unknown parameter name.
    const text = auditText();
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
    const failed = auditLines().filter((r) => r.kind === 'download' && r.outcome === 'failed' && r.user_id === evaluator.id).at(-1)!;
    expect(Object.keys(failed.params!)).toEqual(['grain']);
    expect(failed.params!.grain).toBe(value);
    expect(failed.unknown_params).toBe(1);
    const denied = auditLines().filter((r) => r.kind === 'authorization' && r.user_id === partner.id).at(-1)!;
    expect(denied.params).toMatchObject({ dimension: 'target_org_id', group: value });

    // The terminal: one line per record, nothing raw.
    const records = auditLines().length;
    const shown = await runCli(['audit', '--db', fx.root]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
    const lines = shown.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(records);
    for (const l of lines) expect(l).toMatch(/^\d{4}-\d{2}-\d{2}T[\d:.]+Z  (signin|signout|authorization|download|user) /);
    expect(lines.filter((l) => l.includes('signin        success   admin1'))).toHaveLength(2);
    for (const l of lines.filter((l) => l.includes('admin1'))) expect(l).toMatch(/ (grain|group)="\\r\\n2026-11-01T09:00:00\.000Z {2}signin {8}success {3}admin1 \\x1b\[2J/);
    expect(shown.stdout).toContain('\\x1b[2J\\x1b]0;owned\\x07');
    expect(shown.stdout).toContain('\\u009b31m\\u202e"');
    expect(shown.stdout).toContain('unknown_params=1');
    // --json is valid JSON, one record a line, control characters escaped too.
    const json = await runCli(['audit', '--json', '--db', fx.root]);
    expect(json.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
    expect(json.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as AuditRecord).at(-1)!.params!.group).toBe(value);
  }, 30_000);
});

describe('issue 18.3: token redaction was bypassed by percent-encoding', () => {
  // Attacker: anyone who can read audit.jsonl or access.jsonl (an operator, a log
  // shipper, a backup) harvesting live tokens a careless client put in a URL.
  it('a token percent-encoded (once, twice, every character) in a path, a value or a parameter name never reaches a log', async () => {
    const user = await addTestUser(fx.root, 'evaluator');
    const body = user.token.slice(3);
    const everyChar = [...user.token].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join('');
    const paths = [
      `/api/exports/metrics/cl%5F${body}.csv`,
      `/api/exports/metrics/cl%255F${body}.csv`,
      `/api/metrics/cl%5F${body}`,
      `/cl%5F${body}`,
      `/api/metrics/${everyChar}`,
      `/api/exports/metrics/closed_loop_rate.csv?cl%5F${body}=1`,
      `/api/exports/metrics/closed_loop_rate.csv?${user.token}=1`,
      `/api/exports/metrics/closed_loop_rate.csv?grain=cl%255F${body}`,
      `/api/exports/metrics/closed_loop_rate.csv?grain=${everyChar}`,
    ];
    for (const p of paths) {
      await getAs(app, evaluator, p);
      await request(app).get(p);
    }
    await app.security!.flush();
    const logs = `${auditText()}\n${readFileSync(accessPath(stateDir()), 'utf8')}`;
    // Not the token, nor any 16 characters of it in a row.
    for (let i = 0; i + 16 <= body.length; i++) expect(logs.includes(body.slice(i, i + 16)), `characters ${i}..${i + 16} of the token are in a log`).toBe(false);
    expect(logs).toContain('cl_[redacted]');
  });
});

describe('issue 18.4: same-site pages could trigger downloads in a signed-in user\'s name', () => {
  // Attacker: a page on another port of the same host (same site, so the SameSite=Strict
  // cookie is sent) that the signed-in user visits. It holds nothing but the user's visit.
  const CSV = '/api/exports/metrics/closed_loop_rate.csv?grain=all';
  let pair: string;
  beforeAll(async () => {
    pair = (await signIn(app, evaluator.token)).pair;
  });
  const get = (path: string, h: Record<string, string>) => request(app).get(path).set('Cookie', pair).set(h);

  it('img and no-cors requests from a same-site page are refused (403) and start no download', async () => {
    await app.security!.flush();
    const before = auditLines().length;
    const img = await get(CSV, { 'Sec-Fetch-Site': 'same-site', 'Sec-Fetch-Mode': 'no-cors', 'Sec-Fetch-Dest': 'image' });
    expect(img.status).toBe(403);
    expect(img.body.reason).toBe('cross_site');
    expect(img.headers['content-disposition']).toBeUndefined();
    expect((await get(CSV, { 'Sec-Fetch-Site': 'same-site', 'Sec-Fetch-Mode': 'no-cors', 'Sec-Fetch-Dest': 'empty' })).status).toBe(403);
    expect((await get(CSV, { 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'no-cors', 'Sec-Fetch-Dest': 'image' })).status).toBe(403);
    expect((await get('/api/metrics/closed_loop_rate', { 'Sec-Fetch-Site': 'same-site', 'Sec-Fetch-Mode': 'cors', 'Sec-Fetch-Dest': 'empty' })).status).toBe(403);
    // A frame is not a top-level navigation.
    expect((await get(CSV, { 'Sec-Fetch-Site': 'same-site', 'Sec-Fetch-Mode': 'navigate', 'Sec-Fetch-Dest': 'iframe' })).status).toBe(403);
    // A browser without Sec-Fetch headers whose Origin names another site.
    expect((await get(CSV, { Origin: 'http://127.0.0.1:9' })).status).toBe(403);
    await app.security!.flush();
    const added = auditLines().slice(before);
    expect(added.filter((r) => r.kind === 'download')).toEqual([]);
    expect(added.filter((r) => r.kind === 'authorization' && r.reason === 'cross-site request' && r.user_id === evaluator.id)).toHaveLength(6);
  });

  it('the site\'s own requests, typed addresses, top-level navigations, older browsers and Bearer clients still work', async () => {
    expect((await get(CSV, { 'Sec-Fetch-Site': 'same-origin', 'Sec-Fetch-Mode': 'cors', 'Sec-Fetch-Dest': 'empty' })).status).toBe(200);
    expect((await get(CSV, { 'Sec-Fetch-Site': 'none', 'Sec-Fetch-Mode': 'navigate', 'Sec-Fetch-Dest': 'document' })).status).toBe(200);
    expect((await get(CSV, { 'Sec-Fetch-Site': 'same-site', 'Sec-Fetch-Mode': 'navigate', 'Sec-Fetch-Dest': 'document' })).status).toBe(200);
    expect((await get(CSV, {})).status).toBe(200);
    expect((await get('/closed-loop', { 'Sec-Fetch-Site': 'same-site', 'Sec-Fetch-Mode': 'navigate', 'Sec-Fetch-Dest': 'iframe' })).status).toBe(200);
    expect((await getAs(app, evaluator, CSV).set({ 'Sec-Fetch-Site': 'same-site', 'Sec-Fetch-Mode': 'no-cors', 'Sec-Fetch-Dest': 'image' })).status).toBe(200);
  });

  it('under TLS the cookie is __Host- prefixed, and a plain-named cookie planted by a same-site page is ignored', async () => {
    const tls = createApp({ root: fx.root, log: () => undefined, security: { secureCookies: true } });
    const s = await signIn(tls, evaluator.token);
    expect(s.cookie).toMatch(/^__Host-closeloop_session=[A-Za-z0-9_-]{43}; /);
    expect(s.cookie).toMatch(/; Secure/);
    expect(s.cookie).toMatch(/; Path=\//);
    expect(s.cookie).not.toMatch(/Domain=/i);
    expect((await request(tls).get('/api/run').set('Cookie', s.pair)).status).toBe(200);
    // The same session id under the name a same-site page can set (no prefix): not accepted.
    const tossed = `closeloop_session=${s.pair.split('=')[1]}`;
    expect((await request(tls).get('/api/run').set('Cookie', tossed)).status).toBe(401);
    const out = await request(tls).post('/signout').set('Cookie', s.pair);
    expect((out.headers['set-cookie'] as unknown as string[])[0]).toMatch(/^__Host-closeloop_session=;.*Secure/);
    tls.close();
  });
});

describe('issue 18.6: ten bad tokens from one address locked out valid ones', () => {
  // Attacker: anyone who can reach the sign-in form, sharing an address with real users
  // (behind a proxy without CLOSELOOP_TRUST_PROXY every client has the proxy's address).
  it('failures are limited and logged per client address, and a valid token still signs in (form and Bearer)', async () => {
    const strict = createApp({ root: fx.root, log: () => undefined, security: { failureLimit: { max: 5, windowMs: 60_000 } } });
    await strict.security!.flush();
    const before = auditLines().length;
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await request(strict).post('/signin').type('form').send({ token: `cl_${'x'.repeat(43)}` })).status);
    for (let i = 0; i < 3; i++) statuses.push((await request(strict).get('/api/run').set('Authorization', `Bearer cl_${'y'.repeat(43)}`)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429, 429, 429, 429]);
    const form = await signIn(strict, evaluator.token);
    expect(form.r.status).toBe(303);
    expect(form.cookie).toMatch(/^closeloop_session=/);
    expect((await getAs(strict, evaluator, '/api/run')).status).toBe(200);
    const refused = await request(strict).post('/signin').type('form').send({ token: `cl_${'z'.repeat(43)}` });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    await strict.security!.flush();
    const signins = auditLines().slice(before).filter((r) => r.kind === 'signin');
    expect(signins.filter((r) => r.reason === 'unknown token')).toHaveLength(5);
    expect(signins.filter((r) => r.reason === 'rate_limited')).toHaveLength(1);
    expect(signins.filter((r) => r.outcome === 'success')).toHaveLength(1);
    strict.close();
  });

  it('many sign-ins by one user end that user\'s oldest sessions only (sessions are bounded per user, not refused per address)', async () => {
    const busy = await addTestUser(fx.root, 'staff');
    const bounded = createApp({ root: fx.root, log: () => undefined, security: { session: { maxPerUser: 3 } } });
    const other = await signIn(bounded, evaluator.token);
    const pairs: string[] = [];
    for (let i = 0; i < 5; i++) {
      const s = await signIn(bounded, busy.token);
      expect(s.r.status).toBe(303);
      pairs.push(s.pair);
    }
    const alive = await Promise.all(pairs.map(async (p) => (await request(bounded).get('/api/run').set('Cookie', p)).status));
    expect(alive).toEqual([401, 401, 200, 200, 200]);
    expect((await request(bounded).get('/api/run').set('Cookie', other.pair)).status).toBe(200);
    bounded.close();
  });
});

describe('issue 18.7: HEAD requests on downloads were recorded as completed with the full byte count', () => {
  it('a HEAD on a download is recorded once, as HEAD, with 0 bytes', async () => {
    const head = await request(app).head('/api/exports/metrics/closed_loop_rate.csv?grain=year').set('Authorization', `Bearer ${evaluator.token}`);
    expect(head.status).toBe(200);
    await app.security!.flush();
    const records = auditLines().filter((r) => r.kind === 'download' && r.method === 'HEAD');
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ outcome: 'head', method: 'HEAD', bytes: 0, user_id: evaluator.id, what: 'results' });
    expect(auditLines().filter((r) => r.kind === 'download' && r.method === 'HEAD' && r.outcome === 'completed')).toEqual([]);
  });
});

describe('issue 18.8: expensive exports had no per-user limit', () => {
  // Attacker: a signed-in user (or a script with their token) starting many report
  // workbooks at once to exhaust the server's memory and CPU.
  it('at most N concurrent exports per user: beyond, 429 with Retry-After; other users are unaffected; slots come back', async () => {
    let entered = 0;
    let onEnter: () => void = () => undefined;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const held = createApp({
      root: fx.root, log: () => undefined, security: { exportsPerUser: 2 },
      hooks: { onDownload: async () => { entered += 1; onEnter(); await gate; } },
    });
    const staff = await addTestUser(fx.root, 'staff');
    const reached = (n: number) => new Promise<void>((r) => { onEnter = () => entered >= n && r(); if (entered >= n) r(); });
    // Refused requests give their slot back.
    for (let i = 0; i < 3; i++) expect((await getAs(held, evaluator, '/api/exports/metrics/closed_loop_rate.csv?grain=fortnight')).status).toBe(400);
    const first = [getAs(held, evaluator, '/api/exports/report.xlsx'), getAs(held, evaluator, '/api/exports/metrics/closed_loop_rate.csv')].map((r) => r.then((x) => x));
    await reached(2);
    const third = await getAs(held, evaluator, '/api/exports/report.csv');
    expect(third.status).toBe(429);
    expect(Number(third.headers['retry-after'])).toBeGreaterThan(0);
    expect(third.body.reason).toBe('too_many_exports');
    // Another user is not held up by this one's exports.
    const theirs = getAs(held, staff, '/api/exports/report.csv').then((x) => x);
    await reached(3);
    release();
    expect((await Promise.all([...first, theirs])).map((r) => r.status)).toEqual([200, 200, 200]);
    expect((await getAs(held, evaluator, '/api/exports/report.csv')).status).toBe(200);
    held.close();
  });

  it('the limit is set in closeloop.config.json (default 2) and reaches the server settings', async () => {
    expect(DEFAULT_CONFIG.exports.maxConcurrentPerUser).toBe(2);
    expect(() => ConfigSchema.parse({ exports: { maxConcurrentPerUser: 0 } })).toThrow();
    const file = `${fx.root}/closeloop.config.json`;
    writeFileSync(file, JSON.stringify({ exports: { maxConcurrentPerUser: 5 } }));
    expect(serverSettings({}, await loadConfig(file)).security.exportsPerUser).toBe(5);
    expect(serverSettings({}, DEFAULT_CONFIG).security.exportsPerUser).toBe(2);
  });
});
