// The Evaluation page (issue 22) in Chromium under the strict Content-Security-Policy: it
// loads with no console error, failed request or CSP violation; the navigation links it;
// the event study draws exactly the API's figures (the pre-period included); the effect and
// balance charts draw; the withheld outcome says why instead of drawing; the limits are on
// the page; the CSV download is the chart's table. Without /usr/bin/chromium: skipped, with the reason.
import { mkdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import type { RunningServer } from '../../server/serve.ts';
import { dashboardSession, missingChromium, SHOTS, type DashboardSession } from '../helpers/chromium.ts';
import type { TestUser } from '../helpers/auth.ts';
import { signIn } from '../helpers/signin.ts';

interface ViewLike { data(name: string): Array<Record<string, unknown>> }
declare const window: { closeloop: { views: Record<string, ViewLike> } };
declare const document: { addEventListener(type: string, f: (e: { violatedDirective: string; blockedURI: string }) => void): void };
type HTMLElement = { dataset: Record<string, string | undefined>; textContent: string | null };

if (missingChromium) console.warn(`browser tests SKIPPED: ${missingChromium}`);
describe.skipIf(missingChromium !== null)(missingChromium ? `Evaluation page in Chromium (SKIPPED: ${missingChromium})` : 'Evaluation page in Chromium', () => {
  let session: DashboardSession;
  let server: RunningServer;
  let browser: BrowserContext;
  let evaluator: TestUser;

  beforeAll(async () => {
    session = await dashboardSession('evaluation', { acceptDownloads: true });
    ({ server, browser } = session);
    mkdirSync(SHOTS, { recursive: true });
    evaluator = (await signIn(session, 'evaluator', { name: 'Evaluation Browser' })).user;
  });
  afterAll(async () => {
    await session?.close();
  });

  it('draws the event study, the effect and the balance as the API gives them, with the limits and a CSV download', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
    });
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`failed ${r.url()}`));
    page.on('response', (r) => { if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`); });

    await page.goto(`${server.url}/`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
    await page.click('nav a[href="/evaluation"]');
    await page.waitForURL(`${server.url}/evaluation`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });

    const charts = await page.$$eval('figure[data-chart]', (figs) => figs.map((f) => ({
      chart: (f as unknown as HTMLElement).dataset.chart, fixed: (f as unknown as HTMLElement).dataset.fixed ?? '', id: f.id,
      state: (f.querySelector('.chart-body') as unknown as HTMLElement).dataset.state, svg: Boolean(f.querySelector('.chart-body svg')), text: f.textContent ?? '',
    })));
    expect(charts.map((c) => `${c.chart}:${c.fixed}`)).toEqual(['event-study:outcome=ed_visits', 'evaluation-effect:', 'event-study:outcome=inpatient_admits', 'evaluation-balance:', 'evaluation-phq9:', 'evaluation-phq9-balance:']);
    for (const c of charts.filter((x) => x.fixed !== 'outcome=inpatient_admits')) expect(c, c.chart).toMatchObject({ state: 'ready', svg: true });
    // the withheld outcome is not drawn, and the page says why
    const withheld = charts.find((c) => c.fixed === 'outcome=inpatient_admits')!;
    expect(withheld.svg).toBe(false);
    expect(withheld.text).toMatch(/withheld by the small-cell rule/);

    // the drawn event study = the API's rows, baseline months included
    const api = await (await fetch(`${server.url}/api/evaluation`, { headers: { Authorization: `Bearer ${evaluator.token}` } })).json() as {
      event_study: Array<{ outcome: string; rel_month: number; estimate_per_1000: number; ci_low: number; ci_high: number; period: string }>;
    };
    const drawn = await page.evaluate((fid) => window.closeloop.views[fid]!.data('table').map((r) => ({ rel_month: r.rel_month, estimate: r.estimate, ci_low: r.ci_low, ci_high: r.ci_high, period: r.period })),
      charts[0]!.id);
    expect(drawn).toEqual(api.event_study.filter((r) => r.outcome === 'ed_visits').map((r) => ({ rel_month: r.rel_month, estimate: r.estimate_per_1000, ci_low: r.ci_low, ci_high: r.ci_high, period: r.period })));
    expect(drawn.filter((r) => r.period === 'baseline').map((r) => r.rel_month)).toEqual([-6, -5, -4, -3, -2]);
    const effectText = charts[1]!.text;
    expect(effectText).toContain('3,590'); // cohort sizes in the table alternative
    expect(await page.textContent('section.notes')).toMatch(/unmeasured confounding/);
    // the PHQ-9 comparison: the API's estimate drawn, with its group sizes in the table alternative
    const phq9 = charts.find((c) => c.chart === 'evaluation-phq9')!;
    const drawnPhq9 = await page.evaluate((fid) => window.closeloop.views[fid]!.data('table').map((r) => [r.value, r.ci_low, r.ci_high]), phq9.id);
    expect(drawnPhq9).toEqual([[-2.4, -4.1, -0.7]]);
    expect(phq9.text).toContain('212');

    // the CSV download is the chart's table
    const [download] = await Promise.all([page.waitForEvent('download'), page.click(`#${charts[0]!.id} a.download[data-format="csv"]`)]);
    const csv = readFileSync((await download.path())!, 'utf8').trim().split(/\r?\n/);
    expect(csv[0]).toBe('rel_month,period,estimate,ci_low,ci_high');
    expect(csv).toHaveLength(20);

    await page.screenshot({ path: `${SHOTS}evaluation.png`, fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });
});
