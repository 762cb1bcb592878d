// Every page, for an evaluator and for a partner, at a desktop (1440x900) and a phone
// (390x844) size (issue 16), in Debian's Chromium: axe-core finds no serious or critical
// violation on any of them, charts are named images with a table alternative, scroll
// regions are focusable, and the page is as wide as the screen (nothing runs off to the
// side). A full-page screenshot of each goes to test-output/screenshots/<role>-<page>-<width>.png.
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardSession, missingChromium, SHOTS, type DashboardSession } from '../helpers/chromium.ts';
import { accessibility } from '../helpers/axe.ts';
import { signIn, type SignedIn } from '../helpers/signin.ts';
import { PAGES as APP_PAGES } from '../../dashboards/pages/pages.ts';

declare const document: { documentElement: { scrollWidth: number; clientWidth: number } };

// every page the app serves, from its own page list (a new page is covered without editing here)
const PAGES = APP_PAGES.map((p) => ({ path: p.path, name: p.id }));
const SIZES = [{ width: 1440, height: 900 }, { width: 390, height: 844 }];

const missing = missingChromium;
describe.skipIf(missing !== null)(missing ? `every page at two sizes (SKIPPED: ${missing})` : 'every page, evaluator and partner, desktop and phone', () => {
  let session: DashboardSession;
  const who: Record<'evaluator' | 'partner', SignedIn> = {} as never;

  beforeAll(async () => {
    session = await dashboardSession('sweep');
    mkdirSync(SHOTS, { recursive: true });
    who.evaluator = await signIn(session, 'evaluator', { name: 'Sweep Evaluator' });
    who.partner = await signIn(session, 'partner', { org: 'ORG-04', name: 'Sweep Partner', ownProfile: true });
  });

  afterAll(async () => {
    await who.partner?.close();
    await session?.close();
  });

  for (const role of ['evaluator', 'partner'] as const) {
    for (const p of PAGES) {
      // a partner is refused the data-quality page: it gets the 403 page, checked the same way
      it(`${role} ${p.name}: axe clean at 1440x900 and 390x844, as wide as the screen; screenshots`, async () => {
        for (const size of SIZES) {
          const page = await who[role].context.newPage();
          await page.setViewportSize(size);
          const res = await page.goto(session.server.url + p.path);
          const refused = role === 'partner' && p.name === 'data-quality';
          expect(res?.status()).toBe(refused ? 403 : 200);
          if (!refused) await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
          // every table cell at the desktop size, the first three rows of each table at the phone size
          const r = await accessibility(page, size.width < 600 ? 3 : undefined);
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
          await page.screenshot({ path: `${SHOTS}${role}-${p.name}-${size.width}.png`, fullPage: true });
          await page.close();
          expect({ ...r, overflow }, `${size.width}px: ${JSON.stringify(r, null, 1)}`).toEqual({ axe: [], charts: [], scroll: [], overflow: 0 });
        }
      });
    }
  }
});
