// The dashboard pages: HTML shells rendered once from the page definitions (they carry
// no data; the client fills them from the API).
import { Router } from 'express';
import { renderPage } from '../../dashboards/pages/layout.ts';
import { PAGES } from '../../dashboards/pages/pages.ts';
import type { ServerHooks } from '../hooks.ts';

export function pagesRouter(hooks: ServerHooks): Router {
  const r = Router();
  const html = new Map(PAGES.map((p) => [p.path, renderPage(p)]));
  for (const p of PAGES) {
    r.get(p.path, async (req, res) => {
      await hooks.authorize?.(req, { resource: p.id === 'data-quality' ? 'operational' : 'aggregate', params: { page: p.id } });
      res.setHeader('Cache-Control', 'no-cache');
      res.type('html').send(html.get(p.path));
    });
  }
  return r;
}
