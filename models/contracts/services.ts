import { z } from 'zod';
import { digits5, enumOf, id, int, text } from './columns.ts';
import { DOMAINS } from './domains.ts';
import { defineEntity } from './entity.ts';

export const services = defineEntity({
  name: 'services',
  title: 'Services',
  description: 'The service directory (Open Referral HSDS-inspired), one row per program x county served.',
  key: ['program_id', 'county_fips'],
  schema: z.object({
    program_id: id({ required: true, key: true, note: '(program_id, county_fips) is the key' }),
    org_id: id({ required: true }),
    org_name: text({ required: true }),
    program_name: text({ required: true }),
    domain: enumOf(DOMAINS, { required: true }),
    county_fips: digits5({ required: true, key: true, note: 'a county this program serves' }),
    monthly_capacity: int({ min: 0, note: 'new clients per month it can take in that county; empty = unknown' }),
  }),
  crossRules: [],
});
