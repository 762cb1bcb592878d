// FHIR R4 resources -> the contract's columns, as text. Only the parts we read are
// validated (zod); the values then go through the same SQL rules as a CSV cell, so a
// partial date or a score out of range is quarantined by the usual rule. What this
// step decides itself (which entity, which code) it reports as a rule of its own.
import { z } from 'zod';
import type { RuleId } from '../rules.ts';
import { REFERRAL_OUTCOME } from '../../../models/contracts/referrals.ts';
import { fhirCodes, payerOfSopt, type FhirCodes } from './codes.ts';

/** Which entities each resource type feeds; the first one's load quarantines the file's unusable lines. */
export const FHIR_SOURCES = {
  Patient: ['people'],
  Coverage: ['coverage'],
  Encounter: ['encounters'],
  Observation: ['screenings', 'phq9'],
  // A referral is a ServiceRequest and its Task, which come in separate files: each is
  // kept in a warehouse side table and the referral rows are built from their join.
  ServiceRequest: ['referrals'],
  Task: ['referrals'],
} as const satisfies Record<string, readonly string[]>;

export type FhirResourceType = keyof typeof FHIR_SOURCES;

export type Outcome =
  /** members: the ids of the Observations a PHQ-9 total lists in hasMember (its items). */
  | { kind: 'row'; values: Record<string, string | null>; members?: string[] }
  /** A PHQ-9 item: joined to the total that lists it (readNdjson). */
  | { kind: 'item'; id: string; item: number; value: string }
  | { kind: 'reject'; rule: RuleId; column: string | null; message: string }
  /** A ServiceRequest or a Task version, for the side tables the referral rows are built from (readNdjson). */
  | { kind: 'side'; values: Record<string, string | null> }
  /** Read by the load of another entity from the same file (Observation: screenings or phq9). */
  | { kind: 'elsewhere'; entity: string }
  /** A resource of the file's type that is not data of ours (a vital sign, a cancelled encounter): counted in the file's report. */
  | { kind: 'not_read'; reason: string };

const Coding = z.looseObject({ system: z.string().optional(), code: z.string().optional() });
const Concept = z.looseObject({ coding: z.array(Coding).optional(), text: z.string().optional() });
const Reference = z.looseObject({ reference: z.string().optional() });
const Period = z.looseObject({ start: z.string().optional(), end: z.string().optional() });
const Ext = z.looseObject({ url: z.string(), valueCoding: Coding.optional(), extension: z.array(z.looseObject({ url: z.string(), valueCoding: Coding.optional() })).optional() });
const Base = { resourceType: z.string(), id: z.string().min(1), status: z.string().optional() };

const Patient = z.looseObject({
  ...Base,
  birthDate: z.string().optional(),
  gender: z.string().optional(),
  deceasedDateTime: z.string().optional(),
  address: z.array(z.looseObject({ use: z.string().optional(), postalCode: z.string().optional(), district: z.string().optional() })).optional(),
  communication: z.array(z.looseObject({ language: Concept, preferred: z.boolean().optional() })).optional(),
  extension: z.array(Ext).optional(),
});

const Coverage = z.looseObject({
  ...Base,
  beneficiary: Reference.optional(),
  period: Period.optional(),
  type: Concept.optional(),
  class: z.array(z.looseObject({ type: Concept, value: z.string() })).optional(),
});

const Encounter = z.looseObject({
  ...Base,
  class: Coding.optional(),
  subject: Reference.optional(),
  period: Period.optional(),
});

const Observation = z.looseObject({
  ...Base,
  category: z.array(Concept).optional(),
  code: Concept,
  subject: Reference.optional(),
  effectiveDateTime: z.string().optional(),
  effectivePeriod: Period.optional(),
  valueCodeableConcept: Concept.optional(),
  valueQuantity: z.looseObject({ value: z.number().optional() }).optional(),
  valueInteger: z.number().optional(),
  dataAbsentReason: Concept.optional(),
  derivedFrom: z.array(Reference).optional(),
  hasMember: z.array(Reference).optional(),
});

const ServiceRequest = z.looseObject({
  ...Base,
  category: z.array(Concept).optional(),
  subject: Reference.optional(),
  authoredOn: z.string().optional(),
  requester: Reference.optional(),
  performer: z.array(Reference).optional(),
});

const Task = z.looseObject({
  ...Base,
  status: z.string(),
  meta: z.looseObject({ versionId: z.string().optional(), lastUpdated: z.string().optional() }).optional(),
  focus: Reference.optional(),
  for: Reference.optional(),
  owner: Reference.optional(),
  authoredOn: z.string().optional(),
  lastModified: z.string().optional(),
  executionPeriod: Period.optional(),
  statusReason: Concept.optional(),
  output: z.array(z.looseObject({ valueCodeableConcept: Concept.optional() })).optional(),
});

const SCHEMAS = { Patient, Coverage, Encounter, Observation, ServiceRequest, Task } as const;

const LOINC = 'http://loinc.org';
const SOPT = 'urn:oid:2.16.840.1.113883.3.221.5';
const US_CORE_RACE = 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-race';
const US_CORE_ETHNICITY = 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity';
/** Null flavors a US Core race or ethnicity may carry instead of a category. */
const NULL_FLAVORS = new Set(['UNK', 'ASKU']);
const SKIP_STATUS = new Set(['entered-in-error', 'cancelled']);
const SDOHCC_CATEGORY = 'http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes';
/** ServiceRequest statuses that are no referral (FHIR R4 request-status). */
const SR_NOT_READ = new Set(['draft', 'entered-in-error']);

const reject = (rule: RuleId, column: string | null, message: string): Outcome => ({ kind: 'reject', rule, column, message });

/** Marks an instrument the answer does not settle (the first listed, unless the screening's other rows name one). */
export const SHARED = '?';

/** The id in a reference to `type` ("Patient/123", an absolute URL ending so, with or without _history); null otherwise. */
export function referencedId(ref: { reference?: string } | undefined, type: string): string | null {
  const m = ref?.reference?.match(new RegExp(`(?:^|/)${type}/([A-Za-z0-9\\-.]{1,64})(?:/_history/[^/]+)?$`));
  return m ? (m[1] as string) : null;
}

/** The calendar date a FHIR date or dateTime names, as written (2024-03-05T22:10:00-05:00 -> 2024-03-05); a partial date stays partial (bad_date). */
export const dateOf = (v: string | undefined): string | null => (v === undefined ? null : v.slice(0, 10));

const codesOf = (c: z.infer<typeof Concept> | undefined, system?: string) =>
  (c?.coding ?? []).filter((x) => system === undefined || x.system === system).map((x) => x.code).filter((x): x is string => !!x);

/** Maps one parsed JSON value from a file of `fileType` resources for `entity`. */
export function mapResource(json: unknown, fileType: FhirResourceType, entity: string, codes: FhirCodes = fhirCodes()): Outcome {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return reject('bad_json', null, 'the line is JSON but not an object (one resource per line)');
  const type = (json as { resourceType?: unknown }).resourceType;
  if (type !== fileType) return reject('wrong_resource_type', 'resourceType', `resourceType ${JSON.stringify(type ?? null)} in a file of ${fileType} resources`);
  const parsed = SCHEMAS[fileType].safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.join('.') ?? '';
    return reject('bad_resource', path || null, `${fileType}${path ? `.${path}` : ''}: ${issue?.message ?? 'not the expected shape'}`);
  }
  const r = parsed.data as { status?: string };
  // A cancelled Task is a cancelled referral; the referral types judge their statuses themselves.
  const skip = fileType === 'Task' ? new Set(codes.task_status_not_read) : fileType === 'ServiceRequest' ? SR_NOT_READ : SKIP_STATUS;
  if (r.status && skip.has(r.status)) return { kind: 'not_read', reason: `status ${r.status}` };
  switch (fileType) {
    case 'ServiceRequest': return serviceRequest(parsed.data as z.infer<typeof ServiceRequest>, codes);
    case 'Task': return task(parsed.data as z.infer<typeof Task>, codes);
    case 'Patient': return patient(parsed.data as z.infer<typeof Patient>, codes);
    case 'Coverage': return coverage(parsed.data as z.infer<typeof Coverage>, codes);
    case 'Encounter': return encounter(parsed.data as z.infer<typeof Encounter>, codes);
    case 'Observation': return observation(parsed.data as z.infer<typeof Observation>, entity, codes);
  }
}

function patient(p: z.infer<typeof Patient>, codes: FhirCodes): Outcome {
  const race = raceEthnicity(p.extension ?? [], codes);
  if (typeof race === 'object') return race;
  const address = p.address?.find((a) => a.use === 'home') ?? p.address?.[0];
  const zip = address?.postalCode?.trim();
  const lang = p.communication?.find((c) => c.preferred) ?? p.communication?.[0];
  return {
    kind: 'row',
    values: {
      person_id: p.id,
      birth_date: p.birthDate ?? null,
      sex: p.gender ?? null,
      race_ethnicity: race,
      preferred_language: codesOf(lang?.language)[0] ?? lang?.language.text ?? null,
      // ZIP+4 keeps its ZIP; anything else goes to the not_5_digits rule as written.
      zip: zip && /^\d{5}-\d{4}$/.test(zip) ? zip.slice(0, 5) : (zip ?? null),
      // district holds a county name or code: a code goes to the county_fips rules as
      // written (37-119 is quarantined, as in CSV); a name is not read (county unknown).
      county_fips: address?.district && !/\p{L}/u.test(address.district) ? address.district : null,
      rurality: null, payer: null, program_id: null, enrolled_from: null, enrolled_through: null,
      death_date: dateOf(p.deceasedDateTime),
    },
  };
}

/** US Core race and ethnicity -> the contract's combined category (Hispanic or Latino first, two races or more multiracial). */
function raceEthnicity(extensions: z.infer<typeof Ext>[], codes: FhirCodes): string | Outcome {
  const parts = (url: string, sub: string) => extensions.filter((e) => e.url === url)
    .flatMap((e) => (e.extension ?? []).filter((x) => x.url === sub).map((x) => x.valueCoding?.code ?? ''));
  const ethnicity = parts(US_CORE_ETHNICITY, 'ombCategory');
  for (const c of ethnicity) {
    if (c !== codes.ethnicity_hispanic && c !== codes.ethnicity_not_hispanic && !NULL_FLAVORS.has(c)) return reject('unknown_code', 'race_ethnicity', `ethnicity ombCategory '${c}' is not an OMB ethnicity code`);
  }
  if (ethnicity.includes(codes.ethnicity_hispanic)) return 'hispanic_latino';
  const found = new Set<string>();
  for (const c of parts(US_CORE_RACE, 'ombCategory')) {
    const v = codes.race[c];
    if (v) found.add(v);
    else if (!NULL_FLAVORS.has(c)) return reject('unknown_code', 'race_ethnicity', `race ombCategory '${c}' is not an OMB race code`);
  }
  for (const c of parts(US_CORE_RACE, 'detailed')) {
    const v = codes.race_detailed[c];
    if (!v) continue; // a detailed race refines the category given beside it
    // Middle Eastern or North African is coded under White before the 2024 standard.
    if (v === 'middle_eastern_north_african') found.delete('white');
    found.add(v);
  }
  return found.size === 0 ? 'unknown' : found.size > 1 ? 'multiracial' : [...found][0] as string;
}

function coverage(c: z.infer<typeof Coverage>, codes: FhirCodes): Outcome {
  const person = referencedId(c.beneficiary, 'Patient');
  if (!person) return reject('missing_reference', 'person_id', `Coverage.beneficiary ${c.beneficiary?.reference ? `'${c.beneficiary.reference}' is no Patient reference` : 'is missing'}`);
  const sopt = codesOf(c.type, SOPT)[0];
  const payer = sopt === undefined ? null : payerOfSopt(sopt, codes);
  if (sopt !== undefined && !payer) return reject('unknown_code', 'payer', `Coverage.type '${sopt}' is not a Source of Payment Typology code we map`);
  const classValue = (code: string) => c.class?.find((k) => codesOf(k.type).includes(code))?.value ?? null;
  return {
    kind: 'row',
    values: {
      person_id: person, coverage_from: dateOf(c.period?.start), coverage_through: dateOf(c.period?.end),
      payer, program_id: classValue('group'), plan_id: classValue('plan'),
    },
  };
}

function encounter(e: z.infer<typeof Encounter>, codes: FhirCodes): Outcome {
  const person = referencedId(e.subject, 'Patient');
  if (!person) return reject('missing_reference', 'person_id', `Encounter.subject ${e.subject?.reference ? `'${e.subject.reference}' is no Patient reference` : 'is missing'}`);
  const cls = e.class?.code;
  const type = cls ? codes.encounter_classes[cls] : undefined;
  if (!type) return reject('unknown_code', 'encounter_type', cls ? `Encounter.class '${cls}' is not an encounter class we map` : 'Encounter.class is missing');
  return {
    kind: 'row',
    values: { encounter_id: e.id, person_id: person, encounter_type: type, start_date: dateOf(e.period?.start), end_date: dateOf(e.period?.end), paid_amount: null },
  };
}

function observation(o: z.infer<typeof Observation>, entity: string, codes: FhirCodes): Outcome {
  const loinc = codesOf(o.code, LOINC);
  // Two instruments may ask one LOINC question (AHC HRSN and PRAPARE both ask 71802-3 and
  // 93030-5) with answer lists of their own: the answer tells which one asked it.
  const questions = codes.screening_questions.filter((q) => loinc.includes(q.loinc));
  const answerCode = codesOf(o.valueCodeableConcept, LOINC)[0];
  const answering = answerCode === undefined ? [] : questions.filter((q) => answerCode in q.answers);
  const question = answering[0] ?? questions[0];
  // An answer both lists (No) or none (declined): the instrument of the screening's other rows decides (readNdjson).
  const shared = new Set((answering.length ? answering : questions).map((q) => q.instrument)).size > 1;
  const score = codes.screening_scores.find((q) => loinc.includes(q.loinc));
  const isPhq9 = loinc.includes(codes.phq9_total);
  const phq9Item = codes.phq9_items.findIndex((c) => loinc.includes(c)) + 1;
  const kind = isPhq9 || phq9Item ? 'phq9' : question || score ? 'screenings' : null;
  if (kind === null) {
    if (loinc.some((c) => codes.screening_items_read_through_score.includes(c))) return { kind: 'not_read', reason: 'safety item (read through its total score)' };
    if (o.hasMember?.length) return { kind: 'not_read', reason: 'panel (its member Observations are read)' };
    const sdoh = (o.category ?? []).some((c) => codesOf(c).includes('sdoh'));
    // Only the screenings load reports it, so it is quarantined once.
    if (sdoh && entity === 'screenings') return reject('unknown_code', 'domain', `SDOH Observation with code ${loinc.join(', ') || codesOf(o.code).join(', ') || '(none)'}: not a question closeloop maps`);
    return { kind: 'not_read', reason: 'not a screening or PHQ-9 Observation' };
  }
  if (kind !== entity) return { kind: 'elsewhere', entity: kind };
  if (phq9Item && !isPhq9) {
    // The item's score: a LOINC answer (0..3) or a number; the SQL rules check the range.
    const answer = codesOf(o.valueCodeableConcept, LOINC)[0];
    const n = o.valueInteger ?? o.valueQuantity?.value ?? (answer === undefined ? undefined : codes.phq9_answers[answer]);
    if (n === undefined) return reject('unknown_code', `item_${phq9Item}`, `PHQ-9 item ${codes.phq9_items[phq9Item - 1]}: answer ${answer ? `'${answer}' is not one of ${Object.keys(codes.phq9_answers).join(', ')}` : 'missing'}`);
    return { kind: 'item', id: o.id, item: phq9Item, value: String(n) };
  }
  const person = referencedId(o.subject, 'Patient');
  if (!person) return reject('missing_reference', 'person_id', `Observation.subject ${o.subject?.reference ? `'${o.subject.reference}' is no Patient reference` : 'is missing'}`);
  const on = dateOf(o.effectiveDateTime ?? o.effectivePeriod?.start);
  const declined = codesOf(o.dataAbsentReason).includes('asked-declined');
  const number = o.valueQuantity?.value ?? o.valueInteger;
  if (kind === 'phq9') {
    if (number === undefined) return reject('missing_required', 'total_score', 'PHQ-9 total score Observation without valueQuantity or valueInteger');
    return {
      kind: 'row',
      values: {
        assessment_id: o.id, person_id: person, assessed_on: on, total_score: String(number),
        item_1: null, item_2: null, item_3: null, item_4: null, item_5: null, item_6: null, item_7: null, item_8: null, item_9: null,
      },
      members: (o.hasMember ?? []).map((m) => referencedId(m, 'Observation')).filter((x): x is string => x !== null),
    };
  }
  let result: string | undefined;
  if (declined) result = 'declined';
  else if (question) {
    const answer = answerCode;
    result = answer ? question.answers[answer] : undefined;
    if (!result) return reject('unknown_code', 'result', `answer ${answer ? `'${answer}'` : '(none)'} to LOINC ${question.loinc} is not one of ${[...new Set(questions.flatMap((q) => Object.keys(q.answers)))].join(', ')}`);
  } else if (score) {
    if (number === undefined || !Number.isInteger(number) || number < 0 || number > score.max) return reject('out_of_range', 'result', `LOINC ${score.loinc} score ${number ?? '(none)'} is not a whole number 0..${score.max}`);
    result = number >= score.positive_at_least ? 'positive' : 'negative';
  }
  const item = (question ?? score) as { instrument: string; domain: string };
  // One screening event: the QuestionnaireResponse the answers were taken from, else the Observation itself.
  const screening = o.derivedFrom?.map((d) => referencedId(d, 'QuestionnaireResponse')).find((x) => x) ?? o.id;
  return {
    kind: 'row',
    values: { screening_id: screening, person_id: person, screened_on: on, instrument: shared ? `${item.instrument}${SHARED}` : item.instrument, domain: item.domain, result: result ?? null },
  };
}

/** A referral as the ServiceRequest states it (the Task adds status, dates and outcome). */
function serviceRequest(sr: z.infer<typeof ServiceRequest>, codes: FhirCodes): Outcome {
  const person = referencedId(sr.subject, 'Patient');
  if (!person) return reject('missing_reference', 'person_id', `ServiceRequest.subject ${sr.subject?.reference ? `'${sr.subject.reference}' is no Patient reference` : 'is missing'}`);
  // The first SDOH category listed names the need (another code system refines it, e.g. SNOMED's social service procedure).
  const category = (sr.category ?? []).flatMap((c) => codesOf(c, SDOHCC_CATEGORY))[0];
  const domain = category === undefined ? undefined : codes.sdoh_categories[category];
  if (!domain) return reject('unknown_code', 'need_domain', category ? `ServiceRequest.category '${category}' is not an SDOH category we map` : 'ServiceRequest.category has no SDOHCC SDOH category code');
  const performer = (type: string) => (sr.performer ?? []).map((p) => referencedId(p, type)).find((x) => x) ?? null;
  return {
    kind: 'side',
    values: {
      referral_id: sr.id, person_id: person, need_domain: domain, referred_on: dateOf(sr.authoredOn),
      source_org_id: referencedId(sr.requester, 'Organization'), target_org_id: performer('Organization'), program_id: performer('HealthcareService'),
    },
  };
}

/** One version of a referral Task: its status as ours, the dates it carries and the outcome it states. */
function task(t: z.infer<typeof Task>, codes: FhirCodes): Outcome {
  const focus = referencedId(t.focus, 'ServiceRequest');
  if (!focus) return reject('missing_reference', 'referral_id', `Task.focus ${t.focus?.reference ? `'${t.focus.reference}' is no ServiceRequest reference` : 'is missing'}`);
  const status = codes.task_status[t.status];
  if (!status) return reject('unknown_code', 'status', `Task.status '${t.status}' is not a status of the SDOHCC referral Task (${Object.keys(codes.task_status).join(', ')})`);
  let outcome: string | null = null;
  const closed = t.status in codes.referral_outcome_default;
  if (closed) {
    // A code of our outcome system in statusReason or output states the outcome; a
    // statusReason coded otherwise is a reason we cannot read (quarantined), and one
    // given only as text (the IG requires the text, not a code) is the status's default.
    const concepts = [t.statusReason, ...(t.output ?? []).map((o) => o.valueCodeableConcept)];
    const ours = concepts.flatMap((c) => codesOf(c, codes.referral_outcome_system));
    const known = ours.find((c) => (REFERRAL_OUTCOME as readonly string[]).includes(c));
    if (ours.length && !known) return reject('unknown_code', 'outcome', `Task outcome code '${ours[0]}' (${codes.referral_outcome_system}) is not one of ${REFERRAL_OUTCOME.join(', ')}`);
    const otherReason = codesOf(t.statusReason).filter((c) => !ours.includes(c));
    if (!known && otherReason.length) return reject('unknown_code', 'outcome', `Task.statusReason code '${otherReason[0]}' is not an outcome we map (code the outcome in ${codes.referral_outcome_system})`);
    outcome = known ?? codes.referral_outcome_default[t.status] ?? null;
  }
  const version = t.meta?.versionId;
  return {
    kind: 'side',
    values: {
      task_id: t.id, referral_id: focus, fhir_status: t.status, status,
      modified: t.lastModified ?? t.meta?.lastUpdated ?? t.authoredOn ?? null,
      version: version && /^\d{1,15}$/.test(version) ? version : null,
      on_date: dateOf(t.lastModified ?? t.meta?.lastUpdated ?? t.authoredOn),
      started_on: dateOf(t.executionPeriod?.start), ended_on: dateOf(t.executionPeriod?.end),
      outcome, owner_org_id: referencedId(t.owner, 'Organization'),
      // checked against the ServiceRequest's subject when the referral is built (readNdjson)
      for_person_id: referencedId(t.for, 'Patient'),
    },
  };
}
