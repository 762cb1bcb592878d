// Issue 16 in Debian's Chromium, for an evaluator and a partner: the gap table and its
// download, labels in legends and tables, the phone layout of heat maps and the scorecard,
// filters that cannot empty a page, the overview's story, a partner's home, the print
// report's filters, separate axes for pre/post utilization. (Accessibility:
// a11y.browser.test.ts; every page at two sizes: pages.full.test.ts.) In the full tier:
// about 50 s of browser work would push `npm test` past its five minutes.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { dashboardSession, missingChromium, type DashboardSession } from '../helpers/chromium.ts';
import { signIn, type SignedIn } from '../helpers/signin.ts';

type El = { textContent: string | null; scrollHeight: number; clientHeight: number; getBoundingClientRect(): { width: number; height: number } };
declare const getComputedStyle: (e: El) => { overflowWrap: string; wordBreak: string; display: string };

const missing = missingChromium;
describe.skipIf(missing !== null)(missing ? `issue 16 pages (SKIPPED: ${missing})` : 'issue 16: gap table, labels, phone layout (evaluator and partner)', () => {
  let session: DashboardSession;
  let evaluator: SignedIn;
  let partner: SignedIn;

  beforeAll(async () => {
    session = await dashboardSession('issue16', { acceptDownloads: true });
    evaluator = await signIn(session, 'evaluator', { name: 'Issue16 Evaluator' });
    partner = await signIn(session, 'partner', { org: 'ORG-04', name: 'Issue16 Partner', ownProfile: true });
  }, 120_000);

  afterAll(async () => {
    await partner?.close();
    await session?.close();
  });

  async function open(who: SignedIn, path: string, size = { width: 1440, height: 900 }): Promise<Page> {
    const page = await who.context.newPage();
    await page.setViewportSize(size);
    await page.goto(session.server.url + path);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
    return page;
  }

  it('the gap table is shown whole and its download is the ranked gap table (evaluator: with programs; partner: without)', async () => {
    for (const [who, columns] of [[evaluator, 'with'], [partner, 'without']] as const) {
      const page = await open(who, '/service-gaps?domain=food');
      const card = '.table-card[data-source="gaps"]';
      expect(await page.getAttribute(`${card} a[data-table-download="gaps"]`, 'href')).toBe('/api/gaps.csv?domain=food');
      const rows = await page.$$eval(`${card} tbody tr`, (trs) => trs.length);
      expect(rows).toBe(6);
      // not a scroll box of a few rows: everything is in view of the page
      const box = await page.$eval(`${card} .table-wrap`, (e) => [(e as unknown as El).scrollHeight, (e as unknown as El).clientHeight]);
      expect(box[0]).toBeLessThanOrEqual(box[1]! + 1);
      // a ratio column has one number of decimals
      const ratios = await page.$$eval(`${card} tbody td:nth-child(8)`, (tds) => tds.map((t) => t.textContent ?? ''));
      for (const r of ratios.filter((x) => /\d/.test(x))) expect(r).toMatch(/^(\d{1,3}(,\d{3})*\.\d{2}|<0\.01)$/);
      const [download] = await Promise.all([page.waitForEvent('download'), page.click(`${card} a[data-table-download="gaps"]`)]);
      expect(download.suggestedFilename()).toBe('closeloop-gap-table-food-2026-10-31.csv');
      const text = readFileSync((await download.path())!, 'utf8');
      const [header, ...lines] = text.trim().split('\r\n');
      expect(header!.split(',').slice(0, 5)).toEqual(['rank', 'domain', 'domain_label', 'county_fips', 'county_name']);
      expect(lines).toHaveLength(6);
      expect(header!.split(',').includes('programs')).toBe(columns === 'with');
      await page.close();
    }
  });

  it('labels, not codes: OMB names on the forest plot and its table (evaluator); a partner\'s own curve carries its name', async () => {
    const page = await open(evaluator, '/disparities?metric=closed_loop_rate&dimension=race_ethnicity');
    const fig = 'figure[data-chart="forest"]';
    const axis = await page.$$eval(`${fig} svg text`, (ts) => ts.map((t) => t.textContent ?? ''));
    expect(axis).toContain('American Indian or Alaska Native');
    expect(axis.filter((t) => /^[a-z]+(_[a-z]+)+$/.test(t))).toEqual([]);
    const firstColumn = await page.$$eval(`${fig} .chart-table tbody td:first-child`, (tds) => tds.map((t) => t.textContent));
    expect(firstColumn).toContain('Black or African American');
    const codes = await page.$$eval(`${fig} .chart-table tbody td:nth-child(2)`, (tds) => tds.map((t) => t.textContent));
    expect(codes).toContain('american_indian_alaska_native');
    await page.close();
    const p = await open(partner, '/closed-loop');
    const km = await p.$$eval('figure[data-chart="km"][data-fixed="metric=days_to_close&dimension=target_org_id"] .chart-table tbody td:first-child', (tds) => [...new Set(tds.map((t) => t.textContent))]);
    expect(km).toEqual(['Homes First NC, Inc.']);
    await p.close();
  });

  it('phone (390 px): heat maps and the scorecard are tables; on a desktop they are charts; words never break mid-word', async () => {
    for (const [who, path, chart] of [[evaluator, '/service-gaps', 'gap-heatmap'], [evaluator, '/service-gaps', 'demand-capacity'], [partner, '/closed-loop', 'scorecard']] as const) {
      for (const size of [{ width: 390, height: 844 }, { width: 1440, height: 900 }]) {
        const page = await open(who, path, size);
        const fig = `figure[data-chart="${chart}"]`;
        const drawn = await page.isVisible(`${fig} .chart-body svg`);
        const tableRows = await page.$$eval(`${fig} .chart-table tbody tr`, (trs) => trs.filter((t) => (t as unknown as El).getBoundingClientRect().height > 0).length);
        if (size.width < 600) {
          expect([chart, drawn], `${chart} at ${size.width}`).toEqual([chart, false]);
          expect(tableRows, `${chart} table at ${size.width}`).toBeGreaterThan(0);
        } else {
          expect([chart, drawn], `${chart} at ${size.width}`).toEqual([chart, true]);
        }
        const wraps = await page.$$eval('table.data td', (tds) => [...new Set(tds.map((t) => `${getComputedStyle(t as unknown as El).overflowWrap} ${getComputedStyle(t as unknown as El).wordBreak}`))]);
        expect(wraps).toEqual(['normal normal']);
        await page.close();
      }
    }
  });

  it('filters cannot empty a page: invalid URL values are dropped with a visible warning; clashing filters are disabled with the reason', async () => {
    for (const who of [evaluator, partner]) {
      const page = await open(who, '/closed-loop?county=99999&grain=decade&program=ACO-02');
      const warning = await page.textContent('[data-url-warning]');
      expect(warning).toContain('county "99999" is not a choice here');
      expect(warning).toContain('period "decade" is not a choice here');
      expect(await page.isVisible('[data-url-warning]')).toBe(true);
      const url = new URL(page.url());
      expect([url.searchParams.get('county'), url.searchParams.get('grain'), url.searchParams.get('program')]).toEqual([null, null, 'ACO-02']);
      // a program is chosen: comparing groups, county and domain are disabled, each saying why
      for (const name of ['dimension', 'county', 'domain']) {
        expect(await page.isDisabled(`select[name="${name}"]`), name).toBe(true);
        expect(await page.textContent(`#filter-note-${name}`), name).toBe('Not with the chosen attributed program (one cut at a time): clear it to choose here');
      }
      expect(await page.$$eval('.chart-message', (ms) => ms.map((m) => m.textContent).filter((t) => /cannot be combined/.test(t ?? '')))).toEqual([]);
      // clearing the program frees them, and the warning goes with the next change
      await page.selectOption('select[name="program"]', '');
      await page.waitForFunction(() => (globalThis as unknown as { document: { body: { dataset: Record<string, string> } } }).document.body.dataset.ready === 'true');
      expect(await page.isDisabled('select[name="county"]')).toBe(false);
      expect(await page.isVisible('[data-url-warning]')).toBe(false);
      await page.close();
    }
    // two filters in the URL that cannot be combined: the later one is dropped, with the reason
    const page = await open(evaluator, '/access?dimension=race_ethnicity&county=37183');
    expect(await page.textContent('[data-url-warning]')).toContain('county cannot be combined with compare groups by');
    expect(new URL(page.url()).searchParams.get('county')).toBeNull();
    expect(await page.$$eval('.chart-message', (ms) => ms.map((m) => m.textContent).filter((t) => /cannot be combined/.test(t ?? '')))).toEqual([]);
    await page.close();
  });

  it('the overview tells the story: where the loop closes and not, the largest flagged disparity, the biggest gap, each with n and a link to its evidence', async () => {
    for (const who of [evaluator, partner]) {
      const page = await open(who, '/');
      const items = await page.$$eval('[data-block="story"] li', (lis) => lis.map((li) => ({ key: (li as unknown as { dataset: Record<string, string> }).dataset.story, text: li.textContent ?? '', href: li.querySelector('a')?.getAttribute('href') ?? null })));
      expect(items.map((i) => i.key)).toEqual(['loop', 'disparity', 'gap']);
      // the fixture's figures (test/server/story.test.ts finds them by another route)
      expect(items[0]!.text).toContain('52.0% of 5,555 referrals closed within 60 days');
      expect(items[0]!.text).toContain('highest for Durham (52.0%, n = 825 referrals) and lowest for Halifax (38.9%, n = 393 referrals)');
      expect(items[0]!.href).toBe('/disparities?metric=closed_loop_rate&dimension=county_fips');
      expect(items[1]!.text).toContain('Closed for lack of capacity, Halifax 47.9% (n = 119 referrals) against Wake (29.9%, n = 488 referrals), rate ratio 1.60');
      expect(items[2]!.text).toContain('Food needs in Mecklenburg County: 398 of 861 positive needs unmet (56.1%)');
      for (const i of items) expect(i.text).not.toMatch(/member-month/);
      // the evidence: the gap link opens that one cell of the gap table
      await Promise.all([page.waitForURL(/service-gaps/), page.click('[data-story="gap"] a')]);
      await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
      const cells = await page.$$eval('.table-card[data-source="gaps"] tbody tr', (trs) => trs.map((t) => [...t.querySelectorAll('td')].slice(1, 3).map((td) => td.textContent).join(' / ')));
      expect(cells).toEqual(['Food / Mecklenburg']);
      await page.close();
    }
  });

  it('a partner\'s home: its own figures beside the area\'s, its gaps and downloads on the overview, every link one it may open; an evaluator does not get it', async () => {
    const page = await open(partner, '/');
    expect(await page.isVisible('[data-block="partner-home"]')).toBe(true);
    expect(await page.textContent('#partner-home-title')).toBe('Your organization: Homes First NC, Inc.');
    const head = await page.$$eval('[data-block="partner-home"] table thead th', (ths) => ths.map((t) => t.textContent));
    expect(head).toEqual(['Measure', 'Homes First NC, Inc.', 'Whole area', 'Denominator']);
    expect(await page.$$eval('[data-block="partner-home"] .story-list li', (lis) => lis.length)).toBeGreaterThan(0);
    const links = await page.$$eval('[data-block="partner-home"] a', (as) => as.map((a) => a.getAttribute('href')!));
    expect(links).toEqual(['/api/partners/ORG-04/gap-analysis.csv', '/api/partners/ORG-04/gap-analysis.xlsx', '/closed-loop', '/service-gaps?org=ORG-04']);
    // nothing it cannot open: each link answers 200 with its own session
    const statuses = await page.evaluate(async (hrefs) => Promise.all(hrefs.map(async (h: string) => (await fetch(h)).status)), links);
    expect(statuses).toEqual([200, 200, 200, 200]);
    const text = await page.textContent('[data-block="partner-home"]');
    for (const other of ['Carolina Harvest', 'Piedmont RideConnect', 'EnergyAssist', 'SafeHaven', 'ORG-07']) expect(text).not.toContain(other);
    await page.close();
    const e = await open(evaluator, '/');
    expect(await e.isVisible('[data-block="partner-home"]')).toBe(false);
    await e.close();
  });

  it('the print report states its filters and cohort in the heading and on every card', async () => {
    for (const who of [evaluator, partner]) {
      const page = await open(who, '/report?program=ACO-02&grain=year');
      expect(await page.textContent('[data-report-filters]')).toBe('Filters: By year, from the first period to the latest period; people attributed to program ACO-02, beside everyone.');
      const cards = await page.$$eval('main figure.card, main .tile, main .table-card', (cs) => cs.map((c) => c.querySelector(':scope > .card-filters')?.textContent ?? null));
      expect(cards.length).toBeGreaterThan(8);
      // the trends and tiles use the program and period; the funnel the program; PHQ-9 outcomes and the gap table neither
      expect(new Set(cards)).toEqual(new Set(['Program ACO-02 and everyone · by year', 'Program ACO-02 and everyone', 'Everyone (this card is not cut by program)']));
      expect(await page.$eval('figure[data-chart="phq9"] .card-filters', (e) => e.textContent)).toBe('Everyone (this card is not cut by program)');
      await page.emulateMedia({ media: 'print' });
      expect(await page.isVisible('[data-report-filters]')).toBe(true);
      await page.close();
    }
  });

  it('emergency visits and admissions before and after the first referral each get their own axis', async () => {
    for (const who of [evaluator, partner]) {
      const page = await open(who, '/outcomes');
      const id = await page.$eval('figure[data-chart="prepost"]', (f) => (f as unknown as { id: string }).id);
      const domains = await page.evaluate((fid) => {
        const view = (globalThis as unknown as { closeloop: { views: Record<string, { scale(n: string): { domain(): number[] } }> } }).closeloop.views[fid]!;
        return [view.scale('concat_0_x').domain(), view.scale('concat_1_x').domain()];
      }, id);
      const table = await page.$$eval('figure[data-chart="prepost"] .chart-table tbody tr', (trs) => trs.map((t) => [...t.querySelectorAll('td')].slice(0, 3).map((td) => td.textContent)));
      const values = (label: string) => table.filter((r) => r[0] === label).map((r) => Number(String(r[2]).replaceAll(',', '')));
      const [ed, ip] = [values(table[0]![0]!), values(table.find((r) => r[0] !== table[0]![0])![0]!)];
      // each axis spans its own measure's figures, not the other's
      expect(Math.max(...domains[0]!)).toBeLessThan(Math.max(...ed) * 1.5);
      expect(Math.max(...domains[1]!)).toBeLessThan(Math.max(...ed));
      expect(Math.max(...domains[1]!)).toBeGreaterThanOrEqual(Math.max(...ip));
      await page.close();
    }
  });
});
