// Outcome metrics (PHQ-9 episodes, utilization rates, pre/post first referral) on hand-built
// drops. As-of date 2024-06-30.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../../models/duckdb.ts';
import { metricById } from '../../../models/metrics/catalog.ts';
import { computeDrop, wilsonByFormula, type Computed, type Drop } from './helpers.ts';

const AS_OF = '2024-06-30';

// PHQ-9 (day = days after the index date):
//   H1 born 1990: A1 2023-01-10 15 -> index E1; A2 2023-05-10 8 (day 120); A3 2023-09-07 8 (day 240, the last
//      in the window); A4 2023-09-08 2 (day 241, outside); A5 2024-01-10 12 (365 days after E1: not an index);
//      A6 2024-01-11 10 (day 366) -> index E2, whose 240-day window ends after the as-of date
//   H2 born 2010-06-01: B1 2022-05-31 20 (aged 11: no index); B2 2022-06-01 11 (aged 12) -> index E3;
//      B3 and B4 both 2022-10-01 (day 122), scores 4 and 5: the tie goes to the larger assessment_id, B4 = 5
//   H3 born 1980: C1 2023-03-01 9 (below 10); C2 2023-03-02 10 -> index E4; C3 2023-06-29 3 (day 119: no follow-up)
//   H4 born 1975: D1 2023-11-01 16 -> index E5 (day 240 = 2024-06-28); D2 2024-02-29 9 (day 120);
//      D4 2024-06-28 0 (day 240, last); D3 2024-07-01 1 (after the as-of date)
//   H5 born 1985: G1 2023-02-01 20 -> index E6; G2 2023-06-01 10 (day 120, exactly half the index score)
const PHQ9_DROP: Drop = {
  people: [
    { person_id: 'H1', birth_date: '1990-01-01', sex: 'female', race_ethnicity: 'white' },
    { person_id: 'H2', birth_date: '2010-06-01', sex: 'male', race_ethnicity: 'black' },
    { person_id: 'H3', birth_date: '1980-01-01' },
    { person_id: 'H4', birth_date: '1975-01-01', sex: 'female', race_ethnicity: 'white' },
    { person_id: 'H5', birth_date: '1985-01-01', sex: 'male', race_ethnicity: 'asian' },
  ],
  phq9: [
    ['A1', 'H1', '2023-01-10', 15], ['A2', 'H1', '2023-05-10', 8], ['A3', 'H1', '2023-09-07', 8], ['A4', 'H1', '2023-09-08', 2],
    ['A5', 'H1', '2024-01-10', 12], ['A6', 'H1', '2024-01-11', 10],
    ['B1', 'H2', '2022-05-31', 20], ['B2', 'H2', '2022-06-01', 11], ['B3', 'H2', '2022-10-01', 4], ['B4', 'H2', '2022-10-01', 5],
    ['C1', 'H3', '2023-03-01', 9], ['C2', 'H3', '2023-03-02', 10], ['C3', 'H3', '2023-06-29', 3],
    ['D1', 'H4', '2023-11-01', 16], ['D2', 'H4', '2024-02-29', 9], ['D4', 'H4', '2024-06-28', 0], ['D3', 'H4', '2024-07-01', 1],
    ['G1', 'H5', '2023-02-01', 20], ['G2', 'H5', '2023-06-01', 10],
  ].map(([assessment_id, person_id, assessed_on, total_score]) => ({ assessment_id, person_id, assessed_on, total_score } as Record<string, string | number>)),
};

describe('PHQ-9 outcomes', () => {
  let c: Computed;
  beforeAll(async () => {
    c = await computeDrop(PHQ9_DROP, { asOf: AS_OF, keepIntermediate: true });
  });
  afterAll(() => c.close());

  it('finds index episodes: score >= 10, aged 12+, no index in the preceding 365 days', async () => {
    const episodes = await rows<{ person_id: string; index_on: string; index_score: number; follow_up_score: number | null }>(c.db.conn,
      'SELECT person_id, index_on, index_score, follow_up_score FROM int_phq9_episodes ORDER BY person_id, index_on');
    expect(episodes).toEqual([
      { person_id: 'H1', index_on: '2023-01-10', index_score: 15, follow_up_score: 8 },
      { person_id: 'H1', index_on: '2024-01-11', index_score: 10, follow_up_score: null },
      { person_id: 'H2', index_on: '2022-06-01', index_score: 11, follow_up_score: 5 },
      { person_id: 'H3', index_on: '2023-03-02', index_score: 10, follow_up_score: null },
      { person_id: 'H4', index_on: '2023-11-01', index_score: 16, follow_up_score: 0 },
      { person_id: 'H5', index_on: '2023-02-01', index_score: 20, follow_up_score: 10 },
    ]);
  });

  it('follow-up, response and remission share one denominator: episodes whose 240-day window ended', () => {
    // measurable: E1 E3 E4 E5 E6 = 5 (E2 from 2024-01-11 is not)
    // follow-up: E1 (A2, A3), E3 (B3, B4), E5 (D2, D4), E6 (G2 on day 120) = 4; E4's only later PHQ-9 is on day 119
    // response (last <= half the index): E3 5 <= 5.5, E5 0 <= 8, E6 10 <= 10 = 3; E1 8 > 7.5
    // remission (last < 5): E5 = 1 (E3's last is 5: the tie goes to B4)
    const span = '2022-05-31';
    expect(fig(c.get('phq9_follow_up_rate', 'all', span))).toEqual([4, 5]);
    expect(fig(c.get('phq9_response_rate', 'all', span))).toEqual([3, 5]);
    expect(fig(c.get('phq9_remission_rate', 'all', span))).toEqual([1, 5]);
    const [lo, hi] = wilsonByFormula(1, 5);
    expect(c.get('phq9_remission_rate', 'all', span)?.ci_low).toBeCloseTo(lo, 10);
    expect(c.get('phq9_remission_rate', 'all', span)?.ci_high).toBeCloseTo(hi, 10);
    expect(fig(c.get('phq9_follow_up_rate', 'year', '2022-01-01'))).toEqual([1, 1]); // E3
    expect(fig(c.get('phq9_follow_up_rate', 'year', '2023-01-01'))).toEqual([3, 4]); // E1 E4 E5 E6
    expect(c.get('phq9_follow_up_rate', 'year', '2024-01-01')).toBeUndefined(); // E2 only: not measurable
    // age at the index date: H2 was 12 -> 0-17
    expect(fig(c.get('phq9_follow_up_rate', 'all', span, 'age_band', '0-17'))).toEqual([1, 1]);
  });

  it('phq9_mean_change: mean of (last follow-up - index) with a t interval', () => {
    // changes: E1 8-15 = -7, E3 5-11 = -6, E5 0-16 = -16, E6 10-20 = -10; n = 4, mean -9.75
    // squared deviations 7.5625 + 14.0625 + 39.0625 + 0.0625 = 60.75, sd = sqrt(60.75/3) = 4.5, se = 2.25,
    // qt(0.975, 3) = 3.182446 -> -9.75 -+ 7.160504 = (-16.910504, -2.589496)
    const r = c.get('phq9_mean_change', 'all', '2022-05-31');
    expect([r?.numerator, r?.denominator]).toEqual([null, 4]);
    expect(r?.value).toBeCloseTo(-9.75, 12);
    expect(r?.ci_low).toBeCloseTo(-16.910504, 5);
    expect(r?.ci_high).toBeCloseTo(-2.589496, 5);
    // one episode: no interval (2022: E3 only)
    const one = c.get('phq9_mean_change', 'year', '2022-01-01');
    expect([one?.denominator, one?.value, one?.ci_low, one?.ci_high]).toEqual([1, -6, null, null]);
  });
});

// Utilization. The span starts with the first encounter, 2023-04-01.
//   U1 white medicaid born 1980, enrolled from 2023-04-16 (April: 15 of 30 days = 0.5 member-month)
//   U2 black medicare born 2005-06-15 (18 on 2023-06-15), enrolled 2023-01-01..2023-06-30
//   U3 unknown born 1960, enrolled from 2023-03-01;  U4 asian commercial born 1970, enrolled from 2022
// Encounters: X1 U2 ed 2023-04-01 $100; X2 U1 ed 2023-04-15 $50 (before enrollment: not counted);
//   X3 U1 ed 2023-04-16 $200; X4 U1 inpatient 2023-05-20 (no amount: $0); X5 U2 outpatient 2023-07-01 $70
//   (after enrollment); X6 U1 primary care 2024-06-30 $40; X7 U1 ed 2024-07-01 $999 (after the as-of date);
//   U3: ED 2023-05-01, 2023-10-27, 2023-10-28, 2024-04-25, 2024-04-26; inpatient 2023-11-15.
// First referrals: U3 2023-10-28 (then 2024-01-01); U4 2023-09-01; U2 2023-05-01.
const UTILIZATION_DROP: Drop = {
  people: [
    { person_id: 'U1', birth_date: '1980-01-01', race_ethnicity: 'white', payer: 'medicaid', enrolled_from: '2023-04-16' },
    { person_id: 'U2', birth_date: '2005-06-15', race_ethnicity: 'black', payer: 'medicare', enrolled_from: '2023-01-01', enrolled_through: '2023-06-30' },
    { person_id: 'U3', birth_date: '1960-01-01', enrolled_from: '2023-03-01' },
    { person_id: 'U4', birth_date: '1970-01-01', race_ethnicity: 'asian', payer: 'commercial', enrolled_from: '2022-01-01' },
  ],
  encounters: [
    ['X1', 'U2', 'ed', '2023-04-01', 100], ['X2', 'U1', 'ed', '2023-04-15', 50], ['X3', 'U1', 'ed', '2023-04-16', 200],
    ['X4', 'U1', 'inpatient', '2023-05-20', null], ['X5', 'U2', 'outpatient', '2023-07-01', 70],
    ['X6', 'U1', 'primary_care', '2024-06-30', 40], ['X7', 'U1', 'ed', '2024-07-01', 999],
    ['Y1', 'U3', 'ed', '2023-05-01', null], ['Y2', 'U3', 'ed', '2023-10-27', null], ['Y3', 'U3', 'ed', '2023-10-28', null],
    ['Y4', 'U3', 'ed', '2024-04-25', null], ['Y5', 'U3', 'ed', '2024-04-26', null], ['Y6', 'U3', 'inpatient', '2023-11-15', null],
  ].map(([encounter_id, person_id, encounter_type, start_date, paid_amount]) => ({ encounter_id, person_id, encounter_type, start_date, paid_amount } as Record<string, string | number | null>)),
  referrals: [
    { referral_id: 'RR1', person_id: 'U3', need_domain: 'food', referred_on: '2023-10-28', status: 'pending' },
    { referral_id: 'RR2', person_id: 'U3', need_domain: 'food', referred_on: '2024-01-01', status: 'pending' },
    { referral_id: 'RR3', person_id: 'U4', need_domain: 'food', referred_on: '2023-09-01', status: 'pending' },
    { referral_id: 'RR4', person_id: 'U2', need_domain: 'food', referred_on: '2023-05-01', status: 'pending' },
  ],
};

const fig = (r: { numerator: number | null; denominator: number | null } | undefined) => r && [r.numerator, r.denominator];

describe('utilization rates per member-month', () => {
  let c: Computed;
  beforeAll(async () => {
    c = await computeDrop(UTILIZATION_DROP, { asOf: AS_OF });
  });
  afterAll(() => c.close());

  it('counts encounters starting on enrolled days per member-month of enrollment within the span', () => {
    // member-months 2023-04..2024-06 (15 months): U1 0.5 + 14 = 14.5, U2 3 (Apr-Jun 2023), U3 15, U4 15 = 47.5
    // ED: X1 X3 and U3's five = 7; inpatient: X4 Y6 = 2; paid: 100 + 200 + 0 + 40 = 340
    const ed = c.get('ed_visits_per_1000_mm', 'all', '2023-04-01');
    expect(ed?.numerator).toBe(7);
    expect(ed?.denominator).toBeCloseTo(47.5, 10);
    expect(ed?.value).toBeCloseTo((7 / 47.5) * 1000, 10);
    // exact Poisson: qchisq(0.025, 14) / 2 = 2.814363, qchisq(0.975, 16) / 2 = 14.422675 (R), per 47.5 x 1000
    expect(ed?.ci_low).toBeCloseTo((2.814363 / 47.5) * 1000, 3);
    expect(ed?.ci_high).toBeCloseTo((14.422675 / 47.5) * 1000, 3);
    expect(fig(c.get('inpatient_admits_per_1000_mm', 'all', null))).toEqual([2, 47.5]);
    const paid = c.get('paid_pmpm', 'all', null);
    expect(fig(paid)).toEqual([340, 47.5]);
    expect(paid?.value).toBeCloseTo(340 / 47.5, 10);
    expect([paid?.ci_low, paid?.ci_high]).toEqual([null, null]);
  });

  it('counts fractional member-months and splits them by period', () => {
    // April 2023: U1 0.5 (from the 16th of a 30-day month), U2 U3 U4 1 each = 3.5; ED X1 X3 (X2 was before U1 enrolled)
    expect(fig(c.get('ed_visits_per_1000_mm', 'month', '2023-04-01'))).toEqual([2, 3.5]);
    expect(fig(c.get('ed_visits_per_1000_mm', 'month', '2023-04-01', 'race_ethnicity', 'white'))).toEqual([1, 0.5]);
    expect(c.get('ed_visits_per_1000_mm', 'month', '2023-04-01', 'race_ethnicity', 'white')?.value).toBeCloseTo(2000, 10);
    // 2023-Q2: U1 2.5, U2 3, U3 3, U4 3 = 11.5; ED X1 X3 Y1
    expect(fig(c.get('ed_visits_per_1000_mm', 'quarter', '2023-04-01'))).toEqual([3, 11.5]);
    expect(fig(c.get('ed_visits_per_1000_mm', 'year', '2023-01-01'))).toEqual([5, 29.5]); // U1 8.5, U2 3, U3 9, U4 9
    expect(fig(c.get('ed_visits_per_1000_mm', 'year', '2024-01-01'))).toEqual([2, 18]);
    // June 2024: X6 counts for paid only; the X7 ED visit is after the as-of date
    expect(fig(c.get('ed_visits_per_1000_mm', 'month', '2024-06-01'))).toEqual([0, 3]);
    expect(fig(c.get('paid_pmpm', 'month', '2024-06-01'))).toEqual([40, 3]);
    // U2 left on 2023-06-30: no U2 member-months or encounters after (X5)
    expect(c.get('ed_visits_per_1000_mm', 'month', '2023-07-01', 'race_ethnicity', 'black')).toBeUndefined();
  });

  it('takes ages at the period end', () => {
    // U2 turns 18 on 2023-06-15: 17 at the end of April and May, 18 at the end of June and of 2023-Q2
    expect(fig(c.get('ed_visits_per_1000_mm', 'month', '2023-04-01', 'age_band', '0-17'))).toEqual([1, 1]);
    expect(fig(c.get('ed_visits_per_1000_mm', 'month', '2023-06-01', 'age_band', '18-25'))).toEqual([0, 1]);
    expect(fig(c.get('ed_visits_per_1000_mm', 'quarter', '2023-04-01', 'age_band', '18-25'))).toEqual([1, 3]);
    expect(c.get('ed_visits_per_1000_mm', 'quarter', '2023-04-01', 'age_band', '0-17')).toBeUndefined();
  });

  it('pre/post first referral: 180-day windows inside enrollment, observed and over by the as-of date', async () => {
    // U3, first referral 2023-10-28: pre days -180..-1 = 2023-05-01..2023-10-27, post days 1..180 = 2023-10-29..2024-04-25
    // pre member-months: May-Sep 5 + Oct 27/31 = 5.870968; post: Oct 3/31 + Nov-Mar 5 + Apr 25/30 = 5.930108
    // pre ED: 2023-05-01 (day -180), 2023-10-27 (day -1); post ED: 2024-04-25 (day 180); day 0 and day 181 are out
    // U4's pre window would start 2023-03-05, before the first encounter (2023-04-01); U2's post window ends after
    // his enrollment: neither is counted.
    const preMm = 5 + 27 / 31;
    const postMm = 3 / 31 + 5 + 25 / 30;
    const pre = c.get('ed_visits_pre_referral_per_1000_mm', 'all', null);
    expect(pre?.numerator).toBe(2);
    expect(pre?.denominator).toBeCloseTo(preMm, 10);
    expect(pre?.value).toBeCloseTo((2 / preMm) * 1000, 8);
    const post = c.get('ed_visits_post_referral_per_1000_mm', 'all', null);
    expect(post?.numerator).toBe(1);
    expect(post?.denominator).toBeCloseTo(postMm, 10);
    expect(fig(c.get('inpatient_pre_referral_per_1000_mm', 'all', null))?.[0]).toBe(0);
    expect(c.get('inpatient_pre_referral_per_1000_mm', 'all', null)?.value).toBe(0);
    expect(fig(c.get('inpatient_post_referral_per_1000_mm', 'all', null))?.[0]).toBe(1);
    // placed in the period of the first referral; ages at its end (U3 63: 45-64)
    expect(c.get('ed_visits_pre_referral_per_1000_mm', 'month', '2023-10-01')?.numerator).toBe(2);
    expect(c.get('ed_visits_pre_referral_per_1000_mm', 'month', '2023-09-01')).toBeUndefined();
    expect(c.get('ed_visits_pre_referral_per_1000_mm', 'all', null, 'age_band', '45-64')?.numerator).toBe(2);
    expect(c.of('ed_visits_pre_referral_per_1000_mm', { period_grain: 'all' }).map((r) => r.group_value)).not.toContain('asian');

    const summary = await rows<{ measure: string; people: number; pre_events: number; post_events: number; rate_ratio: number; rr_ci_low: number; rr_ci_high: number }>(
      c.db.conn, "SELECT * FROM prepost_summary WHERE dimension = 'all' ORDER BY measure");
    expect(summary.map((s) => [s.measure, s.people, s.pre_events, s.post_events])).toEqual([['ed_visits', 1, 2, 1], ['inpatient_admits', 1, 0, 1]]);
    // post/pre ratio (1 / postMm) / (2 / preMm); exact conditional interval: Clopper-Pearson for 1 of 3 events,
    // p in (1 - 0.975^(1/3), root of 3p² - 2p³ = 0.975), mapped by p / (1 - p) * preMm / postMm
    const ed = summary[0];
    expect(ed?.rate_ratio).toBeCloseTo(1 / postMm / (2 / preMm), 10);
    const pLow = 1 - 0.975 ** (1 / 3);
    let a = 0.5;
    let b = 1;
    for (let i = 0; i < 60; i++) {
      const m = (a + b) / 2;
      if (3 * m * m - 2 * m ** 3 < 0.975) a = m;
      else b = m;
    }
    expect(ed?.rr_ci_low).toBeCloseTo((pLow / (1 - pLow)) * (preMm / postMm), 8);
    expect(ed?.rr_ci_high).toBeCloseTo((a / (1 - a)) * (preMm / postMm), 6);
    // issue 15: no p-value on post/pre (it would invite a causal reading without a comparison group)
    expect(Object.keys(ed ?? {})).not.toContain('p_value');
    expect(metricById('ed_visits_post_referral_per_1000_mm').definition).toMatch(/regression to the mean/);
    expect(metricById('ed_visits_post_referral_per_1000_mm').definition).toMatch(/secular trend/);
  });
});
