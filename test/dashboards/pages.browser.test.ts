// The dashboards in a real browser (Debian's Chromium, headless, driven by playwright-core)
// against the server on localhost, under its strict Content-Security-Policy: every page
// loads with no console error, failed request or CSP violation; every chart renders; a
// chart's drawn data equal the API's figures; a filter change redraws and lands in the
// URL; downloads work. Screenshots go to test-output/screenshots/ (git-ignored).
// Without /usr/bin/chromium these tests report themselves skipped, with the reason.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { startServer, type RunningServer } from '../../server/serve.ts';
import { CHROMIUM, dashboardSession, FLAGS, missingChromium, SHOTS, type DashboardSession } from '../helpers/chromium.ts';
import { FIXTURE, type PublishedFixture } from '../helpers/publishedFixture.ts';
import { addTestUser, type TestUser } from '../helpers/auth.ts';
import { PAGES as APP_PAGES } from '../../dashboards/pages/pages.ts';

// Browser globals used inside page.evaluate callbacks (they run in the page; this file is
// type-checked without the DOM library).
interface ViewLike { data(name: string): Array<Record<string, unknown>> }
declare const window: { closeloop: { views: Record<string, ViewLike> } };
declare const document: { body: { dataset: Record<string, string | undefined> }; addEventListener(type: string, f: (e: { violatedDirective: string; blockedURI: string }) => void): void };
declare const location: { search: string };
type HTMLElement = { dataset: Record<string, string | undefined> };

const missing = missingChromium;

// every page the app serves, from its own page list (a new page is covered without editing here)
const PAGES = APP_PAGES.map((p) => ({ path: p.path, name: p.id }));

interface Problems {
  console: string[];
  failed: string[];
  http: string[];
}

// Skipped only when Debian's Chromium is missing (apt-get install -y chromium; .ci/run
// installs it): the suite's title then says so, and a warning names what is missing, so
// the tests never pass silently.
if (missing) console.warn(`browser tests SKIPPED: ${missing}`);
describe.skipIf(missing !== null)(missing ? `dashboards in Chromium (SKIPPED: ${missing})` : 'dashboards in Chromium', () => {
  let fx: PublishedFixture;
  let server: RunningServer;
  let browser: BrowserContext;
  let session: DashboardSession;
  let evaluator: TestUser;

  beforeAll(async () => {
    // The fixture was published on 2026-11-01: generous limits keep it fresh here; the banner test sets tight ones.
    session = await dashboardSession('pages', { acceptDownloads: true });
    ({ fx, server, browser } = session);
    mkdirSync(SHOTS, { recursive: true });
    // Sign in once, as a person would with the link `closeloop start` prints: the session cookie serves every page after.
    evaluator = await addTestUser(fx.root, 'evaluator', { name: 'Browser Evaluator' });
    const signin = await browser.newPage();
    await signin.goto(`${server.url}/signin#token=${evaluator.token}`);
    await signin.waitForURL(`${server.url}/`);
    await signin.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
    await signin.close();
  });

  afterAll(async () => {
    await session?.close();
  });

  /** A page that records console errors, failed requests, HTTP errors and CSP violations. */
  async function open(path: string, context: BrowserContext = browser): Promise<{ page: Page; problems: Problems }> {
    const page = await context.newPage();
    const problems: Problems = { console: [], failed: [], http: [] };
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
    });
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.console.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.console.push(`pageerror: ${e.message}`));
    page.on('requestfailed', (r) => problems.failed.push(`${r.url()} ${r.failure()?.errorText}`));
    page.on('response', (r) => {
      if (r.status() >= 400) problems.http.push(`${r.status()} ${r.url()}`);
    });
    await page.goto(server.url + path);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
    return { page, problems };
  }

  for (const p of PAGES) {
    it(`${p.name}: loads cleanly and draws every chart`, async () => {
      const { page, problems } = await open(p.path);
      const charts = await page.$$eval('figure[data-chart]', (figs) => figs.map((f) => ({ id: f.id, chart: f.dataset.chart, state: (f.querySelector('.chart-body') as HTMLElement).dataset.state, svg: Boolean(f.querySelector('.chart-body svg')), rows: f.querySelectorAll('.chart-table tbody tr').length, text: (f.querySelector('.chart-body') as unknown as { textContent: string | null }).textContent ?? '' })));
      // The fixture withholds one outcome of the evaluation (admissions: a month's events in
      // 1..10): its chart says so instead of drawing. Every other chart draws.
      const withheld = (c: (typeof charts)[number]) => p.name === 'evaluation' && c.state === 'empty' && /withheld/i.test(c.text);
      expect(charts.filter(withheld).length, `${p.name}: charts shown as withheld`).toBe(p.name === 'evaluation' ? 1 : 0);
      for (const c of charts) {
        if (withheld(c)) continue;
        expect(c, `${p.name} ${c.id}`).toMatchObject({ state: 'ready', svg: true });
        expect(c.rows, `${p.name} ${c.id} table alternative`).toBeGreaterThan(0);
      }
      const views = await page.evaluate(() => Object.keys(window.closeloop?.views ?? {}).length);
      expect(views).toBeGreaterThanOrEqual(charts.length - charts.filter(withheld).length);
      await page.screenshot({ path: `${SHOTS}${p.name}.png`, fullPage: true });
      expect(problems).toEqual({ console: [], failed: [], http: [] });
      await page.close();
    });
  }

  it('a chart draws exactly the figures the API returns for the same filter', async () => {
    const { page } = await open('/closed-loop?grain=quarter');
    const id = await page.$eval('figure[data-chart="trend"][data-fixed="metric=closed_loop_rate"]', (f) => f.id);
    const drawn = await page.evaluate((fid) => {
      const view = window.closeloop.views[fid]!;
      return view.data('table').map((r) => ({ period_start: r.period_start, value: r.value, suppressed: r.suppressed }));
    }, id);
    const api = await (await fetch(`${server.url}/api/metrics/closed_loop_rate?grain=quarter&dimension=all`, { headers: { Authorization: `Bearer ${evaluator.token}` } })).json() as { rows: Array<{ period_start: string; value: number | null; suppressed: boolean }> };
    expect(drawn).toEqual(api.rows.map((r) => ({ period_start: r.period_start, value: r.value, suppressed: r.suppressed })));
    await page.close();
  });

  it('a filter change redraws the charts and is kept in the URL (and back works)', async () => {
    const { page, problems } = await open('/closed-loop');
    const id = await page.$eval('figure[data-chart="trend"][data-fixed="metric=closed_loop_rate"]', (f) => f.id);
    const periods = () => page.evaluate((fid) => {
      const view = window.closeloop.views[fid]!;
      return view.data('table').map((r) => r.period_label);
    }, id);
    expect(await periods()).toContain('2026 Q3');
    await page.selectOption('select[name="grain"]', 'year');
    await page.waitForFunction(() => document.body.dataset.ready === 'true' && location.search.includes('grain=year'));
    expect(new URL(page.url()).searchParams.get('grain')).toBe('year');
    expect(await periods()).toEqual(['2024', '2025', '2026']);
    await page.selectOption('select[name="program"]', 'ACO-02');
    await page.waitForFunction(() => document.body.dataset.ready === 'true' && location.search.includes('program=ACO-02'));
    const series = await page.evaluate((fid) => [...new Set(window.closeloop.views[fid]!.data('table').map((r) => r.series))], id);
    expect(series.sort()).toEqual(['Everyone', 'program ACO-02']);
    // A shared link opens the same view.
    const shared = await browser.newPage();
    await shared.goto(page.url());
    await shared.waitForSelector('body[data-ready="true"]');
    expect(await shared.inputValue('select[name="grain"]')).toBe('year');
    expect(await shared.inputValue('select[name="program"]')).toBe('ACO-02');
    await shared.close();
    await page.goBack();
    await page.waitForFunction(() => document.body.dataset.ready === 'true' && !location.search.includes('program='));
    expect(await page.inputValue('select[name="program"]')).toBe('');
    expect(problems).toEqual({ console: [], failed: [], http: [] });
    await page.close();
  });

  it('suppressed cells are drawn as withheld, not zero', async () => {
    const { page } = await open('/disparities');
    const text = await page.$eval('figure[data-chart="forest"] .chart-body svg', (s) => s.textContent ?? '');
    expect(text).toContain('n<11 (withheld)');
    const cell = await page.$$eval('figure[data-chart="forest"] .chart-table td.suppressed', (tds) => tds.map((t) => t.textContent));
    expect(cell.length).toBeGreaterThan(0);
    expect(cell.every((t) => t === 'n<11')).toBe(true);
    await page.close();
  });

  it('the stale-data banner is hidden while the data is fresh, and shown past the configured age', async () => {
    const { page } = await open('/');
    expect(await page.$eval('[data-stale]', (b) => (b as { hidden: boolean }).hidden)).toBe(true);
    await page.close();
    // A second server on the same store with a 24-hour limit: the fixture, published 2026-11-01, is stale.
    const strict = await startServer({ root: fx.root, port: 0, log: () => undefined, freshness: { maxPublishedAgeHours: 24, maxAsOfAgeDays: 1e6 } });
    // Cookies are per host, not per port: a separate browser profile keeps the main session intact.
    const { chromium } = await import('playwright-core');
    const otherProfile = mkdtempSync(join(tmpdir(), 'closeloop-chromium-'));
    const other = await chromium.launchPersistentContext(otherProfile, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1360, height: 900 } });
    try {
      const p = await other.newPage();
      await p.goto(`${strict.url}/signin#token=${evaluator.token}`);
      await p.waitForURL(`${strict.url}/`);
      await p.waitForSelector('[data-stale]:not([hidden])', { timeout: 30_000 });
      expect(await p.$eval('[data-stale]', (b) => b.textContent)).toMatch(/^Stale data: the last publish was [\d.]+ hours ago \(limit 24 h\)/);
      await p.screenshot({ path: join(SHOTS, 'stale-banner.png') });
    } finally {
      await other.close();
      rmSync(otherProfile, { recursive: true, force: true });
      await strict.close();
    }
  });

  it('issue 15: every scorecard value is drawn on its own organization\'s row, as the API gives it ("median not reached" where it is not)', async () => {
    const { page, problems } = await open('/closed-loop');
    const id = await page.$eval('figure[data-chart="scorecard"]', (f) => f.id);
    // every drawn mark item with its dataset row and its position in the whole chart
    const drawn = await page.evaluate((fid) => {
      type Node = { marktype?: string; role?: string; items?: Node[]; x?: number; y?: number; datum?: Record<string, unknown>; text?: string };
      const out: Array<{ org: string; measure: string; type: string; y: number; value: unknown; text: string | null }> = [];
      const walk = (node: Node, dy: number, mark?: Node) => {
        for (const item of node.items ?? []) {
          if (item.marktype) walk(item, dy, item);
          else {
            const y = dy + (item.y ?? 0);
            if (mark && mark.marktype !== 'group' && item.datum && typeof item.datum.org === 'string') {
              out.push({ org: item.datum.org as string, measure: String(item.datum.measure), type: String(mark.marktype), y, value: item.datum.value, text: item.text ?? null });
            }
            walk(item, mark?.marktype === 'group' ? y : dy);
          }
        }
      };
      const view = (window.closeloop.views[fid] as unknown as { scenegraph(): { root: Node } });
      walk(view.scenegraph().root, 0);
      return out;
    }, id);
    const headers = { Authorization: `Bearer ${evaluator.token}` };
    const card = await (await fetch(`${server.url}/api/scorecards`, { headers })).json() as { cells: Array<{ org_id: string; org: string; measure: string }> };
    const orgId = new Map(card.cells.map((c) => [c.org, c.org_id]));
    const measures = [...new Set(drawn.map((d) => d.measure))];
    expect(measures.sort()).toEqual(['closed_loop_rate', 'days_to_close', 'referral_acceptance_rate', 'stale_open_referrals']);
    for (const measure of measures) {
      const api = await (await fetch(`${server.url}/api/metrics/${measure}?dimension=target_org_id&grain=all`, { headers })).json() as { rows: Array<{ group_value: string; value: number | null; suppressed: boolean }> };
      const marks = drawn.filter((d) => d.measure === measure && (d.type === 'symbol' || d.type === 'rect') && typeof d.value === 'number');
      expect(marks.length, measure).toBeGreaterThan(0);
      for (const m of marks) {
        const row = api.rows.find((r) => r.group_value === orgId.get(m.org));
        expect(row?.value, `${measure} ${m.org}`).toBe(m.value);
      }
    }
    // one row per organization: every item of an organization, in every panel, at one height
    const rowOf = new Map<string, number>();
    for (const d of drawn.filter((x) => x.type === 'symbol' || x.type === 'rect' || x.type === 'text')) {
      const y = rowOf.get(d.org);
      if (y === undefined) rowOf.set(d.org, d.y);
      else expect(Math.abs(d.y - y), `${d.org} ${d.measure} ${d.type}`).toBeLessThan(14);
    }
    const heights = [...rowOf.values()].sort((a, b) => a - b);
    for (let i = 1; i < heights.length; i++) expect(heights[i]! - heights[i - 1]!).toBeGreaterThan(14);
    // the planted partner without a median says so, on its own row
    const name = [...orgId].find(([, v]) => v === FIXTURE.medianNotReached.org)![0];
    const note = drawn.find((d) => d.org === name && d.measure === 'days_to_close' && d.type === 'text');
    expect(note?.text).toBe('median not reached');
    expect(Math.abs(note!.y - rowOf.get(name)!)).toBeLessThan(14);
    expect(problems).toEqual({ console: [], failed: [], http: [] });
    await page.close();
  });

  it('issue 15: the overview headlines the latest final period; provisional ones are drawn hollow, never compared', async () => {
    const { page } = await open('/?grain=quarter');
    const tiles = await page.$$eval('.tile', (ts) => ts.map((t) => ({
      metric: (t as unknown as HTMLElement).dataset.metric,
      period: t.querySelector('.period')?.textContent ?? '',
      change: t.querySelector('.change')?.className ?? '',
      verdict: (t.querySelector('.change') as unknown as HTMLElement | null)?.dataset.verdict ?? null,
      text: t.querySelector('.change')?.textContent ?? '',
    })));
    expect(tiles.length).toBe(6);
    for (const t of tiles) {
      expect(t.period, t.metric).toMatch(/\(latest final period\)/);
      // a direction only with a significant test
      if (/better|worse/.test(t.change)) expect(['better', 'worse']).toContain(t.verdict);
      if (t.verdict === 'no_significant_change') expect(t.text).toMatch(/^no significant change from/);
    }
    const closed = tiles.find((t) => t.metric === 'closed_loop_rate')!;
    expect(closed.period).toMatch(/^2026 Q2/);
    const spark = await page.evaluate(() => window.closeloop.views['tile-closed_loop_rate']!.data('table').map((r) => ({ period: r.period_label, status: r.status })));
    expect(spark.at(-1)).toEqual({ period: '2026 Q4', status: 'provisional' });
    expect(await page.$eval('[data-metric="closed_loop_rate"] .spark svg', (s) => s.textContent)).toContain('prov.');
    await page.close();
  });

  it('downloads: chart data (CSV), images (SVG, PNG), the report and a gap analysis', async () => {
    const { page } = await open('/service-gaps');
    const fig = 'figure[data-chart="gap-map"]';
    for (const [format, name] of [['csv', /^closeloop-gap-map-unmet_need_rate-all-domains-all-2026-10-31\.csv$/], ['svg', /\.svg$/], ['png', /\.png$/]] as const) {
      const [download] = await Promise.all([page.waitForEvent('download'), page.click(`${fig} a.download[data-format="${format}"]`)]);
      expect(download.suggestedFilename()).toMatch(name);
      const path = await download.path();
      expect(path && existsSync(path)).toBe(true);
    }
    const [gap] = await Promise.all([page.waitForEvent('download'), page.click('a[data-partner-download="xlsx"]')]);
    expect(gap.suggestedFilename()).toBe('closeloop-ORG-01-gap-analysis-2026-10-31.xlsx');
    await page.close();
    const report = await open('/report?grain=year');
    const [xlsx] = await Promise.all([report.page.waitForEvent('download'), report.page.click('a[data-report-download]')]);
    expect(xlsx.suggestedFilename()).toBe('closeloop-report-year-2026-10-31.xlsx');
    await report.page.emulateMedia({ media: 'print' });
    await report.page.screenshot({ path: `${SHOTS}report-print.png`, fullPage: true });
    await report.page.close();
  });

  it('a partner signs in with its link and sees its own organization only; signing out ends the session', async () => {
    const { chromium } = await import('playwright-core');
    const partner = await addTestUser(fx.root, 'partner', { org: 'ORG-04', name: 'Homes First staff' });
    const dir = mkdtempSync(join(tmpdir(), 'closeloop-chromium-partner-'));
    const context = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1360, height: 900 } });
    try {
      const signin = await context.newPage();
      await signin.goto(`${server.url}/signin?next=%2Fclosed-loop#token=${partner.token}`);
      await signin.waitForURL(`${server.url}/closed-loop`);
      expect(signin.url()).not.toContain('token');
      await signin.close();
      const { page, problems } = await open('/closed-loop', context);
      const charts = await page.$$eval('figure[data-chart]', (figs) => figs.map((f) => (f.querySelector('.chart-body') as HTMLElement).dataset.state));
      expect(charts.every((c) => c === 'ready')).toBe(true);
      const orgs = await page.$$eval('figure[data-chart="scorecard"] .chart-table tbody tr td:first-child', (tds) => [...new Set(tds.map((t) => t.textContent))]);
      expect(orgs).toEqual(['Homes First NC, Inc.']);
      expect(await page.textContent('[data-user]')).toBe('Homes First staff (partner, ORG-04)');
      const nav = await page.$$eval('.mainnav a', (as) => as.map((a) => a.textContent));
      expect(nav).not.toContain('Data quality');
      const body = await page.content();
      for (const other of ['Carolina Harvest', 'Piedmont RideConnect', 'EnergyAssist', 'SafeHaven', 'ORG-07']) expect(body).not.toContain(other);
      await page.screenshot({ path: `${SHOTS}closed-loop-partner.png`, fullPage: true });
      expect(problems).toEqual({ console: [], failed: [], http: [] });
      await Promise.all([page.waitForURL(`${server.url}/signin`), page.click('form.signout button')]);
      await page.goto(`${server.url}/service-gaps`);
      await page.waitForURL(/\/signin\?next=%2Fservice-gaps$/);
      await page.close();
    } finally {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
