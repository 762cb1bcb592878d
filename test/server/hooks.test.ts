// The points where access control plugs in: one authenticate middleware in front of every
// page and API route (not the static assets), and an authorize call naming what each
// route is about to serve, before any data is read.
import request from 'supertest';
import type { Request } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../server/app.ts';
import type { AccessRequest } from '../../server/hooks.ts';
import { HttpError } from '../../server/http.ts';
import { vendor } from '../../server/routes/assets.ts';
import { publishedFixture, type PublishedFixture } from '../helpers/publishedFixture.ts';

let fx: PublishedFixture;
let app: App;
const seen: AccessRequest[] = [];

beforeAll(async () => {
  fx = await publishedFixture();
  app = createApp({
    root: fx.root,
    log: () => undefined,
    // The plug points alone, with a toy authenticate/authorize (the real ones: test/server/security/).
    security: false,
    hooks: {
      authenticate: (req, _res, next) => (req.headers.authorization === 'Bearer ok' ? next() : next(new HttpError(401, 'sign in first'))),
      authorize: (_req: Request, access) => {
        seen.push(access);
        if (access.resource === 'partner' && access.org !== 'ORG-01') throw new HttpError(403, 'not your organization');
      },
    },
  });
});
afterAll(() => {
  app.close();
  fx.cleanup();
});

const as = (path: string, token = 'ok') => request(app).get(path).set('Authorization', `Bearer ${token}`);

describe('authenticate', () => {
  it('guards every page and API route', async () => {
    for (const path of ['/', '/data-quality', '/api/metrics', '/api/runs', '/api/charts/trend.json?metric=closed_loop_rate', '/api/exports/report.xlsx', '/api/partners/ORG-01/gap-analysis.csv']) {
      const r = await request(app).get(path);
      expect(r.status, path).toBe(401);
      expect(r.body).toEqual({ error: 'sign in first', status: 401 });
    }
  });

  it('lets static assets and the chart libraries through (they carry no data)', async () => {
    expect((await request(app).get('/static/css/app.css')).status).toBe(200);
    expect((await request(app).get(vendor().vega.url)).status).toBe(200);
  });
});

describe('authorize', () => {
  it('is told what each route serves', async () => {
    const cases: Array<[string, Partial<AccessRequest>]> = [
      ['/api/metrics/closed_loop_rate?dimension=race_ethnicity', { resource: 'aggregate' }],
      ['/api/metrics/closed_loop_rate?dimension=target_org_id', { resource: 'partner_comparison' }],
      ['/api/scorecards', { resource: 'partner_comparison' }],
      ['/api/runs', { resource: 'operational' }],
      ['/api/quality', { resource: 'operational' }],
      ['/api/charts/quarantine.json', { resource: 'operational' }],
      ['/api/exports/metrics/closed_loop_rate.csv', { resource: 'export' }],
      ['/api/partners/ORG-01/gap-analysis.json', { resource: 'partner', org: 'ORG-01' }],
      ['/data-quality', { resource: 'operational' }],
    ];
    for (const [path, expected] of cases) {
      seen.length = 0;
      const r = await as(path);
      expect(r.status, path).toBe(200);
      expect(seen[0], path).toMatchObject(expected);
    }
  });

  it('a refusal stops the route before any data is read', async () => {
    const r = await as('/api/partners/ORG-07/gap-analysis.csv');
    expect(r.status).toBe(403);
    expect(r.body.error).toBe('not your organization');
    expect(r.headers['content-disposition']).toBeUndefined();
  });
});
