// The attacker tested on its own (issue 14): tiny download folders, one per route, whose
// leaks are worked out by hand in the comments. attack.py must find exactly those: a count
// it pins or bounds inside 1..10, with the interval given here, and nothing that is not one.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attack, missingPython, writeManifest, writeRole, writeServices, type Finding, type ResultRow } from './fixtures.ts';

const missing = missingPython();
const dirs: string[] = [];
function tmp() {
  const d = mkdtempSync(join(tmpdir(), 'attacker-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const services = (pairs: Array<[string, string]> = [['ORG-A', 'food']]) => {
  const d = tmp();
  const p = join(d, 'services.csv');
  writeServices(p, pairs);
  return p;
};

/** Findings as compact strings: route group quantity [lo,hi]. */
const brief = (fs: Finding[]) => fs.map((f) => `${f.route} ${f.metric} ${f.dimension}=${f.group} ${f.quantity} [${f.interval[0]},${f.interval[1]}]`).sort();

const proportion = (id: string, extra: Record<string, unknown> = {}) => ({ id, kind: 'proportion' as const, ...extra });

/** closed_loop_rate: `all` (n of d), group a shown (15 of 30), groups b and c withheld. */
const withheldPair = (n: number, d: number): ResultRow[] => [
  { metric_id: 'closed_loop_rate', dimension: 'all', group_value: 'all', numerator: n, denominator: d },
  { metric_id: 'closed_loop_rate', dimension: 'race_ethnicity', group_value: 'a', numerator: 15, denominator: 30 },
  { metric_id: 'closed_loop_rate', dimension: 'race_ethnicity', group_value: 'b', suppressed: true },
  { metric_id: 'closed_loop_rate', dimension: 'race_ethnicity', group_value: 'c', suppressed: true },
];

// Each case runs its own python process: run them side by side.
/** Route 4's case where only the LP proves a group reaches 30 (the test of that name works it out). */
function twoYearsCase(): string {
  const dir = tmp();
  const e = 'enrollment_after_referral_rate';
  const t = 'days_to_close';
  const whole = { period_grain: 'all', period_start: '2025-01-01', period_end: '2026-10-31' };
  const y25 = { period_grain: 'year', period_start: '2025-01-01', period_end: '2025-12-31' };
  const y26 = { period_grain: 'year', period_start: '2026-01-01', period_end: '2026-10-31' };
  const cut = (metric_id: string, period: Record<string, string>, figures: Array<[string, number, number] | [string]>): ResultRow[] =>
    figures.map(([group, n, d]) => ({
      metric_id, ...period, dimension: group === 'all' ? 'all' : 'sex', group_value: group,
      ...(n === undefined ? { suppressed: true } : { numerator: n, denominator: d }),
      ...(metric_id === e && group !== 'all' ? { reference_group: 'female' } : {}),
    }));
  writeRole(dir, 'evaluator', {
    catalog: [proportion(e, { windows: [90], direction: 'higher_better' }), { id: t, kind: 'duration', direction: 'lower_better' }],
    rows: [
      ...cut(e, whole, [['all', 20, 272], ['female', 11, 220], ['male'], ['other'], ['unknown', 0, 0]]),
      ...cut(e, y25, [['all', 20, 126], ['female', 11, 100], ['male'], ['other'], ['unknown', 0, 0]]),
      ...cut(e, y26, [['all', 0, 146], ['female', 0, 120], ['male'], ['other'], ['unknown', 0, 0]]),
      ...cut(t, { ...whole, period_start: '2024-01-01' }, [['all', 191, 300], ['female', 150, 230], ['male', 30, 48], ['other', 11, 22], ['unknown', 0, 0]]),
      ...cut(t, y25, [['all', 90, 150], ['female', 70, 110], ['male'], ['other'], ['unknown', 0, 0]]),
      ...cut(t, y26, [['all', 101, 150], ['female', 80, 120], ['male'], ['other'], ['unknown', 0, 0]]),
    ],
  });
  return dir;
}

describe.skipIf(missing !== null)(`attack.py on hand-made publications${missing ? ` (skipped: ${missing})` : ''}`, { concurrent: true }, () => {
  it('route 1, existence and relations: two withheld groups that must add up to 10, each at least 1, lie in 1..9', async () => {
    // all: 40 referrals, 20 closed; group a shows 30 and 15. b + c = 10 referrals (each >= 1
    // because the row exists), so each is 1..9; their numerators add to 5 and may be 0: no leak.
    const dir = tmp();
    writeRole(dir, 'evaluator', { catalog: [proportion('closed_loop_rate')], rows: withheldPair(20, 40) });
    const r = await attack(dir, services());
    expect(brief(r.findings)).toEqual([
      'existence_relations closed_loop_rate race_ethnicity=b denominator [1,9]',
      'existence_relations closed_loop_rate race_ethnicity=c denominator [1,9]',
    ]);
    expect(r.code).toBe(3);
  });

  it('route 1 told the fixed-frames rule: the same withheld pair proves nothing (each may be 0)', async () => {
    // As above, but the attacker knows that every cut lists its whole frame (--fixed-frames):
    // b + c = 10 with b, c >= 0, so each lies in 0..10, which reaches 0: no leak.
    const dir = tmp();
    writeRole(dir, 'evaluator', { catalog: [proportion('closed_loop_rate')], rows: withheldPair(20, 40) });
    const r = await attack(dir, services(), ['--fixed-frames']);
    expect(brief(r.findings)).toEqual([]);
  });

  it('publishes nothing it cannot prove: the same table with 12 referrals withheld leaks nothing', async () => {
    // b + c = 22: each is 1..21, not inside 1..10.
    const dir = tmp();
    writeRole(dir, 'evaluator', { catalog: [proportion('closed_loop_rate')], rows: withheldPair(26, 52) });
    const r = await attack(dir, services());
    expect(r.findings).toEqual([]);
    expect(r.code).toBe(0);
  });

  it('route 2, one count published by two metrics: need_referral_rate denominator = positive_needs once 30 days have passed', async () => {
    // January 2026, as of 2026-10-31: the window has elapsed. positive_needs: all 40, a 33, so
    // b = 7 (existence). need_referral_rate hides both groups; its denominators are the same
    // needs: a = 33, hence b = 7 (cross metric). b's numerator is 0..7 and may be 0: no leak.
    const dir = tmp();
    const month = { period_grain: 'month', period_start: '2026-01-01', period_end: '2026-01-31' };
    writeRole(dir, 'evaluator', {
      catalog: [
        { id: 'positive_needs', kind: 'count', anchor: 'screened_on', unit: 'positive needs' },
        proportion('need_referral_rate', { anchor: 'screened_on', windows: [30], unit: 'proportion of positive needs (0-1)' }),
      ],
      rows: [
        { metric_id: 'positive_needs', ...month, dimension: 'all', group_value: 'all', numerator: 40 },
        { metric_id: 'positive_needs', ...month, dimension: 'race_ethnicity', group_value: 'a', numerator: 33 },
        { metric_id: 'positive_needs', ...month, dimension: 'race_ethnicity', group_value: 'b', suppressed: true },
        { metric_id: 'need_referral_rate', ...month, dimension: 'all', group_value: 'all', numerator: 20, denominator: 40 },
        { metric_id: 'need_referral_rate', ...month, dimension: 'race_ethnicity', group_value: 'a', suppressed: true },
        { metric_id: 'need_referral_rate', ...month, dimension: 'race_ethnicity', group_value: 'b', suppressed: true },
      ],
    });
    const r = await attack(dir, services());
    expect(brief(r.findings)).toEqual([
      'cross_metric need_referral_rate race_ethnicity=b denominator [7,7]',
      'existence_relations positive_needs race_ethnicity=b count [7,7]',
    ]);
  });

  it('route 3, tied dimensions: limited_english no = preferred_language en, yes = the other known languages', async () => {
    // all 65 (31 closed). Languages: es 30 (15), unknown 22 (11), en and fr withheld: 13 (5)
    // between them, not pinned. Limited English: yes 38 (18), unknown 22 (11), so no = 5 (2),
    // complement 3 (existence). Tie: en = no = 5 (2, 3); fr = yes - es = 8 (3, 5).
    const dir = tmp();
    const row = (dimension: string, group: string, n?: number, d?: number): ResultRow =>
      n === undefined ? { metric_id: 'closed_loop_rate', dimension, group_value: group, suppressed: true } : { metric_id: 'closed_loop_rate', dimension, group_value: group, numerator: n, denominator: d };
    writeRole(dir, 'evaluator', {
      catalog: [proportion('closed_loop_rate')],
      rows: [
        row('all', 'all', 31, 65),
        row('preferred_language', 'en'), row('preferred_language', 'es', 15, 30), row('preferred_language', 'fr'), row('preferred_language', 'unknown', 11, 22),
        row('limited_english', 'no'), row('limited_english', 'yes', 18, 38), row('limited_english', 'unknown', 11, 22),
      ],
    });
    const r = await attack(dir, services());
    expect(brief(r.findings)).toEqual([
      'existence_relations closed_loop_rate limited_english=no complement (denominator - numerator) [3,3]',
      'existence_relations closed_loop_rate limited_english=no denominator [5,5]',
      'existence_relations closed_loop_rate limited_english=no numerator [2,2]',
      'tied_dimensions closed_loop_rate preferred_language=en complement (denominator - numerator) [3,3]',
      'tied_dimensions closed_loop_rate preferred_language=en denominator [5,5]',
      'tied_dimensions closed_loop_rate preferred_language=en numerator [2,2]',
      'tied_dimensions closed_loop_rate preferred_language=fr complement (denominator - numerator) [5,5]',
      'tied_dimensions closed_loop_rate preferred_language=fr denominator [8,8]',
      'tied_dimensions closed_loop_rate preferred_language=fr numerator [3,3]',
    ]);
  });

  it('route 3, tied dimensions: through the public directory, organizations and the domains they serve add up', async () => {
    // Directory: ORG-A serves food and housing, ORG-B transport. all 52 referrals (25
    // accepted); ORG-A 30 (14), ORG-B 22 (11); food 24 (11), housing and transport withheld:
    // 28 (14) between them, neither pinned by the domain cut. Through the directory
    // transport = ORG-B = 22 (11, 11) and housing = ORG-A - food = 6 (3 accepted, 3 not).
    const dir = tmp();
    const row = (dimension: string, group: string, n?: number, d?: number): ResultRow =>
      n === undefined ? { metric_id: 'referral_acceptance_rate', dimension, group_value: group, suppressed: true } : { metric_id: 'referral_acceptance_rate', dimension, group_value: group, numerator: n, denominator: d };
    writeRole(dir, 'evaluator', {
      catalog: [proportion('referral_acceptance_rate', { windows: [14] })],
      rows: [
        row('all', 'all', 25, 52),
        row('target_org_id', 'ORG-A', 14, 30), row('target_org_id', 'ORG-B', 11, 22),
        row('domain', 'food', 11, 24), row('domain', 'housing'), row('domain', 'transport'),
      ],
    });
    const r = await attack(dir, services([['ORG-A', 'food'], ['ORG-A', 'housing'], ['ORG-B', 'transport']]));
    expect(brief(r.findings)).toEqual([
      'tied_dimensions referral_acceptance_rate domain=housing complement (denominator - numerator) [3,3]',
      'tied_dimensions referral_acceptance_rate domain=housing denominator [6,6]',
      'tied_dimensions referral_acceptance_rate domain=housing numerator [3,3]',
    ]);
  });

  // Route 4, most_favourable (README, "Reference groups"): in a dimension without a named
  // reference the reference is the group with the best whole-span rate among groups with a
  // whole-span denominator of 30 or more, so every other group (not `unknown`) has d < 30 or
  // a rate no better than the reference's. enrollment_after_referral_rate by sex, whole span:
  // all 20 of 272, female (the reference) 11 of 220, unknown 0 of 0, male and other withheld:
  // male + other = 52 referrals, 9 enrolled. days_to_close shows every group's referrals
  // (cases), and enrollment's referrals are a subset of them: other <= otherCases, male <=
  // 70 - otherCases. With otherCases 22, male >= 30, so male's rate is no better than 11/220
  // (higher is better): 220 n <= 11 d <= 11 x 48, n <= 2, and other enrolled 7..9.
  /** The reference, the group that may be proven to reach 30, the one whose figures leak. */
  type Trio = [ref: string, big: string, small: string];
  const referenceCase = (dimension: string, [ref, big, small]: Trio, otherCases: number, direction: 'higher_better' | 'lower_better') => {
    const dir = tmp();
    const row = (metric_id: string, group: string, n?: number, d?: number): ResultRow => ({
      metric_id, dimension: group === 'all' ? 'all' : dimension, group_value: group,
      ...(n === undefined ? { suppressed: true } : { numerator: n, denominator: d }),
      ...(group === 'all' || metric_id !== 'enrollment_after_referral_rate' ? {} : { reference_group: ref }),
    });
    const e = 'enrollment_after_referral_rate';
    writeRole(dir, 'evaluator', {
      catalog: [proportion(e, { windows: [90], direction }), { id: 'days_to_close', kind: 'duration', direction: 'lower_better' }],
      rows: [
        row(e, 'all', 20, 272), row(e, ref, 11, 220), row(e, big), row(e, small), row(e, 'unknown', 0, 0),
        // every figure shown, none in 1..10: 191 closed of 300 referrals
        row('days_to_close', 'all', 191, 300), row('days_to_close', ref, 150, 230), row('days_to_close', big, 30, 70 - otherCases),
        row('days_to_close', small, 11, otherCases), row('days_to_close', 'unknown', 0, 0),
      ],
    });
    return dir;
  };
  /** The same leaks by brute force: every integer solution of the whole-span cut, and the
   * quantities whose range lies inside 1..10 (the attacker's finding list, written another way). */
  const referenceLeaks = (dimension: string, [, big, small]: Trio, otherCases: number, direction: 'higher_better' | 'lower_better', rule: boolean) => {
    const range: Record<string, [number, number]> = {};
    const see = (k: string, v: number) => {
      const r = range[k];
      range[k] = r ? [Math.min(r[0], v), Math.max(r[1], v)] : [v, v];
    };
    // no better than 11/220: higher_better n/d <= 1/20, lower_better n/d >= 1/20
    const noBetter = (n: number, d: number) => (direction === 'higher_better' ? 20 * n <= d : 20 * n >= d);
    for (let dS = 0; dS <= Math.min(52, otherCases); dS++) {
      const dB = 52 - dS;
      if (dB > 70 - otherCases) continue;
      for (let nS = 0; nS <= Math.min(9, dS); nS++) {
        const nB = 9 - nS;
        if (nB > dB) continue;
        if (rule && ((dB >= 30 && !noBetter(nB, dB)) || (dS >= 30 && !noBetter(nS, dS)))) continue;
        for (const [g, n, d] of [[big, nB, dB], [small, nS, dS]] as const) {
          see(`${g} numerator`, n);
          see(`${g} denominator`, d);
          see(`${g} complement (denominator - numerator)`, d - n);
        }
      }
    }
    return Object.entries(range).filter(([, [lo, hi]]) => lo >= 1 && hi <= 10)
      .map(([k, [lo, hi]]) => `reference_group enrollment_after_referral_rate ${dimension}=${k} [${lo},${hi}]`).sort();
  };

  it('route 4, most_favourable: a group proven to reach 30 has a rate no better than the reference, which pins the other', async () => {
    const groups: Trio = ['female', 'male', 'other'];
    const expected = referenceLeaks('sex', groups, 22, 'higher_better', true);
    expect(expected).toEqual(['reference_group enrollment_after_referral_rate sex=other numerator [7,9]']);
    expect(referenceLeaks('sex', groups, 22, 'higher_better', false)).toEqual([]); // the rule is what leaks
    const r = await attack(referenceCase('sex', groups, 22, 'higher_better'), services(), ['--fixed-frames']);
    expect(brief(r.findings)).toEqual(expected);
  });

  it('route 4, most_favourable where lower is better: male is proven to reach 30, so its rate is at least 11/220 and its numerator 2..9', async () => {
    // 220 n >= 11 d >= 11 x 30: n >= 2 (and n <= 9, the whole cut's numerator).
    const groups: Trio = ['female', 'male', 'other'];
    const expected = referenceLeaks('sex', groups, 22, 'lower_better', true);
    expect(expected).toEqual(['reference_group enrollment_after_referral_rate sex=male numerator [2,9]']);
    const r = await attack(referenceCase('sex', groups, 22, 'lower_better'), services(), ['--fixed-frames']);
    expect(brief(r.findings)).toEqual(expected);
  });

  it('route 4, most_favourable: no finding when no withheld group can be proven to reach 30 (other up to 23 referrals, male from 29)', async () => {
    // Male's 29 referrals would put it below the threshold, so its rate may be anything: other
    // enrolled 0..9. Applying the rule without proof would report other 7..9.
    const groups: Trio = ['female', 'male', 'other'];
    expect(referenceLeaks('sex', groups, 23, 'higher_better', true)).toEqual([]);
    const r = await attack(referenceCase('sex', groups, 23, 'higher_better'), services(), ['--fixed-frames']);
    expect(brief(r.findings)).toEqual([]);
  });

  it('route 4, most_favourable where only the LP proves a group reaches 30 (two years, each bounded by another metric)', async () => {
    // enrollment_after_referral_rate (E) as above at the whole span (male + other = 52, 9
    // enrolled), now also by year: 2025 all 20 of 126, female 11 of 100; 2026 all 0 of 146,
    // female 0 of 120 (male + other 26 each year; 2026 enrolled none). days_to_close (T) shows
    // other 22 referrals over its own whole span (which starts a year earlier: no cross
    // relation there) and hides male and other in each year: other 2025 + other 2026 = 22.
    // E's referrals are a subset of T's, year by year: E other 2025 <= T other 2025 and the
    // same in 2026. Bound by bound, each year's other is at most 22, so E other <= 42 and male
    // >= 10; their sum, as the LP sees it, gives E other <= 22 and male >= 30. Then 220 n <= 11 d
    // <= 11 x 52 gives male at most 2 enrolled, and other 7..9, all of them in 2025.
    // The same by enumeration: E other o (male 52 - o), other enrolled k (male 9 - k; in 2025,
    // as 2026 enrolled none), other 2025 a (2026 o - a); T's hidden cells: other 2025 events x
    // (0..11) and 2026 censored y (0..9) give other 2025 = x + 11 - y referrals, 2026 the rest of 22.
    const enrolled = new Set<number>();
    for (let o = 0; o <= 52; o++) {
      for (let k = 0; k <= 9; k++) {
        const [m, km] = [52 - o, 9 - k];
        if (k > o || km > m || (m >= 30 && 20 * km > m) || (o >= 30 && 20 * k > o)) continue;
        for (let a = k; a <= Math.min(o, 26); a++) {
          if (o - a > 26 || km > 26 - a) continue;
          let tFits = false;
          for (let x = 0; x <= 11 && !tFits; x++) for (let y = 0; y <= 9 && !tFits; y++) tFits = a <= x + 11 - y && o - a <= 22 - (x + 11 - y);
          if (tFits) enrolled.add(k);
        }
      }
    }
    expect([Math.min(...enrolled), Math.max(...enrolled)]).toEqual([7, 9]);
    const dir = twoYearsCase();
    const r = await attack(dir, services(), ['--fixed-frames']);
    expect(r.findings.map((f) => `${f.route} ${f.metric} ${f.grain} ${f.period} ${f.dimension}=${f.group} ${f.quantity} [${f.interval[0]},${f.interval[1]}]`).sort()).toEqual([
      'reference_group enrollment_after_referral_rate all 2025-01-01 sex=other numerator [7,9]',
      'reference_group enrollment_after_referral_rate year 2025-01-01 sex=other numerator [7,9]',
    ]);
  });

  it('a solver that dies (HiGHS aborting the process, as scipy 1.10 sometimes does) is redone without presolve: the same findings', async () => {
    // ATTACK_TEST_ABORT_SOLVES: every LP and MILP child aborts, as HiGHS did once on the e2e check
    const dir = twoYearsCase();
    const summary = join(dir, 'summary.json');
    const r = await attack(dir, services(), ['--fixed-frames', '--summary', summary], { ATTACK_TEST_ABORT_SOLVES: '1' });
    expect(r.code, r.stderr).toBe(3);
    expect(r.findings.map((f) => `${f.route} ${f.metric} ${f.grain} ${f.period} ${f.dimension}=${f.group} ${f.quantity} [${f.interval[0]},${f.interval[1]}]`).sort()).toEqual([
      'reference_group enrollment_after_referral_rate all 2025-01-01 sex=other numerator [7,9]',
      'reference_group enrollment_after_referral_rate year 2025-01-01 sex=other numerator [7,9]',
    ]);
    const crashes = JSON.parse(readFileSync(summary, 'utf8')).solver_crashes as { solves: number; recovered: number };
    expect(crashes.solves).toBeGreaterThan(0);
    expect(crashes.recovered).toBe(crashes.solves);
  });

  it('route 4 takes the reference from current rows only: a row pending revision names the previous publication\'s', async () => {
    // Male was the reference with 30 referrals; now it has 29, no group reaches 30 and no
    // current row names a reference. Male's row, pending revision, still shows the previous
    // figures and reference. all 62 (25 closed), female 11 of 22: male + other = 40, each at
    // least 1 (rows exist, no fixed frame). Trusting the old reference (male >= 30) would put
    // other at 1..10.
    const dir = tmp();
    const row = (group: string, extra: Partial<ResultRow>): ResultRow => ({ metric_id: 'closed_loop_rate', dimension: group === 'all' ? 'all' : 'sex', group_value: group, ...extra });
    writeRole(dir, 'evaluator', {
      catalog: [proportion('closed_loop_rate', { direction: 'higher_better' })],
      rows: [row('all', { numerator: 25, denominator: 62 }), row('female', { numerator: 11, denominator: 22 }),
        row('male', { numerator: 14, denominator: 30, note: 'pending revision', reference_group: 'male' }), row('other', { suppressed: true })],
    });
    const r = await attack(dir, services());
    expect(brief(r.findings)).toEqual([]);
  });

  it('route 4, a named reference (race_ethnicity white) says nothing about the order of the rates', async () => {
    // The same figures as the first case: white is AHRQ's reference, not the best rate.
    const r = await attack(referenceCase('race_ethnicity', ['white', 'black', 'asian'], 22, 'higher_better'), services(), ['--fixed-frames']);
    expect(brief(r.findings)).toEqual([]);
  });

  // A curve of 20 referrals: 2 close on day 0, 3 are censored; 1 closes on day 1, 2 censored;
  // 3 close on day 2. At risk 20, 15, 12; S = 0.9, 0.9 x 14/15 = 0.84, 0.84 x 9/12 = 0.63.
  const steps = [
    { time: 0, at_risk: 20, d: 2, survival: 0.9 },
    { time: 1, at_risk: 15, d: 1, survival: 0.84 },
    { time: 2, at_risk: 12, d: 3, survival: 0.63 },
  ];
  const expectedKm = [
    'kaplan_meier days_to_close all=all censored cases at day 0 up to the next step [3,3]',
    'kaplan_meier days_to_close all=all censored cases at day 1 up to the next step [2,2]',
    'kaplan_meier days_to_close all=all events at day 0 [2,2]',
    'kaplan_meier days_to_close all=all events at day 1 [1,1]',
    'kaplan_meier days_to_close all=all events at day 2 [3,3]',
  ];
  const kmRow = (s: (typeof steps)[number], extra: Record<string, unknown>) => ({
    metric_id: 'days_to_close', period_grain: 'all', period_start: '2025-01-01', dimension: 'all', group_value: 'all', time: s.time, survival: s.survival, ...extra,
  });

  it('route 5, Kaplan-Meier: events = at_risk x (1 - S(t)/S(t-)), censored = at_risk - events - next at_risk', async () => {
    const dir = tmp();
    writeRole(dir, 'evaluator', {
      catalog: [{ id: 'days_to_close', kind: 'duration' }],
      files: { '/api/km?metric=days_to_close&dimension=all': { rows: steps.map((s) => kmRow(s, { at_risk: s.at_risk, lower: null, upper: null })) } },
    });
    expect(brief((await attack(dir, services())).findings)).toEqual(expectedKm);
  });

  it('route 5, Kaplan-Meier without at-risk counts: the log-log band still gives n and d away (Greenwood)', async () => {
    // The band computed forward from the counts: G = sum d/(n(n-d)), se = sqrt(G)/|log S|,
    // lower = S^exp(1.96 se). The attacker inverts it; censored cases follow from the n it finds.
    let g = 0;
    const rows = steps.map((s) => {
      g += s.d / (s.at_risk * (s.at_risk - s.d));
      const se = Math.sqrt(g) / Math.abs(Math.log(s.survival));
      return kmRow(s, { lower: s.survival ** Math.exp(1.959963984540054 * se), upper: s.survival ** Math.exp(-1.959963984540054 * se) });
    });
    const dir = tmp();
    writeRole(dir, 'evaluator', { catalog: [{ id: 'days_to_close', kind: 'duration' }], files: { '/api/km?metric=days_to_close&dimension=all': { rows } } });
    expect(brief((await attack(dir, services())).findings)).toEqual(expectedKm);
  });

  it('route 6, person-time: 17.76 member-months of 180-day windows are exactly 3 people', async () => {
    // One whole 180-day window is 5.871..5.968 member-months (July-December at the least,
    // a window over February at the most): 17.76 / 5.968 = 2.98 and 17.76 / 5.871 = 3.02.
    const dir = tmp();
    writeRole(dir, 'evaluator', {
      catalog: [{ id: 'ed_visits_pre_referral_per_1000_mm', kind: 'rate', anchor: 'first referral date', windows: [180], unit: 'per 1,000 member-months' }],
      rows: [{ metric_id: 'ed_visits_pre_referral_per_1000_mm', dimension: 'race_ethnicity', group_value: 'a', numerator: 0, denominator: 17.76 }],
    });
    expect(brief((await attack(dir, services())).findings)).toEqual(['person_time pre/post referral cohort race_ethnicity=a people behind person-time [3,3]']);
  });

  it('route 7, partner self-subtraction: the area\'s food figure minus its own is the only other food partner\'s', async () => {
    // ORG-A and ORG-B both serve food, nobody else does. ORG-A's partner sees the area (40
    // referrals, 20 accepted; food the same) and its own row (33, 17): ORG-B = 7 (3, 4).
    const dir = tmp();
    const row = (dimension: string, group: string, n: number, d: number): ResultRow => ({ metric_id: 'referral_acceptance_rate', dimension, group_value: group, numerator: n, denominator: d });
    writeRole(dir, 'partner-ORG-A', {
      catalog: [proportion('referral_acceptance_rate', { windows: [14] })],
      files: { '/api/metrics/referral_acceptance_rate': { rows: [row('all', 'all', 20, 40), row('domain', 'food', 20, 40), row('target_org_id', 'ORG-A', 17, 33)].map((r) => ({ period_grain: 'all', period_start: '2025-01-01', period_end: '2026-10-31', suppressed: false, ...r })) } },
    });
    writeManifest(dir, { 'partner-ORG-A': { role: 'partner', org: 'ORG-A' } });
    const r = await attack(dir, services([['ORG-A', 'food'], ['ORG-B', 'food']]));
    expect(brief(r.findings)).toEqual([
      'partner_subtraction referral_acceptance_rate target_org_id=ORG-B complement (denominator - numerator) [4,4]',
      'partner_subtraction referral_acceptance_rate target_org_id=ORG-B denominator [7,7]',
      'partner_subtraction referral_acceptance_rate target_org_id=ORG-B numerator [3,3]',
    ]);
    expect(r.findings.every((f) => f.role === 'partner-ORG-A')).toBe(true);
  });

  it('route 7 under fixed frames: a zero row of a domain no one serves does not hide the directory tie', async () => {
    // ORG-A and ORG-C serve food, ORG-B alone transport; the domain frame also lists legal
    // (served by no one: 0 referrals). ORG-A's partner sees all (28 accepted of 53), food
    // (15, 28), transport (13, 25), legal (0, 0) and its own row (11, 22). Transport can only be
    // ORG-B's: (13, 25), complement 12; food minus its own can only be ORG-C's: (4, 6), complement 2.
    const dir = tmp();
    const row = (dimension: string, group: string, n: number, d: number): ResultRow => ({ metric_id: 'referral_acceptance_rate', dimension, group_value: group, numerator: n, denominator: d });
    writeRole(dir, 'partner-ORG-A', {
      catalog: [proportion('referral_acceptance_rate', { windows: [14] })],
      files: { '/api/metrics/referral_acceptance_rate': { rows: [row('all', 'all', 28, 53), row('domain', 'food', 15, 28), row('domain', 'transport', 13, 25), row('domain', 'legal', 0, 0), row('target_org_id', 'ORG-A', 11, 22)]
        .map((r) => ({ period_grain: 'all', period_start: '2025-01-01', period_end: '2026-10-31', suppressed: false, ...r })) } },
    });
    writeManifest(dir, { 'partner-ORG-A': { role: 'partner', org: 'ORG-A' } });
    const r = await attack(dir, services([['ORG-A', 'food'], ['ORG-C', 'food'], ['ORG-B', 'transport']]));
    expect(brief(r.findings)).toEqual([
      'partner_subtraction referral_acceptance_rate target_org_id=ORG-B complement (denominator - numerator) [12,12]',
      'partner_subtraction referral_acceptance_rate target_org_id=ORG-B denominator [25,25]',
      'partner_subtraction referral_acceptance_rate target_org_id=ORG-B numerator [13,13]',
      'partner_subtraction referral_acceptance_rate target_org_id=ORG-C complement (denominator - numerator) [2,2]',
      'partner_subtraction referral_acceptance_rate target_org_id=ORG-C denominator [6,6]',
      'partner_subtraction referral_acceptance_rate target_org_id=ORG-C numerator [4,4]',
    ]);
  });

  it('route 8, consecutive publications: one referral added moves a shown denominator and complement by exactly 1', async () => {
    const before = tmp();
    const after = tmp();
    const all = (n: number, d: number): ResultRow[] => [{ metric_id: 'closed_loop_rate', dimension: 'all', group_value: 'all', numerator: n, denominator: d }];
    writeRole(before, 'evaluator', { catalog: [proportion('closed_loop_rate')], rows: all(50, 100) });
    writeRole(after, 'evaluator', { catalog: [proportion('closed_loop_rate')], rows: all(50, 101) });
    expect(brief((await attack(after, services(), ['--previous', before])).findings)).toEqual([
      'consecutive closed_loop_rate all=all change of complement (denominator - numerator) [1,1]',
      'consecutive closed_loop_rate all=all change of denominator [1,1]',
    ]);
  });

  it('route 8, a count withheld before: within 11..15 then (a range that reaches 11 passes), shown as 16 now', async () => {
    // Publication 1, closed loops by sex, whole span and years (every cut lists its whole
    // frame). Women: 11 of 22 in 2025 shown, the span withheld; everyone 50 of 100, other 35
    // of 70. So women's span count is 11 + their 2026 count (>= 11) and at most 50 - 35 = 15;
    // their referrals 22..30 and their open ones 11..15 the same way. Publication 2 shows the
    // span only: women 16 of 32, other 46 of 92, everyone 62 of 124 (men 0 of 0). Changes:
    // closed 1..5, referrals 2..10, open 1..5. Every shown figure moved by 11 or more.
    const before = tmp();
    const after = tmp();
    const whole = { period_grain: 'all', period_start: '2025-01-01', period_end: '2026-10-31' };
    const y25 = { period_grain: 'year', period_start: '2025-01-01', period_end: '2025-12-31' };
    const y26 = { period_grain: 'year', period_start: '2026-01-01', period_end: '2026-10-31' };
    const cut = (period: Record<string, string>, figures: Array<[string, number, number] | [string]>): ResultRow[] =>
      figures.map(([group, n, d]) => ({ metric_id: 'closed_loop_rate', ...period, dimension: group === 'all' ? 'all' : 'sex', group_value: group, ...(n === undefined ? { suppressed: true } : { numerator: n, denominator: d }) }));
    writeRole(before, 'evaluator', {
      catalog: [proportion('closed_loop_rate')],
      rows: [
        ...cut(whole, [['all', 50, 100], ['female'], ['male'], ['other', 35, 70]]),
        ...cut(y25, [['all', 30, 60], ['female', 11, 22], ['male'], ['other']]),
        ...cut(y26, [['all', 20, 40], ['female'], ['male'], ['other']]),
      ],
    });
    writeRole(after, 'evaluator', { catalog: [proportion('closed_loop_rate')], rows: cut(whole, [['all', 62, 124], ['female', 16, 32], ['male'], ['other', 46, 92]]) });
    const r = await attack(after, services(), ['--previous', before, '--fixed-frames']);
    expect(brief(r.findings)).toEqual([
      'consecutive closed_loop_rate sex=female change of complement (denominator - numerator) [1,5]',
      'consecutive closed_loop_rate sex=female change of denominator [2,10]',
      'consecutive closed_loop_rate sex=female change of numerator [1,5]',
    ]);
  });

  it('route 9, q-values over hidden comparisons, and quarantine counts exported as CSV', async () => {
    // Shown: b p = 0.01 q = 0.03, c p = 0.04 q = 0.06. Benjamini-Hochberg over these two gives
    // 0.02 and 0.04; q = p x m / rank gives m = 3: one comparison is hidden.
    const dir = tmp();
    const row = (g: string, n: number, d: number, p?: number, q?: number): ResultRow => ({ metric_id: 'closed_loop_rate', dimension: 'race_ethnicity', group_value: g, numerator: n, denominator: d, reference_group: 'a', p_value: p ?? null, q_value: q ?? null });
    writeRole(dir, 'evaluator', {
      catalog: [proportion('closed_loop_rate')],
      rows: [row('a', 20, 40), row('b', 15, 30, 0.01, 0.03), row('c', 11, 30, 0.04, 0.06)],
      files: { '/api/charts/quarantine.csv': 'file,entity,rows_read,rows_loaded,rows_quarantined,rejected,reasons,message\npeople.csv,people,100,97,3,false,bad_date ×3,\n' },
    });
    expect(brief((await attack(dir, services())).findings)).toEqual([
      'quarantine operational file=people.csv rows quarantined [3,3]',
      'qvalue closed_loop_rate *=* comparisons hidden from the q-value family [1,null]',
    ]);
  });

  it('a scorecard figure of a row pending revision is the previous publication\'s, not a current count (it pinned ORG-01 wrongly)', async () => {
    // The 3,000-person drop's second publication: ORG-01's whole-span row pending revision in
    // the export, the scorecard showing its previous denominator (746; 747 in truth). Taken as
    // current, it pinned every count tied to it one off. Here: all 40 referrals, ORG-A pending
    // (previously 33), ORG-B withheld: with 33 taken as current, ORG-B would be 7.
    const dir = tmp();
    const row = (group: string, extra: Partial<ResultRow>): ResultRow => ({ metric_id: 'referral_acceptance_rate', dimension: group === 'all' ? 'all' : 'target_org_id', group_value: group, ...extra });
    writeRole(dir, 'evaluator', {
      catalog: [proportion('referral_acceptance_rate', { windows: [14] })],
      rows: [row('all', { numerator: 20, denominator: 40 }), row('ORG-A', { numerator: 17, denominator: 33, note: 'pending revision' }), row('ORG-B', { suppressed: true })],
      files: { '/api/scorecards?grain=all': { grain: 'all', period_start: '2025-01-01', cells: [{ measure: 'referral_acceptance_rate', org_id: 'ORG-A', denominator: 33 }] } },
    });
    const r = await attack(dir, services([['ORG-A', 'food'], ['ORG-B', 'food']]), ['--fixed-frames']);
    expect(brief(r.findings)).toEqual([]);
  });

  it('a count shown in 1..10, and a withheld count another view shows, are findings too', async () => {
    // closed_loop_rate a shows 5 closed of 50 (a numerator of 5). The gap table shows the
    // withheld positive_needs of food x 37001: 4.
    const dir = tmp();
    writeRole(dir, 'evaluator', {
      catalog: [proportion('closed_loop_rate'), { id: 'positive_needs', kind: 'count', anchor: 'screened_on', unit: 'positive needs' }],
      rows: [
        { metric_id: 'closed_loop_rate', dimension: 'race_ethnicity', group_value: 'a', numerator: 5, denominator: 50 },
        { metric_id: 'positive_needs', dimension: 'domain*county_fips', group_value: 'food*37001', suppressed: true },
      ],
      files: { '/api/gaps': { rows: [{ domain: 'food', county_fips: '37001', period_start: '2025-01-01', positive_needs: 4 }] } },
    });
    expect(brief((await attack(dir, services())).findings)).toEqual([
      'other_view positive_needs domain*county_fips=food*37001 count [4,4]',
      'shown closed_loop_rate race_ethnicity=a numerator [5,5]',
    ]);
  });
});
