// Coverage spans on hand-built drops: member-months across a gap and over overlapping spans,
// a payer change mid-quarter, people in a period under their last enrolled day, and HEDIS
// continuous enrollment at its boundaries. Figures worked out by hand below.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../../models/duckdb.ts';
import { computeDrop, type Computed, type Drop } from './helpers.ts';

// As of 2024-06-30. Coverage (2024 is a leap year: February has 29 days):
//   M1 medicaid ACO-1  2024-01-01..2024-01-31, then 2024-03-16..open: a gap from 1 February to 15 March
//   M2 commercial ACO-1 2024-01-01..2024-03-31 (plan A) and 2024-02-01..2024-04-30 (plan B): overlapping, merged
//   M3 medicare ACO-1  2024-01-01..2024-05-15, then dual ACO-2 2024-05-16..open: payer and program change mid-quarter
//   M4 medicaid ACO-1  2024-01-01..2024-02-10 (leaves)
// Member-months (days covered / days in the month):
//   M1 Jan 1, Mar 16/31, Apr-Jun 1 each          M2 Jan-Apr 1 each (not 6: the overlap counts once)
//   M3 Jan-Apr 1 each (medicare), May 15/31 medicare + 16/31 dual, Jun 1 (dual)
//   M4 Jan 1, Feb 10/29
// Encounters (all ED): E1 M1 01-01 (covered), E2 M1 02-10 (in M1's gap: not counted), E3 M1 03-16,
//   E4 M2 02-15 (in the overlap: counted once), E5 M3 05-10 (medicare), E6 M3 06-01 (dual), E7 M4 03-01 (after M4 left)
// Screenings: S1 M2 01-01, S2 M1 02-20 (in M1's gap), S3 M3 04-10.
const span = (person: string, from: string, through: string | null, payer: string, program: string, plan?: string) =>
  ({ person_id: person, coverage_from: from, coverage_through: through, payer, program_id: program, plan_id: plan ?? null });

const DROP: Drop = {
  people: ['M1', 'M2', 'M3', 'M4'].map((person_id) => ({ person_id, birth_date: '1980-01-01', enrolled_from: null })),
  coverage: [
    span('M1', '2024-01-01', '2024-01-31', 'medicaid', 'ACO-1'), span('M1', '2024-03-16', null, 'medicaid', 'ACO-1'),
    span('M2', '2024-01-01', '2024-03-31', 'commercial', 'ACO-1', 'A'), span('M2', '2024-02-01', '2024-04-30', 'commercial', 'ACO-1', 'B'),
    span('M3', '2024-01-01', '2024-05-15', 'medicare', 'ACO-1'), span('M3', '2024-05-16', null, 'dual', 'ACO-2'),
    span('M4', '2024-01-01', '2024-02-10', 'medicaid', 'ACO-1'),
  ],
  encounters: [
    ['E1', 'M1', '2024-01-01'], ['E2', 'M1', '2024-02-10'], ['E3', 'M1', '2024-03-16'], ['E4', 'M2', '2024-02-15'],
    ['E5', 'M3', '2024-05-10'], ['E6', 'M3', '2024-06-01'], ['E7', 'M4', '2024-03-01'],
  ].map(([encounter_id, person_id, start_date]) => ({ encounter_id, person_id, encounter_type: 'ed', start_date } as Record<string, string>)),
  screenings: [
    { screening_id: 'S1', person_id: 'M2', screened_on: '2024-01-01', domain: 'food', result: 'negative' },
    { screening_id: 'S2', person_id: 'M1', screened_on: '2024-02-20', domain: 'food', result: 'negative' },
    { screening_id: 'S3', person_id: 'M3', screened_on: '2024-04-10', domain: 'food', result: 'negative' },
  ],
};

let c: Computed;
beforeAll(async () => {
  c = await computeDrop(DROP, { asOf: '2024-06-30', keepIntermediate: true });
});
afterAll(() => c.close());

/** [numerator, denominator] of a row. */
const fig = (metric: string, grain: string, start: string | null, dimension = 'all', group = 'all') => {
  const r = c.get(metric, grain, start, dimension, group);
  return r ? [r.numerator, r.denominator] : undefined;
};
const ED = 'ed_visits_per_1000_mm';
const close = (got: Array<number | null> | undefined, want: number[]) => {
  expect(got).toBeDefined();
  expect(got![0]).toBe(want[0]);
  expect(got![1]).toBeCloseTo(want[1]!, 9);
};

describe('int_coverage', () => {
  it('merges overlapping spans, keeps gaps, splits at a change of payer or program', async () => {
    expect(await rows(c.db.conn, 'SELECT person_id, segment_from, segment_through, payer, program_id, run_from, run_through, next_from FROM int_coverage ORDER BY 1, 2')).toEqual([
      { person_id: 'M1', segment_from: '2024-01-01', segment_through: '2024-01-31', payer: 'medicaid', program_id: 'ACO-1', run_from: '2024-01-01', run_through: '2024-01-31', next_from: '2024-03-16' },
      { person_id: 'M1', segment_from: '2024-03-16', segment_through: '2024-06-30', payer: 'medicaid', program_id: 'ACO-1', run_from: '2024-03-16', run_through: '2024-06-30', next_from: null },
      { person_id: 'M2', segment_from: '2024-01-01', segment_through: '2024-04-30', payer: 'commercial', program_id: 'ACO-1', run_from: '2024-01-01', run_through: '2024-04-30', next_from: null },
      { person_id: 'M3', segment_from: '2024-01-01', segment_through: '2024-05-15', payer: 'medicare', program_id: 'ACO-1', run_from: '2024-01-01', run_through: '2024-06-30', next_from: '2024-05-16' },
      { person_id: 'M3', segment_from: '2024-05-16', segment_through: '2024-06-30', payer: 'dual', program_id: 'ACO-2', run_from: '2024-01-01', run_through: '2024-06-30', next_from: null },
      { person_id: 'M4', segment_from: '2024-01-01', segment_through: '2024-02-10', payer: 'medicaid', program_id: 'ACO-1', run_from: '2024-01-01', run_through: '2024-02-10', next_from: null },
    ]);
  });
});

describe('member-months and encounters from coverage', () => {
  it('two spans with a gap: the gap is neither member-months nor a counted visit', () => {
    // M1 alone is medicaid in March..June; January: M1 1 + M4 1; February: M4 10/29 (M1 in its gap, E2 not counted)
    close(fig(ED, 'month', '2024-02-01', 'payer', 'medicaid'), [0, 10 / 29]);
    close(fig(ED, 'month', '2024-03-01', 'payer', 'medicaid'), [1, 16 / 31]); // E3 on M1's first day back
    close(fig(ED, 'month', '2024-01-01', 'payer', 'medicaid'), [1, 2]); // E1
    // Q1: M1 1 + 16/31, M4 1 + 10/29; E1 E3 (E2 in the gap, E7 after M4 left)
    close(fig(ED, 'quarter', '2024-01-01', 'payer', 'medicaid'), [2, 2 + 16 / 31 + 10 / 29]);
  });

  it('overlapping spans count each day once', () => {
    // M2: January to April, 1 each (the two plans overlap in February and March), E4 once
    close(fig(ED, 'quarter', '2024-01-01', 'payer', 'commercial'), [1, 3]);
    close(fig(ED, 'quarter', '2024-04-01', 'payer', 'commercial'), [0, 1]);
    close(fig(ED, 'all', null, 'payer', 'commercial'), [1, 4]);
  });

  it('a payer change mid-quarter: one person in two payer groups of the quarter, once in each', () => {
    // M3 in Q2: medicare April 1 + May 15/31 with E5; dual May 16/31 + June 1 with E6
    close(fig(ED, 'quarter', '2024-04-01', 'payer', 'medicare'), [1, 1 + 15 / 31]);
    close(fig(ED, 'quarter', '2024-04-01', 'payer', 'dual'), [1, 16 / 31 + 1]);
    close(fig(ED, 'month', '2024-05-01', 'payer', 'medicare'), [1, 15 / 31]);
    close(fig(ED, 'month', '2024-05-01', 'payer', 'dual'), [0, 16 / 31]);
    // the program changed with the payer
    close(fig(ED, 'quarter', '2024-04-01', 'program_id', 'ACO-2'), [1, 16 / 31 + 1]);
    // Q2 in all: M1 3, M2 1 (April), M3 3 = 7 member-months; E5 E6
    close(fig(ED, 'quarter', '2024-04-01'), [2, 7]);
    // the payer groups add up to the all row exactly, in every period (disclosure relation (a))
    for (const r of c.of(ED, { dimension: 'all' })) {
      const groups = c.of(ED, { period_grain: r.period_grain, period_start: r.period_start, dimension: 'payer' });
      expect(groups.reduce((s, g) => s + (g.numerator ?? 0), 0), `${r.period_grain} ${r.period_start}`).toBe(r.numerator);
      expect(groups.reduce((s, g) => s + (g.denominator ?? 0), 0)).toBeCloseTo(r.denominator!, 9);
    }
  });

  it('the whole span: 5 visits over 15.86 member-months', () => {
    // Q1 8 + 16/31 + 10/29 (M1 1 + 16/31, M2 3, M3 3, M4 1 + 10/29) and Q2 7; E1 E3 E4 E5 E6
    close(fig(ED, 'all', null), [5, 15 + 16 / 31 + 10 / 29]);
    close(fig(ED, 'all', null, 'payer', 'medicare'), [1, 4 + 15 / 31]);
    const r = c.get(ED, 'all', null);
    expect(r!.value).toBeCloseTo((5 / (15 + 16 / 31 + 10 / 29)) * 1000, 9);
  });
});

describe('people enrolled on any day of the period', () => {
  it('screening_rate counts a person once per period, under the payer of their last enrolled day in it', () => {
    // January: M1 M2 M3 M4 enrolled, S1 (M2) -> 1/4. February: M2 M3 M4 (M1 in its gap); S2 is M1's, who was not
    // enrolled in February -> 0/3. Q1: all four; S1 and S2 (the screening need not fall on an enrolled day) -> 2/4.
    // Q2: M1 M2 M3; S3 -> 1/3. Whole span: 3/4.
    expect(fig('screening_rate', 'month', '2024-01-01')).toEqual([1, 4]);
    expect(fig('screening_rate', 'month', '2024-02-01')).toEqual([0, 3]);
    expect(fig('screening_rate', 'quarter', '2024-01-01')).toEqual([2, 4]);
    expect(fig('screening_rate', 'quarter', '2024-04-01')).toEqual([1, 3]);
    expect(fig('screening_rate', 'all', null)).toEqual([3, 4]);
    // Q1, last enrolled day: M1 medicaid (03-31), M4 medicaid (02-10, after leaving), M2 commercial, M3 medicare
    expect(fig('screening_rate', 'quarter', '2024-01-01', 'payer', 'medicaid')).toEqual([1, 2]);
    expect(fig('screening_rate', 'quarter', '2024-01-01', 'payer', 'commercial')).toEqual([1, 1]);
    expect(fig('screening_rate', 'quarter', '2024-01-01', 'payer', 'medicare')).toEqual([0, 1]);
    // Q2: M3 held medicare and dual, and is counted once, under dual (held on 06-30); M2 under commercial (04-30)
    expect(fig('screening_rate', 'quarter', '2024-04-01', 'payer', 'dual')).toEqual([1, 1]);
    expect(fig('screening_rate', 'quarter', '2024-04-01', 'payer', 'medicare')).toBeUndefined();
    expect(fig('screening_rate', 'quarter', '2024-04-01', 'payer', 'commercial')).toEqual([0, 1]);
    expect(fig('screening_rate', 'quarter', '2024-04-01', 'program_id', 'ACO-2')).toEqual([1, 1]);
    // April: M3 still medicare
    expect(fig('screening_rate', 'month', '2024-04-01', 'payer', 'medicare')).toEqual([1, 1]);
    // every period: the payer groups add up to the all row
    for (const r of c.of('screening_rate', { dimension: 'all' })) {
      const groups = c.of('screening_rate', { period_grain: r.period_grain, period_start: r.period_start, dimension: 'payer' });
      expect(groups.reduce((s, g) => s + (g.denominator ?? 0), 0), `${r.period_grain} ${r.period_start}`).toBe(r.denominator);
      expect(groups.reduce((s, g) => s + (g.numerator ?? 0), 0)).toBe(r.numerator);
    }
  });
});

// HEDIS continuous enrollment over calendar year 2024 (as of 2025-06-30, so the year is over):
// at most one gap, of at most 45 days; a gap at the window's edge counts like any other.
describe('continuously_enrolled (int_enrollment_windows)', () => {
  const cases: Array<[string, string, Array<[string, string | null, string?]>, { gaps: number; gap_days: number; continuously_enrolled: boolean }]> = [
    ['whole year', 'C0', [['2023-06-01', null]], { gaps: 0, gap_days: 0, continuously_enrolled: true }],
    ['one gap of 45 days (1 April - 15 May)', 'C45', [['2024-01-01', '2024-03-31'], ['2024-05-16', null]], { gaps: 1, gap_days: 45, continuously_enrolled: true }],
    ['one gap of 46 days (1 April - 16 May)', 'C46', [['2024-01-01', '2024-03-31'], ['2024-05-17', null]], { gaps: 1, gap_days: 46, continuously_enrolled: false }],
    ['two gaps of 10 days', 'C2G', [['2024-01-01', '2024-03-31'], ['2024-04-11', '2024-08-31'], ['2024-09-11', null]], { gaps: 2, gap_days: 20, continuously_enrolled: false }],
    ['a 45-day gap at the start (enrolled from 15 February)', 'CS45', [['2024-02-15', null]], { gaps: 1, gap_days: 45, continuously_enrolled: true }],
    ['a 46-day gap at the start (enrolled from 16 February)', 'CS46', [['2024-02-16', null]], { gaps: 1, gap_days: 46, continuously_enrolled: false }],
    ['a 45-day gap at the end (left 16 November)', 'CE45', [['2023-01-01', '2024-11-16']], { gaps: 1, gap_days: 45, continuously_enrolled: true }],
    ['a gap at the edge and one inside: two gaps', 'CEI', [['2024-01-05', '2024-06-30'], ['2024-07-03', null]], { gaps: 2, gap_days: 6, continuously_enrolled: false }],
    ['a payer change on consecutive days is no gap', 'CP', [['2023-01-01', '2024-05-15', 'medicaid'], ['2024-05-16', null, 'commercial']], { gaps: 0, gap_days: 0, continuously_enrolled: true }],
    ['no coverage in the year: one gap of 366 days', 'CN', [['2022-01-01', '2022-12-31']], { gaps: 1, gap_days: 366, continuously_enrolled: false }],
  ];
  let windows: Computed;
  beforeAll(async () => {
    windows = await computeDrop({
      people: cases.map(([, person_id]) => ({ person_id, birth_date: '1980-01-01', enrolled_from: null })),
      coverage: cases.flatMap(([, person_id, spans]) => spans.map(([coverage_from, coverage_through, payer]) => ({ person_id, coverage_from, coverage_through, payer: payer ?? 'medicaid' }))),
      // the year windows run from the earliest span's year (screenings from 2024) to the as-of date's
      screenings: [{ screening_id: 'S1', person_id: 'C0', screened_on: '2024-01-02', domain: 'food', result: 'negative' }],
    }, { asOf: '2025-06-30', keepIntermediate: true });
  });
  afterAll(() => windows.close());

  it.each(cases)('%s', async (_, person, __, want) => {
    const got = await rows<{ gaps: number; gap_days: number; continuously_enrolled: boolean; window_to: string }>(windows.db.conn,
      `SELECT gaps, gap_days, continuously_enrolled, window_to FROM int_enrollment_windows WHERE person_id = '${person}' AND window_kind = 'year' AND window_from = DATE '2024-01-01'`);
    expect(got).toEqual([{ ...want, window_to: '2024-12-31' }]);
  });

  it('the year still under way runs to the as-of date', async () => {
    // C46 in 2025: covered from 2024-05-17 on, so no gap in 2025-01-01..2025-06-30
    const got = await rows(windows.db.conn, `SELECT window_to, gaps, continuously_enrolled FROM int_enrollment_windows WHERE person_id = 'C46' AND window_from = DATE '2025-01-01'`);
    expect(got).toEqual([{ window_to: '2025-06-30', gaps: 0, continuously_enrolled: true }]);
  });
});
