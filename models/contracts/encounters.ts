import { z } from 'zod';
import { date, decimal, enumOf, id } from './columns.ts';
import { defineEntity } from './entity.ts';

export const ENCOUNTER_TYPE = ['ed', 'inpatient', 'outpatient', 'primary_care', 'behavioral_health', 'hospice', 'other'] as const;

export const encounters = defineEntity({
  name: 'encounters',
  title: 'Encounters',
  description: 'Health-care utilization, one row per encounter or claim header. An ED visit that leads to admission is two rows. A hospice stay or claim (type hospice) leaves the person out of the measures that exclude hospice (DRR-E, SNS-E).',
  key: ['encounter_id'],
  schema: z.object({
    encounter_id: id({ required: true, key: true, note: 'unique key' }),
    person_id: id({ required: true, personRef: true, note: 'must exist in people' }),
    encounter_type: enumOf(ENCOUNTER_TYPE, { required: true }),
    start_date: date({ required: true, note: 'admission date for inpatient' }),
    end_date: date({ note: 'discharge date; >= start_date' }),
    paid_amount: decimal({ min: 0, note: 'USD, >= 0' }),
  }),
  crossRules: [{ rule: 'date_order', column: 'end_date', notBefore: 'start_date' }],
});
