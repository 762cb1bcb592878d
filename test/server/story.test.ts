// The overview's story (issue 16), checked by a different method: the test reads every
// whole-span row through the public API (/api/metrics/:id) and finds, in plain JavaScript,
// the dimension whose groups differ most in loop closure, the flagged proportion whose rate
// ratio is furthest from 1, and the gap cell with the most unmet needs (/api/gaps); the story
// must name the same ones with the same n, in the unit of the denominator.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../server/app.ts';
import { addTestUser, getAs, type TestUser } from '../helpers/auth.ts';
import { publishedFixture, type PublishedFixture } from '../helpers/publishedFixture.ts';

interface R { dimension: string; group_value: string; value: number | null; denominator: number | null; suppressed: boolean; unreliable?: boolean | null; disparity_flag?: boolean | null; rate_ratio?: number | null; reference_group?: string | null }
const DIMS = ['race_ethnicity', 'preferred_language', 'limited_english', 'sex', 'age_band', 'payer', 'rurality', 'county_fips', 'program_id'];

let fx: PublishedFixture;
let app: App;
let evaluator: TestUser;
let partner: TestUser;

beforeAll(async () => {
  fx = await publishedFixture();
  app = createApp({ root: fx.root, log: () => undefined });
  evaluator = await addTestUser(fx.root, 'evaluator');
  partner = await addTestUser(fx.root, 'partner', { org: 'ORG-04' });
});
afterAll(() => {
  app.close();
  fx.cleanup();
});

async function rows(metric: string, dimension: string): Promise<R[]> {
  const r = await getAs(app, evaluator, `/api/metrics/${metric}?grain=all&dimension=${dimension}`);
  return r.status === 200 ? (r.body.rows as R[]) : [];
}

describe('the overview story', () => {
  it('names the widest loop-closure spread, the largest adjusted disparity and the biggest gap, with n in the denominator\'s unit', async () => {
    const s = (await getAs(app, evaluator, '/api/story')).body;
    // loop closure: the dimension with the widest spread between its shown, reliable, known groups
    let best: { d: string; hi: R; lo: R } | null = null;
    for (const d of DIMS) {
      const g = (await rows('closed_loop_rate', d)).filter((r) => !r.suppressed && !r.unreliable && r.value !== null && (r.denominator ?? 0) > 0 && r.group_value !== 'unknown');
      if (g.length < 2) continue;
      const sorted = [...g].sort((a, b) => b.value! - a.value!);
      if (!best || sorted[0]!.value! - sorted.at(-1)!.value! > best.hi.value! - best.lo.value!) best = { d, hi: sorted[0]!, lo: sorted.at(-1)! };
    }
    expect(best).not.toBeNull();
    expect(s.loop).toMatchObject({ unit: 'referrals', dimension: best!.d, highest: { group: best!.hi.group_value, n: best!.hi.denominator }, lowest: { group: best!.lo.group_value, n: best!.lo.denominator } });
    expect(s.loop.link).toBe(`/disparities?metric=closed_loop_rate&dimension=${best!.d}`);
    expect(s.loop.highest.label).not.toMatch(/_/);

    // the flagged (adjusted) proportion furthest from its reference on the ratio scale
    const metrics = ((await getAs(app, evaluator, '/api/metrics')).body.metrics as Array<{ id: string; kind: string; unit: string; available: boolean }>).filter((m) => m.available && m.kind === 'proportion');
    let top: (R & { metric: string; unit: string }) | null = null;
    for (const m of metrics) {
      for (const d of DIMS) {
        for (const r of await rows(m.id, d)) {
          if (r.disparity_flag !== true || !(r.rate_ratio! > 0) || r.suppressed || r.group_value === 'unknown') continue;
          if (!top || Math.abs(Math.log(r.rate_ratio!)) > Math.abs(Math.log(top.rate_ratio!))) top = { ...r, metric: m.id, unit: m.unit };
        }
      }
    }
    if (top) {
      expect(s.disparity).toMatchObject({ metric: top.metric, dimension: top.dimension, group: { group: top.group_value, n: top.denominator }, rate_ratio: top.rate_ratio });
      expect(top.unit).toBe(`proportion of ${s.disparity.unit} (0-1)`);
      expect(s.disparity.unit).not.toMatch(/member-month/);
    } else {
      expect(s.disparity).toBeNull();
    }

    // the gap cell with the most unmet needs
    const gaps = (await getAs(app, evaluator, '/api/gaps')).body.rows as Array<{ domain: string; county_fips: string; unmet_needs: number | null; positive_needs: number }>;
    const g = gaps.filter((x) => x.unmet_needs !== null && x.county_fips !== 'unknown').sort((a, b) => b.unmet_needs! - a.unmet_needs!)[0]!;
    expect(s.gap).toMatchObject({ domain: g.domain, county_fips: g.county_fips, unmet_needs: g.unmet_needs, positive_needs: g.positive_needs, unit: 'positive needs', link: `/service-gaps?domain=${g.domain}&county=${g.county_fips}` });
  });

  it('a partner gets the same area story (area aggregates only, no organization compared)', async () => {
    const e = (await getAs(app, evaluator, '/api/story')).body;
    const p = await getAs(app, partner, '/api/story');
    expect(p.status).toBe(200);
    expect(p.body).toEqual(e);
    expect(JSON.stringify(p.body)).not.toMatch(/target_org_id|ORG-0/);
  });
});
