// The dashboard pages: HTML shells rendered once from the page definitions (they carry
// no data; the client fills them from the API).
import { Router } from 'express';
import { z } from 'zod';
import { renderPage } from '../../dashboards/pages/layout.ts';
import { PAGES } from '../../dashboards/pages/pages.ts';
import { pageResource } from '../auth/policy.ts';
import type { ServerHooks } from '../hooks.ts';
import { parseParams, token } from '../http.ts';

/** The page filters kept in the URL (the page itself reads none of them; they are checked all the same). */
const PageQuery = z.strictObject(Object.fromEntries(
  ['grain', 'from', 'to', 'dimension', 'program', 'county', 'domain', 'metric', 'period_start', 'scale', 'org'].map((k) => [k, token().optional()]),
));

export function pagesRouter(hooks: ServerHooks): Router {
  const r = Router();
  const html = new Map(PAGES.map((p) => [p.path, renderPage(p)]));
  for (const p of PAGES) {
    r.get(p.path, async (req, res) => {
      parseParams(PageQuery, req.query);
      await hooks.authorize?.(req, { resource: pageResource(p.id), params: { page: p.id } });
      res.setHeader('Cache-Control', 'no-cache');
      res.type('html').send(html.get(p.path));
    });
  }
  return r;
}
