// The dashboard pages: HTML shells rendered once from the page definitions (they carry
// no data; the client fills them from the API), so the bytes and ETag are made once too.
import { Router } from 'express';
import { z } from 'zod';
import { renderPage } from '../../dashboards/pages/layout.ts';
import { PAGES } from '../../dashboards/pages/pages.ts';
import { pageResource } from '../auth/policy.ts';
import type { ServerHooks } from '../hooks.ts';
import { parseParams, token } from '../http.ts';
import { vendor } from './assets.ts';

/** The page filters kept in the URL (the page itself reads none of them; they are checked all the same). */
const PageQuery = z.strictObject(Object.fromEntries(
  ['grain', 'from', 'to', 'dimension', 'program', 'county', 'domain', 'metric', 'period_start', 'scale', 'org'].map((k) => [k, token().optional()]),
));

export function pagesRouter(hooks: ServerHooks): Router {
  const r = Router();
  const v = vendor();
  const urls = { vega: v.vega.url, vegaLite: v.vegaLite.url, vegaEmbed: v.vegaEmbed.url, interpreter: v.interpreter.url };
  for (const p of PAGES) {
    // The same bytes for everyone, so they (and their ETag, made by the app's own ETag
    // function as res.send would make it) are made once, not per request.
    const body = Buffer.from(renderPage(p, urls), 'utf8');
    let etag: string | undefined;
    r.get(p.path, async (req, res) => {
      parseParams(PageQuery, req.query);
      await hooks.authorize?.(req, { resource: pageResource(p.id), params: { page: p.id } });
      res.setHeader('Cache-Control', 'no-cache');
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      if (etag === undefined) {
        const etagFn = req.app.get('etag fn') as ((body: Buffer, encoding?: string) => string) | undefined;
        etag = etagFn ? etagFn(body, 'utf8') : '';
      }
      if (etag) res.setHeader('ETag', etag);
      res.send(body);
    });
  }
  return r;
}
