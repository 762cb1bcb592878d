import { z } from 'zod';
import { date, enumOf, id } from './columns.ts';
import { DOMAINS } from './domains.ts';
import { defineEntity } from './entity.ts';

/** Mirrors the FHIR Task states requested / accepted / rejected / in-progress / completed / cancelled. */
export const REFERRAL_STATUS = ['pending', 'accepted', 'rejected', 'in_progress', 'completed', 'cancelled'] as const;
export const REFERRAL_OUTCOME = ['need_met', 'need_not_met', 'client_declined', 'unable_to_contact', 'ineligible', 'no_capacity', 'other'] as const;

export const referrals = defineEntity({
  name: 'referrals',
  title: 'Referrals',
  description: 'One row per referral (current state, from a closed-loop referral platform). Closed when closed_on and outcome are set.',
  key: ['referral_id'],
  schema: z.object({
    referral_id: id({ required: true, key: true, note: 'unique key' }),
    person_id: id({ required: true, personRef: true, note: 'must exist in people' }),
    need_domain: enumOf(DOMAINS, { required: true }),
    referred_on: date({ required: true }),
    source_org_id: id({ note: 'who referred' }),
    target_org_id: id({ required: true, note: 'who is asked to serve' }),
    program_id: id({ note: 'target program in the service directory, if known' }),
    status: enumOf(REFERRAL_STATUS, { required: true }),
    accepted_on: date({ note: '>= referred_on' }),
    service_started_on: date({ note: 'first service delivered; >= referred_on' }),
    closed_on: date({ note: 'required when status is rejected, completed or cancelled; >= referred_on' }),
    outcome: enumOf(REFERRAL_OUTCOME, { note: 'required when closed_on is set' }),
  }),
  crossRules: [
    { rule: 'date_order', column: 'accepted_on', notBefore: 'referred_on' },
    { rule: 'date_order', column: 'service_started_on', notBefore: 'referred_on' },
    { rule: 'missing_required', column: 'closed_on', when: 'status', in: ['rejected', 'completed', 'cancelled'] },
    { rule: 'date_order', column: 'closed_on', notBefore: 'referred_on' },
    { rule: 'missing_required', column: 'outcome', when: 'closed_on' },
  ],
});
