// What a browser downloads for one page, from the DevTools protocol's Network events
// (encodedDataLength: bytes on the wire, headers included, after compression; 0 for what
// the cache served). Shared by the page-weight tests (issue 16).
import type { BrowserContext, Page } from 'playwright-core';

export interface Transfer {
  url: string;
  bytes: number;
  status: number;
  encoding: string | undefined;
  cacheControl: string | undefined;
  fromCache: boolean;
}

/** Open `url` in a new page and record every request's bytes on the wire until the page is drawn. */
export async function visit(context: BrowserContext, url: string): Promise<{ page: Page; transfers: Transfer[]; total: number }> {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  const byId = new Map<string, Transfer>();
  cdp.on('Network.requestWillBeSent', (e) => byId.set(e.requestId, { url: e.request.url, bytes: 0, status: 0, encoding: undefined, cacheControl: undefined, fromCache: false }));
  cdp.on('Network.requestServedFromCache', (e) => { const t = byId.get(e.requestId); if (t) t.fromCache = true; });
  cdp.on('Network.responseReceived', (e) => {
    const t = byId.get(e.requestId);
    if (!t) return;
    const h = Object.fromEntries(Object.entries(e.response.headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
    t.status = e.response.status;
    t.encoding = h['content-encoding'];
    t.cacheControl = h['cache-control'];
    t.fromCache ||= Boolean(e.response.fromDiskCache);
  });
  cdp.on('Network.loadingFinished', (e) => { const t = byId.get(e.requestId); if (t) t.bytes = e.encodedDataLength; });
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
  await page.waitForLoadState('networkidle');
  const transfers = [...byId.values()];
  await cdp.detach();
  return { page, transfers, total: transfers.reduce((s, t) => s + t.bytes, 0) };
}

export const kb = (n: number) => `${(n / 1000).toFixed(1)} kB`;
