import { z } from 'zod';
import { date, enumOf, id } from './columns.ts';
import { defineEntity } from './entity.ts';
import { PAYER } from './people.ts';

export const coverage = defineEntity({
  name: 'coverage',
  title: 'Coverage',
  description:
    'Coverage (enrollment and attribution) spans, many rows per person: who covered the person (payer), which program they were attributed to, and when. '
    + 'Overlapping spans of one person with the same payer and program are merged for person-time (never counted twice); two payers or two programs on one day '
    + 'is a contradiction, quarantined as coverage_conflict. A people row\'s enrolled_from..enrolled_through span also loads as one coverage row.',
  key: ['person_id', 'coverage_from'],
  schema: z.object({
    person_id: id({ required: true, key: true, personRef: true, note: 'must exist in people' }),
    coverage_from: date({ required: true, key: true, note: 'first covered day; (person_id, coverage_from) is the key' }),
    coverage_through: date({ note: 'last covered day, inclusive; empty = still covered; >= coverage_from' }),
    payer: enumOf(PAYER, { emptyAs: 'unknown', note: 'who covers the person during the span; default unknown' }),
    program_id: id({ note: 'the ACO / program / site the person is attributed to during the span; empty = unattributed (group unknown)' }),
    plan_id: id({ note: 'the plan or product, when the source has it (not a dimension; may differ between overlapping spans)' }),
  }),
  crossRules: [{ rule: 'date_order', column: 'coverage_through', notBefore: 'coverage_from' }],
});
