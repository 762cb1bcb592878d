import { z } from 'zod';
import { date, digits5, enumOf, id, language } from './columns.ts';
import { defineEntity } from './entity.ts';

export const SEX = ['female', 'male', 'other', 'unknown'] as const;
export const RACE_ETHNICITY = [
  'hispanic_latino', 'white', 'black', 'asian', 'american_indian_alaska_native',
  'native_hawaiian_pacific_islander', 'middle_eastern_north_african', 'multiracial', 'other', 'unknown',
] as const;
export const RURALITY = ['urban', 'rural', 'unknown'] as const;
export const PAYER = ['medicaid', 'medicare', 'dual', 'commercial', 'uninsured', 'other', 'unknown'] as const;

export const people = defineEntity({
  name: 'people',
  title: 'People',
  description: 'One row per person (member roster). Its enrolled_from..enrolled_through span, payer and program_id load as one coverage row. The roster holds the current span: a later roster row with another enrolled_from adds a span and ends the earlier roster span the day before; it never erases it.',
  key: ['person_id'],
  schema: z.object({
    person_id: id({ required: true, key: true, note: 'unique key' }),
    birth_date: date({ required: true, notFuture: true, notBefore: '1900-01-01', note: 'not in the future, not before 1900-01-01' }),
    sex: enumOf(SEX, { emptyAs: 'unknown', note: 'default unknown' }),
    race_ethnicity: enumOf(RACE_ETHNICITY, { emptyAs: 'unknown', note: 'combined question (SPD 15, 2024); default unknown' }),
    preferred_language: language({ note: 'ISO 639 code, a tag such as en-US (its language part is kept) or a language name (see Language values); empty -> unknown; anything else is unknown_enum' }),
    zip: digits5({ note: 'exactly 5 digits or empty (empty -> group unknown)' }),
    county_fips: digits5({ note: 'exactly 5 digits or empty (empty -> group unknown)' }),
    rurality: enumOf(RURALITY, { emptyAs: 'unknown', note: 'default unknown' }),
    payer: enumOf(PAYER, { emptyAs: 'unknown', note: 'payer of the roster span (enrolled_from..enrolled_through); default unknown' }),
    program_id: id({ note: 'the ACO / program / site the person is attributed to during the roster span; optional' }),
    enrolled_from: date({ note: 'start of the roster\'s coverage span, which loads as one coverage row with this payer and program_id; empty when coverage comes in coverage files only' }),
    enrolled_through: date({ note: 'end of the roster span, inclusive; empty = still enrolled; needs enrolled_from' }),
    death_date: date({ notFuture: true, note: 'date of death, when known; not in the future, not before birth_date' }),
  }),
  crossRules: [
    { rule: 'missing_required', column: 'enrolled_from', when: 'enrolled_through' },
    { rule: 'date_order', column: 'enrolled_through', notBefore: 'enrolled_from' },
    { rule: 'date_order', column: 'death_date', notBefore: 'birth_date' },
  ],
});
