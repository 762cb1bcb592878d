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
  description: 'One row per person (member roster / attribution).',
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
    payer: enumOf(PAYER, { emptyAs: 'unknown', note: 'default unknown' }),
    program_id: id({ note: 'the ACO / program / site the person is attributed to; optional' }),
    enrolled_from: date({ required: true, note: 'start of attribution (coverage) span' }),
    enrolled_through: date({ note: 'end of span, inclusive; empty = still enrolled' }),
  }),
  crossRules: [{ rule: 'date_order', column: 'enrolled_through', notBefore: 'enrolled_from' }],
});
