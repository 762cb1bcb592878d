// The audit trail and the access log: sign-ins (success and failure), refusals, every
// download (who, role, organization, what, parameters, rows, SHA-256, outcome) on disk
// before its first byte is sent, user changes made with the CLI; plain API reads in the
// access log with exactly time, user, role, method, path, status and duration. Shown by
// `closeloop audit` and on the admin page.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmdirSync } from 'node:fs';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../../pipelines/cli.ts';
import { storePaths } from '../../../pipelines/store.ts';
import { createApp, type App } from '../../../server/app.ts';
import { accessPath, auditPath, type AccessRecord, type AuditRecord } from '../../../server/auth/audit.ts';
import { auditCommand } from '../../../server/auth/cli.ts';
import { addTestUser, binaryAs, getAs, type TestUser } from '../../helpers/auth.ts';
import { publishedFixture, type PublishedFixture } from '../../helpers/publishedFixture.ts';

let fx: PublishedFixture;
let app: App;
let evaluator: TestUser;
let partner: TestUser;
let admin: TestUser;
/** What the audit log held when each download's hook ran (after the security layer's own). */
const seenAtHook: Array<{ sha256: string; onDisk: AuditRecord | undefined }> = [];

const stateDir = () => storePaths(fx.root).stateDir;
const auditLines = () => readFileSync(auditPath(stateDir()), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
const accessLines = () => readFileSync(accessPath(stateDir()), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AccessRecord);

beforeAll(async () => {
  fx = await publishedFixture();
  app = createApp({
    root: fx.root,
    log: () => undefined,
    hooks: {
      onDownload: (_req, info) => {
        seenAtHook.push({ sha256: info.sha256, onDisk: auditLines().reverse().find((r) => r.kind === 'download' && r.sha256 === info.sha256 && r.outcome === 'started') });
      },
    },
  });
  evaluator = await addTestUser(fx.root, 'evaluator', { name: 'Eve Evaluator' });
  partner = await addTestUser(fx.root, 'partner', { org: 'ORG-04', name: 'Homes First staff' });
  admin = await addTestUser(fx.root, 'admin', { name: 'Ann Admin' });
});
afterAll(() => {
  app.close();
  fx.cleanup();
});

describe('audit log', () => {
  it('sign-in success and failure: who, role, organization, address; never the token', async () => {
    await request(app).post('/signin').type('form').send({ token: partner.token });
    await request(app).post('/signin').type('form').send({ token: `cl_${'Q'.repeat(43)}` });
    await request(app).get('/api/run').set('Authorization', 'Bearer cl_not-a-token');
    await app.security!.flush();
    const signins = auditLines().filter((r) => r.kind === 'signin');
    expect(signins[0]).toMatchObject({ outcome: 'success', user_id: partner.id, user_name: 'Homes First staff', role: 'partner', org: 'ORG-04', path: '/signin', ip: expect.stringContaining('127.0.0.1'), params: { method: 'form' } });
    expect(signins[1]).toMatchObject({ outcome: 'failure', user_id: null, reason: 'unknown token', status: 401, params: { method: 'form' } });
    expect(signins[2]).toMatchObject({ outcome: 'failure', reason: 'malformed token', path: '/api/run', params: { method: 'bearer' } });
    expect(readFileSync(auditPath(stateDir()), 'utf8')).not.toContain(partner.token);
  });

  it('authorization refusals: who asked for what', async () => {
    await getAs(app, partner, '/api/partners/ORG-07/gap-analysis.csv');
    await getAs(app, partner, '/api/metrics/closed_loop_rate?dimension=target_org_id&group=ORG-09');
    await getAs(app, evaluator, '/api/admin/users');
    await app.security!.flush();
    const denied = auditLines().filter((r) => r.kind === 'authorization');
    expect(denied).toHaveLength(3);
    expect(denied[0]).toMatchObject({ outcome: 'denied', user_id: partner.id, role: 'partner', org: 'ORG-04', resource: 'partner', requested_org: 'ORG-07', status: 403, path: '/api/partners/ORG-07/gap-analysis.csv', params: { file: 'gap-analysis.csv' } });
    expect(denied[1]).toMatchObject({ resource: 'partner_comparison', params: { metric: 'closed_loop_rate', dimension: 'target_org_id', group: 'ORG-09' } });
    expect(denied[2]).toMatchObject({ role: 'evaluator', resource: 'admin' });
    // A refused download is audited once (as a refusal), not again as a failed download.
    expect(auditLines().filter((r) => r.kind === 'download' && r.path === '/api/partners/ORG-07/gap-analysis.csv')).toHaveLength(0);
  });

  it('every download: on disk before the first byte, then its outcome; rows and SHA-256 match what was sent', async () => {
    seenAtHook.length = 0;
    const csv = await binaryAs(app, evaluator, '/api/exports/metrics/closed_loop_rate.csv?dimension=payer&grain=year');
    const gap = await binaryAs(app, partner, '/api/partners/ORG-04/gap-analysis.xlsx');
    const chart = await binaryAs(app, evaluator, '/api/charts/trend.svg?metric=closed_loop_rate');
    for (const r of [csv, gap, chart]) expect(r.status).toBe(200);
    await app.security!.flush();
    expect(seenAtHook).toHaveLength(3);
    for (const s of seenAtHook) expect(s.onDisk, 'the started record was on disk when the hook ran').toBeDefined();
    const downloads = auditLines().filter((r) => r.kind === 'download');
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    const started = downloads.filter((r) => r.outcome === 'started');
    expect(started[0]).toMatchObject({
      user_id: evaluator.id, user_name: 'Eve Evaluator', role: 'evaluator', org: null, what: 'results', path: '/api/exports/metrics/closed_loop_rate.csv',
      filename: 'closeloop-closed_loop_rate-payer-year-2026-10-31.csv', params: { metric: 'closed_loop_rate', format: 'csv', dimension: 'payer', grain: 'year' },
      rows: csv.body.toString('utf8').trim().split('\n').length - 1, bytes: csv.body.length, sha256: sha(csv.body), run_id: fx.runId,
    });
    expect(started[1]).toMatchObject({ user_id: partner.id, role: 'partner', org: 'ORG-04', what: 'gap-analysis', params: { org: 'ORG-04' }, sha256: sha(gap.body) });
    expect(started[2]).toMatchObject({ what: 'chart-image', rows: 0, sha256: sha(chart.body) });
    const completed = downloads.filter((r) => r.outcome === 'completed');
    expect(completed.map((r) => r.sha256)).toEqual(started.map((r) => r.sha256));
    expect(completed.every((r) => r.status === 200)).toBe(true);
  });

  it('a download that fails is audited with its status; one whose audit record cannot be written is not sent at all', async () => {
    await getAs(app, evaluator, '/api/exports/metrics/closed_loop_rate.csv?grain=fortnight');
    await app.security!.flush();
    expect(auditLines().at(-1)).toMatchObject({ kind: 'download', outcome: 'failed', status: 400, user_id: evaluator.id, params: { grain: 'fortnight' } });

    const file = auditPath(stateDir());
    renameSync(file, `${file}.kept`);
    mkdirSync(file); // appending to a folder fails
    try {
      const r = await getAs(app, evaluator, '/api/exports/metrics/closed_loop_rate.csv?grain=all');
      expect(r.status).toBe(500);
      expect(r.headers['content-disposition']).toBeUndefined();
      expect(r.text).not.toContain('closed_loop_rate,all');
    } finally {
      rmdirSync(file);
      renameSync(`${file}.kept`, file);
    }
  });
});

describe('access log', () => {
  it('plain API reads: time, user, role, method, path, status, duration; nothing else', async () => {
    await getAs(app, evaluator, '/api/metrics/closed_loop_rate?dimension=race_ethnicity&grain=all');
    await getAs(app, partner, '/api/scorecards');
    await request(app).get('/api/filters');
    await app.security!.flush();
    const lines = accessLines();
    const find = (path: string, user: string | null) => lines.find((l) => l.path === path && l.user_id === user);
    expect(find('/api/metrics/closed_loop_rate', evaluator.id)).toEqual({ time: expect.any(String), user_id: evaluator.id, role: 'evaluator', method: 'GET', path: '/api/metrics/closed_loop_rate', status: 200, duration_ms: expect.any(Number) });
    expect(find('/api/scorecards', partner.id)).toMatchObject({ role: 'partner', status: 200 });
    expect(find('/api/filters', null)).toMatchObject({ role: null, status: 401 });
    for (const l of lines) expect(Object.keys(l).sort()).toEqual(['duration_ms', 'method', 'path', 'role', 'status', 'time', 'user_id']);
    expect(readFileSync(accessPath(stateDir()), 'utf8')).not.toMatch(/race_ethnicity|rows|"value"/);
  });
});

describe('closeloop audit and the admin page', () => {
  it('`closeloop audit` filters by kind, user and time; --access shows the access log', async () => {
    const out: string[] = [];
    await auditCommand({ db: fx.root, kind: 'authorization' }, (l) => out.push(l));
    expect(out).toHaveLength(3);
    expect(out[0]).toMatch(/authorization\s+denied\s+Homes First staff\s+partner\s+ORG-04\s+\/api\/partners\/ORG-07\/gap-analysis\.csv/);
    out.length = 0;
    await auditCommand({ db: fx.root, user: 'Eve Evaluator', kind: 'download', json: true }, (l) => out.push(l));
    expect(out.length).toBeGreaterThanOrEqual(3);
    expect(out.map((l) => JSON.parse(l).user_id).every((u) => u === evaluator.id)).toBe(true);
    out.length = 0;
    await auditCommand({ db: fx.root, since: '2999-01-01' }, (l) => out.push(l));
    expect(out).toEqual(['No audit records match.']);
    out.length = 0;
    await auditCommand({ db: fx.root, access: true, user: partner.id, limit: '1' }, (l) => out.push(l));
    expect(out).toHaveLength(1);
    await expect(auditCommand({ db: fx.root, kind: 'everything' })).rejects.toThrow(/--kind must be one of/);
    await expect(auditCommand({ db: fx.root, since: 'yesterday' })).rejects.toThrow(/--since/);
  });

  it('the closeloop command: users add (partner bound to an organization), list, revoke; audit shows the changes', async () => {
    const printed: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void printed.push(a.join(' ')));
    const err = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void printed.push(a.join(' ')));
    try {
      expect(await main(['users', 'add', '--name', 'Rides partner', '--role', 'partner', '--org', 'ORG-07', '--expires', '2099-12-31', '--db', fx.root])).toBe(0);
      const token = printed.join('\n').match(/cl_[A-Za-z0-9_-]{43}/)![0];
      expect((await getAs(app, { ...partner, token }, '/api/partners/ORG-07/scorecard')).status).toBe(200);
      expect((await getAs(app, { ...partner, token }, '/api/partners/ORG-04/scorecard')).status).toBe(403);
      printed.length = 0;
      expect(await main(['users', 'list', '--db', fx.root])).toBe(0);
      expect(printed.join('\n')).toMatch(/Rides partner\s+partner\s+ORG-07\s+active\s+2100-01-01/);
      expect(await main(['users', 'revoke', 'Rides partner', '--db', fx.root])).toBe(0);
      expect((await getAs(app, { ...partner, token }, '/api/partners/ORG-07/scorecard')).status).toBe(401);
      printed.length = 0;
      expect(await main(['users', 'add', '--name', 'x', '--role', 'partner', '--db', fx.root])).toBe(1);
      expect(printed.join('\n')).toMatch(/closeloop users: a partner user needs --org ORG/);
      printed.length = 0;
      expect(await main(['audit', '--kind', 'user', '--db', fx.root])).toBe(0);
      expect(printed.join('\n')).toMatch(/user\s+added .*"Rides partner" partner ORG-07 by cli:/);
      expect(printed.join('\n')).toMatch(/user\s+revoked .*"Rides partner"/);
    } finally {
      log.mockRestore();
      err.mockRestore();
    }
  });

  it('the admin page lists users (no hashes) and the audit trail, escaped', async () => {
    await getAs(app, partner, `/api/metrics/closed_loop_rate?dimension=target_org_id&group=${encodeURIComponent('<script>alert(1)</script>')}`);
    await app.security!.flush();
    const page = await getAs(app, admin, '/admin?kind=authorization');
    expect(page.status).toBe(200);
    expect(page.type).toBe('text/html');
    expect(page.text).toContain('Homes First staff');
    expect(page.text).toContain('Ann Admin');
    expect(page.text).not.toMatch(/[0-9a-f]{64}/);
    expect(page.text).not.toContain('<script>alert');
    expect(page.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const api = await getAs(app, admin, '/api/admin/audit?kind=download&limit=2');
    expect(api.body.records).toHaveLength(2);
    const users = await getAs(app, admin, '/api/admin/users');
    expect(users.body.users.map((u: { name: string }) => u.name)).toContain('Eve Evaluator');
    expect(JSON.stringify(users.body)).not.toContain('token_sha256');
    expect((await getAs(app, admin, '/admin?kind=nonsense')).status).toBe(400);
  });
});
