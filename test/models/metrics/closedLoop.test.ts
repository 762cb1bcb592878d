// Closed-loop and referral metrics on a hand-built drop. As-of date 2024-06-30.
//
// People (ages: P1 born 1980-06-15, P2 2010-07-01, P3 1958-03-01, turning 65 on 2023-03-01):
//   P1 female white en  zip 27601 county 37001 medicaid ACO1
//   P2 male   black es  zip 03601 (restricted prefix 036 -> '000') county 37003 medicare, no program
//   P3 everything unknown (no zip, no county, no program)
//
// Referrals (days are counted from referred_on; "open" = not closed by the as-of date):
//   id   who dom  referred    org  status       accepted    service     closed      outcome
//   R1   P1  food 2023-01-10  A    completed    2023-01-12  2023-01-20  2023-03-11  need_met      closed day 60
//   R2   P1  food 2023-01-10  A    completed    -           -           2023-03-12  need_not_met  closed day 61
//   R3   P2  hous 2023-02-28  B    cancelled    2023-03-01  -           2023-03-05  client_declined  day 5
//   R4   P3  hous 2023-02-28  B    rejected     -           -           2023-03-02  no_capacity   day 2 (P3 aged 64)
//   R5   P3  food 2023-03-01  A    pending      2024-07-01  2024-07-05  (both AFTER the as-of date) open, 487 days (P3 aged 65)
//   R6   P2  food 2024-05-01  A    in_progress  2024-05-03  2024-05-10  open, day 60 at the as-of date
//   R7   P1  food 2024-05-02  B    completed    -           -           2024-06-01  need_met      day 30
//   R8   P2  hous 2024-06-16  A    pending      open, 14 days old (acceptance window just elapsed)
//   R9   P3  hous 2024-06-17  B    accepted     2024-06-20  open, 13 days old (not yet measurable)
//   R10  P1  food 2024-05-30  A    pending      open, 31 days old (stale)
//   R11  P2  food 2024-05-31  A    pending      open, 30 days old (not stale)
//   R12  P1  hous 2024-03-01  B    completed    2024-03-05  -  closed 2024-07-15 AFTER the as-of date: still open, 121 days
//   R13  P3  food 2024-01-15  A    accepted     2024-07-02 AFTER the as-of date (status still says accepted), open 167 days
// Enrollments (food only, so housing referrals are out of enrollment_after_referral_rate):
//   E0 P1 food enrolled 2022-12-01 (before any referral), E1 P1 food enrolled 2023-04-10 (day 90
//   after R1 and R2), E2 P3 food applied (no enrolled_on), E3 P3 food ended, enrolled 2023-06-01 (day 92 after R5).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows, scalar } from '../../../models/duckdb.ts';
import { computeMetrics } from '../../../models/metrics/engine.ts';
import { computeDrop, wilsonByFormula, type Computed, type Drop } from './helpers.ts';

export const CLOSED_LOOP_DROP: Drop = {
  people: [
    { person_id: 'P1', birth_date: '1980-06-15', sex: 'female', race_ethnicity: 'white', preferred_language: 'en', zip: '27601', county_fips: '37001', rurality: 'urban', payer: 'medicaid', program_id: 'ACO1', enrolled_from: '2020-01-01' },
    { person_id: 'P2', birth_date: '2010-07-01', sex: 'male', race_ethnicity: 'black', preferred_language: 'es', zip: '03601', county_fips: '37003', rurality: 'rural', payer: 'medicare', enrolled_from: '2020-01-01' },
    { person_id: 'P3', birth_date: '1958-03-01', enrolled_from: '2020-01-01' },
  ],
  referrals: [
    { referral_id: 'R1', person_id: 'P1', need_domain: 'food', referred_on: '2023-01-10', target_org_id: 'ORG-A', status: 'completed', accepted_on: '2023-01-12', service_started_on: '2023-01-20', closed_on: '2023-03-11', outcome: 'need_met' },
    { referral_id: 'R2', person_id: 'P1', need_domain: 'food', referred_on: '2023-01-10', target_org_id: 'ORG-A', status: 'completed', closed_on: '2023-03-12', outcome: 'need_not_met' },
    { referral_id: 'R3', person_id: 'P2', need_domain: 'housing_instability', referred_on: '2023-02-28', target_org_id: 'ORG-B', status: 'cancelled', accepted_on: '2023-03-01', closed_on: '2023-03-05', outcome: 'client_declined' },
    { referral_id: 'R4', person_id: 'P3', need_domain: 'housing_instability', referred_on: '2023-02-28', target_org_id: 'ORG-B', status: 'rejected', closed_on: '2023-03-02', outcome: 'no_capacity' },
    { referral_id: 'R5', person_id: 'P3', need_domain: 'food', referred_on: '2023-03-01', target_org_id: 'ORG-A', status: 'pending', accepted_on: '2024-07-01', service_started_on: '2024-07-05' },
    { referral_id: 'R6', person_id: 'P2', need_domain: 'food', referred_on: '2024-05-01', target_org_id: 'ORG-A', status: 'in_progress', accepted_on: '2024-05-03', service_started_on: '2024-05-10' },
    { referral_id: 'R7', person_id: 'P1', need_domain: 'food', referred_on: '2024-05-02', target_org_id: 'ORG-B', status: 'completed', closed_on: '2024-06-01', outcome: 'need_met' },
    { referral_id: 'R8', person_id: 'P2', need_domain: 'housing_instability', referred_on: '2024-06-16', target_org_id: 'ORG-A', status: 'pending' },
    { referral_id: 'R9', person_id: 'P3', need_domain: 'housing_instability', referred_on: '2024-06-17', target_org_id: 'ORG-B', status: 'accepted', accepted_on: '2024-06-20' },
    { referral_id: 'R10', person_id: 'P1', need_domain: 'food', referred_on: '2024-05-30', target_org_id: 'ORG-A', status: 'pending' },
    { referral_id: 'R11', person_id: 'P2', need_domain: 'food', referred_on: '2024-05-31', target_org_id: 'ORG-A', status: 'pending' },
    { referral_id: 'R12', person_id: 'P1', need_domain: 'housing_instability', referred_on: '2024-03-01', target_org_id: 'ORG-B', status: 'completed', accepted_on: '2024-03-05', closed_on: '2024-07-15', outcome: 'need_met' },
    { referral_id: 'R13', person_id: 'P3', need_domain: 'food', referred_on: '2024-01-15', target_org_id: 'ORG-A', status: 'accepted', accepted_on: '2024-07-02' },
  ],
  enrollments: [
    { enrollment_id: 'E0', person_id: 'P1', program: 'snap', domain: 'food', enrolled_on: '2022-12-01', status: 'enrolled' },
    { enrollment_id: 'E1', person_id: 'P1', program: 'snap', domain: 'food', applied_on: '2023-03-01', enrolled_on: '2023-04-10', status: 'enrolled' },
    { enrollment_id: 'E2', person_id: 'P3', program: 'snap', domain: 'food', applied_on: '2023-03-05', status: 'applied' },
    { enrollment_id: 'E3', person_id: 'P3', program: 'wic', domain: 'food', enrolled_on: '2023-06-01', ended_on: '2023-12-01', status: 'ended' },
  ],
};

const AS_OF = '2024-06-30';
let c: Computed;

beforeAll(async () => {
  c = await computeDrop(CLOSED_LOOP_DROP, { asOf: AS_OF, twoWayCuts: ['sex*age_band'] });
});
afterAll(() => c.close());

const fig = (r: { numerator: number | null; denominator: number | null } | undefined) => r && [r.numerator, r.denominator];

describe('referral_acceptance_rate', () => {
  it('counts acceptances dated within 14 days (accepted_on, else a service or need_met closing), over referrals at least 14 days old', () => {
    // denominator: referred on or before 2024-06-16 = R1..R8, R10..R13 = 12 (R9, 13 days old, is not yet measurable)
    // numerator: R1 (accepted day 2), R3 (day 1, though cancelled), R6 (day 2), R12 (day 4; its closing
    //   after the as-of date does not matter) = 4. Not: R2 and R7 (completed, but no acceptance or
    //   service date, and R7's need_met closing is on day 30), R13 (status accepted, its accepted_on is
    //   after the as-of date: no date to place), R4 rejected, R8 R10 R11 pending, R5 (dates after the as-of date).
    const r = c.get('referral_acceptance_rate', 'all', '2023-01-10');
    expect(fig(r)).toEqual([4, 12]);
    expect(r?.value).toBeCloseTo(4 / 12, 12);
    // Wilson 4/12: p = 0.333333, z²/2n = 0.160061, centre 0.493394 / 1.320122 = 0.373749, half-width
    // 1.959964 * sqrt(0.018519 + 0.006669) / 1.320122 = 0.235631 -> 0.138118 .. 0.609380
    const [lo, hi] = wilsonByFormula(4, 12);
    expect(lo).toBeCloseTo(0.138118, 5);
    expect(hi).toBeCloseTo(0.609380, 5);
    expect(r?.ci_low).toBeCloseTo(lo, 10);
    expect(r?.ci_high).toBeCloseTo(hi, 10);
    expect(r?.period_end).toBe(AS_OF);
  });

  it('places referrals in the period of referred_on; a calendar period ends at the as-of date at the latest', () => {
    expect(fig(c.get('referral_acceptance_rate', 'month', '2023-01-01'))).toEqual([1, 2]); // R1 yes, R2 no
    expect(fig(c.get('referral_acceptance_rate', 'month', '2023-02-01'))).toEqual([1, 2]); // R3 yes, R4 no
    expect(fig(c.get('referral_acceptance_rate', 'month', '2023-03-01'))).toEqual([0, 1]); // R5
    expect(fig(c.get('referral_acceptance_rate', 'month', '2024-05-01'))).toEqual([1, 4]); // R6 yes; R7 R10 R11 no
    expect(fig(c.get('referral_acceptance_rate', 'month', '2024-06-01'))).toEqual([0, 1]); // R8 (R9 not measurable)
    expect(c.get('referral_acceptance_rate', 'month', '2024-06-01')?.period_end).toBe('2024-06-30');
    expect(c.get('referral_acceptance_rate', 'month', '2023-01-01')?.period_end).toBe('2023-01-31');
    expect(fig(c.get('referral_acceptance_rate', 'quarter', '2024-04-01'))).toEqual([1, 5]);
    expect(fig(c.get('referral_acceptance_rate', 'year', '2023-01-01'))).toEqual([2, 5]);
    expect(fig(c.get('referral_acceptance_rate', 'year', '2024-01-01'))).toEqual([2, 7]); // R12 R6 of R13 R12 R6 R7 R10 R11 R8
    expect(c.get('referral_acceptance_rate', 'year', '2024-01-01')?.period_end).toBe(AS_OF);
    // months with no referral get no row
    expect(c.get('referral_acceptance_rate', 'month', '2023-04-01')).toBeUndefined();
  });

  it('cuts by partner, domain and every population dimension; unknown is a group, empty groups have no row', () => {
    const g = (d: string, v: string) => fig(c.get('referral_acceptance_rate', 'all', null, d, v));
    // accepted within 14 days: R1 R3 R6 R12 (see above)
    // ORG-A: R1 R2 R5 R6 R8 R10 R11 R13 -> yes R1 R6; ORG-B: R3 R4 R7 R12 -> yes R3 R12
    expect(g('target_org_id', 'ORG-A')).toEqual([2, 8]);
    expect(g('target_org_id', 'ORG-B')).toEqual([2, 4]);
    expect(g('domain', 'food')).toEqual([2, 8]); // R1 R2 R5 R6 R7 R10 R11 R13
    expect(g('domain', 'housing_instability')).toEqual([2, 4]); // R3 R4 R8 R12
    // ages at referred_on: P2 is 12-13 (0-17); P1 42-43 (26-44); P3 64 on 2023-02-28 (R4) and 65 from 2023-03-01 (R5, R13)
    expect(g('age_band', '0-17')).toEqual([2, 4]); // R3 R6 of R3 R6 R8 R11
    expect(g('age_band', '26-44')).toEqual([2, 5]); // R1 R12 of R1 R2 R7 R10 R12
    expect(g('age_band', '45-64')).toEqual([0, 1]);
    expect(g('age_band', '65+')).toEqual([0, 2]);
    expect(c.get('referral_acceptance_rate', 'all', null, 'age_band', '18-25')).toBeUndefined();
    expect(g('zip3', '276')).toEqual([2, 5]);
    expect(g('zip3', '000')).toEqual([2, 4]); // 036 is on the restricted list
    expect(c.get('referral_acceptance_rate', 'all', null, 'zip3', '036')).toBeUndefined();
    expect(g('zip3', 'unknown')).toEqual([0, 3]); // R4 R5 R13
    expect(g('county_fips', 'unknown')).toEqual([0, 3]);
    expect(g('limited_english', 'no')).toEqual([2, 5]);
    expect(g('limited_english', 'yes')).toEqual([2, 4]);
    expect(g('limited_english', 'unknown')).toEqual([0, 3]);
    expect(g('preferred_language', 'es')).toEqual([2, 4]);
    expect(g('program_id', 'ACO1')).toEqual([2, 5]);
    expect(g('program_id', 'unknown')).toEqual([2, 7]); // P2 and P3 have none
    expect(g('race_ethnicity', 'unknown')).toEqual([0, 3]);
    expect(c.get('referral_acceptance_rate', 'all', null, 'race_ethnicity', 'asian')).toBeUndefined();
    expect(g('race_ethnicity*payer', 'white*medicaid')).toEqual([2, 5]);
    expect(g('race_ethnicity*payer', 'black*medicare')).toEqual([2, 4]);
    expect(g('race_ethnicity*payer', 'unknown*unknown')).toEqual([0, 3]);
    // requested two-way cut
    expect(g('sex*age_band', 'female*26-44')).toEqual([2, 5]);
    expect(g('sex*age_band', 'unknown*65+')).toEqual([0, 2]);
  });
});

describe('closed_loop_rate', () => {
  it('counts closings on days 0..60 over referrals at least 60 days old', () => {
    // denominator: referred on or before 2024-05-01 (day 60 = the as-of date): R1 R2 R3 R4 R5 R6 R12 R13 = 8
    // numerator: R1 (day 60), R3 (day 5), R4 (day 2) = 3; R2 closed on day 61; R12 closes after the as-of date
    const r = c.get('closed_loop_rate', 'all', null);
    expect(fig(r)).toEqual([3, 8]);
    const [lo, hi] = wilsonByFormula(3, 8);
    expect(r?.ci_low).toBeCloseTo(lo, 10);
    expect(r?.ci_high).toBeCloseTo(hi, 10);
    // R7 (2024-05-02) is not yet measurable: May 2024 holds R6 only
    expect(fig(c.get('closed_loop_rate', 'month', '2024-05-01'))).toEqual([0, 1]);
  });
});

describe('need_met_rate and capacity_rejection_share', () => {
  it('count closings within 90 days of referral, over referrals at least 90 days old', () => {
    // measurable: referred on or before 2024-04-01: R1 R2 R3 R4 R5 R12 R13 = 7 (R7, closed need_met on
    //   day 30, was referred 2024-05-02: not yet measurable; counting it would favour quick closings)
    // need met within 90 days: R1 (day 60). R12 closes after the as-of date.
    expect(fig(c.get('need_met_rate', 'all', null))).toEqual([1, 7]);
    // closed within 90 days without need_met: R2 (day 61), R3 (day 5), R4 (day 2); no_capacity: R4
    expect(fig(c.get('capacity_rejection_share', 'all', null))).toEqual([1, 3]);
    // the service-gap cell: housing x P3's county (unknown)
    expect(fig(c.get('capacity_rejection_share', 'all', null, 'domain*county_fips', 'housing_instability*unknown'))).toEqual([1, 1]);
    expect(fig(c.get('capacity_rejection_share', 'all', null, 'domain*county_fips', 'food*37001'))).toEqual([0, 1]);
  });
});

describe('enrollment_after_referral_rate', () => {
  it('matches a same-domain enrollment on days 0..90, for referrals at least 90 days old in enrolled domains', () => {
    // denominator: food referrals made on or before 2024-04-01: R1 R2 R5 R13 = 4 (housing: no enrollments in that domain)
    // numerator: R1, R2 (E1 on day 90); R5's first enrollment on or after it is E3 on day 92 (E2 has no
    //   enrolled_on); R13 has none after it (E0, E3 are earlier)
    expect(fig(c.get('enrollment_after_referral_rate', 'all', null))).toEqual([2, 4]);
  });
});

describe('days_to_close (Kaplan-Meier)', () => {
  it('censors open referrals at the as-of date and reports the median with its log-log interval', () => {
    // times (e = closed, c = open at the as-of date): R4 2e, R3 5e, R9 13c, R8 14c, R7 30e, R11 30c,
    //   R10 31c, R1 60e, R6 60c, R2 61e, R12 121c (closed after the as-of date), R13 167c, R5 487c
    // S: t2 12/13; t5 11/13; t30 (9 at risk) 11/13*8/9 = 0.752137; t60 (6 at risk) *5/6 = 0.626781;
    //   t61 (4 at risk) *3/4 = 0.470085 <= 0.5 -> median 61.
    // Greenwood sums: t5 1/156 + 1/132 = 0.013986; t30 + 1/72 = 0.027875.
    // lower band S^exp(-z se / log S): t5: 0.846154^exp(1.387514) = 0.5122 > 0.5; t30: 0.752137^exp(1.148805) = 0.4072 -> low 30.
    // upper band at t61: se = sqrt(0.144542) = 0.380186, 0.470085^exp(-0.987152) = 0.7548 > 0.5, and no later event -> no high.
    const r = c.get('days_to_close', 'all', null);
    expect(fig(r)).toEqual([5, 13]);
    expect(r?.value).toBe(61);
    expect(r?.ci_low).toBe(30);
    expect(r?.ci_high).toBeNull();
    // OrgB: R3 5e, R4 2e, R7 30e, R12 121c (R9 13c) -> S: t2 4/5, t5 3/5, t13 c, t30 (2 at risk) 3/10 -> median 30
    const b = c.get('days_to_close', 'all', null, 'target_org_id', 'ORG-B');
    expect(fig(b)).toEqual([3, 5]);
    expect(b?.value).toBe(30);
  });

  it('keeps the curve for dashboards at grain all, overall and per partner', async () => {
    const curve = await rows<{ time: number; at_risk: number; events: number; censored: number; survival: number }>(c.db.conn,
      `SELECT time, at_risk, events, censored, survival FROM km_curves WHERE metric_id = 'days_to_close' AND dimension = 'all' ORDER BY time`);
    // follow-up stops at day 180: R5, open for 487 days, is censored there
    expect(curve.map((p) => p.time)).toEqual([2, 5, 13, 14, 30, 31, 60, 61, 121, 167, 180]);
    expect(curve.map((p) => p.at_risk)).toEqual([13, 12, 11, 10, 9, 7, 6, 4, 3, 2, 1]);
    expect(curve.find((p) => p.time === 61)?.survival).toBeCloseTo((11 / 13) * (8 / 9) * (5 / 6) * (3 / 4), 12);
    const dims = await rows<{ dimension: string; group_value: string }>(c.db.conn,
      'SELECT DISTINCT dimension, group_value FROM km_curves ORDER BY ALL');
    expect(dims).toEqual([
      { dimension: 'all', group_value: 'all' },
      { dimension: 'target_org_id', group_value: 'ORG-A' },
      { dimension: 'target_org_id', group_value: 'ORG-B' },
    ]);
  });
});

describe('days_to_service and the shares served (Aalen-Johansen)', () => {
  // served (event): R6 day 9, R1 day 10; closed without a service (competing): R4 day 2, R3 day 5,
  //   R7 day 30, R2 day 61; open (censored): R9 13, R8 14, R11 30, R10 31, and at day 90 R12 (121),
  //   R13 (167) and R5 (487; its service date is after the as-of date).
  // Incidence of service: t9: S = 13/13 * 12/13 * 11/12 = 11/13 before, 1/11 of 11 at risk -> F = 1/13;
  //   t10: S = 10/13 before, 1 of 10 -> F = 2/13 = 0.153846, and no later service.
  // R 4.2, survival 3.5: survfit(Surv(time, factor(status, 0:2, c("c", "served", "closed"))) ~ 1) with
  //   time = 2,5,9,10,13,14,30,30,31,61,90,90,90, status = 2,2,1,1,0,0,2,0,0,2,0,0,0: pstate 0.153846153846154,
  //   std.err 0.100068251628922, lower 0.0429959963128339, upper 0.550484721438809 at days 30, 60 and 90;
  //   the upper bound first reaches 0.5 on day 9 (0.5056670293).
  it('the median is not reached: fewer than half are served by day 90', () => {
    const r = c.get('days_to_service', 'all', null);
    expect(fig(r)).toEqual([2, 13]);
    expect(r?.value).toBeNull();
    expect(r?.ci_low).toBe(9);
    expect(r?.ci_high).toBeNull();
  });

  it('share served by day 30, 60 and 90, with R\'s interval; closures are a competing event, not censoring', () => {
    for (const d of [30, 60, 90]) {
      const r = c.get(`share_served_${d}d`, 'all', null);
      expect(fig(r), `day ${d}`).toEqual([2, 13]);
      expect(r?.value).toBeCloseTo(2 / 13, 12);
      expect(r?.ci_low).toBeCloseTo(0.0429959963128339, 10);
      expect(r?.ci_high).toBeCloseTo(0.550484721438809, 10);
    }
    // 1 - Kaplan-Meier with closures censored would say 1 - 10/11 * 9/10 = 0.1818 (at risk 11, 10)
    expect(c.get('share_served_90d', 'all', null)?.value).toBeLessThan(1 - (10 / 11) * (9 / 10));
  });
});

describe('stale_open_referrals', () => {
  it('counts referrals open at the as-of date and more than 30 days old, at grain all only', () => {
    // open and older than 30 days: R5 (487), R6 (60), R10 (31), R12 (121: closes after the as-of date), R13 (167)
    // not: R8 (14), R9 (13), R11 (30 exactly)
    const r = c.get('stale_open_referrals', 'all', null);
    expect(r?.numerator).toBe(5);
    expect(r?.value).toBe(5);
    expect(r?.denominator).toBeNull();
    expect(c.of('stale_open_referrals').every((x) => x.period_grain === 'all')).toBe(true);
    expect(c.get('stale_open_referrals', 'all', null, 'target_org_id', 'ORG-A')?.value).toBe(4); // R5 R6 R10 R13
    expect(c.get('stale_open_referrals', 'all', null, 'target_org_id', 'ORG-B')?.value).toBe(1); // R12
    // ages at the as-of date: P1 44, P2 13, P3 66; groups with a zero count have no row
    expect(c.get('stale_open_referrals', 'all', null, 'age_band', '26-44')?.value).toBe(2);
    expect(c.get('stale_open_referrals', 'all', null, 'age_band', '0-17')?.value).toBe(1);
    expect(c.get('stale_open_referrals', 'all', null, 'age_band', '65+')?.value).toBe(2);
    expect(c.get('stale_open_referrals', 'all', null, 'age_band', '45-64')).toBeUndefined();
  });
});

describe('period_status: final only when every unit has had the longest window', () => {
  const status = (m: string, grain: string, start: string | null) => c.get(m, grain, start)?.period_status;
  it('issue 15: a period is final when its calendar end + the window <= the as-of date (2024-06-30)', () => {
    // closed_loop_rate (60 days): March 2024 ends 03-31, + 60 = 05-30: final; May 2024: 05-31 + 60 = 07-30: provisional
    expect(status('closed_loop_rate', 'month', '2024-03-01')).toBe('final');
    expect(status('closed_loop_rate', 'month', '2024-05-01')).toBe('provisional');
    // acceptance (14 days): May 2024: 05-31 + 14 = 06-14: final; June 2024 and Q2 2024 (end 06-30): provisional
    expect(status('referral_acceptance_rate', 'month', '2024-05-01')).toBe('final');
    expect(status('referral_acceptance_rate', 'month', '2024-06-01')).toBe('provisional');
    expect(status('referral_acceptance_rate', 'quarter', '2024-04-01')).toBe('provisional');
    // the whole span ends at the as-of date: provisional while any window is open
    expect(status('referral_acceptance_rate', 'all', null)).toBe('provisional');
    // a snapshot is what it says at the as-of date
    expect(status('stale_open_referrals', 'all', null)).toBe('final');
  });

  it('issue 15: periods that begin before the referral data (first referral 2023-01-10) are partial', () => {
    expect(status('referral_acceptance_rate', 'month', '2023-01-01')).toBe('partial');
    expect(status('referral_acceptance_rate', 'quarter', '2023-01-01')).toBe('partial');
    expect(status('referral_acceptance_rate', 'year', '2023-01-01')).toBe('partial');
    expect(status('referral_acceptance_rate', 'month', '2023-02-01')).toBe('final');
  });
});

describe('unreliable (NCHS: relative standard error above 30% or fewer than 20 events)', () => {
  it('flags small numerators, leaves figures without a value unassessed', () => {
    // every figure of this drop rests on fewer than 20 events
    expect(c.get('referral_acceptance_rate', 'all', null)?.unreliable).toBe(true);
    expect(c.get('stale_open_referrals', 'all', null)?.unreliable).toBe(true);
    // the median of days to service is not reached: nothing to rate
    expect(c.get('days_to_service', 'all', null)?.unreliable).toBeNull();
  });
});

describe('the results table', () => {
  it('has exactly the columns of outputs.md, in order, with their types', async () => {
    const cols = await rows<{ column_name: string; data_type: string }>(c.db.conn,
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'metric_results' ORDER BY ordinal_position");
    expect(cols.map((x) => `${x.column_name}:${x.data_type}`)).toEqual([
      'metric_id:VARCHAR', 'period_grain:VARCHAR', 'period_start:DATE', 'period_end:DATE', 'dimension:VARCHAR', 'group_value:VARCHAR',
      'numerator:DOUBLE', 'denominator:DOUBLE', 'value:DOUBLE', 'ci_low:DOUBLE', 'ci_high:DOUBLE', 'suppressed:BOOLEAN',
      'reference_group:VARCHAR', 'rate_difference:DOUBLE', 'rd_ci_low:DOUBLE', 'rd_ci_high:DOUBLE', 'rate_ratio:DOUBLE',
      'rr_ci_low:DOUBLE', 'rr_ci_high:DOUBLE', 'p_value:DOUBLE', 'q_value:DOUBLE', 'disparity_flag:BOOLEAN',
      'run_id:VARCHAR', 'as_of:DATE', 'note:VARCHAR',
      // added at the end (issue 15)
      'period_status:VARCHAR', 'unreliable:BOOLEAN', 'disparity_flag_unadjusted:BOOLEAN',
    ]);
    expect(c.all.every((r) => r.suppressed === false && r.run_id === 'test-run' && r.as_of === AS_OF)).toBe(true);
  });

  it('has one row per metric x grain x period x dimension x group', async () => {
    const dupes = await rows(c.db.conn, `SELECT metric_id, period_grain, period_start, dimension, group_value, count(*) AS n
FROM metric_results GROUP BY ALL HAVING count(*) > 1`);
    expect(dupes).toEqual([]);
  });

  it('computes nothing for entities without rows', () => {
    // no screenings, PHQ-9 or encounters in this drop
    for (const m of ['screening_rate', 'positive_needs', 'phq9_follow_up_rate', 'ed_visits_per_1000_mm', 'demand_capacity_ratio']) {
      expect(c.of(m)).toEqual([]);
    }
  });
});

describe('an earlier as-of date', () => {
  it('ignores referrals and milestones after it', async () => {
    // as-of 2023-03-10: referrals R1 R2 (2023-01-10), R3 R4 (2023-02-28), R5 (2023-03-01); R1 closes on 03-11
    const early = await computeDrop(CLOSED_LOOP_DROP, { asOf: '2023-03-10' });
    try {
      // need met within 90 days: no referral is 90 days old yet
      expect(early.of('need_met_rate')).toEqual([]);
      // acceptance: referred on or before 2023-02-24 -> R1 (accepted day 2); R2 has no dated acceptance
      expect(fig(early.get('referral_acceptance_rate', 'all', null))).toEqual([1, 2]);
      // closed-loop: nothing is 60 days old yet
      expect(early.of('closed_loop_rate')).toEqual([]);
      // Kaplan-Meier: R4 2e, R3 5e, R5 9c, R1 59c, R2 59c -> S = 4/5, 3/5, never <= 0.5
      const km = early.get('days_to_close', 'all', null);
      expect([km?.numerator, km?.denominator, km?.value]).toEqual([2, 5, null]);
      expect(early.get('days_to_close', 'month', '2023-03-01')?.period_end).toBe('2023-03-10');
      expect(early.of('days_to_close', { period_grain: 'month', dimension: 'all' }).map((r) => r.period_start)).toEqual(['2023-01-01', '2023-02-01', '2023-03-01']);
      // stale: open and older than 30 days on 2023-03-10: R1 R2 (59 days; their closings are later)
      expect(early.get('stale_open_referrals', 'all', null)?.value).toBe(2);
    } finally {
      early.close();
    }
  });

  it('replaces the results of an earlier run on the same connection', async () => {
    const first = await scalar<number>(c.db.conn, 'SELECT count(*) FROM metric_results');
    const again = await computeMetrics(c.db.conn, { asOf: AS_OF, runId: 'again', twoWayCuts: ['sex*age_band'] });
    expect(again.rows).toBe(first);
    expect(await scalar<number>(c.db.conn, "SELECT count(*) FROM metric_results WHERE run_id = 'again'")).toBe(first);
    expect(Object.values(again.perMetric).reduce((a, b) => a + b, 0)).toBe(first);
    await expect(computeMetrics(c.db.conn, { asOf: '2024-13-01', runId: 'x' })).rejects.toThrow(/YYYY-MM-DD/);
  });
});
