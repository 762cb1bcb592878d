// Holes found by attacking the partners' view (issue 14, route 7), each pinned as the attack
// itself. The attacker: partner ORG-09 with its own token. It holds what the server gives
// its role, its own referral records, the public directory and this code; it must not
// derive another organisation's figure exactly or as an interval inside 1..10.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../server/app.ts';
import { PARTNER_NOTE } from '../../server/data/partnerView.ts';
import { addTestUser, type TestUser } from '../helpers/auth.ts';
import { publishedFixture, type PublishedFixture } from '../helpers/publishedFixture.ts';

let fx: PublishedFixture;
let app: App;
let evaluator: TestUser;
let partner: TestUser;

// The story of the rows added below: the directory lists ORG-09 (the partner) and ORG-04 as
// the only organisations serving `housing_quality`, so the partners' rule withholds that
// domain from ORG-09's view. The publication shows the domain's stale open referrals to
// evaluators (15: not a small cell); ORG-09's own records hold 9 of them.
const AREA_STALE = 15;
const OWN_STALE = 9;
const row = (over: Record<string, unknown>) => ({
  metric_id: 'stale_open_referrals', period_grain: 'all', period_start: '2024-11-01', period_end: '2026-10-31', dimension: 'domain', group_value: 'housing_quality',
  numerator: null, denominator: null, value: null, ci_low: null, ci_high: null, suppressed: false, reference_group: null, rate_difference: null, rd_ci_low: null, rd_ci_high: null,
  rate_ratio: null, rr_ci_low: null, rr_ci_high: null, p_value: null, q_value: null, disparity_flag: null, run_id: 'run-holes', as_of: '2026-10-31', note: null,
  period_status: 'final', unreliable: null, disparity_flag_unadjusted: null, ...over,
});

beforeAll(async () => {
  fx = await publishedFixture({
    runId: 'run-holes',
    // NCHS: a count under 20 is unreliable (models/metrics/engine.ts), so 15 carries unreliable = true
    extraResults: [row({ numerator: AREA_STALE, value: AREA_STALE, unreliable: AREA_STALE < 20 }),
      // referrals with no target organisation: the organisation cut's `unknown` group
      row({ metric_id: 'closed_loop_rate', dimension: 'target_org_id', group_value: 'unknown', numerator: 12, denominator: 30, value: 0.4, unreliable: true })],
    partnerWithheld: [['ORG-09', 'stale_open_referrals', 'housing_quality'],
      // as the rule decides for any organisation it does not know ('*'): the domains one organisation serves alone
      ['*', 'closed_loop_rate', 'interpersonal_safety'], ['*', 'capacity_rejection_share', 'interpersonal_safety']],
  });
  app = createApp({ root: fx.root, log: () => undefined });
  evaluator = await addTestUser(fx.root, 'evaluator');
  partner = await addTestUser(fx.root, 'partner', { org: 'ORG-09' });
});
afterAll(() => {
  app.close();
  fx.cleanup();
});

const as = (u: TestUser, path: string) => request(app).get(path).set('Authorization', `Bearer ${u.token}`);

/**
 * The attacker's bounds on the area's count of a row it is shown as withheld, from the
 * reliability flag alone: the row is not a small cell (that would have emptied the flag
 * too), so the count is 0 or >= 11; unreliable = true says < 20, false says >= 20.
 */
function areaBounds(unreliable: boolean | null | undefined, own: number): [number, number] {
  const low = Math.max(own, 0);
  if (unreliable === true) return [Math.max(low, own > 0 ? 11 : 0), 19];
  if (unreliable === false) return [Math.max(low, 20), Infinity];
  return [low, Infinity];
}
const insideOneToTen = ([lo, hi]: [number, number]) => lo >= 1 && hi <= 10;

describe('hole: a row withheld from a partner kept its reliability flag (unreliable), which bounds the other organisation\'s count', () => {
  it('worked by hand: with the flag, ORG-04\'s stale open referrals in housing_quality lie in 2..10', () => {
    // unreliable = true and not a small cell: area in {0} u 11..19; the partner's own 9 rule out 0
    const [lo, hi] = areaBounds(true, OWN_STALE);
    expect([lo, hi]).toEqual([11, 19]);
    // ORG-04's count = area - own, in 11-9 .. 19-9 = 2..10: inside 1..10
    expect(insideOneToTen([lo - OWN_STALE, hi - OWN_STALE])).toBe(true);
    expect([lo - OWN_STALE, hi - OWN_STALE]).toEqual([2, 10]);
  });

  it('/api/metrics: the withheld row carries no reliability flag, so the attack has no upper bound', async () => {
    const rows = (await as(partner, '/api/metrics/stale_open_referrals?dimension=domain&grain=all')).body.rows as Array<Record<string, unknown>>;
    const r = rows.find((x) => x.group_value === 'housing_quality')!;
    expect(r).toMatchObject({ numerator: null, value: null, suppressed: true, note: PARTNER_NOTE });
    expect(r.unreliable ?? null).toBeNull();
    const [lo, hi] = areaBounds(r.unreliable as boolean | null, OWN_STALE);
    expect(insideOneToTen([lo - OWN_STALE, hi - OWN_STALE])).toBe(false);
    // every row the partner's view withholds, on this route, says nothing of its precision
    for (const x of rows) if (x.note === PARTNER_NOTE) expect(x.unreliable ?? null, String(x.group_value)).toBeNull();
    // the evaluator still sees the flag (withholding is the partner's view only)
    const e = (await as(evaluator, '/api/metrics/stale_open_referrals?dimension=domain&grain=all')).body.rows as Array<Record<string, unknown>>;
    expect(e.find((x) => x.group_value === 'housing_quality')).toMatchObject({ numerator: AREA_STALE, unreliable: true });
  });
});


describe('hole: a partner whose organisation the rule does not know (not in the directory, no referrals) saw every domain', () => {
  it('ORG-77 reads the withholding decided for any organisation the rule does not know', async () => {
    // The fixture's directory lists ORG-10 alone for interpersonal_safety: the area's row is
    // ORG-10's figure, and ORG-77 (no units: subtracts 0) would read it whole.
    const stranger = await addTestUser(fx.root, 'partner', { org: 'ORG-77' });
    const e = (await as(evaluator, '/api/metrics/closed_loop_rate?dimension=domain&grain=all')).body.rows as Array<Record<string, unknown>>;
    expect(e.find((x) => x.group_value === 'interpersonal_safety')!.denominator).toBeGreaterThan(0);
    const rows = (await as(stranger, '/api/metrics/closed_loop_rate?dimension=domain&grain=all')).body.rows as Array<Record<string, unknown>>;
    expect(rows.find((x) => x.group_value === 'interpersonal_safety')).toMatchObject({ numerator: null, denominator: null, value: null, suppressed: true, note: PARTNER_NOTE });
    // food is not among the rows the fixture gives '*': the view reads '*''s rows, not an empty set nor ORG-09's
    expect(rows.find((x) => x.group_value === 'food')!.denominator).toBe(e.find((x) => x.group_value === 'food')!.denominator);
    // the gap table too
    const gaps = (await as(stranger, '/api/gaps')).body.rows as Array<Record<string, unknown>>;
    for (const g of gaps.filter((x) => x.domain === 'interpersonal_safety')) expect(g.closed_not_met_referrals ?? null).toBeNull();
    // an organisation the rule knows keeps its own withholding (ORG-09: housing_quality only)
    const own = (await as(partner, '/api/metrics/closed_loop_rate?dimension=domain&grain=all')).body.rows as Array<Record<string, unknown>>;
    expect(own.find((x) => x.group_value === 'interpersonal_safety')!.denominator).toBe(e.find((x) => x.group_value === 'interpersonal_safety')!.denominator);
  });
});

describe('hole: a partner bound to the organisation id `unknown` (the group of referrals with no target) was withheld nothing', () => {
  it('it reads the withholding of any organisation the rule does not know', async () => {
    // the rule never decides for `unknown` (it is no organisation), while the view found the id
    // among the organisation cut's groups and read partner_withheld for it: no rows
    const u = await addTestUser(fx.root, 'partner', { org: 'unknown' });
    const rows = (await as(u, '/api/metrics/closed_loop_rate?dimension=domain&grain=all')).body.rows as Array<Record<string, unknown>>;
    expect(rows.find((x) => x.group_value === 'interpersonal_safety')).toMatchObject({ numerator: null, denominator: null, suppressed: true, note: PARTNER_NOTE });
  });
});
