// Stable rule ids: extract producers and monitoring scripts depend on them, so they
// only ever gain members. `closeloop contract` prints this list.
export const RULES = {
  missing_required: 'a required value is empty (or a conditionally required one, e.g. closed_on for a completed referral)',
  bad_date: 'not a valid date in the expected format (YYYY-MM-DD unless a mapping declares another)',
  unknown_enum: 'a value outside the column\'s list (matched case-insensitively after trimming), or a preferred_language that is no language code or known name',
  not_an_int: 'not a whole number',
  not_a_number: 'not a decimal number',
  out_of_range: 'a number outside the allowed range',
  too_long: 'an identifier longer than 64 characters',
  not_5_digits: 'a ZIP or county FIPS code that is not exactly 5 digits',
  date_order: 'a date before the date it must follow (e.g. closed_on before referred_on)',
  items_do_not_sum: 'all nine PHQ-9 items are present but do not sum to total_score',
  future_date: 'a birth or death date after the day of the run',
  before_1900: 'a birth date before 1900-01-01',
  malformed_row: 'a record with the wrong number of fields (an extra empty field too), or a quoted field that is never closed or has text after its closing quote',
  orphan: 'person_id is not among the loaded people (kept and retried on every run)',
  duplicate_key: 'the key appeared earlier in the same file (the first copy is loaded)',
  unmapped_value: 'a source value that the column mapping does not cover',
  bad_json: 'a line of a FHIR ndjson file that is not one JSON object (or not valid UTF-8)',
  wrong_resource_type: 'a FHIR resource whose resourceType is not the one its file holds (Patient.ndjson holds Patient resources)',
  bad_resource: 'a FHIR resource, or a service of an HSDS JSON directory, whose id or a part closeloop reads has the wrong shape (the message names the element)',
  missing_reference: 'a FHIR resource without a reference to its Patient (Observation.subject, Encounter.subject, Coverage.beneficiary, ServiceRequest.subject) or a Task without its ServiceRequest (Task.focus); in an HSDS directory, a service whose organization is not in it, or a service area that names no service',
  unknown_code: 'a FHIR code closeloop maps that is not in its code tables (data/reference/fhir-codes.json): a LOINC question or answer, an encounter class, a payment typology, a race or ethnicity code, an SDOH category, a referral Task status or outcome; in an HSDS directory, a service none of whose taxonomy terms is in data/reference/hsds-directory.json',
  ambiguous_domain: 'an HSDS service whose taxonomy terms map to two or more domains (closeloop keeps one domain per program; none is picked)',
  patient_mismatch: 'a FHIR referral whose Task is for (Task.for) another patient than its ServiceRequest (subject): which patient it is for is not guessed',
  unknown_county: 'an HSDS service area name or location address region that is not a US county (county name and state, or a 5-digit FIPS code, from the us-atlas county list)',
  coverage_conflict: 'a coverage span (a coverage row, or a people row\'s enrolled_from..enrolled_through) that overlaps another span of the same person with a different payer or program: two payers, or two programs, on one day',
} as const;

export type RuleId = keyof typeof RULES;
