// Issue 16, the data-quality page in Debian's Chromium: quarantine drawn as a share of the
// rows read (12 bad rows of 20,000 are 0.06%, not a long bar), with the counts in the
// tooltip; the quality-gate results of the published run in a table, and every run's gate
// counts in the run history.
// Without /usr/bin/chromium these tests report themselves skipped, with the reason.
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import type { RunningServer } from '../../server/serve.ts';
import { dashboardSession, missingChromium, SHOTS, type DashboardSession } from '../helpers/chromium.ts';
import type { PublishedFixture } from '../helpers/publishedFixture.ts';
import { addTestUser } from '../helpers/auth.ts';

interface ViewLike { data(name: string): Array<Record<string, unknown>> }
declare const window: { closeloop: { views: Record<string, ViewLike> } };

const missing = missingChromium;

if (missing) console.warn(`browser tests SKIPPED: ${missing}`);
describe.skipIf(missing !== null)(missing ? `data-quality page in Chromium (SKIPPED: ${missing})` : 'data-quality page in Chromium', () => {
  let fx: PublishedFixture;
  let server: RunningServer;
  let browser: BrowserContext;
  let session: DashboardSession;

  beforeAll(async () => {
    session = await dashboardSession('quality');
    ({ fx, server, browser } = session);
    mkdirSync(SHOTS, { recursive: true });
    const evaluator = await addTestUser(fx.root, 'evaluator');
    const signin = await browser.newPage();
    await signin.goto(`${server.url}/signin?next=%2Fdata-quality#token=${evaluator.token}`);
    await signin.waitForURL(`${server.url}/data-quality`);
    await signin.close();
  });

  afterAll(async () => {
    await session?.close();
  });

  it('quarantine is drawn as a share of the rows read, with the counts in the tooltip', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/data-quality`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
    const id = await page.$eval('figure[data-chart="quarantine"]', (f) => f.id);
    const drawn = await page.evaluate((fid) => window.closeloop.views[fid]!.data('table').map((r) => ({ label: r.label, value: r.value, text: r.text })), id);
    // the fixture's load report: people.csv 12 of 20,000; referrals.csv 44 of 14,021; notes.txt rejected whole
    expect(drawn.find((r) => r.label === 'people.csv')).toEqual({ label: 'people.csv', value: 12 / 20000, text: '0.06% (12 of 20,000): bad_date' });
    expect(drawn.find((r) => r.label === 'referrals.csv')!.value).toBeCloseTo(0.003138, 6);
    expect(drawn.find((r) => r.label === 'encounters.csv')!.value).toBe(0);
    expect(drawn.find((r) => r.label === 'notes.txt')).toMatchObject({ value: 0, text: 'rejected whole: not loaded' });
    // the axis is a share, from 0 to at least 5%
    const axis = await page.$eval('figure[data-chart="quarantine"] .chart-body svg', (s) => s.textContent ?? '');
    expect(axis).toContain('Share of rows quarantined');
    expect(axis).toContain('5.00%');
    expect(axis).not.toContain('6.00%');
    // hovering people.csv's bar shows its counts
    const bars = await page.$$('figure[data-chart="quarantine"] .chart-body svg .mark-rect path');
    expect(bars.length).toBe(drawn.length);
    // on the 0-5% axis its bar is 0.06/5 of the widest one could be: short, not alarming
    const box = (await bars[drawn.findIndex((r) => r.label === 'people.csv')]!.boundingBox())!;
    const plot = (await page.$eval('figure[data-chart="quarantine"] .chart-body svg .mark-rule.role-axis-grid', (g) => { const r = g.getBoundingClientRect(); return r.width; }));
    expect(box.width / plot).toBeCloseTo(0.0006 / 0.05, 2);
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const tip = await page.waitForSelector('#vg-tooltip-element.visible', { timeout: 5_000 });
    const tipText = (await tip.textContent()) ?? '';
    expect(tipText).toContain('people.csv');
    expect(tipText).toMatch(/Rows quarantined\s*12/);
    expect(tipText).toMatch(/Rows read\s*20,000/);
    expect(tipText).toContain('0.06%');
    await page.screenshot({ path: `${SHOTS}data-quality.png`, fullPage: true });
    await page.close();
  });

  it('the quality-gate results of the published run, and each run\'s gate counts in the run history', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/data-quality`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
    const gates = await page.$$eval('[data-source="quality-checks"] tbody tr', (trs) => trs.map((tr) => ({ flagged: tr.classList.contains('is-flagged'), cells: [...tr.querySelectorAll('td, th')].map((c) => c.textContent) })));
    expect(gates.map((g) => g.cells.slice(0, 6))).toEqual([
      ['referrals.target_org_in_directory', 'referrals', 'warn', 'warned', '7.15%', '5.00%'],
      ['referrals.person_exists', 'referrals', 'block', 'passed', '0.00%', '0.00%'],
      ['referrals.incoming_volume_drop', 'referrals', 'warn', 'skipped', '–', '50.00%'],
    ]);
    expect(gates.map((g) => g.flagged)).toEqual([true, false, false]);
    const caption = await page.$eval('[data-source="quality-checks"] caption', (c) => c.textContent);
    expect(caption).toBe(`Quality gates of run ${fx.runId}`);
    const runs = await page.$$eval('[data-source="runs"] tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td, th')].map((c) => c.textContent ?? '')));
    const header = await page.$$eval('[data-source="runs"] thead th', (ths) => ths.map((t) => t.textContent));
    const gatesCol = header.indexOf('Quality gates');
    expect(gatesCol).toBeGreaterThan(0);
    expect(runs[0]![gatesCol]).toBe('1 passed, 1 warned, 0 blocking, 1 skipped: warn referrals.target_org_in_directory: 1,000 of 13,977 rows (7.15%) break the rule (limit 5.00%)');
    await page.close();
  });
});
