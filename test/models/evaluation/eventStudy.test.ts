// The event study on a hand-worked fixture (issue 22). Every expected number below is
// worked out by hand from the fixture, by a different route from the code: per-stratum
// means and the variance of a difference of two means (sum of squared deviations / n^2 per
// group), not the influence functions the code sums.
import { afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../../models/duckdb.ts';
import { rows } from '../../../models/duckdb.ts';
import { buildEvaluation, computeEventStudies, computeEventStudy, publishable, type EventStudy, type MonthEstimate } from '../../../models/evaluation/index.ts';
import { loadDrop, type Drop } from '../metrics/helpers.ts';

// Cohort g = July 2025 (the only one: the data run from January 2025 to January 2026, 13
// whole months). Baseline = months -6..-2 (January..May 2025); month +1 = August 2025.
// Strata: age band x Medicaid; nobody is on Medicaid here, so adults (born 1980) and
// children (born 2015) are the two strata.
function drop(copies = 1): Drop {
  const people: Drop['people'] = [];
  const screenings: NonNullable<Drop['screenings']> = [];
  const referrals: NonNullable<Drop['referrals']> = [];
  const encounters: NonNullable<Drop['encounters']> = [];
  let n = 0;
  const person = (id: string, o: { child?: boolean; female?: boolean; from?: string; screen?: string; result?: string; referred?: string; ed?: string[] }) => {
    people.push({ person_id: id, sex: o.female ? 'female' : 'male', birth_date: o.child ? '2015-01-01' : '1980-01-01', enrolled_from: o.from ?? '2020-01-01' });
    if (o.screen) screenings.push({ screening_id: `S-${id}`, person_id: id, screened_on: o.screen, domain: 'food', result: o.result ?? 'positive' });
    if (o.referred) referrals.push({ referral_id: `R-${id}`, person_id: id, need_domain: 'food', referred_on: o.referred, status: 'pending' });
    for (const d of o.ed ?? []) encounters.push({ encounter_id: `V${++n}`, person_id: id, encounter_type: 'ed', start_date: d });
  };
  // E opens the referral and encounter data on 2025-01-01 (no screening: in no stack)
  person('E', { referred: '2025-01-01' });
  encounters.push({ encounter_id: 'V0', person_id: 'E', encounter_type: 'outpatient', start_date: '2025-01-01' });
  for (let c = 0; c < copies; c++) {
    const s = copies === 1 ? '' : `-${c}`;
    // adults: A and B referred, C and D not; A and C had an ED visit in March (month -4)
    person(`A${s}`, { female: true, screen: '2025-07-05', referred: '2025-07-10', ed: ['2025-03-15', '2025-08-03', '2025-08-20'] });
    person(`B${s}`, { screen: '2025-06-30', referred: '2025-07-01', ed: ['2025-08-05'] });
    person(`C${s}`, { screen: '2025-01-05', ed: ['2025-03-15', '2025-08-10'] });
    person(`D${s}`, { screen: '2025-07-31' });
    // children: K1 and K2 referred, L1, L2 and L3 not
    person(`K1${s}`, { child: true, screen: '2025-07-05', referred: '2025-07-20', ed: ['2025-08-01', '2025-08-02', '2025-08-03', '2025-08-04'] });
    person(`K2${s}`, { child: true, screen: '2025-07-05', referred: '2025-07-21' });
    person(`L1${s}`, { child: true, female: true, screen: '2025-07-05', ed: ['2025-08-25'] });
    person(`L2${s}`, { child: true, screen: '2024-11-05' });
    person(`L3${s}`, { child: true, screen: '2025-07-05' });
    // left out: referred in month +1 (not a clean comparison), covered only from March,
    // screened positive only after month g, screened negative
    person(`F${s}`, { screen: '2025-07-05', referred: '2025-08-15', ed: Array(5).fill('2025-08-16') });
    person(`H${s}`, { from: '2025-03-01', screen: '2025-07-05', ed: Array(4).fill('2025-08-16') });
    person(`I${s}`, { screen: '2025-08-05', ed: Array(3).fill('2025-08-16') });
    person(`J${s}`, { screen: '2025-07-05', result: 'negative', ed: Array(3).fill('2025-08-16') });
  }
  return { people, screenings, referrals, encounters };
}

/** The unbiased variance of a mean, s^2 / n: written here, not taken from the code. */
function varMean(v: number[]): number {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  return v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1) / v.length;
}
const rep = (v: number[], k: number) => v.flatMap((x) => Array(k).fill(x) as number[]);
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

// Per person, month +1 (d1) and the mean over months +1..+6 (dbar) of visits minus the
// baseline mean (visits in months -6..-2 / 5). A: 2 - 0.2 = 1.8 and (1.8 - 5 x 0.2) / 6;
// C: 1 - 0.2 = 0.8 and (0.8 - 1) / 6; the others have no baseline visit.
const D1 = { adultT: [1.8, 1], adultC: [0.8, 0], childT: [4, 0], childC: [1, 0, 0] };
const DBAR = { adultT: [0.8 / 6, 1 / 6], adultC: [-0.2 / 6, 0], childT: [4 / 6, 0], childC: [1 / 6, 0, 0] };
// ATT = sum over strata of (the stratum's share of the referred) x (difference of means);
// its variance = sum of share^2 x (var of the referred mean + var of the comparison mean).
// Both strata hold 2 of the 4 referred people: shares 1/2.
const att = (x: typeof D1) => 0.5 * (mean(x.adultT) - mean(x.adultC)) + 0.5 * (mean(x.childT) - mean(x.childC));
const attVar = (x: typeof D1) => 0.25 * (varMean(x.adultT) + varMean(x.adultC)) + 0.25 * (varMean(x.childT) + varMean(x.childC));
const repAll = (x: typeof D1, k: number) => ({ adultT: rep(x.adultT, k), adultC: rep(x.adultC, k), childT: rep(x.childT, k), childC: rep(x.childC, k) });

const AS_OF = '2026-01-31';
let db: Database | undefined;
afterEach(() => db?.close());

describe('event study on a hand-worked fixture', () => {
  it('ATT(+1), its cluster-robust variance, ATT over +1..+6, cohort sizes and balance match the hand computation', async () => {
    db = await loadDrop(drop());
    const s = await computeEventStudy(db.conn, AS_OF);
    expect(s).toMatchObject({ treatedPeople: 4, comparisonPeople: 5, cohorts: 1, firstCohort: '2025-07', lastCohort: '2025-07' });
    const ed = s.outcomes.find((o) => o.outcome === 'ed_visits')!;
    expect(ed.months.map((m) => m.e)).toEqual([-6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6]); // hi = min(g + 12, January 2026)
    // by hand: adults 1.4 - 0.4 = 1, children 2 - 1/3 = 5/3; ATT(+1) = (1 + 5/3) / 2 = 4/3
    const m1 = ed.months.find((m) => m.e === 1)!;
    expect(att(D1)).toBeCloseTo(4 / 3, 12);
    expect(m1.estimate).toBeCloseTo(4 / 3, 12);
    // by hand: 1/4 (0.32/2 + 0.32/2) + 1/4 (8/2 + (1/3)/3) = 0.08 + 37/36
    expect(attVar(D1)).toBeCloseTo(0.08 + 37 / 36, 12);
    expect(m1.variance).toBeCloseTo(0.08 + 37 / 36, 12);
    expect(m1).toMatchObject({ treated: 4, cohorts: 1, eventsTreated: 7, eventsComparison: 2 });
    // every other month: adults A, C -0.2 (March: 0.8) and B, D 0 -> equal means; children 0
    for (const m of ed.months.filter((x) => x.e !== 1)) expect(m.estimate).toBeCloseTo(0, 12);
    // ATT over +1..+6 = (4/3) / 6 = 2/9; its variance from the per-person means over +1..+6
    // (the months of one person are not independent: this is what clustering by person means)
    expect(ed.att!.estimate).toBeCloseTo(2 / 9, 12);
    expect(attVar(DBAR)).toBeCloseTo(0.25 * (0.01 / 36 + 0.01 / 36) + 0.25 * (4 / 36 + 1 / 324), 12);
    expect(ed.att!.se).toBeCloseTo(Math.sqrt(attVar(DBAR)), 12);
    // no admissions anywhere: 0 with no variance, so no pre-trend test (its covariance is 0)
    const ip = s.outcomes.find((o) => o.outcome === 'inpatient_admits')!;
    expect(ip.att).toEqual({ estimate: 0, se: 0 });
    expect(ip.pretrend).toBeNull();
    // balance, female: referred A, B, K1, K2 = 1, 0, 0, 0 (mean 1/4, var 1/4); comparison C,
    // D, L1, L2, L3 = 0, 0, 1, 0, 0 (mean 1/5, var 1/5); SD = sqrt((1/4 + 1/5) / 2). After
    // weighting (adults n_t/n_c = 1, children 2/3): comparison mean (2/3) / (2 + 3 x 2/3) = 1/6.
    const female = s.balance.find((b) => b.covariate === 'Female')!;
    expect(female.smd_before).toBeCloseTo((1 / 4 - 1 / 5) / Math.sqrt(0.225), 12);
    expect(female.smd_after).toBeCloseTo((1 / 4 - 1 / 6) / Math.sqrt(0.225), 12);
    // baseline ED per month: referred 0.2, 0, 0, 0 (mean 0.05); comparison 0.2, 0, 0, 0, 0
    // (0.04 before; 0.2 / 4 = 0.05 after weighting)
    const pre = s.balance.find((b) => b.covariate.startsWith('ED visits'))!;
    expect(pre.smd_after).toBeCloseTo(0, 12);
    expect(pre.smd_before).toBeGreaterThan(0);
  });

  it('publishes nothing when the referred or comparison people are fewer than 11 (the small-cell rule)', async () => {
    db = await loadDrop(drop());
    await buildEvaluation(db.conn, { runId: 'r1', asOf: AS_OF, threshold: 11 });
    const summary = await rows<Record<string, unknown>>(db.conn, 'SELECT * FROM evaluation_summary ORDER BY domain, outcome');
    // every domain ('any') and the one domain of the first referrals (food)
    expect(summary.map((r) => [r.domain, r.outcome, r.status, r.treated_people, r.comparison_people, r.att_per_1000])).toEqual([
      ['any', 'ed_visits', 'withheld', null, null, null], ['any', 'inpatient_admits', 'withheld', null, null, null],
      ['food', 'ed_visits', 'withheld', null, null, null], ['food', 'inpatient_admits', 'withheld', null, null, null],
    ]);
    expect(await rows(db.conn, 'SELECT * FROM evaluation_event_study')).toEqual([]);
    expect(await rows(db.conn, 'SELECT * FROM evaluation_balance')).toEqual([]);
  });

  it('publishes the estimates, per 1,000 member-months and rounded to 0.1, with 11 copies of every person', async () => {
    db = await loadDrop(drop(11));
    await buildEvaluation(db.conn, { runId: 'r1', asOf: AS_OF, threshold: 11 });
    const ed = (await rows<Record<string, number | string>>(db.conn, `SELECT * FROM evaluation_summary WHERE outcome = 'ed_visits' AND domain = 'any'`))[0]!;
    // copies leave the means as they were; the variance comes from the copied lists
    const se = Math.sqrt(attVar(repAll(DBAR, 11)));
    const z = 1.959963984540054;
    expect(ed).toMatchObject({ status: 'published', treated_people: 44, comparison_people: 55, cohorts: 1 });
    expect(ed.att_per_1000).toBeCloseTo(Math.round(10000 * 2 / 9) / 10, 9);
    expect(ed.ci_low).toBeCloseTo(Math.round(10000 * (2 / 9 - z * se)) / 10, 9);
    expect(ed.ci_high).toBeCloseTo(Math.round(10000 * (2 / 9 + z * se)) / 10, 9);
    const months = await rows<{ rel_month: number; estimate_per_1000: number; ci_high: number; period: string }>(db.conn,
      `SELECT rel_month, estimate_per_1000, ci_high, period FROM evaluation_event_study WHERE outcome = 'ed_visits' AND domain = 'any' ORDER BY rel_month`);
    const m1 = months.find((m) => m.rel_month === 1)!;
    expect(m1.estimate_per_1000).toBeCloseTo(1333.3, 9);
    expect(m1.ci_high).toBeCloseTo(Math.round(10000 * (4 / 3 + z * Math.sqrt(attVar(repAll(D1, 11))))) / 10, 9);
    expect(months.map((m) => m.period)).toEqual([...Array(5).fill('baseline'), 'anticipation', 'referral', ...Array(6).fill('after')]);
    // every first referral and every positive screening is in food: the food selection is the same
    const food = (await rows<Record<string, number | string>>(db.conn, `SELECT * FROM evaluation_summary WHERE outcome = 'ed_visits' AND domain = 'food'`))[0]!;
    expect({ ...food, domain: 'any' }).toEqual(ed);
  });

  // Same-domain comparison (issue 22): M screened positive in housing only, with an ED visit
  // in month +1, and is not referred; N screened positive in housing and was first referred
  // for housing in July, with no ED visit. Any domain: M is a comparison adult and N a referred
  // adult. Food: neither (N's referral is not in food, M did not screen positive in food).
  // Housing: N alone is referred, so no cell has two referred people: no estimate.
  it('compares first referrals in a domain with people screened positive in that domain (the domain filter), by hand', async () => {
    const d = drop();
    d.people!.push({ person_id: 'M', sex: 'male', birth_date: '1980-01-01', enrolled_from: '2020-01-01' }, { person_id: 'N', sex: 'male', birth_date: '1980-01-01', enrolled_from: '2020-01-01' });
    d.screenings!.push({ screening_id: 'S-M', person_id: 'M', screened_on: '2025-07-05', domain: 'housing_instability', result: 'positive' },
      { screening_id: 'S-N', person_id: 'N', screened_on: '2025-07-05', domain: 'housing_instability', result: 'positive' });
    d.referrals!.push({ referral_id: 'R-N', person_id: 'N', need_domain: 'housing_instability', referred_on: '2025-07-12', status: 'pending' });
    d.encounters!.push({ encounter_id: 'V-M', person_id: 'M', encounter_type: 'ed', start_date: '2025-08-09' });
    db = await loadDrop(d);
    const studies = await computeEventStudies(db.conn, AS_OF);
    expect(studies.map((s) => s.domain)).toEqual(['any', 'food']);
    const m1 = (sel: string) => studies.find((s) => s.domain === sel)!.outcomes.find((o) => o.outcome === 'ed_visits')!.months.find((m) => m.e === 1)!;
    // any: adults referred A, B, N (1.8, 1, 0), comparison C, D, M (0.8, 0, 1); children as before;
    // shares 3/5 and 2/5: 3/5 (2.8/3 - 1.8/3) + 2/5 (5/3) = 1/5 + 2/3 = 13/15
    const x = { adultT: [1.8, 1, 0], adultC: [0.8, 0, 1], childT: D1.childT, childC: D1.childC };
    expect(m1('any').estimate).toBeCloseTo(13 / 15, 12);
    expect(m1('any').variance).toBeCloseTo((9 / 25) * (varMean(x.adultT) + varMean(x.adultC)) + (4 / 25) * (varMean(x.childT) + varMean(x.childC)), 12);
    expect(m1('any').treated).toBe(5);
    // food: the original fixture's 4/3 and its variance
    expect(m1('food').estimate).toBeCloseTo(4 / 3, 12);
    expect(m1('food').variance).toBeCloseTo(0.08 + 37 / 36, 12);
    expect(studies.find((s) => s.domain === 'food')!).toMatchObject({ treatedPeople: 4, comparisonPeople: 5 });
    expect(studies.find((s) => s.domain === 'any')!).toMatchObject({ treatedPeople: 5, comparisonPeople: 6 });
  });
});

describe('publishable: which domains and months the small-cell rule lets out', () => {
  const month = (e: number, ev: number, treated = 20): MonthEstimate => ({ e, estimate: 0, variance: 1, treated, cohorts: 1, eventsTreated: ev, eventsComparison: 0, baseTreated: 0, baseComparison: 0 });
  const study = (domain: string, treated: number, events: number[]): EventStudy => ({
    domain, treatedPeople: treated, comparisonPeople: 50, cohorts: 1, firstCohort: null, lastCohort: null, balance: [],
    outcomes: [{ outcome: 'ed_visits', months: events.map((ev, i) => month(i + 1, ev, treated)), att: null, pretrend: null }],
  });
  it('withholds a domain, or a domain\'s month, when the domains not shown could be worked out from every domain minus the shown ones', () => {
    // people: any 50 = food 30 + housing 15 + utilities 5; utilities (5 < 11) is withheld, and the
    // rest, 50 - 30 - 15 = 5, would be its count: the smallest shown domain (housing) goes too
    const p1 = publishable([study('any', 50, [40]), study('food', 30, [25]), study('housing_instability', 15, [12]), study('utilities', 5, [3])], 11);
    expect([...p1.people].sort()).toEqual(['any', 'food']);
    // months: any 40 = food 25 + housing 12 + utilities 3 events; with housing's people shown too
    // (utilities 12 people), utilities' month +1 (3 events) is hidden and the rest 40 - 25 - 12 = 3
    // would give it back: housing's month +1 is hidden too (food's 25 leave a rest of 15)
    const p2 = publishable([study('any', 54, [40]), study('food', 30, [25]), study('housing_instability', 12, [12]), study('utilities', 12, [3])], 11);
    expect([...p2.people].sort()).toEqual(['any', 'food', 'housing_instability', 'utilities']);
    expect([...p2.months.get('any|ed_visits')!]).toEqual([1]);
    expect([...p2.months.get('food|ed_visits')!]).toEqual([1]);
    expect([...p2.months.get('housing_instability|ed_visits')!]).toEqual([]);
    expect([...p2.months.get('utilities|ed_visits')!]).toEqual([]);
    // a month of 'any' with 1..10 events is hidden by itself, the others shown
    const p3 = publishable([study('any', 50, [40, 7, 0])], 11);
    expect([...p3.months.get('any|ed_visits')!]).toEqual([1, 3]);
  });
});

describe('evaluation small-cell attack: cohort size x estimate = count', () => {
  // The attacker holds every published table and the rules. 11 referred and 11 comparison
  // people, no baseline visits, and 5 ED visits among the referred in month +1: ATT(+1)
  // would be 5/11 per person-month, and 11 x 5/11 = 5 visits. The estimate must not be
  // published, and nothing published may give back a count from 1 to 10 by that route.
  it('withholds an outcome whose monthly events are 1..10 and leaves no product of a published size and figure in 1..10', async () => {
    const people: NonNullable<Drop['people']> = [{ person_id: 'E' }];
    const screenings: NonNullable<Drop['screenings']> = [];
    const referrals: NonNullable<Drop['referrals']> = [{ referral_id: 'R-E', person_id: 'E', need_domain: 'food', referred_on: '2025-01-01', status: 'pending' }];
    const encounters: NonNullable<Drop['encounters']> = [{ encounter_id: 'V0', person_id: 'E', encounter_type: 'outpatient', start_date: '2025-01-01' }];
    for (let i = 0; i < 22; i++) {
      const id = `P${i}`;
      people.push({ person_id: id });
      screenings.push({ screening_id: `S${i}`, person_id: id, screened_on: '2025-07-05', domain: 'food', result: 'positive' });
      if (i < 11) referrals.push({ referral_id: `R${i}`, person_id: id, need_domain: 'food', referred_on: '2025-07-10', status: 'pending' });
      if (i < 5) encounters.push({ encounter_id: `V${i + 1}`, person_id: id, encounter_type: 'ed', start_date: '2025-08-12' });
    }
    db = await loadDrop({ people, screenings, referrals, encounters });
    const study = await buildEvaluation(db.conn, { runId: 'r1', asOf: AS_OF, threshold: 11 });
    expect(study.outcomes.find((o) => o.outcome === 'ed_visits')!.months.find((m) => m.e === 1)!.estimate).toBeCloseTo(5 / 11, 12);
    const summary = await rows<Record<string, unknown>>(db.conn, 'SELECT * FROM evaluation_summary ORDER BY outcome');
    expect(summary[0]).toMatchObject({ outcome: 'ed_visits', status: 'withheld', att_per_1000: null, treated_people: 11, comparison_people: 11 });
    const published = [
      ...summary,
      ...(await rows<Record<string, unknown>>(db.conn, 'SELECT * FROM evaluation_event_study')),
      ...(await rows<Record<string, unknown>>(db.conn, 'SELECT * FROM evaluation_balance')),
    ];
    // month +1 (5 visits) is withheld, and with it the average over +1..+6; months with no
    // visit (0 events) are published
    const edMonths = published.filter((r) => r.outcome === 'ed_visits' && 'rel_month' in r && r.domain === 'any').map((r) => r.rel_month);
    expect(edMonths).not.toContain(1);
    expect(edMonths).toContain(2);
    const figures = published.flatMap((r) => Object.values(r).filter((v): v is number => typeof v === 'number'));
    for (const n of [11, 22]) {
      for (const x of figures) {
        const derived = (x * n) / 1000;
        const hit = Math.abs(derived - Math.round(derived)) < 1e-6 && Math.round(derived) >= 1 && Math.round(derived) <= 10;
        expect(hit, `${x} per 1,000 x ${n} people = ${derived}`).toBe(false);
      }
    }
  });
});
