// Route 7 of issue 14 at the server: what partner_withheld takes out of a partner's view
// is out of every endpoint and chart the partner can call, while evaluators see the
// publication unchanged. The attacker: a partner (ORG-01) with its own token, who asks for
// referral figures by need domain wherever they are served (metric rows, trend charts and
// their CSV, the gap table, curves).
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../server/app.ts';
import { PARTNER_NOTE } from '../../server/data/partnerView.ts';
import { addTestUser, type TestUser } from '../helpers/auth.ts';
import { publishedFixture, type PublishedFixture } from '../helpers/publishedFixture.ts';
import { parseCsv } from '../models/stats/referenceCsv.ts';

let fx: PublishedFixture;
let app: App;
let evaluator: TestUser;
let partner: TestUser;

beforeAll(async () => {
  fx = await publishedFixture({
    partnerWithheld: [
      ['ORG-01', 'closed_loop_rate', 'interpersonal_safety'],
      ['ORG-01', 'capacity_rejection_share', 'interpersonal_safety'],
      ['ORG-01', 'days_to_close', null],
      // a need metric a referral moves (partners.ts, NEED_METRICS_MOVED_BY_REFERRALS)
      ['ORG-01', 'unmet_need_rate', 'food'],
      // another partner's withholding changes nothing for ORG-01
      ['ORG-04', 'closed_loop_rate', 'food'],
    ],
  });
  app = createApp({ root: fx.root, log: () => undefined });
  evaluator = await addTestUser(fx.root, 'evaluator');
  partner = await addTestUser(fx.root, 'partner', { org: 'ORG-01' });
});
afterAll(() => {
  app.close();
  fx.cleanup();
});

const as = (u: TestUser, path: string) => request(app).get(path).set('Authorization', `Bearer ${u.token}`);
type R = { dimension: string; group_value: string; numerator: number | null; denominator: number | null; value: number | null; suppressed: boolean; note: string | null; rate_difference?: number | null; reference_group?: string | null };

describe('a partner\'s view withholds what partner_withheld names, on every route', () => {
  it('metric rows by domain: the withheld domain shows as withheld with the note; the others and the evaluator\'s view are unchanged', async () => {
    // the evaluator first: its cached answer must not become the partner's, nor the reverse
    const e = (await as(evaluator, '/api/metrics/closed_loop_rate?dimension=domain&grain=all')).body.rows as R[];
    const p = (await as(partner, '/api/metrics/closed_loop_rate?dimension=domain&grain=all')).body.rows as R[];
    const e2 = (await as(evaluator, '/api/metrics/closed_loop_rate?dimension=domain&grain=all')).body.rows as R[];
    expect(e2).toEqual(e);
    const safetyE = e.find((r) => r.dimension === 'domain' && r.group_value === 'interpersonal_safety')!;
    const safetyP = p.find((r) => r.dimension === 'domain' && r.group_value === 'interpersonal_safety')!;
    expect(safetyE.denominator).toBeGreaterThan(0);
    expect(safetyP).toMatchObject({ numerator: null, denominator: null, value: null, suppressed: true, note: PARTNER_NOTE });
    const foodE = e.find((r) => r.dimension === 'domain' && r.group_value === 'food')!;
    const foodP = p.find((r) => r.dimension === 'domain' && r.group_value === 'food')!;
    expect(foodP.denominator).toBe(foodE.denominator);
    expect(foodP.numerator).toBe(foodE.numerator);
    // no comparison with the withheld group survives
    for (const r of p) if (r.reference_group === 'interpersonal_safety') expect(r.rate_difference ?? null).toBeNull();
  });

  it('a metric withheld whole: every area row and the area curve', async () => {
    const p = (await as(partner, '/api/metrics/days_to_close?dimension=all')).body.rows as R[];
    expect(p.length).toBeGreaterThan(0);
    for (const r of p) expect(r).toMatchObject({ numerator: null, denominator: null, value: null, suppressed: true });
    const eKm = (await as(evaluator, '/api/km?metric=days_to_close&dimension=all')).body.rows as unknown[];
    const pKm = await as(partner, '/api/km?metric=days_to_close&dimension=all');
    expect(eKm.length).toBeGreaterThan(0);
    expect(pKm.status === 200 ? pKm.body.rows : []).toEqual([]);
  });

  it('the trend chart\'s data and CSV by domain carry no figure of the withheld domain', async () => {
    const csvE = (await as(evaluator, '/api/charts/trend.csv?metric=closed_loop_rate&dimension=domain&grain=year')).text;
    const csvP = (await as(partner, '/api/charts/trend.csv?metric=closed_loop_rate&dimension=domain&grain=year')).text;
    // columns by name (test/models/stats/referenceCsv.ts parses RFC 4180)
    const safety = (t: string) => {
      const [head, ...rest] = parseCsv(t);
      return rest.filter((r) => r.some((c) => /safety/i.test(c))).map((r) => Object.fromEntries(head!.map((h, i) => [h, r[i]])));
    };
    const e = safety(csvE);
    const p = safety(csvP);
    expect(e.length).toBeGreaterThan(0);
    expect(p.length).toBe(e.length);
    const figures = Object.keys(e[0]!).filter((h) => /^(value|numerator|denominator|ci_low|ci_high|n)$/.test(h));
    expect(figures.length).toBeGreaterThan(0);
    expect(e.some((r) => figures.some((h) => r[h] !== ''))).toBe(true);
    for (const r of p) for (const h of figures) expect(r[h], h).toBe('');
    // the chart says why, to the partner only
    const noteOf = async (u: TestUser) => ((await as(u, '/api/charts/trend.json?metric=closed_loop_rate&dimension=domain&grain=year')).body.notes as string[]).join(' ');
    expect(await noteOf(partner)).toContain('withheld from partner views');
    expect(await noteOf(evaluator)).not.toContain('withheld from partner views');
  });

  it('the gap table: "closed for no capacity" is emptied in the withheld domain only', async () => {
    type G = { domain: string; county_fips: string; no_capacity_referrals: number | null; closed_not_met_referrals: number | null; capacity_rejection_share: number | null; unmet_needs: number | null };
    const e = (await as(evaluator, '/api/gaps')).body.rows as G[];
    const p = (await as(partner, '/api/gaps')).body.rows as G[];
    const key = (g: G) => `${g.domain}|${g.county_fips}`;
    const byKey = new Map(p.map((g) => [key(g), g]));
    expect(e.some((g) => g.domain === 'interpersonal_safety' && g.closed_not_met_referrals !== null)).toBe(true);
    for (const g of e) {
      const q = byKey.get(key(g))!;
      if (g.domain !== 'food') expect(q.unmet_needs).toBe(g.unmet_needs);
      if (g.domain === 'interpersonal_safety') {
        expect([q.no_capacity_referrals, q.closed_not_met_referrals, q.capacity_rejection_share]).toEqual([null, null, null]);
        expect((q as G & { note: string }).note).toContain('Closed for no capacity: withheld from partner views');
      }
      else expect(q.closed_not_met_referrals).toBe(g.closed_not_met_referrals);
    }
  });

  it('the gap table: needs met and unmet are emptied where unmet_need_rate is withheld (the partner knows which needs its referrals met)', async () => {
    type G = { domain: string; county_fips: string; needs_met: number | null; unmet_needs: number | null; unmet_need_rate: number | null; positive_needs: number | null; note: string | null };
    const e = (await as(evaluator, '/api/gaps')).body.rows as G[];
    const p = new Map(((await as(partner, '/api/gaps')).body.rows as G[]).map((g) => [`${g.domain}|${g.county_fips}`, g]));
    expect(e.some((g) => g.domain === 'food' && g.needs_met !== null && g.needs_met > 0)).toBe(true);
    for (const g of e) {
      const q = p.get(`${g.domain}|${g.county_fips}`)!;
      expect(q.positive_needs).toBe(g.positive_needs);
      if (g.domain === 'food') {
        expect([q.needs_met, q.unmet_needs, q.unmet_need_rate]).toEqual([null, null, null]);
        expect(q.note).toContain('Unmet need rate: withheld from partner views');
      } else expect([q.needs_met, q.unmet_needs]).toEqual([g.needs_met, g.unmet_needs]);
    }
    // and the metric's own rows by domain
    const rows = (await as(partner, '/api/metrics/unmet_need_rate?dimension=domain&grain=all')).body.rows as R[];
    const food = rows.filter((r) => r.group_value === 'food');
    expect(food.length).toBeGreaterThan(0);
    for (const r of food) expect([r.numerator, r.denominator, r.note]).toEqual([null, null, PARTNER_NOTE]);
    expect(rows.some((r) => r.group_value !== 'food' && r.numerator !== null)).toBe(true);
  });

  it('exports of the results table stay refused to a partner (the view also refuses raw connections)', async () => {
    expect((await as(partner, '/api/exports/metrics/closed_loop_rate.csv')).status).toBe(403);
  });
});
