// Issue 16: a browser asking for a page gets an HTML error page (403, 404, 400), the API and
// any client that does not prefer HTML get JSON, as before. The attacker: someone who sends
// a victim a link whose bad parameter carries markup; the page must show it as text.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createApp, type App } from '../../server/app.ts';
import { addTestUser, type TestUser } from '../helpers/auth.ts';
import { publishedFixture, type PublishedFixture } from '../helpers/publishedFixture.ts';

const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

let fx: PublishedFixture;
let app: App;
let partner: TestUser;
let evaluator: TestUser;

beforeAll(async () => {
  fx = await publishedFixture();
  app = createApp({ root: fx.root, log: () => undefined, production: true });
  partner = await addTestUser(fx.root, 'partner', { org: 'ORG-04' });
  evaluator = await addTestUser(fx.root, 'evaluator');
});
afterAll(() => {
  app.close();
  fx.cleanup();
});

const get = (user: TestUser, path: string, accept?: string) => {
  const r = request(app).get(path).set('Authorization', `Bearer ${user.token}`);
  return accept ? r.set('Accept', accept) : r;
};

describe('error pages for browsers, JSON for the API', () => {
  it('404 and 403 pages for a browser; the same addresses answer JSON to a client that does not ask for HTML', async () => {
    const missing = await get(evaluator, '/no-such-page', BROWSER);
    expect([missing.status, missing.type]).toEqual([404, 'text/html']);
    expect(missing.text).toContain('<h1>No such page</h1>');
    expect(missing.text).toContain('Error 404: no such page: /no-such-page');
    const refused = await get(partner, '/data-quality', BROWSER);
    expect([refused.status, refused.type]).toEqual([403, 'text/html']);
    expect(refused.text).toContain('<h1>Not yours to open</h1>');
    const json = await get(evaluator, '/no-such-page');
    expect([json.status, json.type, json.body]).toEqual([404, 'application/json', { error: 'no such page: /no-such-page', status: 404 }]);
  });

  it('the API answers JSON even to a browser', async () => {
    const r = await get(evaluator, '/api/no-such-endpoint', BROWSER);
    expect([r.status, r.type]).toEqual([404, 'application/json']);
    const d = await get(partner, '/api/partners/ORG-07/gap-analysis.json', BROWSER);
    expect([d.status, d.type]).toEqual([403, 'application/json']);
  });

  it('markup in a bad parameter is shown as text, never run (a link sent to a victim)', async () => {
    const r = await get(evaluator, '/access?county=%3Cscript%3Ealert(1)%3C/script%3E', BROWSER);
    expect([r.status, r.type]).toEqual([400, 'text/html']);
    expect(r.text).not.toContain('<script>alert');
    expect(r.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });
});
