/**
 * An independent, deliberately plain reading of the data contract's row
 * rules (shared/spec/data-contract.md), written by hand for the demo
 * tests: given the raw text rows of the eight files, it returns every row
 * that breaks a rule, with the first rule broken in column order. It does
 * not share code with the generator.
 */

export type Row = Record<string, string | null>;

const ENUMS = {
  sex: ['female', 'male', 'other', 'unknown'],
  race_ethnicity: [
    'hispanic_latino',
    'white',
    'black',
    'asian',
    'american_indian_alaska_native',
    'native_hawaiian_pacific_islander',
    'middle_eastern_north_african',
    'multiracial',
    'other',
    'unknown',
  ],
  rurality: ['urban', 'rural', 'unknown'],
  payer: ['medicaid', 'medicare', 'dual', 'commercial', 'uninsured', 'other', 'unknown'],
  instrument: ['ahc_hrsn', 'prapare', 'other'],
  domain: [
    'food',
    'housing_instability',
    'transportation',
    'utilities',
    'interpersonal_safety',
    'housing_quality',
    'financial_strain',
    'employment',
    'education',
    'social_isolation',
    'mental_health',
    'other',
  ],
  result: ['positive', 'negative', 'declined'],
  referral_status: ['pending', 'accepted', 'rejected', 'in_progress', 'completed', 'cancelled'],
  outcome: ['need_met', 'need_not_met', 'client_declined', 'unable_to_contact', 'ineligible', 'no_capacity', 'other'],
  enrollment_status: ['applied', 'enrolled', 'denied', 'ended'],
  encounter_type: ['ed', 'inpatient', 'outpatient', 'primary_care', 'behavioral_health', 'hospice', 'other'],
} as const;

type Check =
  | { col: string; kind: 'id'; required: boolean }
  | { col: string; kind: 'date'; required: boolean; birth?: boolean; notBefore?: string }
  | { col: string; kind: 'enum'; required: boolean; values: readonly string[] }
  | { col: string; kind: 'int'; required: boolean; min: number; max: number; sumOfItems?: boolean }
  | { col: string; kind: 'decimal'; required: boolean; min: number }
  | { col: string; kind: 'digits5'; required: boolean }
  | { col: string; kind: 'text'; required: boolean }
  | { col: string; kind: 'closedOn'; notBefore: string }
  | { col: string; kind: 'outcome' }
  /** enrolled_from: optional, but required when enrolled_through is set */
  | { col: string; kind: 'spanStart' };

const items = Array.from({ length: 9 }, (_, i) => `item_${i + 1}`);

const RULES: Record<string, Check[]> = {
  people: [
    { col: 'person_id', kind: 'id', required: true },
    { col: 'birth_date', kind: 'date', required: true, birth: true },
    { col: 'sex', kind: 'enum', required: false, values: ENUMS.sex },
    { col: 'race_ethnicity', kind: 'enum', required: false, values: ENUMS.race_ethnicity },
    { col: 'preferred_language', kind: 'text', required: false },
    { col: 'zip', kind: 'digits5', required: false },
    { col: 'county_fips', kind: 'digits5', required: false },
    { col: 'rurality', kind: 'enum', required: false, values: ENUMS.rurality },
    { col: 'payer', kind: 'enum', required: false, values: ENUMS.payer },
    { col: 'program_id', kind: 'id', required: false },
    { col: 'enrolled_from', kind: 'spanStart' },
    { col: 'enrolled_through', kind: 'date', required: false, notBefore: 'enrolled_from' },
  ],
  coverage: [
    { col: 'person_id', kind: 'id', required: true },
    { col: 'coverage_from', kind: 'date', required: true },
    { col: 'coverage_through', kind: 'date', required: false, notBefore: 'coverage_from' },
    { col: 'payer', kind: 'enum', required: false, values: ENUMS.payer },
    { col: 'program_id', kind: 'id', required: false },
    { col: 'plan_id', kind: 'id', required: false },
  ],
  screenings: [
    { col: 'screening_id', kind: 'id', required: true },
    { col: 'person_id', kind: 'id', required: true },
    { col: 'screened_on', kind: 'date', required: true },
    { col: 'instrument', kind: 'enum', required: false, values: ENUMS.instrument },
    { col: 'domain', kind: 'enum', required: true, values: ENUMS.domain },
    { col: 'result', kind: 'enum', required: true, values: ENUMS.result },
  ],
  referrals: [
    { col: 'referral_id', kind: 'id', required: true },
    { col: 'person_id', kind: 'id', required: true },
    { col: 'need_domain', kind: 'enum', required: true, values: ENUMS.domain },
    { col: 'referred_on', kind: 'date', required: true },
    { col: 'source_org_id', kind: 'id', required: false },
    { col: 'target_org_id', kind: 'id', required: true },
    { col: 'program_id', kind: 'id', required: false },
    { col: 'status', kind: 'enum', required: true, values: ENUMS.referral_status },
    { col: 'accepted_on', kind: 'date', required: false, notBefore: 'referred_on' },
    { col: 'service_started_on', kind: 'date', required: false, notBefore: 'referred_on' },
    { col: 'closed_on', kind: 'closedOn', notBefore: 'referred_on' },
    { col: 'outcome', kind: 'outcome' },
  ],
  enrollments: [
    { col: 'enrollment_id', kind: 'id', required: true },
    { col: 'person_id', kind: 'id', required: true },
    { col: 'program', kind: 'text', required: true },
    { col: 'domain', kind: 'enum', required: true, values: ENUMS.domain },
    { col: 'referral_id', kind: 'id', required: false },
    { col: 'applied_on', kind: 'date', required: false },
    { col: 'enrolled_on', kind: 'date', required: false, notBefore: 'applied_on' },
    { col: 'ended_on', kind: 'date', required: false, notBefore: 'enrolled_on' },
    { col: 'status', kind: 'enum', required: true, values: ENUMS.enrollment_status },
  ],
  phq9: [
    { col: 'assessment_id', kind: 'id', required: true },
    { col: 'person_id', kind: 'id', required: true },
    { col: 'assessed_on', kind: 'date', required: true },
    { col: 'total_score', kind: 'int', required: true, min: 0, max: 27, sumOfItems: true },
    ...items.map((col): Check => ({ col, kind: 'int', required: false, min: 0, max: 3 })),
  ],
  encounters: [
    { col: 'encounter_id', kind: 'id', required: true },
    { col: 'person_id', kind: 'id', required: true },
    { col: 'encounter_type', kind: 'enum', required: true, values: ENUMS.encounter_type },
    { col: 'start_date', kind: 'date', required: true },
    { col: 'end_date', kind: 'date', required: false, notBefore: 'start_date' },
    { col: 'paid_amount', kind: 'decimal', required: false, min: 0 },
  ],
  services: [
    { col: 'program_id', kind: 'id', required: true },
    { col: 'org_id', kind: 'id', required: true },
    { col: 'org_name', kind: 'text', required: true },
    { col: 'program_name', kind: 'text', required: true },
    { col: 'domain', kind: 'enum', required: true, values: ENUMS.domain },
    { col: 'county_fips', kind: 'digits5', required: true },
    { col: 'monthly_capacity', kind: 'int', required: false, min: 0, max: Number.MAX_SAFE_INTEGER },
  ],
};

/** Key columns per entity (composite keys are joined with '|'). */
export const KEYS: Record<string, string[]> = {
  people: ['person_id'],
  coverage: ['person_id', 'coverage_from'],
  screenings: ['screening_id', 'domain'],
  referrals: ['referral_id'],
  enrollments: ['enrollment_id'],
  phq9: ['assessment_id'],
  encounters: ['encounter_id'],
  services: ['program_id', 'county_fips'],
};

function isDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

function norm(v: string | null | undefined): string | null {
  if (v === null || v === undefined) return null;
  const t = v.trim();
  return t === '' ? null : t;
}

/** The first rule a row breaks in column order, with its column; null when it breaks none. */
export function firstRowRule(entity: string, row: Row, today: string): { rule: string; column: string } | null {
  const checks = RULES[entity];
  if (!checks) throw new Error(`unknown entity ${entity}`);
  for (const c of checks) {
    const v = norm(row[c.col]);
    const fail = (rule: string) => ({ rule, column: c.col });
    switch (c.kind) {
      case 'closedOn': {
        const status = norm(row['status'])?.toLowerCase();
        if (v === null) {
          if (status === 'rejected' || status === 'completed' || status === 'cancelled') return fail('missing_required');
          continue;
        }
        if (!isDate(v)) return fail('bad_date');
        const ref = norm(row[c.notBefore]);
        if (ref !== null && isDate(ref) && v < ref) return fail('date_order');
        continue;
      }
      case 'spanStart': {
        if (v === null) {
          if (norm(row['enrolled_through']) !== null) return fail('missing_required');
          continue;
        }
        if (!isDate(v)) return fail('bad_date');
        continue;
      }
      case 'outcome': {
        if (v === null) {
          if (norm(row['closed_on']) !== null) return fail('missing_required');
          continue;
        }
        if (!(ENUMS.outcome as readonly string[]).includes(v.toLowerCase())) return fail('unknown_enum');
        continue;
      }
      default:
        break;
    }
    if (v === null) {
      if (c.required) return fail('missing_required');
      continue;
    }
    switch (c.kind) {
      case 'id':
        if (v.length > 64) return fail('too_long');
        break;
      case 'text':
        break;
      case 'date': {
        if (!isDate(v)) return fail('bad_date');
        if (c.birth && v > today) return fail('future_date');
        if (c.birth && v < '1900-01-01') return fail('before_1900');
        const ref = c.notBefore ? norm(row[c.notBefore]) : null;
        if (ref !== null && isDate(ref) && v < ref) return fail('date_order');
        break;
      }
      case 'enum':
        if (!c.values.includes(v.toLowerCase())) return fail('unknown_enum');
        break;
      case 'int': {
        if (!/^-?\d+$/.test(v)) return fail('not_an_int');
        const n = Number(v);
        if (n < c.min || n > c.max) return fail('out_of_range');
        if (c.sumOfItems) {
          const vals = items.map((i) => norm(row[i]));
          if (vals.every((x) => x !== null && /^\d+$/.test(x))) {
            const sum = vals.reduce((a, x) => a + Number(x), 0);
            if (sum !== n) return fail('items_do_not_sum');
          }
        }
        break;
      }
      case 'decimal': {
        if (!/^-?\d+(\.\d+)?$/.test(v)) return fail('not_a_number');
        if (Number(v) < c.min) return fail('out_of_range');
        break;
      }
      case 'digits5':
        if (!/^\d{5}$/.test(v)) return fail('not_5_digits');
        break;
    }
  }
  return null;
}

export interface Violation {
  entity: string;
  key: string;
  rule: string;
  column: string;
}

/**
 * Every row of the files that breaks a rule: the column rules above, then
 * orphans (person_id not among the people rows that passed) and duplicate
 * keys (a key already seen in the file among rows that passed).
 */
export function violations(files: Record<string, Row[]>, today: string): Violation[] {
  const out: Violation[] = [];
  const keyOf = (entity: string, row: Row) => (KEYS[entity] ?? []).map((k) => norm(row[k]) ?? '').join('|');
  const passed: Record<string, Row[]> = {};
  for (const [entity, rows] of Object.entries(files)) {
    passed[entity] = [];
    for (const row of rows) {
      const r = firstRowRule(entity, row, today);
      if (r) out.push({ entity, key: keyOf(entity, row), ...r });
      else passed[entity]?.push(row);
    }
  }
  const people = new Set((passed['people'] ?? []).map((r) => norm(r['person_id'])));
  for (const [entity, rows] of Object.entries(passed)) {
    const seen = new Set<string>();
    for (const row of rows) {
      const key = keyOf(entity, row).toLowerCase();
      if (entity !== 'people' && entity !== 'services' && !people.has(norm(row['person_id']))) {
        out.push({ entity, key: keyOf(entity, row), rule: 'orphan', column: 'person_id' });
        continue;
      }
      if (seen.has(key)) out.push({ entity, key: keyOf(entity, row), rule: 'duplicate_key', column: KEYS[entity]?.[0] ?? '' });
      seen.add(key);
    }
  }
  out.push(...coverageConflicts(passed, out));
  return out;
}

/**
 * Coverage rows that share a day with another span of the person under a different payer or
 * program: the roster span of a people row that passed (unless a coverage row has the same
 * person and start, which replaces it), or another coverage row that passed.
 */
function coverageConflicts(passed: Record<string, Row[]>, bad: Violation[]): Violation[] {
  const badKeys = new Set(bad.filter((v) => v.entity === 'coverage').map((v) => v.key));
  const coverage = (passed['coverage'] ?? []).filter((r) => !badKeys.has(`${norm(r['person_id'])}|${norm(r['coverage_from'])}`));
  const span = (person: string | null, from: string | null, through: string | null, payer: string | null, program: string | null) =>
    ({ person, from: from ?? '', through: through ?? '9999-12-31', payer: payer?.toLowerCase() ?? 'unknown', program, key: `${person}|${from}` });
  const spans = coverage.map((r) => span(norm(r['person_id']), norm(r['coverage_from']), norm(r['coverage_through']), norm(r['payer']), norm(r['program_id'])));
  const keys = new Set(spans.map((s) => s.key));
  const roster = (passed['people'] ?? []).filter((r) => norm(r['enrolled_from']) !== null)
    .map((r) => span(norm(r['person_id']), norm(r['enrolled_from']), norm(r['enrolled_through']), norm(r['payer']), norm(r['program_id'])))
    // the first copy of a person counts (a later copy in the file is a duplicate key)
    .filter((s, i, all) => !keys.has(s.key) && all.findIndex((o) => o.person === s.person) === i);
  const byPerson = new Map<string, typeof spans>();
  for (const s of [...spans, ...roster]) byPerson.set(s.person ?? '', [...(byPerson.get(s.person ?? '') ?? []), s]);
  const out: Violation[] = [];
  for (const s of spans) {
    const clash = (byPerson.get(s.person ?? '') ?? []).some((o) => o !== s && o.from <= s.through && s.from <= o.through && (o.payer !== s.payer || o.program !== s.program));
    if (clash) out.push({ entity: 'coverage', key: s.key, rule: 'coverage_conflict', column: 'coverage_from' });
  }
  return out;
}
