// Accessibility checks shared by the browser tests (issue 16): axe-core's serious and
// critical violations (plus the rules counted whatever axe's impact), and the structure
// axe does not judge: every drawn chart an image whose name summarises it, with a table
// alternative; every scroll region reachable with the keyboard.
import type { Page } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';

type El = { getAttribute(n: string): string | null; querySelector(s: string): El | null; scrollHeight: number; clientHeight: number; scrollWidth: number; clientWidth: number; tabIndex: number; id: string };

// A skipped heading level is "moderate" to axe, the same link text for different targets "minor": both counted.
const ALWAYS = new Set(['heading-order', 'identical-links-same-purpose']);

export interface Finding { id: string; impact: string | null | undefined; help: string; nodes: string[] }

/**
 * sampleRows: check only the first rows of each chart's table alternative. Axe takes most of
 * its time on those cells (the closed-loop page's 4,000: 11-12 s against 2.6-3.2 s with the
 * bodies left out, 2026-12-07); a caller that has checked every cell at another width passes
 * it (app.css's width rules change layout, never colours).
 */
export async function axeFindings(page: Page, sampleRows?: number): Promise<Finding[]> {
  let builder = new AxeBuilder({ page }).options({ resultTypes: ['violations'] });
  if (sampleRows !== undefined) builder = builder.exclude(`details.chart-table tbody tr:nth-child(n+${sampleRows + 1})`);
  const r = await builder.analyze();
  return r.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical' || ALWAYS.has(v.id))
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => `${n.target.join(' ')}: ${n.failureSummary?.split('\n').slice(0, 2).join(' ')}`) }));
}

/** Each drawn chart: role="img", a name with its figures (not the title alone), a table alternative. */
export async function chartStructure(page: Page): Promise<string[]> {
  return page.$$eval('figure[data-chart], .tile', (figs) => (figs as unknown as El[]).flatMap((f) => {
    const problems: string[] = [];
    const svg = f.querySelector('.chart-body svg, .spark svg');
    if (!svg) return problems;
    const where = f.id || f.getAttribute('data-metric') || 'chart';
    if (svg.getAttribute('role') !== 'img') problems.push(`${where}: chart svg has no role="img"`);
    const name = svg.getAttribute('aria-label') ?? '';
    if (!/\d/.test(name) || name.length < 40) problems.push(`${where}: chart name does not summarise it: "${name}"`);
    if (f.getAttribute('data-chart') && !f.querySelector('.chart-table table')) problems.push(`${where}: no table alternative`);
    return problems;
  }));
}

/** Scroll regions (content overflowing a box that scrolls) that the keyboard cannot reach. */
export async function unfocusableScrollRegions(page: Page): Promise<string[]> {
  return page.$$eval('.table-wrap', (els) => (els as unknown as El[])
    .filter((e) => (e.scrollHeight > e.clientHeight + 1 || e.scrollWidth > e.clientWidth + 1) && e.tabIndex < 0)
    .map((e) => e.getAttribute('aria-labelledby') ?? 'table-wrap'));
}

/** Open every <details> (the tables behind the charts), so axe checks them too. */
export async function openDetails(page: Page): Promise<void> {
  await page.$$eval('details', (ds) => ds.forEach((d) => ((d as unknown as { open: boolean }).open = true)));
}

export async function accessibility(page: Page, sampleRows?: number): Promise<{ axe: Finding[]; charts: string[]; scroll: string[] }> {
  await openDetails(page);
  return { axe: await axeFindings(page, sampleRows), charts: await chartStructure(page), scroll: await unfocusableScrollRegions(page) };
}
