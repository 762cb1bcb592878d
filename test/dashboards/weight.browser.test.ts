// Issue 16, light pages: what a browser downloads, measured in Debian's Chromium from the
// DevTools protocol's Network events (encodedDataLength: bytes on the wire, headers
// included, after compression; 0 for what the cache served). A first visit to the overview
// (empty cache, signed in) must stay within 400 kB, a repeat visit within 50 kB; the chart
// libraries come compressed under hashed names cached as immutable; a page that draws no
// chart (the metric dictionary) loads no Vega at all.
// Without /usr/bin/chromium these tests report themselves skipped, with the reason.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import type { RunningServer } from '../../server/serve.ts';
import { dashboardSession, missingChromium, SHOTS, type DashboardSession } from '../helpers/chromium.ts';
import type { PublishedFixture } from '../helpers/publishedFixture.ts';
import { addTestUser } from '../helpers/auth.ts';
import { kb, visit, type Transfer } from '../helpers/transfer.ts';

const missing = missingChromium;

const FIRST_VISIT_LIMIT = 400_000;
const REPEAT_VISIT_LIMIT = 50_000;


if (missing) console.warn(`browser tests SKIPPED: ${missing}`);
describe.skipIf(missing !== null)(missing ? `page weight in Chromium (SKIPPED: ${missing})` : 'page weight in Chromium', () => {
  let fx: PublishedFixture;
  let server: RunningServer;
  let browser: BrowserContext;
  let session: DashboardSession;

  beforeAll(async () => {
    session = await dashboardSession('weight');
    ({ fx, server, browser } = session);
    const evaluator = await addTestUser(fx.root, 'evaluator');
    const signin = await browser.newPage();
    await signin.goto(`${server.url}/signin#token=${evaluator.token}`);
    await signin.waitForURL(`${server.url}/`);
    await signin.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
    // Signing in drew the overview: empty the cache so the next visit is a first one.
    const cdp = await browser.newCDPSession(signin);
    await cdp.send('Network.clearBrowserCache');
    await cdp.detach();
    await signin.close();
  });

  afterAll(async () => {
    await session?.close();
  });

  it(`the overview: at most ${kb(FIRST_VISIT_LIMIT)} on a first visit, at most ${kb(REPEAT_VISIT_LIMIT)} on a repeat visit`, async () => {
    const first = await visit(browser, `${server.url}/`);
    await first.page.close();
    const repeat = await visit(browser, `${server.url}/`);
    await repeat.page.close();
    const report = (v: { transfers: Transfer[]; total: number }) => `${kb(v.total)} in ${v.transfers.length} requests:\n${v.transfers.map((t) => `  ${t.status} ${kb(t.bytes)} ${t.encoding ?? 'identity'}${t.fromCache ? ' (cache)' : ''} ${new URL(t.url).pathname}`).join('\n')}`;
    console.info(`first visit to the overview: ${report(first)}\nrepeat visit: ${report(repeat)}`);

    // the chart libraries: compressed, hashed names, immutable, and not fetched again
    const libs = first.transfers.filter((t) => /\/vendor\/vega(-lite|-embed)?\.[0-9a-f]{12}\.min\.js$/.test(t.url));
    expect(libs.map((t) => new URL(t.url).pathname.split('.')[0])).toEqual(['/vendor/vega', '/vendor/vega-lite', '/vendor/vega-embed']);
    for (const t of libs) {
      expect(t.encoding, t.url).toMatch(/^(br|gzip)$/);
      expect(t.cacheControl, t.url).toBe('public, max-age=31536000, immutable');
    }
    for (const t of repeat.transfers.filter((x) => x.url.includes('/vendor/'))) expect(t.bytes, `${t.url} on the repeat visit`).toBe(0);

    expect(first.total).toBeLessThanOrEqual(FIRST_VISIT_LIMIT);
    expect(repeat.total).toBeLessThanOrEqual(REPEAT_VISIT_LIMIT);
  });

  it('the metric dictionary draws no chart and loads no Vega', async () => {
    const { page, transfers } = await visit(browser, `${server.url}/dictionary`);
    expect(transfers.filter((t) => t.url.includes('/vendor/')).map((t) => t.url)).toEqual([]);
    expect(await page.evaluate(() => 'vega' in globalThis)).toBe(false);
    expect(await page.$$eval('article.definition', (a) => a.length)).toBeGreaterThan(10);
    await page.close();
  });
});
