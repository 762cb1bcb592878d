import { z } from 'zod';
import { date, enumOf, id } from './columns.ts';
import { DOMAINS } from './domains.ts';
import { defineEntity } from './entity.ts';

export const INSTRUMENT = ['ahc_hrsn', 'prapare', 'other'] as const;
export const SCREENING_RESULT = ['positive', 'negative', 'declined'] as const;

export const screenings = defineEntity({
  name: 'screenings',
  title: 'Screenings',
  description: 'Social-need screening results, one row per person x screening x domain.',
  key: ['screening_id', 'domain'],
  schema: z.object({
    screening_id: id({ required: true, key: true, note: 'one screening event; (screening_id, domain) is the key' }),
    person_id: id({ required: true, personRef: true, note: 'must exist in people' }),
    screened_on: date({ required: true }),
    instrument: enumOf(INSTRUMENT, { emptyAs: 'other', note: 'default other' }),
    domain: enumOf(DOMAINS, { required: true, key: true, note: 'core domains: food, housing_instability, transportation, utilities, interpersonal_safety' }),
    result: enumOf(SCREENING_RESULT, { required: true }),
  }),
  crossRules: [],
});
