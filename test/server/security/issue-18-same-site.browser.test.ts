// Issue 18, item 4, in a real browser: a page on another port of the same host is the
// same site, so Chromium sends the SameSite=Strict session cookie with its requests. The
// attacker holds only that page, which a signed-in user opens; it makes an <img> and a
// no-cors fetch to export URLs. Before the fix both exports ran and were audited as the
// user's downloads. Now both are refused (403) before any route runs, and the refusals
// are audited with the user's id (which proves the cookie was sent: the attack is real).
// The dashboards' own fetches and downloads are covered by test/dashboards/pages.browser.test.ts.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import { storePaths } from '../../../pipelines/store.ts';
import { auditPath, type AuditRecord } from '../../../server/auth/audit.ts';
import { startServer, type RunningServer } from '../../../server/serve.ts';
import { addTestUser, type TestUser } from '../../helpers/auth.ts';
import { CHROMIUM, FLAGS, missingChromium } from '../../helpers/chromium.ts';
import { publishedFixture, type PublishedFixture } from '../../helpers/publishedFixture.ts';

const missing = missingChromium;

declare const document: { title: string };

if (missing) console.warn(`browser tests SKIPPED: ${missing}`);
describe.skipIf(missing !== null)(missing ? `same-site attack in Chromium (SKIPPED: ${missing})` : 'same-site attack in Chromium', () => {
  let fx: PublishedFixture;
  let server: RunningServer;
  let attacker: Server;
  let attackerUrl: string;
  let browser: BrowserContext;
  let profile: string;
  let victim: TestUser;

  beforeAll(async () => {
    const { chromium } = await import('playwright-core');
    fx = await publishedFixture();
    server = await startServer({ root: fx.root, port: 0, log: () => undefined, freshness: { maxPublishedAgeHours: 1e6, maxAsOfAgeDays: 1e6 } });
    // The attacker's page: same host, another port.
    const page = `<!doctype html><title>cat pictures</title>
<img id="i" src="${server.url}/api/exports/metrics/closed_loop_rate.csv?grain=all">
<script>
  const img = new Promise((r) => { const i = document.getElementById('i'); i.onload = i.onerror = r; });
  const nocors = fetch('${server.url}/api/exports/report.csv', { mode: 'no-cors', credentials: 'include' }).catch(() => undefined);
  Promise.all([img, nocors]).then(() => { document.title = 'done'; });
</script>`;
    attacker = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end(page));
    await new Promise<void>((r) => attacker.listen(0, '127.0.0.1', r));
    attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`;
    profile = mkdtempSync(join(tmpdir(), 'closeloop-chromium-samesite-'));
    browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS });
    victim = await addTestUser(fx.root, 'evaluator', { name: 'Victim Evaluator' });
    const signin = await browser.newPage();
    await signin.goto(`${server.url}/signin#token=${victim.token}`);
    await signin.waitForURL(`${server.url}/`);
    await signin.close();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await new Promise((r) => (attacker ? attacker.close(r) : r(undefined)));
    fx?.cleanup();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('an <img> and a no-cors fetch from a page on another port of the same host run no export in the signed-in user\'s name', async () => {
    const page = await browser.newPage();
    await page.goto(attackerUrl);
    await page.waitForFunction(() => document.title === 'done', undefined, { timeout: 30_000 });
    await page.close();
    const records = readFileSync(auditPath(storePaths(fx.root).stateDir), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
    expect(records.filter((r) => r.kind === 'download')).toEqual([]);
    const refused = records.filter((r) => r.kind === 'authorization' && r.reason === 'cross-site request');
    expect(refused.map((r) => [r.user_id, r.path, r.fetch]).sort()).toEqual([
      [victim.id, '/api/exports/metrics/closed_loop_rate.csv', 'same-site no-cors image'],
      [victim.id, '/api/exports/report.csv', 'same-site no-cors empty'],
    ]);
  });
});
