// Hole found in review (review5): the partner's gap table empties needs met and unmet where
// unmet_need_rate is withheld from it (route 7), but kept the published `rank`, which orders
// the cells by unmet needs (models/disclosure/otherTables.ts). The attacker: a partner (ORG-01)
// reading /api/gaps. A withheld cell ranked between two shown cells has its unmet needs
// between theirs, and needs met = needs measurable (shown) - unmet needs: bounded again.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../server/app.ts';
import { addTestUser, type TestUser } from '../helpers/auth.ts';
import { publishedFixture, type PublishedFixture } from '../helpers/publishedFixture.ts';

let fx: PublishedFixture;
let app: App;
let evaluator: TestUser;
let partner: TestUser;

beforeAll(async () => {
  fx = await publishedFixture({ partnerWithheld: [['ORG-01', 'unmet_need_rate', 'food']] });
  app = createApp({ root: fx.root, log: () => undefined });
  evaluator = await addTestUser(fx.root, 'evaluator');
  partner = await addTestUser(fx.root, 'partner', { org: 'ORG-01' });
});
afterAll(() => {
  app.close();
  fx.cleanup();
});

const as = (u: TestUser, path: string) => request(app).get(path).set('Authorization', `Bearer ${u.token}`);
type G = { domain: string; county_fips: string; rank: number; unmet_needs: number | null; needs_met: number | null };

describe('partner gap table: the rank does not order the unmet needs it withholds', () => {
  it('no cell whose unmet needs the partner cannot see is ranked above one it can see', async () => {
    const e = (await as(evaluator, '/api/gaps')).body.rows as G[];
    const p = (await as(partner, '/api/gaps')).body.rows as G[];
    // the fixture must hold the case: a food cell the evaluator sees ranked above a shown cell
    const shownE = e.filter((g) => g.unmet_needs !== null);
    expect(e.some((g) => g.domain === 'food' && g.unmet_needs !== null && shownE.some((o) => o.domain !== 'food' && o.rank > g.rank))).toBe(true);
    const hidden = p.filter((g) => g.unmet_needs === null);
    const shown = p.filter((g) => g.unmet_needs !== null);
    expect(hidden.some((g) => g.domain === 'food')).toBe(true);
    for (const h of hidden) for (const s of shown) expect(h.rank, `${h.domain}*${h.county_fips} ranked above ${s.domain}*${s.county_fips}`).toBeGreaterThan(s.rank);
    // the partner's ranks are 1..n in the order it receives them, shown cells by unmet needs
    expect(p.map((g) => g.rank)).toEqual(p.map((_, i) => i + 1));
    const unmet = shown.map((g) => g.unmet_needs as number);
    expect(unmet).toEqual([...unmet].sort((a, b) => b - a));
  });

  it('the same in the partner\'s gap analysis (its counties only), which its CSV and XLSX downloads are made from', async () => {
    const res = await as(partner, '/api/partners/ORG-01/gap-analysis.json');
    expect(res.status).toBe(200);
    const gaps = res.body.gaps as G[];
    const hidden = gaps.filter((g) => g.unmet_needs === null);
    expect(hidden.some((g) => g.domain === 'food')).toBe(true);
    for (const h of hidden) for (const s of gaps.filter((g) => g.unmet_needs !== null)) expect(h.rank).toBeGreaterThan(s.rank);
  });

  it('the evaluator\'s ranks are the published ones', async () => {
    const e = (await as(evaluator, '/api/gaps')).body.rows as G[];
    expect(e.map((g) => g.rank)).toEqual(e.map((_, i) => i + 1));
  });
});
