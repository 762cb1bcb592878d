// Accessibility (issue 16), the fast tier: axe-core in Debian's Chromium after the page has
// drawn, zero serious or critical violations (and no skipped heading level, no ambiguous
// link text), charts that are named images with a table alternative, focusable scroll
// regions: the overview for an evaluator, the service gaps page for a partner, and the
// error pages a browser gets. Every page for both roles, at both sizes, is checked by
// pages.full.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardSession, missingChromium, type DashboardSession } from '../helpers/chromium.ts';
import { accessibility, axeFindings } from '../helpers/axe.ts';
import { signIn, type SignedIn } from '../helpers/signin.ts';

const missing = missingChromium;
describe.skipIf(missing !== null)(missing ? `accessibility (SKIPPED: ${missing})` : 'accessibility: axe-core, evaluator and partner', () => {
  let session: DashboardSession;
  let evaluator: SignedIn;
  let partner: SignedIn;

  beforeAll(async () => {
    session = await dashboardSession('a11y');
    evaluator = await signIn(session, 'evaluator', { name: 'Axe Evaluator' });
    partner = await signIn(session, 'partner', { org: 'ORG-04', name: 'Axe Partner', ownProfile: true });
  }, 120_000);

  afterAll(async () => {
    await partner?.close();
    await session?.close();
  });

  for (const [who, path] of [['evaluator', '/'], ['partner', '/service-gaps']] as const) {
    it(`${who} ${path}: no serious or critical axe violations; charts are named images with tables; scroll regions focusable`, async () => {
      const page = await (who === 'evaluator' ? evaluator : partner).context.newPage();
      await page.goto(session.server.url + path);
      await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
      const r = await accessibility(page);
      await page.close();
      expect(r, JSON.stringify(r, null, 1)).toEqual({ axe: [], charts: [], scroll: [] });
    });
  }

  it('errors: a browser gets an HTML page (403 for a partner on data quality, 404 for an unknown address) that passes axe; the API answers JSON', async () => {
    for (const [who, path, status, heading] of [[partner, '/data-quality', 403, 'Not yours to open'], [evaluator, '/no-such-page', 404, 'No such page'], [partner, '/no-such-page?x=1', 404, 'No such page']] as const) {
      const page = await who.context.newPage();
      const res = await page.goto(session.server.url + path);
      expect(res?.status(), path).toBe(status);
      expect(res?.headers()['content-type'], path).toContain('text/html');
      expect(await page.textContent('h1'), path).toBe(heading);
      expect(await page.textContent('.error-page'), path).toContain(`Error ${status}`);
      expect(await page.getAttribute('.error-page a.button', 'href')).toBe('/');
      expect(await axeFindings(page), path).toEqual([]);
      await page.close();
    }
    const api = await evaluator.context.newPage();
    const res = await api.goto(`${session.server.url}/api/no-such-endpoint`);
    expect(res?.status()).toBe(404);
    expect(res?.headers()['content-type']).toContain('application/json');
    expect(await res?.json()).toMatchObject({ status: 404 });
    await api.close();
  });
});
