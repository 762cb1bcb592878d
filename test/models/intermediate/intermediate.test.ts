// The intermediate models on a few rows: derived person attributes, periods of a span,
// milestones as of the as-of date.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows, type Database } from '../../../models/duckdb.ts';
import { buildIntermediate } from '../../../models/intermediate/index.ts';
import { loadDrop } from '../metrics/helpers.ts';

let db: Database;
beforeAll(async () => {
  db = await loadDrop({
    people: [
      { person_id: 'A', preferred_language: 'en', zip: '27601', county_fips: '37001', program_id: 'ACO1', enrolled_from: '2023-01-01', enrolled_through: '2025-01-01' },
      { person_id: 'B', preferred_language: 'es', zip: '03601', enrolled_from: '2023-01-01' },
      { person_id: 'C', preferred_language: 'unknown', enrolled_from: '2024-08-01' },
    ],
    screenings: [
      { screening_id: 'S1', person_id: 'A', screened_on: '2023-11-16', domain: 'food', result: 'positive' },
      { screening_id: 'S2', person_id: 'A', screened_on: '2024-07-01', domain: 'food', result: 'positive' },
    ],
    referrals: [
      { referral_id: 'R1', person_id: 'A', need_domain: 'food', referred_on: '2023-11-20', status: 'completed', accepted_on: '2023-11-21', closed_on: '2024-06-30', outcome: 'need_met' },
      { referral_id: 'R2', person_id: 'B', need_domain: 'food', referred_on: '2024-06-01', status: 'completed', accepted_on: '2024-07-02', service_started_on: '2024-06-30', closed_on: '2024-07-01', outcome: 'need_met' },
      { referral_id: 'R3', person_id: 'B', need_domain: 'food', referred_on: '2024-07-01', status: 'pending' },
    ],
  });
  await buildIntermediate(db.conn, { asOf: '2024-06-30', restrictedZip3: ['036'] });
});
afterAll(() => db.close());

describe('int_person_attributes', () => {
  it('derives limited_english, zip3 (restricted prefixes as 000) and unknown groups', async () => {
    expect(await rows(db.conn, 'SELECT person_id, limited_english, zip3, county_fips FROM int_person_attributes ORDER BY 1')).toEqual([
      { person_id: 'A', limited_english: 'no', zip3: '276', county_fips: '37001' },
      { person_id: 'B', limited_english: 'yes', zip3: '000', county_fips: 'unknown' },
      { person_id: 'C', limited_english: 'unknown', zip3: 'unknown', county_fips: 'unknown' },
    ]);
  });
});

describe('int_coverage', () => {
  it('cuts the roster spans at the as-of date; an unattributed span is program unknown; a span after the as-of date is not there', async () => {
    // A: 2023-01-01..2025-01-01 (cut at 2024-06-30); B: open from 2023-01-01; C: from 2024-08-01, after the as-of date
    expect(await rows(db.conn, 'SELECT person_id, segment_from, segment_through, payer, program_id, run_from, run_through, next_from FROM int_coverage ORDER BY 1')).toEqual([
      { person_id: 'A', segment_from: '2023-01-01', segment_through: '2024-06-30', payer: 'unknown', program_id: 'ACO1', run_from: '2023-01-01', run_through: '2024-06-30', next_from: null },
      { person_id: 'B', segment_from: '2023-01-01', segment_through: '2024-06-30', payer: 'unknown', program_id: 'unknown', run_from: '2023-01-01', run_through: '2024-06-30', next_from: null },
    ]);
  });
});

describe('int_periods', () => {
  it('covers the calendar periods overlapping the span, cut at the as-of date, with months counted like member-months', async () => {
    const periods = await rows<{ grain: string; period_start: string; period_end: string; months: number }>(db.conn,
      "SELECT grain, period_start, period_end, months FROM int_periods WHERE span_entity = 'screenings' ORDER BY grain, period_start");
    // span 2023-11-16 .. 2024-06-30 (S2 is after the as-of date): November from the 16th = 15/30
    expect(periods.filter((p) => p.grain === 'all')).toEqual([{ grain: 'all', period_start: '2023-11-16', period_end: '2024-06-30', months: 7.5 }]);
    expect(periods.filter((p) => p.grain === 'year')).toEqual([
      { grain: 'year', period_start: '2023-01-01', period_end: '2023-12-31', months: 1.5 },
      { grain: 'year', period_start: '2024-01-01', period_end: '2024-06-30', months: 6 },
    ]);
    expect(periods.filter((p) => p.grain === 'quarter').map((p) => p.period_start)).toEqual(['2023-10-01', '2024-01-01', '2024-04-01']);
    expect(periods.filter((p) => p.grain === 'month')).toHaveLength(8);
    expect(periods.find((p) => p.grain === 'month' && p.period_start === '2024-02-01')?.period_end).toBe('2024-02-29');
  });
});

describe('int_referral_milestones', () => {
  it('drops referrals and milestones after the as-of date; closed needs closed_on and outcome by then', async () => {
    expect(await rows(db.conn, 'SELECT referral_id, accepted_on, service_started_on, closed_on, outcome, is_closed FROM int_referral_milestones ORDER BY 1')).toEqual([
      { referral_id: 'R1', accepted_on: '2023-11-21', service_started_on: null, closed_on: '2024-06-30', outcome: 'need_met', is_closed: true },
      { referral_id: 'R2', accepted_on: null, service_started_on: '2024-06-30', closed_on: null, outcome: null, is_closed: false },
    ]);
  });
});

describe('int_positive_needs', () => {
  it('links each positive need to the first same-domain referral on or after it', async () => {
    expect(await rows(db.conn, 'SELECT screening_id, first_referral_on, days_to_first_referral, first_met_referral_on FROM int_positive_needs')).toEqual([
      { screening_id: 'S1', first_referral_on: '2023-11-20', days_to_first_referral: 4, first_met_referral_on: '2023-11-20' },
    ]);
  });
});
