// The PHQ-9 comparison on a hand-worked fixture (issue 22). Every expected number below is
// worked out by hand from the fixture (written out in the comments), not taken from the
// code's output: per-stratum means of the change in score, the variance of a difference of
// two means (s^2 / n per group), the shares of the referred people, and the SMDs.
import { afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../../models/duckdb.ts';
import { rows } from '../../../models/duckdb.ts';
import { buildPhq9Comparison, computePhq9Comparison, computePhq9Comparisons } from '../../../models/evaluation/phq9.ts';
import { loadDrop, type Drop } from '../metrics/helpers.ts';

const AS_OF = '2026-01-31';
const INDEX = '2025-03-01';
const FOLLOW = '2025-08-01'; // day 153 after the index: in the 120..240 window

// Adults (born 1980) and children (born 2011: 14 at the index) are the two strata (nobody is
// on Medicaid). Everyone screened positive on the index day unless said otherwise.
function drop(copies = 1): Drop {
  const people: NonNullable<Drop['people']> = [];
  const screenings: NonNullable<Drop['screenings']> = [];
  const referrals: NonNullable<Drop['referrals']> = [];
  const phq9: NonNullable<Drop['phq9']> = [];
  let n = 0;
  const person = (id: string, o: { born?: string; female?: boolean; from?: string; screen?: string; result?: string; referred?: string; scores: Array<[string, number]> }) => {
    people.push({ person_id: id, sex: o.female ? 'female' : 'male', birth_date: o.born ?? '1980-01-01', enrolled_from: o.from ?? '2020-01-01' });
    screenings.push({ screening_id: `S-${id}`, person_id: id, screened_on: o.screen ?? INDEX, domain: 'food', result: o.result ?? 'positive' });
    if (o.referred) referrals.push({ referral_id: `R-${id}`, person_id: id, need_domain: 'food', referred_on: o.referred, status: 'pending' });
    for (const [d, s] of o.scores) phq9.push({ assessment_id: `A${++n}`, person_id: id, assessed_on: d, total_score: s });
  };
  const child = '2011-01-01';
  for (let c = 0; c < copies; c++) {
    const s = copies === 1 ? '' : `-${c}`;
    // adults referred: T1 20 -> 8 (-12; two PHQ-9s on the index day, the higher counts), T2 15 -> 11 (-4, referred 14 days before the index)
    person(`T1${s}`, { female: true, referred: '2025-03-10', scores: [[INDEX, 17], [INDEX, 20], [FOLLOW, 8]] });
    person(`T2${s}`, { referred: '2025-02-15', scores: [[INDEX, 15], ['2025-06-01', 2], [FOLLOW, 11]] }); // day 92 is not the follow-up
    // adults not referred: C1 18 -> 16 (-2; an earlier PHQ-9 of 8 is not elevated), C2 12 -> 12 (0; referred after the follow-up)
    person(`C1${s}`, { scores: [['2025-01-10', 8], [INDEX, 18], [FOLLOW, 16]] });
    person(`C2${s}`, { referred: '2025-09-01', scores: [[INDEX, 12], ['2025-07-15', 20], [FOLLOW, 12]] }); // the last in the window counts
    // children referred: T3 14 -> 4 (-10), T4 10 -> 8 (-2, referred on the index day)
    person(`T3${s}`, { born: child, referred: '2025-03-20', scores: [[INDEX, 14], [FOLLOW, 4]] });
    person(`T4${s}`, { born: child, referred: INDEX, scores: [[INDEX, 10], [FOLLOW, 8]] });
    // children not referred: C3 16 -> 10 (-6), C4 11 -> 12 (+1), C5 13 -> 10 (-3)
    person(`C3${s}`, { born: child, scores: [[INDEX, 16], [FOLLOW, 10]] });
    person(`C4${s}`, { born: child, scores: [[INDEX, 11], [FOLLOW, 12]] });
    person(`C5${s}`, { born: child, screen: '2025-03-25', scores: [[INDEX, 13], [FOLLOW, 10]] }); // positive 24 days after the index
    // an adult of 65+ referred, alone in its stratum (no comparison): in "before" balance only
    person(`T5${s}`, { born: '1950-01-01', referred: '2025-03-05', scores: [[INDEX, 16], [FOLLOW, 6]] });
    // left out, one rule each (each with a large change that would move the estimate)
    person(`X1${s}`, { referred: '2025-01-15', scores: [[INDEX, 25], [FOLLOW, 0]] }); // referred 45 days before the index
    person(`X2${s}`, { referred: '2025-05-01', scores: [[INDEX, 25], [FOLLOW, 0]] }); // referred between day 31 and the follow-up
    person(`X3${s}`, { scores: [[INDEX, 9], [FOLLOW, 27]] }); // index score 9: not elevated
    person(`X4${s}`, { result: 'negative', scores: [[INDEX, 25], [FOLLOW, 0]] }); // no positive screening
    person(`X5${s}`, { screen: '2025-04-15', scores: [[INDEX, 25], [FOLLOW, 0]] }); // positive only 45 days after the index
    person(`X6${s}`, { scores: [[INDEX, 25], ['2025-06-09', 0], ['2025-10-29', 27]] }); // follow-ups on days 100 and 242 only
    person(`X7${s}`, { born: '2014-01-01', scores: [[INDEX, 25], [FOLLOW, 0]] }); // aged 11 at the index
    person(`X8${s}`, { from: '2025-04-01', scores: [[INDEX, 25], [FOLLOW, 0]] }); // not covered from the index
  }
  return { people, screenings, referrals, phq9 };
}

/** The unbiased variance of a mean, s^2 / n: written here, not taken from the code. */
function varMean(v: number[]): number {
  const m = mean(v);
  return v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1) / v.length;
}
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const rep = (v: number[], k: number) => v.flatMap((x) => Array(k).fill(x) as number[]);

const CHANGE = { adultT: [-12, -4], adultC: [-2, 0], childT: [-10, -2], childC: [-6, 1, -3] };
// estimate = 1/2 (-8 - (-1)) + 1/2 (-6 - (-8/3)) = -7/2 - 5/3 = -31/6
// variance = 1/4 (16 + 1) + 1/4 (16 + 37/9) = 17/4 + 4 + 37/36 = 167/18
const estimate = (x: typeof CHANGE) => 0.5 * (mean(x.adultT) - mean(x.adultC)) + 0.5 * (mean(x.childT) - mean(x.childC));
const variance = (x: typeof CHANGE) => 0.25 * (varMean(x.adultT) + varMean(x.adultC)) + 0.25 * (varMean(x.childT) + varMean(x.childC));
const Z = 1.959963984540054;

let db: Database | undefined;
afterEach(() => db?.close());

describe('PHQ-9 comparison on a hand-worked fixture', () => {
  it('the change in score, referred minus weighted comparison, its person-level variance and the balance match the hand computation', async () => {
    db = await loadDrop(drop());
    const c = await computePhq9Comparison(db.conn, AS_OF);
    expect(estimate(CHANGE)).toBeCloseTo(-31 / 6, 12);
    expect(variance(CHANGE)).toBeCloseTo(167 / 18, 12);
    expect(c.treated).toBe(4); // T5 is in no cell (no comparison aged 65+)
    expect(c.comparison).toBe(5);
    expect(c.estimate).toBeCloseTo(-31 / 6, 12);
    expect(c.se).toBeCloseTo(Math.sqrt(167 / 18), 12);
    // index score, before: referred T1..T5 20, 15, 14, 10, 16 (mean 15, var 52/4 = 13);
    // comparison 18, 12, 16, 11, 13 (mean 14, var 34/4 = 8.5); SD sqrt(10.75).
    // after: referred T1..T4 mean 14.75; comparison weights 1 (adults) and 2/3 (children):
    // (18 + 12 + 2/3 (16 + 11 + 13)) / 4 = 170/12
    const idx = c.balance.find((b) => b.covariate === 'Index PHQ-9 score')!;
    expect(idx.smd_before).toBeCloseTo(1 / Math.sqrt(10.75), 12);
    expect(idx.smd_after).toBeCloseTo((14.75 - 170 / 12) / Math.sqrt(10.75), 12);
    // female: referred 1, 0, 0, 0, 0 (mean 1/5, var 1/5), comparison all 0 (var 0): SD sqrt(0.1)
    const female = c.balance.find((b) => b.covariate === 'Female')!;
    expect(female.smd_before).toBeCloseTo(0.2 / Math.sqrt(0.1), 12);
    expect(female.smd_after).toBeCloseTo(0.25 / Math.sqrt(0.1), 12);
  });

  it('publishes nothing but the status when the referred or comparison people are fewer than 11', async () => {
    db = await loadDrop(drop());
    await buildPhq9Comparison(db.conn, { runId: 'r1', asOf: AS_OF, threshold: 11 });
    // every domain ('any') and the one domain of the first referrals (food)
    expect(await rows(db.conn, 'SELECT domain, status, change_difference, ci_low, ci_high, p_value, treated_people, comparison_people FROM evaluation_phq9')).toEqual([
      { domain: 'any', status: 'withheld', change_difference: null, ci_low: null, ci_high: null, p_value: null, treated_people: null, comparison_people: null },
      { domain: 'food', status: 'withheld', change_difference: null, ci_low: null, ci_high: null, p_value: null, treated_people: null, comparison_people: null },
    ]);
    expect(await rows(db.conn, 'SELECT * FROM evaluation_phq9_balance')).toEqual([]);
  });

  it('publishes the estimate in points, rounded to 0.1, with 11 copies of every person; a yes/no SMD only when no count behind it is 1..threshold-1', async () => {
    db = await loadDrop(drop(11));
    await buildPhq9Comparison(db.conn, { runId: 'r1', asOf: AS_OF, threshold: 11 });
    const r = (await rows<Record<string, number | string>>(db.conn, `SELECT * FROM evaluation_phq9 WHERE domain = 'any'`))[0]!;
    const c11 = { adultT: rep(CHANGE.adultT, 11), adultC: rep(CHANGE.adultC, 11), childT: rep(CHANGE.childT, 11), childC: rep(CHANGE.childC, 11) };
    const se = Math.sqrt(variance(c11));
    expect(r).toMatchObject({ status: 'published', treated_people: 44, comparison_people: 55, change_difference: -5.2 });
    expect(r.ci_low).toBeCloseTo(Math.round(10 * (-31 / 6 - Z * se)) / 10, 9);
    expect(r.ci_high).toBeCloseTo(Math.round(10 * (-31 / 6 + Z * se)) / 10, 9);
    const b = await rows<{ covariate: string; smd_before: number }>(db.conn, `SELECT covariate, smd_before FROM evaluation_phq9_balance WHERE domain = 'any'`);
    expect(b.map((x) => x.covariate)).toEqual(['Index PHQ-9 score', 'Age (years)', 'Female', 'Medicaid']);
    // copies: the same means; sums of squares x 11 over 54 degrees of freedom: SD sqrt((572 + 374) / 108)
    expect(b[0]!.smd_before).toBeCloseTo(Math.round(100 / Math.sqrt(946 / 108)) / 100, 9);
    // threshold 12: the 11 referred women (copies of T1) are a count of 1..11, so Female's
    // SMDs are withheld; Medicaid (0 of everyone) and the estimate (44 and 55 people) stay
    await buildPhq9Comparison(db.conn, { runId: 'r2', asOf: AS_OF, threshold: 12 });
    expect((await rows<{ covariate: string }>(db.conn, `SELECT covariate FROM evaluation_phq9_balance WHERE domain = 'any'`)).map((x) => x.covariate))
      .toEqual(['Index PHQ-9 score', 'Age (years)', 'Medicaid']);
    expect((await rows<{ status: string }>(db.conn, `SELECT status FROM evaluation_phq9 WHERE domain = 'any'`))[0]!.status).toBe('published');
    // all in food: the food selection is the same figures
    const food = (await rows<Record<string, number | string>>(db.conn, `SELECT * FROM evaluation_phq9 WHERE domain = 'food'`))[0]!;
    expect({ ...food, domain: 'any', run_id: 'r1' }).toMatchObject({ ...r, status: 'published' });
  });

  // Same-domain comparison (issue 22): H1, an adult screened positive in housing only, not
  // referred, 18 -> 10 (-8); H2, an adult screened positive in housing and first referred for
  // housing 4 days after the index, 16 -> 6 (-10). Any domain: H1 is a comparison adult and H2 a
  // referred adult. Food: neither. Housing: one referred and one comparison adult: no cell.
  it('compares referred people in a domain with people screened positive in that domain (the domain filter), by hand', async () => {
    const d = drop();
    for (const [id, score, follow] of [['H1', 18, 10], ['H2', 16, 6]] as const) {
      d.people!.push({ person_id: id, sex: 'male', birth_date: '1980-01-01', enrolled_from: '2020-01-01' });
      d.screenings!.push({ screening_id: `S-${id}`, person_id: id, screened_on: INDEX, domain: 'housing_instability', result: 'positive' });
      d.phq9!.push({ assessment_id: `A-${id}-1`, person_id: id, assessed_on: INDEX, total_score: score }, { assessment_id: `A-${id}-2`, person_id: id, assessed_on: FOLLOW, total_score: follow });
    }
    d.referrals!.push({ referral_id: 'R-H2', person_id: 'H2', need_domain: 'housing_instability', referred_on: '2025-03-05', status: 'pending' });
    db = await loadDrop(d);
    const all = await computePhq9Comparisons(db.conn, AS_OF);
    expect(all.map((c) => c.domain)).toEqual(['any', 'food', 'housing_instability']);
    // any: adults referred -12, -4, -10 (mean -26/3), comparison -2, 0, -8 (mean -10/3); children
    // as before (-6 against -8/3); shares 3/5 and 2/5: 3/5 (-16/3) + 2/5 (-10/3) = -68/15
    const x = { adultT: [-12, -4, -10], adultC: [-2, 0, -8], childT: CHANGE.childT, childC: CHANGE.childC };
    const any = all[0]!;
    expect(any).toMatchObject({ treated: 5, comparison: 6 });
    expect(any.estimate).toBeCloseTo(-68 / 15, 12);
    expect(any.se! ** 2).toBeCloseTo((9 / 25) * (varMean(x.adultT) + varMean(x.adultC)) + (4 / 25) * (varMean(x.childT) + varMean(x.childC)), 12);
    // food: the original fixture's -31/6 and 167/18
    const food = all[1]!;
    expect(food).toMatchObject({ treated: 4, comparison: 5 });
    expect(food.estimate).toBeCloseTo(-31 / 6, 12);
    expect(food.se! ** 2).toBeCloseTo(167 / 18, 12);
    expect(all[2]).toMatchObject({ treated: 0, comparison: 0, estimate: null });
  });
});
