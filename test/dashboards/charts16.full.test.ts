// Issue 16, the last items, in Debian's Chromium for an evaluator and a partner: automatic
// coarsening of a trend whose months are mostly withheld (and none where they are not),
// heat maps in quantile classes with the n of each cell, a chart's figures reachable from
// the keyboard, the provenance footer of a downloaded image, and a partner's page weight
// (weight.browser.test.ts measures an evaluator's). Full tier: about 40 s of browser work.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { dashboardSession, missingChromium, type DashboardSession } from '../helpers/chromium.ts';
import { accessibility } from '../helpers/axe.ts';
import { signIn, type SignedIn } from '../helpers/signin.ts';
import { kb, visit } from '../helpers/transfer.ts';

type El = { textContent: string | null; getAttribute(n: string): string | null; closest(s: string): El | null; id: string; open?: boolean; className: string };
declare const document: { activeElement: El | null };

const missing = missingChromium;
describe.skipIf(missing !== null)(missing ? `issue 16 charts (SKIPPED: ${missing})` : 'issue 16: coarsening, heat-map classes and n, keyboard access (evaluator and partner)', () => {
  let session: DashboardSession;
  let evaluator: SignedIn;
  let partner: SignedIn;

  beforeAll(async () => {
    session = await dashboardSession('charts16', { acceptDownloads: true });
    evaluator = await signIn(session, 'evaluator', { name: 'Charts16 Evaluator' });
    partner = await signIn(session, 'partner', { org: 'ORG-04', name: 'Charts16 Partner', ownProfile: true });
  }, 120_000);

  afterAll(async () => {
    await partner?.close();
    await session?.close();
  });

  async function open(who: SignedIn, path: string): Promise<Page> {
    const page = await who.context.newPage();
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(session.server.url + path);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
    return page;
  }

  const REMISSION = 'figure[data-chart="trend"][data-fixed="metric=phq9_remission_rate"]';

  it('PHQ-9 remission by month (every month withheld in the fixture) is drawn by quarter with a visible note; the table and the CSV are the quarters', async () => {
    for (const who of [evaluator, partner]) {
      const page = await open(who, '/outcomes?grain=month');
      expect(await page.isVisible(`${REMISSION} .chart-notes`)).toBe(true);
      expect(await page.textContent(`${REMISSION} .chart-notes`)).toMatch(/^Shown by quarter: most months are withheld \(n<11\), (\d+) of \1\.$/);
      // said once on the page (the image has it in its subtitle: test/server/downloads.test.ts)
      expect(await page.textContent(`${REMISSION} .chart-subtitle`)).toContain('By quarter');
      expect(await page.textContent(`${REMISSION} .chart-subtitle`)).not.toContain('Shown by quarter');
      const periods = await page.$$eval(`${REMISSION} .chart-table tbody tr td:nth-child(2)`, (tds) => tds.map((t) => t.textContent ?? ''));
      expect(periods.length).toBeGreaterThan(3);
      expect(periods.every((p) => /^\d{4} Q[1-4]$/.test(p)), periods.join(',')).toBe(true);
      const [download] = await Promise.all([page.waitForEvent('download'), page.click(`${REMISSION} a.download[data-format="csv"]`)]);
      expect(download.suggestedFilename()).toMatch(/-quarter-/);
      const lines = readFileSync((await download.path())!, 'utf8').trim().split('\r\n').slice(1);
      expect(lines.map((l) => l.split(',')[1])).toEqual(periods);
      // a trend whose months are mostly shown stays by month: the URL's grain is kept
      const ed = 'figure[data-chart="trend"][data-fixed="metric=ed_visits_per_1000_mm"]';
      expect(await page.isVisible(`${ed} .chart-notes`)).toBe(false);
      expect((await page.$$eval(`${ed} .chart-table tbody tr td:nth-child(2)`, (tds) => tds.map((t) => t.textContent ?? ''))).every((p) => /^\d{4}-\d{2}$/.test(p))).toBe(true);
      await page.close();
      const quarter = await open(who, '/outcomes?grain=quarter');
      expect(await quarter.isVisible(`${REMISSION} .chart-notes`)).toBe(false);
      expect(await quarter.textContent(`${REMISSION} .chart-subtitle`)).toContain('By quarter');
      await quarter.close();
    }
  });

  it('heat maps: legend classes at quantiles, and each shown cell prints its n (unmet need: the positive needs; demand: needs / capacity-months); axe stays clean', async () => {
    for (const who of [evaluator, partner]) {
      const page = await open(who, '/service-gaps');
      for (const [chart, pattern] of [['gap-heatmap', /^n = [\d,]+ positive needs$/], ['demand-capacity', /^[\d,]+ \/ [\d,]+$/]] as const) {
        const fig = `figure[data-chart="${chart}"]`;
        const texts = await page.$$eval(`${fig} .chart-body svg text`, (ts) => ts.map((t) => t.textContent ?? ''));
        const shownCells = await page.$$eval(`${fig} .chart-table tbody tr`, (trs) => trs.filter((tr) => {
          const value = tr.querySelector('td:nth-child(4)');
          return value && /\d/.test(value.textContent ?? '') && !value.classList.contains('suppressed');
        }).length);
        expect(shownCells, chart).toBeGreaterThan(10);
        expect(texts.filter((t) => pattern.test(t)).length, chart).toBe(shownCells);
        // five classes: the lowest "under x", the highest "y or more"
        expect(texts.filter((t) => /^under /.test(t)).length, chart).toBe(1);
        expect(texts.filter((t) => / or more$/.test(t)).length, chart).toBe(1);
        expect(texts.filter((t) => / to under /.test(t)).length, chart).toBe(3);
      }
      expect(await accessibility(page)).toEqual({ axe: [], charts: [], scroll: [] });
      await page.close();
    }
  });

  it('a downloaded chart image carries its provenance footer: source, run, as-of date, filters (a partner\'s: its organization only), n<11 withheld', async () => {
    for (const [who, only] of [[evaluator, false], [partner, true]] as const) {
      const page = await open(who, '/closed-loop');
      const fig = 'figure[data-chart="km"][data-fixed="metric=days_to_close&dimension=target_org_id"]';
      const [download] = await Promise.all([page.waitForEvent('download'), page.click(`${fig} a.download[data-format="svg"]`)]);
      const svg = readFileSync((await download.path())!, 'utf8');
      const footer = [...(/<g class="provenance"[^>]*>(.*?)<\/g>/.exec(svg)?.[1] ?? '').matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]).join(' ');
      expect(footer).toContain(`Source: closeloop, run ${session.fx.runId}, as of ${session.fx.asOf}.`);
      expect(footer).toContain('metric=days_to_close, dimension=target_org_id');
      expect(footer.includes('organization=ORG-04 only'), footer).toBe(only);
      expect(footer).toContain('n&lt;11 withheld');
      await page.close();
    }
  });

  it(`a partner's overview (with its own home block): at most ${kb(400_000)} on a first visit, ${kb(50_000)} on a repeat visit`, async () => {
    const blank = await partner.context.newPage();
    const cdp = await partner.context.newCDPSession(blank);
    await cdp.send('Network.clearBrowserCache');
    await cdp.detach();
    await blank.close();
    const first = await visit(partner.context, `${session.server.url}/`);
    expect(await first.page.isVisible('[data-block="partner-home"]')).toBe(true);
    await first.page.close();
    const repeat = await visit(partner.context, `${session.server.url}/`);
    await repeat.page.close();
    console.info(`partner overview: first visit ${kb(first.total)} in ${first.transfers.length} requests, repeat ${kb(repeat.total)}`);
    expect(first.total).toBeLessThanOrEqual(400_000);
    expect(repeat.total).toBeLessThanOrEqual(50_000);
  });

  it('keyboard: Tab reaches a chart, the arrow keys read its figures (what the tooltips show) into a live region, Enter opens its table', async () => {
    for (const who of [evaluator, partner]) {
      const page = await open(who, '/closed-loop');
      let focused: { chart: string; id: string; label: string } | null = null;
      for (let i = 0; i < 80 && !focused; i++) {
        await page.keyboard.press('Tab');
        focused = await page.evaluate(() => {
          const a = document.activeElement;
          const fig = a?.closest('figure[data-chart]');
          return a && fig && a.getAttribute('role') === 'img' ? { chart: fig.getAttribute('data-chart')!, id: fig.id, label: a.getAttribute('aria-label') ?? '' } : null;
        });
      }
      expect(focused, 'a chart takes focus from the keyboard').not.toBeNull();
      const fig = `#${focused!.id}`;
      expect(focused!.label.length).toBeGreaterThan(40);
      const readout = `${fig} .chart-readout`;
      expect(await page.getAttribute(readout, 'aria-live')).toBe('polite');
      expect(await page.textContent(readout)).toMatch(/rows of figures: the arrow keys read them/);
      const cells = await page.$$eval(`${fig} .chart-table tbody tr`, (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
      const heads = await page.$$eval(`${fig} .chart-table thead th`, (ths) => ths.map((th) => th.textContent ?? ''));
      await page.keyboard.press('ArrowRight');
      const first = await page.textContent(readout);
      expect(first).toMatch(new RegExp(`^Row 1 of ${cells.length}\\. `));
      // every column of the first row, by its title, as the table shows it (n<11 where withheld)
      heads.forEach((h, j) => {
        const shown = cells[0]![j]!;
        if (shown !== '–') expect(first, h).toContain(`${h}: ${shown}`);
      });
      await page.keyboard.press('End');
      expect(await page.textContent(readout)).toMatch(new RegExp(`^Row ${cells.length} of ${cells.length}\\. `));
      await page.keyboard.press('Enter');
      expect(await page.$eval(`${fig} details.chart-table`, (d) => (d as unknown as El).open)).toBe(true);
      expect(await page.evaluate(() => document.activeElement?.className)).toBe('table-wrap');
      await page.close();
    }
  });
});
