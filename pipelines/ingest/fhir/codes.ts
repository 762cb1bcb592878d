// The code systems the FHIR reader maps, from the versioned seed file
// data/reference/fhir-codes.json (which names the IG and code-system versions it was read from).
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DOMAINS } from '../../../models/contracts/domains.ts';
import { ENCOUNTER_TYPE } from '../../../models/contracts/encounters.ts';
import { PAYER, RACE_ETHNICITY } from '../../../models/contracts/people.ts';
import { REFERRAL_OUTCOME, REFERRAL_STATUS } from '../../../models/contracts/referrals.ts';
import { INSTRUMENT, SCREENING_RESULT } from '../../../models/contracts/screenings.ts';

const Loinc = z.string().regex(/^\d{1,7}-\d$/);
const Domain = z.enum(DOMAINS);

const CodeTables = z.object({
  version: z.string(),
  read_from: z.record(z.string(), z.string()),
  screening_questions: z.array(z.object({
    loinc: Loinc, instrument: z.enum(INSTRUMENT), domain: Domain, text: z.string(),
    answers: z.record(z.string().regex(/^LA\d+-\d$/), z.enum(SCREENING_RESULT)),
  }).strict()),
  screening_scores: z.array(z.object({
    loinc: Loinc, instrument: z.enum(INSTRUMENT), domain: Domain, text: z.string(), positive_at_least: z.number().int(), max: z.number().int(),
  }).strict()),
  screening_items_read_through_score: z.array(Loinc),
  phq9_total: Loinc,
  /** PHQ-9 item questions in questionnaire order (item_1..item_9). */
  phq9_items: z.array(Loinc).length(9),
  phq9_answers: z.record(z.string().regex(/^LA\d+-\d$/), z.number().int().min(0).max(3)),
  encounter_classes: z.record(z.string(), z.enum(ENCOUNTER_TYPE)),
  race: z.record(z.string(), z.enum(RACE_ETHNICITY)),
  race_detailed: z.record(z.string(), z.enum(RACE_ETHNICITY)),
  ethnicity_hispanic: z.string(),
  ethnicity_not_hispanic: z.string(),
  sopt_prefixes: z.record(z.string().regex(/^\d+$/), z.enum(PAYER)),
  /** SDOHCC category codes (ServiceRequest.category) -> need domain. */
  sdoh_categories: z.record(z.string(), Domain),
  /** Task.status (SDOHCC ValueSet Referral Task Status) -> referral status. */
  task_status: z.record(z.string(), z.enum(REFERRAL_STATUS)),
  /** Task statuses that are no referral state yet (or never were). */
  task_status_not_read: z.array(z.string()),
  /** The code system of Task.statusReason / Task.output codes read as the outcome; its codes are the contract's outcome values. */
  referral_outcome_system: z.string(),
  /** The outcome of a closed Task without a code of that system, by Task.status. */
  referral_outcome_default: z.record(z.string(), z.enum(REFERRAL_OUTCOME)),
}).strict();

export type FhirCodes = z.infer<typeof CodeTables>;

export const FHIR_CODES_FILE = new URL('../../../data/reference/fhir-codes.json', import.meta.url);

let cached: FhirCodes | null = null;

export function fhirCodes(): FhirCodes {
  cached ??= CodeTables.parse(JSON.parse(readFileSync(FHIR_CODES_FILE, 'utf8')));
  return cached;
}

/** SOPT is hierarchical: the longest listed prefix of the code decides. */
export function payerOfSopt(code: string, codes = fhirCodes()): string | null {
  for (let n = code.length; n > 0; n--) {
    const p = codes.sopt_prefixes[code.slice(0, n)];
    if (p) return p;
  }
  return null;
}
