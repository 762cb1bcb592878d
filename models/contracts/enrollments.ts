import { z } from 'zod';
import { date, enumOf, id, text } from './columns.ts';
import { DOMAINS } from './domains.ts';
import { defineEntity } from './entity.ts';

export const ENROLLMENT_STATUS = ['applied', 'enrolled', 'denied', 'ended'] as const;

export const enrollments = defineEntity({
  name: 'enrollments',
  title: 'Enrollments',
  description: 'Program enrollment, one row per application or enrollment span.',
  key: ['enrollment_id'],
  schema: z.object({
    enrollment_id: id({ required: true, key: true, note: 'unique key' }),
    person_id: id({ required: true, personRef: true, note: 'must exist in people' }),
    program: text({ required: true, note: 'e.g. snap, wic, liheap, housing_voucher, tanf, medicaid, ssi, transportation_voucher' }),
    domain: enumOf(DOMAINS, { required: true, note: 'the need the program serves' }),
    referral_id: id({ note: 'the referral that led to it, when the source knows' }),
    applied_on: date(),
    enrolled_on: date({ note: '>= applied_on when both set' }),
    ended_on: date({ note: '>= enrolled_on' }),
    status: enumOf(ENROLLMENT_STATUS, { required: true }),
  }),
  crossRules: [
    { rule: 'date_order', column: 'enrolled_on', notBefore: 'applied_on' },
    { rule: 'date_order', column: 'ended_on', notBefore: 'enrolled_on' },
  ],
});
