// Screening, need and service-gap metrics on a hand-built drop. As-of date 2024-06-30.
//
// People (enrollment spans; birth dates):
//   Q1 female white    en  county 37001 medicaid ACO1  enrolled 2023-01-01..     born 1990-01-01
//   Q2 male   black    es  county 37003 medicare ACO2  enrolled 2023-06-16..2023-12-31, born 2006-02-10 (18 on 2024-02-10)
//   Q3 all attributes unknown                          enrolled 2024-01-01..     born 1970-01-01
//   Q4 female hispanic en  county 37001 dual     ACO1  enrolled 2022 only (never during the span), born 1985-01-01
//   Q5 male   white    en  county 37001 medicare ACO1  enrolled 2023-02-10..2023-02-20, born 1950-05-05
// Screenings (the span starts 2023-02-15, a Wednesday in a 28-day February):
//   S1  Q1 2023-02-15 food +, housing_instability -, transportation declined
//   S2  Q1 2023-03-20 food +
//   S3  Q2 2023-07-10 food -, housing_instability +, utilities +
//   S4  Q3 2024-05-31 food +            S5 Q3 2024-06-01 housing_instability +
//   S6  Q4 2023-02-20 food +            S7 Q1 2024-04-01 social_isolation +, employment -
//   S8  Q2 2024-01-05 food declined     S9 Q5 2023-02-25 food -    S10 Q3 2024-04-15 food -
// Positive needs: N1 S1 food, N2 S2 food, N3 S3 housing, N4 S3 utilities, N5 S4 food, N6 S5 housing,
//   N7 S6 food, N8 S7 social_isolation.
// Referrals (day = days after the related screening):
//   F1 Q1 food 2023-03-17 (N1 day 30)  accepted 2023-04-16 (day 60 after S1), closed 2023-04-20 need_met
//   F2 Q1 food 2023-04-20 (N2 day 31)  pending
//   F7 Q1 food 2023-06-19 (N2 day 91)  closed 2023-06-25 need_met
//   F3 Q2 housing 2023-07-10 (N3 day 0) accepted 2023-09-09 (day 61), closed 2023-10-01 need_met
//   F6 Q2 utilities 2023-06-01 (BEFORE S3) accepted 2023-07-15 (day 5 after S3), open
//   F4 Q3 food 2024-06-05 (N5 day 5) pending
//   F5 Q4 food 2023-02-25 (N7 day 5) completed, no accepted_on, service 2023-04-22 (day 61), closed 2023-05-01 need_met
//   F8 Q4 food 2023-01-05 accepted 2023-01-10 (before Q4's first positive screen), open
// Service directory: Food Pantry (PF1, cap 10) and Meals (PF2, cap 5) serve food in 37001; Housing
//   Help (PH1, capacity unknown) serves housing in 37003; Rides (PT1, cap 4) serves transportation in 37005.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../../models/duckdb.ts';
import { computeDrop, wilsonByFormula, type Computed, type Drop } from './helpers.ts';

const scr = (id: string, person: string, on: string, results: Record<string, string>) =>
  Object.entries(results).map(([domain, result]) => ({ screening_id: id, person_id: person, screened_on: on, domain, result }));

export const SCREENING_DROP: Drop = {
  people: [
    { person_id: 'Q1', birth_date: '1990-01-01', sex: 'female', race_ethnicity: 'white', preferred_language: 'en', zip: '27601', county_fips: '37001', rurality: 'urban', payer: 'medicaid', program_id: 'ACO1', enrolled_from: '2023-01-01' },
    { person_id: 'Q2', birth_date: '2006-02-10', sex: 'male', race_ethnicity: 'black', preferred_language: 'es', zip: '27401', county_fips: '37003', rurality: 'rural', payer: 'medicare', program_id: 'ACO2', enrolled_from: '2023-06-16', enrolled_through: '2023-12-31' },
    { person_id: 'Q3', birth_date: '1970-01-01', enrolled_from: '2024-01-01' },
    { person_id: 'Q4', birth_date: '1985-01-01', sex: 'female', race_ethnicity: 'hispanic_latino', preferred_language: 'en', zip: '27601', county_fips: '37001', rurality: 'urban', payer: 'dual', program_id: 'ACO1', enrolled_from: '2022-01-01', enrolled_through: '2022-12-31' },
    { person_id: 'Q5', birth_date: '1950-05-05', sex: 'male', race_ethnicity: 'white', preferred_language: 'en', zip: '27601', county_fips: '37001', rurality: 'urban', payer: 'medicare', program_id: 'ACO1', enrolled_from: '2023-02-10', enrolled_through: '2023-02-20' },
  ],
  screenings: [
    ...scr('S1', 'Q1', '2023-02-15', { food: 'positive', housing_instability: 'negative', transportation: 'declined' }),
    ...scr('S2', 'Q1', '2023-03-20', { food: 'positive' }),
    ...scr('S3', 'Q2', '2023-07-10', { food: 'negative', housing_instability: 'positive', utilities: 'positive' }),
    ...scr('S4', 'Q3', '2024-05-31', { food: 'positive' }),
    ...scr('S5', 'Q3', '2024-06-01', { housing_instability: 'positive' }),
    ...scr('S6', 'Q4', '2023-02-20', { food: 'positive' }),
    ...scr('S7', 'Q1', '2024-04-01', { social_isolation: 'positive', employment: 'negative' }),
    ...scr('S8', 'Q2', '2024-01-05', { food: 'declined' }),
    ...scr('S9', 'Q5', '2023-02-25', { food: 'negative' }),
    ...scr('S10', 'Q3', '2024-04-15', { food: 'negative' }),
  ],
  referrals: [
    { referral_id: 'F1', person_id: 'Q1', need_domain: 'food', referred_on: '2023-03-17', status: 'completed', accepted_on: '2023-04-16', closed_on: '2023-04-20', outcome: 'need_met' },
    { referral_id: 'F2', person_id: 'Q1', need_domain: 'food', referred_on: '2023-04-20', status: 'pending' },
    { referral_id: 'F7', person_id: 'Q1', need_domain: 'food', referred_on: '2023-06-19', status: 'completed', closed_on: '2023-06-25', outcome: 'need_met' },
    { referral_id: 'F3', person_id: 'Q2', need_domain: 'housing_instability', referred_on: '2023-07-10', status: 'completed', accepted_on: '2023-09-09', closed_on: '2023-10-01', outcome: 'need_met' },
    { referral_id: 'F6', person_id: 'Q2', need_domain: 'utilities', referred_on: '2023-06-01', status: 'accepted', accepted_on: '2023-07-15' },
    { referral_id: 'F4', person_id: 'Q3', need_domain: 'food', referred_on: '2024-06-05', status: 'pending' },
    { referral_id: 'F8', person_id: 'Q4', need_domain: 'food', referred_on: '2023-01-05', status: 'accepted', accepted_on: '2023-01-10' },
    { referral_id: 'F5', person_id: 'Q4', need_domain: 'food', referred_on: '2023-02-25', status: 'completed', service_started_on: '2023-04-22', closed_on: '2023-05-01', outcome: 'need_met' },
  ],
  services: [
    { program_id: 'PF1', org_id: 'OF', org_name: 'Org F', program_name: 'Food Pantry', domain: 'food', county_fips: '37001', monthly_capacity: 10 },
    { program_id: 'PF2', org_id: 'OG', org_name: 'Org G', program_name: 'Meals', domain: 'food', county_fips: '37001', monthly_capacity: 5 },
    { program_id: 'PH1', org_id: 'OH', org_name: 'Org H', program_name: 'Housing Help', domain: 'housing_instability', county_fips: '37003', monthly_capacity: null },
    { program_id: 'PT1', org_id: 'OT', org_name: 'Org T', program_name: 'Rides', domain: 'transportation', county_fips: '37005', monthly_capacity: 4 },
  ],
};

const AS_OF = '2024-06-30';
let c: Computed;
beforeAll(async () => {
  c = await computeDrop(SCREENING_DROP, { asOf: AS_OF });
});
afterAll(() => c.close());

const fig = (r: { numerator: number | null; denominator: number | null } | undefined) => r && [r.numerator, r.denominator];
const at = (metric: string, grain: string, start: string | null, dim = 'all', group = 'all') => fig(c.get(metric, grain, start, dim, group));

describe('screening_rate', () => {
  it('counts people enrolled on some day of the period, screened in it (screening on any day of the period)', () => {
    // whole span (2023-02-15..2024-06-30): enrolled Q1 Q2 Q3 Q5 (Q4 only in 2022); all four screened
    expect(at('screening_rate', 'all', '2023-02-15')).toEqual([4, 4]);
    // Feb 2023: Q1 and Q5 enrolled; Q5 screened on the 25th, after his enrollment ended on the 20th: still counted
    expect(at('screening_rate', 'month', '2023-02-01')).toEqual([2, 2]);
    expect(at('screening_rate', 'month', '2023-03-01')).toEqual([1, 1]);
    // a person screened in two months of the quarter counts once: Q1 2023 = Q1 and Q5
    expect(at('screening_rate', 'quarter', '2023-01-01')).toEqual([2, 2]);
    expect(at('screening_rate', 'month', '2023-04-01')).toEqual([0, 1]);
    expect(at('screening_rate', 'month', '2023-06-01')).toEqual([0, 2]); // Q2 enrolled from the 16th
    expect(at('screening_rate', 'month', '2023-07-01')).toEqual([1, 2]);
    expect(at('screening_rate', 'year', '2023-01-01')).toEqual([3, 3]);
    // Jan 2024: Q1 Q3 enrolled, nobody enrolled screened (Q2's screening on the 5th: Q2 left in 2023)
    expect(at('screening_rate', 'month', '2024-01-01')).toEqual([0, 2]);
    expect(at('screening_rate', 'quarter', '2024-01-01')).toEqual([0, 2]);
    expect(at('screening_rate', 'month', '2024-04-01')).toEqual([2, 2]);
    expect(at('screening_rate', 'year', '2024-01-01')).toEqual([2, 2]);
    expect(c.get('screening_rate', 'month', '2024-01-01')?.value).toBe(0);
    const [lo, hi] = wilsonByFormula(0, 2);
    expect(c.get('screening_rate', 'month', '2024-01-01')?.ci_low).toBe(0);
    expect(c.get('screening_rate', 'month', '2024-01-01')?.ci_high).toBeCloseTo(hi, 10);
    expect(lo).toBe(0);
  });

  it('takes ages at the period end', () => {
    // whole span ends 2024-06-30: Q2 is 18 there, though 17 at her screening
    expect(at('screening_rate', 'all', null, 'age_band', '18-25')).toEqual([1, 1]);
    expect(c.get('screening_rate', 'all', null, 'age_band', '0-17')).toBeUndefined();
    expect(at('screening_rate', 'all', null, 'age_band', '65+')).toEqual([1, 1]); // Q5, 74
    // 2023 ends 2023-12-31: Q2 is 17
    expect(at('screening_rate', 'year', '2023-01-01', 'age_band', '0-17')).toEqual([1, 1]);
    // Q4 never enrolled in the span: no hispanic_latino group
    expect(c.get('screening_rate', 'all', null, 'race_ethnicity', 'hispanic_latino')).toBeUndefined();
    expect(at('screening_rate', 'all', null, 'race_ethnicity*payer', 'white*medicare')).toEqual([1, 1]);
  });
});

describe('screen_positive_rate', () => {
  it('counts people, not screenings: positive in any domain over screened in the period', () => {
    // whole span: Q1..Q5 screened, Q5 only negative -> 4/5
    expect(at('screen_positive_rate', 'all', null)).toEqual([4, 5]);
    expect(at('screen_positive_rate', 'month', '2023-02-01')).toEqual([2, 3]); // Q1 Q4 +, Q5 -
    expect(at('screen_positive_rate', 'month', '2023-03-01')).toEqual([1, 1]);
    expect(at('screen_positive_rate', 'quarter', '2023-01-01')).toEqual([2, 3]); // Q1 once
    expect(at('screen_positive_rate', 'year', '2023-01-01')).toEqual([3, 4]);
    expect(at('screen_positive_rate', 'quarter', '2024-01-01')).toEqual([0, 1]); // Q2 declined only
    // April 2024: Q1 + (S7), Q3 - (S10); Q3 screens positive in May, so the quarter counts her positive
    expect(at('screen_positive_rate', 'month', '2024-04-01')).toEqual([1, 2]);
    expect(at('screen_positive_rate', 'quarter', '2024-04-01')).toEqual([2, 2]);
    expect(at('screen_positive_rate', 'year', '2024-01-01')).toEqual([2, 3]);
  });

  it('cuts by domain among people screened for that domain (declined included)', () => {
    expect(at('screen_positive_rate', 'all', null, 'domain', 'food')).toEqual([3, 5]); // + Q1 Q3 Q4; - Q2 (neg, declined) Q5
    expect(at('screen_positive_rate', 'all', null, 'domain', 'housing_instability')).toEqual([2, 3]); // Q1 -, Q2 +, Q3 +
    expect(at('screen_positive_rate', 'all', null, 'domain', 'transportation')).toEqual([0, 1]); // declined
    expect(at('screen_positive_rate', 'all', null, 'domain', 'employment')).toEqual([0, 1]);
    expect(at('screen_positive_rate', 'all', null, 'domain', 'utilities')).toEqual([1, 1]);
    expect(at('screen_positive_rate', 'year', '2024-01-01', 'domain', 'food')).toEqual([1, 2]); // Q2 declined, Q3 -,+
    expect(at('screen_positive_rate', 'month', '2024-04-01', 'domain', 'food')).toEqual([0, 1]);
    expect(at('screen_positive_rate', 'quarter', '2024-04-01', 'domain', 'food')).toEqual([1, 1]);
    expect(at('screen_positive_rate', 'quarter', '2023-01-01', 'domain', 'food')).toEqual([2, 3]);
    expect(c.get('screen_positive_rate', 'all', null, 'domain', 'mental_health')).toBeUndefined();
  });

  it('takes ages at the person\'s first screening in the period', () => {
    // 2024: Q2's first screening there is 2024-01-05, aged 17 (18 only on 2024-02-10)
    expect(at('screen_positive_rate', 'year', '2024-01-01', 'age_band', '0-17')).toEqual([0, 1]);
    expect(c.get('screen_positive_rate', 'year', '2024-01-01', 'age_band', '18-25')).toBeUndefined();
    expect(at('screen_positive_rate', 'all', null, 'age_band', '26-44')).toEqual([2, 2]); // Q1 (33), Q4 (38)
    expect(at('screen_positive_rate', 'all', null, 'age_band', '65+')).toEqual([0, 1]); // Q5
    expect(at('screen_positive_rate', 'all', null, 'race_ethnicity', 'unknown')).toEqual([1, 1]); // Q3
  });
});

describe('need_referral_rate', () => {
  it('counts same-domain referrals on days 0..30 after the screening, over needs at least 30 days old', () => {
    // denominator: screened on or before 2024-05-31: N1 N2 N3 N4 N5 N7 N8 = 7 (N6, 2024-06-01, not yet measurable)
    // numerator: N1 (F1 day 30), N3 (F3 day 0), N5 (F4 day 5), N7 (F5 day 5) = 4;
    //   N2: F1 was before it, F2 on day 31; N4: F6 (utilities) was made before the screening; N8: none
    expect(at('need_referral_rate', 'all', null)).toEqual([4, 7]);
    const [lo, hi] = wilsonByFormula(4, 7);
    expect(c.get('need_referral_rate', 'all', null)?.ci_low).toBeCloseTo(lo, 10);
    expect(c.get('need_referral_rate', 'all', null)?.ci_high).toBeCloseTo(hi, 10);
    expect(at('need_referral_rate', 'month', '2023-02-01')).toEqual([2, 2]);
    expect(at('need_referral_rate', 'month', '2023-03-01')).toEqual([0, 1]);
    expect(at('need_referral_rate', 'month', '2024-05-01')).toEqual([1, 1]);
    expect(c.get('need_referral_rate', 'month', '2024-06-01')).toBeUndefined();
    expect(at('need_referral_rate', 'all', null, 'domain', 'food')).toEqual([3, 4]);
    expect(at('need_referral_rate', 'all', null, 'domain', 'housing_instability')).toEqual([1, 1]);
    // ages at screened_on: Q2 17 at S3; Q1 and Q4 26-44; Q3 54
    expect(at('need_referral_rate', 'all', null, 'age_band', '0-17')).toEqual([1, 2]);
    expect(at('need_referral_rate', 'all', null, 'age_band', '26-44')).toEqual([2, 4]);
    expect(at('need_referral_rate', 'all', null, 'age_band', '45-64')).toEqual([1, 1]);
  });
});

describe('days_to_referral (Kaplan-Meier)', () => {
  it('censors at day 30 or at the as-of date', () => {
    // N3 0e, N5 5e, N7 5e, N6 29c (screened 2024-06-01: 29 days to the as-of date), N1 30e, N2 30c (day 31),
    // N4 30c, N8 30c. S: t0 7/8, t5 (7 at risk) 7/8*5/7 = 5/8, t30 (4 at risk) 5/8*3/4 = 15/32 = 0.46875 -> median 30.
    // lower band at t0: se = sqrt(1/56) = 0.133631, 0.875^exp(1.961432) = 0.3870 <= 0.5 -> low 0.
    // upper band at t30: se = sqrt(1/56 + 2/35 + 1/12) = 0.397911, 0.46875^exp(-1.029313) = 0.7629 -> no high.
    const r = c.get('days_to_referral', 'all', null);
    expect(fig(r)).toEqual([4, 8]);
    expect(r?.value).toBe(30);
    expect(r?.ci_low).toBe(0);
    expect(r?.ci_high).toBeNull();
  });
});

describe('connected_60d_rate', () => {
  it('anchors each adult on the earliest positive core screen at 18+ and looks for a dated acceptance or service within 60 days', () => {
    // Q1 anchor 2023-02-15 (food): F1 accepted day 60 -> yes
    // Q2's only positive core screen, S3 2023-07-10, was at 17 (MIPS #498 counts adults): not in the metric
    // Q4 anchor 2023-02-20 (food): F5 completed without accepted_on, service day 61; F8 accepted before the anchor -> no
    // Q3 anchor 2024-05-31: window ends after the as-of date -> not measurable
    expect(at('connected_60d_rate', 'all', null)).toEqual([1, 2]);
    expect(at('connected_60d_rate', 'month', '2023-02-01')).toEqual([1, 2]);
    expect(c.get('connected_60d_rate', 'month', '2023-07-01')).toBeUndefined();
    expect(c.get('connected_60d_rate', 'month', '2024-05-01')).toBeUndefined();
    expect(c.get('connected_60d_rate', 'all', null, 'age_band', '0-17')).toBeUndefined();
    expect(at('connected_60d_rate', 'all', null, 'age_band', '26-44')).toEqual([1, 2]);
    // payer on the anchor date: Q1 medicaid; Q4's coverage ended 2022-12-31, so unknown on 2023-02-20
    expect(at('connected_60d_rate', 'all', null, 'payer', 'medicaid')).toEqual([1, 1]);
    expect(at('connected_60d_rate', 'all', null, 'payer', 'unknown')).toEqual([0, 1]);
    expect(c.get('connected_60d_rate', 'all', null, 'payer', 'dual')).toBeUndefined();
  });
});

describe('service gaps', () => {
  it('positive_needs: the all row for every period of the span, groups only with a count', () => {
    expect(c.get('positive_needs', 'all', null)?.value).toBe(8);
    expect(c.get('positive_needs', 'month', '2023-02-01')?.value).toBe(2);
    expect(c.get('positive_needs', 'month', '2023-04-01')?.value).toBe(0);
    expect(c.get('positive_needs', 'month', '2023-04-01', 'domain', 'food')).toBeUndefined();
    expect(c.of('positive_needs', { period_grain: 'month', dimension: 'all' })).toHaveLength(17); // 2023-02 .. 2024-06
    expect(c.get('positive_needs', 'quarter', '2023-04-01')?.value).toBe(0);
    expect(c.get('positive_needs', 'all', null, 'domain*county_fips', 'food*37001')?.value).toBe(3); // N1 N2 N7
    expect(c.get('positive_needs', 'all', null, 'domain*county_fips', 'food*unknown')?.value).toBe(1); // N5
    expect(c.get('positive_needs', 'all', null, 'domain', 'housing_instability')?.value).toBe(2);
  });

  it('unmet_need_rate: no same-domain referral within 90 days closed need_met by the as-of date', () => {
    // denominator: screened on or before 2024-04-01: N1 N2 N3 N4 N7 N8 = 6
    // met: N1 (F1), N3 (F3), N7 (F5); N2's need_met referral F7 is on day 91 -> unmet N2 N4 N8 = 3
    expect(at('unmet_need_rate', 'all', null)).toEqual([3, 6]);
    expect(at('unmet_need_rate', 'all', null, 'domain*county_fips', 'food*37001')).toEqual([1, 3]);
    expect(at('unmet_need_rate', 'all', null, 'domain*county_fips', 'utilities*37003')).toEqual([1, 1]);
    expect(c.get('unmet_need_rate', 'all', null, 'domain*county_fips', 'food*unknown')).toBeUndefined(); // N5 not measurable
  });

  it('demand_capacity_ratio: needs over capacity x months, with notes where capacity is missing', () => {
    // months in the span: February 2023 from the 15th = 14/28 = 0.5, then 16 whole months = 16.5
    const cell = (start: string | null, grain: string, group: string, dim = 'domain*county_fips') => c.get('demand_capacity_ratio', grain, start, dim, group);
    const food = cell(null, 'all', 'food*37001');
    expect(fig(food)).toEqual([3, 15 * 16.5]); // N1 N2 N7 over (10 + 5) x 16.5
    expect(food?.value).toBeCloseTo(3 / 247.5, 12);
    expect(food?.note).toBeNull();
    expect(fig(cell('2023-02-01', 'month', 'food*37001'))).toEqual([2, 7.5]); // N1 N7 over 15 x 0.5
    expect(fig(cell('2023-01-01', 'quarter', 'food*37001'))).toEqual([3, 22.5]); // 15 x 1.5
    expect(cell('2023-04-01', 'month', 'food*37001')?.value).toBe(0); // a serving program, no need
    const unknown = cell(null, 'all', 'housing_instability*37003');
    expect([unknown?.numerator, unknown?.denominator, unknown?.value, unknown?.note]).toEqual([1, null, null, 'capacity unknown']);
    const none = cell(null, 'all', 'utilities*37003');
    expect([none?.numerator, none?.denominator, none?.value, none?.note]).toEqual([1, 0, null, 'no provider']);
    expect(cell(null, 'all', 'food*unknown')?.note).toBe('no provider');
    expect(fig(cell(null, 'all', 'transportation*37005'))).toEqual([0, 4 * 16.5]);
    expect(fig(cell(null, 'all', 'food', 'domain'))).toEqual([4, 247.5]);
    expect(fig(cell(null, 'all', '37001', 'county_fips'))).toEqual([4, 247.5]); // N1 N2 N7 N8
    expect(cell(null, 'all', '37003', 'county_fips')?.note).toBe('capacity unknown');
    const all = cell(null, 'all', 'all', 'all');
    expect([all?.numerator, all?.denominator, all?.note]).toEqual([8, null, 'capacity unknown']);
  });

  it('gap_table ranks cells by unmet needs, then by unmet_need_rate, and lists the serving programs', async () => {
    const gap = await rows<{ rank: number; domain: string; county_fips: string; unmet_needs: number; needs_met: number; programs: string | null }>(
      c.db.conn, 'SELECT rank, domain, county_fips, unmet_needs, needs_met, programs FROM gap_table ORDER BY rank');
    expect(gap.map((g) => `${g.domain}*${g.county_fips}`)).toEqual([
      'social_isolation*37001', // 1 unmet, rate 1
      'utilities*37003', // 1 unmet, rate 1
      'food*37001', // 1 unmet, rate 1/3
      'housing_instability*37003', // 0 unmet, rate 0
      'food*unknown', 'housing_instability*unknown', 'transportation*37005', // nothing measurable yet
    ]);
    expect(gap.find((g) => g.domain === 'food' && g.county_fips === '37001')).toMatchObject({
      unmet_needs: 1, needs_met: 2, programs: 'Food Pantry (Org F; PF1) | Meals (Org G; PF2)',
    });
  });
});

describe('demand_capacity_ratio without a service directory', () => {
  it('has a row per group with a positive need, each with no provider', async () => {
    const { services: _, ...rest } = SCREENING_DROP;
    const c2 = await computeDrop(rest, { asOf: AS_OF });
    try {
      const all = c2.get('demand_capacity_ratio', 'all', null);
      expect([all?.numerator, all?.denominator, all?.value, all?.note]).toEqual([8, 0, null, 'no provider']);
      // months without positive needs have no row at all (nothing to compare with)
      expect(c2.get('demand_capacity_ratio', 'month', '2023-04-01')).toBeUndefined();
      expect(c2.of('demand_capacity_ratio').every((r) => r.note === 'no provider' && (r.numerator ?? 0) >= 1)).toBe(true);
    } finally {
      c2.close();
    }
  });
});
