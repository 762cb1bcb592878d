// The rules that make a mirrored metric faithful to its measure (the dictionary's fidelity
// table), each on a hand-built drop with the figures worked out below: CMS SDOH-1 and SDOH-2
// (adults, all five core domains, per domain among those screened for it), HEDIS SNS-E
// (member-based per domain, 30 days, cancelled referrals no intervention, continuous
// enrollment, hospice and death), HEDIS DRR-E (the highest score of the index day,
// continuous enrollment through the follow-up window, hospice and death). MIPS #498's adults
// rule is in screeningsAndNeeds.test.ts, phq9_mean_change's wording in catalog.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../../models/duckdb.ts';
import { computeDrop, type Computed, type Drop } from './helpers.ts';

const CORE = ['food', 'housing_instability', 'transportation', 'utilities', 'interpersonal_safety'] as const;
const scr = (id: string, person: string, on: string, results: Partial<Record<string, string>>) =>
  Object.entries(results).map(([domain, result]) => ({ screening_id: id, person_id: person, screened_on: on, domain, result: result as string }));
const allFive = (positive: string | null, declined: string | null = null) =>
  Object.fromEntries(CORE.map((d) => [d, d === declined ? 'declined' : d === positive ? 'positive' : 'negative']));

const fig = (c: Computed, metric: string, grain: string, start: string | null, dimension = 'all', group = 'all') => {
  const r = c.get(metric, grain, start, dimension, group);
  return r ? [r.numerator, r.denominator] : undefined;
};

// ---------------------------------------------------------------- CMS SDOH-1 and SDOH-2
// As of 2024-12-31. Everyone is covered from 2020 on (the roster span), except A6 (2021 only).
//   A1 born 1990  X1 2024-03-01 all five answered, food positive: complete
//   A2 born 1990  X2 2024-03-01 four answered, housing positive, interpersonal_safety declined: not complete;
//                 X3 2024-04-01 interpersonal_safety negative only: not complete either (SDOH-1: one screening, all five)
//   A3 born 2006-07-01 (18 on 2024-07-01)  X4 2024-05-01 complete, food positive, at 17: not counted;
//                 X5 2024-08-01 complete, transportation positive, at 18
//   A4 born 2010  X6 2024-06-01 food negative (a child)
//   A5 born 1980  never screened
//   A6 born 1980  not covered in 2024; X7 2024-02-01 complete, all negative
describe('CMS SDOH-1 and SDOH-2', () => {
  let c: Computed;
  beforeAll(async () => {
    const drop: Drop = {
      people: [
        { person_id: 'A1', birth_date: '1990-01-01' }, { person_id: 'A2', birth_date: '1990-01-01' },
        { person_id: 'A3', birth_date: '2006-07-01' }, { person_id: 'A4', birth_date: '2010-01-01' },
        { person_id: 'A5', birth_date: '1980-01-01' }, { person_id: 'A6', birth_date: '1980-01-01', enrolled_from: '2021-01-01', enrolled_through: '2021-12-31' },
      ],
      screenings: [
        ...scr('X1', 'A1', '2024-03-01', allFive('food')),
        ...scr('X2', 'A2', '2024-03-01', allFive('housing_instability', 'interpersonal_safety')),
        ...scr('X3', 'A2', '2024-04-01', { interpersonal_safety: 'negative' }),
        ...scr('X4', 'A3', '2024-05-01', allFive('food')),
        ...scr('X5', 'A3', '2024-08-01', allFive('transportation')),
        ...scr('X6', 'A4', '2024-06-01', { food: 'negative' }),
        ...scr('X7', 'A6', '2024-02-01', allFive(null)),
      ],
    };
    c = await computeDrop(drop, { asOf: '2024-12-31' });
  });
  afterAll(() => c.close());

  it('SDOH-1: enrolled adults screened on all five core domains in one screening made at 18 or older', () => {
    // year: adults at 12-31 A1 A2 A3 A5 (A4 a child, A6 not enrolled); screened A1 (X1), A3 (X5)
    expect(fig(c, 'sdoh_screening_rate', 'year', '2024-01-01')).toEqual([2, 4]);
    // Q1: A3 is 17 on 03-31: A1 A2 A5; A1 screened
    expect(fig(c, 'sdoh_screening_rate', 'quarter', '2024-01-01')).toEqual([1, 3]);
    // Q2: A3 still 17 on 06-30; X3 answers one domain, X4 was at 17
    expect(fig(c, 'sdoh_screening_rate', 'quarter', '2024-04-01')).toEqual([0, 3]);
    // July: A3 turned 18 on 07-01, so in the denominator at the month's end
    expect(fig(c, 'sdoh_screening_rate', 'month', '2024-06-01')).toEqual([0, 3]);
    expect(fig(c, 'sdoh_screening_rate', 'month', '2024-07-01')).toEqual([0, 4]);
    expect(fig(c, 'sdoh_screening_rate', 'quarter', '2024-07-01')).toEqual([1, 4]);
    expect(fig(c, 'sdoh_screening_rate', 'year', '2024-01-01', 'age_band', '18-25')).toEqual([1, 1]);
    // the broader screening_rate: everyone enrolled (A1..A5), any screening (A1 A2 A3 A4)
    expect(fig(c, 'screening_rate', 'year', '2024-01-01')).toEqual([4, 5]);
  });

  it('SDOH-2: adults positive per core domain among those whose screening answered it', () => {
    // year, all row: adults with an answered core row A1 A2 A3 (X5 only) A6; positive A1 A2 A3
    expect(fig(c, 'sdoh_positive_rate', 'year', '2024-01-01')).toEqual([3, 4]);
    expect(fig(c, 'sdoh_positive_rate', 'year', '2024-01-01', 'domain', 'food')).toEqual([1, 4]); // A1 (A3's food positive was at 17)
    expect(fig(c, 'sdoh_positive_rate', 'year', '2024-01-01', 'domain', 'housing_instability')).toEqual([1, 4]); // A2
    expect(fig(c, 'sdoh_positive_rate', 'year', '2024-01-01', 'domain', 'transportation')).toEqual([1, 4]); // A3
    // A2 declined interpersonal_safety in X2 but answered it in X3
    expect(fig(c, 'sdoh_positive_rate', 'year', '2024-01-01', 'domain', 'interpersonal_safety')).toEqual([0, 4]);
    expect(fig(c, 'sdoh_positive_rate', 'quarter', '2024-01-01', 'domain', 'interpersonal_safety')).toEqual([0, 2]); // A1 A6
    // Q2: only X3 (A2) counts; X4 was at 17
    expect(fig(c, 'sdoh_positive_rate', 'quarter', '2024-04-01')).toEqual([0, 1]);
    expect(c.get('sdoh_positive_rate', 'quarter', '2024-04-01', 'domain', 'food')).toBeUndefined();
    expect(c.of('sdoh_positive_rate', { dimension: 'domain' }).every((r) => CORE.includes(r.group_value as typeof CORE[number]))).toBe(true);
    // ages at the first such screening: A3's is X5, at 18
    expect(fig(c, 'sdoh_positive_rate', 'year', '2024-01-01', 'age_band', '18-25')).toEqual([1, 1]);
    // the broader screen_positive_rate: any age, declined counts as screened
    expect(fig(c, 'screen_positive_rate', 'year', '2024-01-01')).toEqual([3, 5]);
    expect(fig(c, 'screen_positive_rate', 'year', '2024-01-01', 'domain', 'food')).toEqual([2, 5]);
  });
});

// ---------------------------------------------------------------- HEDIS SNS-E
// As of 2025-06-30. Everyone is covered from 2020 on, except N4. Positive screens:
//   N1 food 2024-03-01, 2024-03-20, 2024-05-01; R1 food 2024-03-25 completed (day 24 after 03-01)
//   N2 housing_instability 2024-04-01; R2 2024-04-15 cancelled (no intervention); R3 2024-05-05 (day 34)
//   N3 transportation 2024-06-01; R4 2024-07-01 (day 30) rejected: an intervention
//   N4 food 2024-07-01; covered to 2024-04-30 and from 2024-07-01: a 61-day gap in 2024
//   N5 food 2024-08-01; a hospice stay 2024-10-01..10-05
//   N6 housing_quality 2024-03-01 (not an SNS-E domain); food 2024-09-01; R5 housing_instability 2024-09-05 (another domain)
//   N7 food 2025-06-15: less than 30 days before the as-of date
//   N8 food 2024-02-10; R8 2024-02-11; died 2024-12-01
describe('HEDIS SNS-E', () => {
  let c: Computed;
  beforeAll(async () => {
    const people = ['N1', 'N2', 'N3', 'N4', 'N5', 'N6', 'N7', 'N8'].map((person_id) => ({
      person_id, birth_date: '1980-01-01',
      ...(person_id === 'N4' ? { enrolled_from: null } : {}),
      ...(person_id === 'N8' ? { death_date: '2024-12-01' } : {}),
    }));
    const ref = (referral_id: string, person_id: string, need_domain: string, referred_on: string, status: string, closing?: [string, string]) =>
      ({ referral_id, person_id, need_domain, referred_on, status, closed_on: closing?.[0] ?? null, outcome: closing?.[1] ?? null });
    c = await computeDrop({
      people,
      coverage: [
        { person_id: 'N4', coverage_from: '2020-01-01', coverage_through: '2024-04-30', payer: 'medicaid' },
        { person_id: 'N4', coverage_from: '2024-07-01', coverage_through: null, payer: 'medicaid' },
      ],
      screenings: [
        ...scr('Y1', 'N1', '2024-03-01', { food: 'positive' }), ...scr('Y2', 'N1', '2024-03-20', { food: 'positive' }),
        ...scr('Y3', 'N1', '2024-05-01', { food: 'positive' }), ...scr('Y4', 'N2', '2024-04-01', { housing_instability: 'positive' }),
        ...scr('Y5', 'N3', '2024-06-01', { transportation: 'positive' }), ...scr('Y6', 'N4', '2024-07-01', { food: 'positive' }),
        ...scr('Y7', 'N5', '2024-08-01', { food: 'positive' }), ...scr('Y8', 'N6', '2024-03-01', { housing_quality: 'positive' }),
        ...scr('Y9', 'N6', '2024-09-01', { food: 'positive' }), ...scr('Y10', 'N7', '2025-06-15', { food: 'positive' }),
        ...scr('Y11', 'N8', '2024-02-10', { food: 'positive' }),
      ],
      referrals: [
        ref('R1', 'N1', 'food', '2024-03-25', 'completed', ['2024-04-01', 'need_met']),
        ref('R2', 'N2', 'housing_instability', '2024-04-15', 'cancelled', ['2024-04-20', 'other']),
        ref('R3', 'N2', 'housing_instability', '2024-05-05', 'pending'),
        ref('R4', 'N3', 'transportation', '2024-07-01', 'rejected', ['2024-07-02', 'no_capacity']),
        ref('R5', 'N6', 'housing_instability', '2024-09-05', 'pending'),
        ref('R6', 'N4', 'food', '2024-07-02', 'pending'),
        ref('R7', 'N5', 'food', '2024-08-02', 'pending'),
        ref('R8', 'N8', 'food', '2024-02-11', 'pending'),
      ],
      encounters: [{ encounter_id: 'H1', person_id: 'N5', encounter_type: 'hospice', start_date: '2024-10-01', end_date: '2024-10-05' }],
    }, { asOf: '2025-06-30', keepIntermediate: true });
  });
  afterAll(() => c.close());

  it('the year windows know the gap, the hospice stay and the death', async () => {
    expect(await rows(c.db.conn, `SELECT person_id, continuously_enrolled, hospice, died FROM int_enrollment_windows
      WHERE window_kind = 'year' AND window_from = DATE '2024-01-01' AND person_id IN ('N1', 'N4', 'N5', 'N8') ORDER BY 1`)).toEqual([
      { person_id: 'N1', continuously_enrolled: true, hospice: false, died: false },
      { person_id: 'N4', continuously_enrolled: false, hospice: false, died: false },
      { person_id: 'N5', continuously_enrolled: true, hospice: true, died: false },
      { person_id: 'N8', continuously_enrolled: true, hospice: false, died: true },
    ]);
  });

  it('member-based per domain: a person counts once per domain and period, anchored on the first positive screen in it', () => {
    // 2024: food N1 (R1 on day 24: yes), N6 (R5 is housing: no); N4 (gap), N5 (hospice), N8 (died) left out
    expect(fig(c, 'sns_e_intervention_rate', 'year', '2024-01-01', 'domain', 'food')).toEqual([1, 2]);
    // housing: R2 was cancelled (no intervention), R3 on day 34
    expect(fig(c, 'sns_e_intervention_rate', 'year', '2024-01-01', 'domain', 'housing_instability')).toEqual([0, 1]);
    // transportation: R4 on day 30, rejected, still an intervention
    expect(fig(c, 'sns_e_intervention_rate', 'year', '2024-01-01', 'domain', 'transportation')).toEqual([1, 1]);
    expect(fig(c, 'sns_e_intervention_rate', 'year', '2024-01-01')).toEqual([2, 4]);
    expect(c.get('sns_e_intervention_rate', 'year', '2024-01-01', 'domain', 'housing_quality')).toBeUndefined();
    // March: N1's two March screens are one unit
    expect(fig(c, 'sns_e_intervention_rate', 'month', '2024-03-01')).toEqual([1, 1]);
    // Q2: N1's first food screen in Q2 is 05-01, with no referral on days 0-30 after it
    expect(fig(c, 'sns_e_intervention_rate', 'quarter', '2024-04-01', 'domain', 'food')).toEqual([0, 1]);
    expect(fig(c, 'sns_e_intervention_rate', 'quarter', '2024-04-01')).toEqual([1, 3]);
    // 2025: N7's screen is not yet measurable
    expect(c.get('sns_e_intervention_rate', 'year', '2025-01-01')).toBeUndefined();
    // the whole span: each person's first positive screen in each domain
    expect(fig(c, 'sns_e_intervention_rate', 'all', null)).toEqual([2, 4]);
  });

  it('need_referral_rate stays need-based: every positive row, any status', () => {
    // measurable positive rows in 2024 (all of Y1..Y9, Y11): referred on days 0..30 in the same domain:
    // Y1 (R1 day 24), Y2 (R1 day 5), Y4 (R2, cancelled, counts here), Y5 (R4 day 30), Y6 (R6), Y7 (R7), Y11 (R8)
    // not: Y3 (05-01), Y8 (housing_quality, no referral), Y9 (food; R5 is housing)
    expect(fig(c, 'need_referral_rate', 'year', '2024-01-01')).toEqual([7, 10]);
  });
});

// ---------------------------------------------------------------- HEDIS DRR-E
// As of 2025-06-30; index dates in early 2024, so every 240-day window is over. Everyone covered
// from 2020 on, except D2 and D3.
//   D1 2024-01-10 two PHQ-9s, 12 (D1a) and 18 (D1b): the index score is 18; D1c 2024-06-10 (day 152) 9:
//      a response (9 <= 9), which the smaller assessment_id's 12 would not give (9 > 6)
//   D2 2024-02-01 15; D2b 2024-07-01 4; covered to 2024-03-31 and from 2024-05-17: a 46-day gap in the window
//   D3 the same with coverage from 2024-05-16: a 45-day gap, still continuously enrolled; response, remission
//   D4 2024-02-01 20; D4b 2024-06-15 10; died 2024-08-01 (day 182)
//   D5 2024-02-01 20; D5b 2024-06-15 10; in hospice 2024-07-01..07-20
//   D6 2024-02-01 20, no follow-up; died 2025-01-01, after the window (2024-09-28)
describe('HEDIS DRR-E', () => {
  let c: Computed;
  beforeAll(async () => {
    const gapped = (person_id: string, back: string) => [
      { person_id, coverage_from: '2020-01-01', coverage_through: '2024-03-31', payer: 'medicaid' },
      { person_id, coverage_from: back, coverage_through: null, payer: 'medicaid' },
    ];
    c = await computeDrop({
      people: ['D1', 'D2', 'D3', 'D4', 'D5', 'D6'].map((person_id) => ({
        person_id, birth_date: '1980-01-01',
        ...(person_id === 'D2' || person_id === 'D3' ? { enrolled_from: null } : {}),
        ...(person_id === 'D4' ? { death_date: '2024-08-01' } : person_id === 'D6' ? { death_date: '2025-01-01' } : {}),
      })),
      coverage: [...gapped('D2', '2024-05-17'), ...gapped('D3', '2024-05-16')],
      phq9: [
        ['D1a', 'D1', '2024-01-10', 12], ['D1b', 'D1', '2024-01-10', 18], ['D1c', 'D1', '2024-06-10', 9],
        ['D2a', 'D2', '2024-02-01', 15], ['D2b', 'D2', '2024-07-01', 4],
        ['D3a', 'D3', '2024-02-01', 15], ['D3b', 'D3', '2024-07-01', 4],
        ['D4a', 'D4', '2024-02-01', 20], ['D4b', 'D4', '2024-06-15', 10],
        ['D5a', 'D5', '2024-02-01', 20], ['D5b', 'D5', '2024-06-15', 10],
        ['D6a', 'D6', '2024-02-01', 20],
      ].map(([assessment_id, person_id, assessed_on, total_score]) => ({ assessment_id, person_id, assessed_on, total_score } as Record<string, string | number>)),
      encounters: [{ encounter_id: 'H1', person_id: 'D5', encounter_type: 'hospice', start_date: '2024-07-01', end_date: '2024-07-20' }],
    }, { asOf: '2025-06-30', keepIntermediate: true });
  });
  afterAll(() => c.close());

  it('the index score of a day with several PHQ-9s is the highest', async () => {
    expect(await rows(c.db.conn, `SELECT index_assessment_id, index_score, follow_up_score FROM int_phq9_episodes WHERE person_id = 'D1'`))
      .toEqual([{ index_assessment_id: 'D1b', index_score: 18, follow_up_score: 9 }]);
  });

  it('continuous enrollment from the index date to day 240: a 45-day gap is allowed, 46 is not', async () => {
    expect(await rows(c.db.conn, `SELECT person_id, gaps, gap_days, continuously_enrolled, hospice, died FROM int_enrollment_windows
      WHERE window_kind = 'phq9_episode' ORDER BY 1`)).toEqual([
      { person_id: 'D1', gaps: 0, gap_days: 0, continuously_enrolled: true, hospice: false, died: false },
      { person_id: 'D2', gaps: 1, gap_days: 46, continuously_enrolled: false, hospice: false, died: false },
      { person_id: 'D3', gaps: 1, gap_days: 45, continuously_enrolled: true, hospice: false, died: false },
      { person_id: 'D4', gaps: 0, gap_days: 0, continuously_enrolled: true, hospice: false, died: true },
      { person_id: 'D5', gaps: 0, gap_days: 0, continuously_enrolled: true, hospice: true, died: false },
      { person_id: 'D6', gaps: 0, gap_days: 0, continuously_enrolled: true, hospice: false, died: false },
    ]);
  });

  it('the denominators leave out the gap of 46 days, the hospice stay and the death in the window', () => {
    // counted: D1, D3, D6; follow-up D1 D3; response D1 (9 <= 9) D3 (4 <= 7.5); remission D3 (4 < 5)
    const span = '2024-01-10';
    expect(fig(c, 'phq9_follow_up_rate', 'all', span)).toEqual([2, 3]);
    expect(fig(c, 'phq9_response_rate', 'all', span)).toEqual([2, 3]);
    expect(fig(c, 'phq9_remission_rate', 'all', span)).toEqual([1, 3]);
    // mean change over D1 (9 - 18 = -9) and D3 (4 - 15 = -11): -10 over 2 episodes
    const mean = c.get('phq9_mean_change', 'all', span);
    expect([mean?.denominator, mean?.value]).toEqual([2, -10]);
  });
});
