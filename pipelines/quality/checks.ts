// Data-quality gates, declared as data. Each check looks at one entity's staging table
// (or this run's files of it) after the load and before the metrics; `warn` results are
// recorded and published, a `block` result stops the run before anything is published.
//
// The row-level contract (models/contracts) already quarantines rows that break a rule;
// these gates judge the drop as a whole: how much was quarantined, whether the volume
// collapsed, whether references into other extracts resolve, and rules the contract
// deliberately leaves soft. Thresholds are fractions (0.05 = 5%) for rates, counts for
// `unique`, and the fraction lost for `volume_change`; a check fails when the observed
// value is ABOVE its threshold. Adjust them in closeloop.config.json, `qualityGates`:
//   { "disable": ["encounters.paid_amount_present"],
//     "overrides": { "referrals.volume_drop": { "threshold": 0.3, "severity": "warn" } },
//     "checks": [ { "id": "people.zip_present", "entity": "people", "kind": "not_null", "column": "zip", "severity": "warn", "threshold": 0.1 } ] }
import { z } from 'zod';
import type { Config } from '../../models/config.ts';
import { ENTITIES } from '../../models/contracts/index.ts';

const ENTITY_NAMES = ENTITIES.map((e) => e.name) as [string, ...string[]];
const ident = z.string().regex(/^[a-z_][a-z_0-9]*$/, 'a lower-case column name');
const literal = z.union([z.number(), z.string().regex(/^[0-9A-Za-z_ .:-]*$/, 'a number or a simple literal (e.g. a date)')]);

const base = {
  id: z.string().regex(/^[a-z_0-9]+\.[a-z_0-9]+$/, 'entity.check_name'),
  entity: z.enum(ENTITY_NAMES),
  severity: z.enum(['warn', 'block']),
  /** Fails when the observed value is above this. */
  threshold: z.number().min(0),
  /** Checks over fewer rows than this are skipped (too small to judge). */
  minRows: z.number().int().min(0).default(0),
  description: z.string().optional(),
};

export const CheckSchema = z.discriminatedUnion('kind', [
  z.strictObject({ ...base, kind: z.literal('unique'), columns: z.array(ident).min(1) }),
  z.strictObject({ ...base, kind: z.literal('not_null'), column: ident }),
  z.strictObject({ ...base, kind: z.literal('relationship'), column: ident, references: z.strictObject({ entity: z.enum(ENTITY_NAMES), column: ident }) }),
  z.strictObject({ ...base, kind: z.literal('accepted_values'), column: ident, values: z.array(z.string()).min(1) }),
  z.strictObject({ ...base, kind: z.literal('range'), column: ident, min: literal.optional(), max: literal.optional() }),
  /** `condition` is a SQL boolean over the entity's columns that every row should satisfy (NULL counts as satisfied). */
  z.strictObject({ ...base, kind: z.literal('cross_field'), condition: z.string().min(1).refine((s) => !/;|--|\/\*/.test(s), 'one SQL expression, no ; or comments') }),
  /** `table`: the staging table's rows vs the previous generation; `incoming`: rows read from this run's files vs the last run that loaded the entity. */
  z.strictObject({ ...base, kind: z.literal('volume_change'), measure: z.enum(['table', 'incoming']) }),
  /** The quarantined share of each of this run's files of the entity (the worst file counts). */
  z.strictObject({ ...base, kind: z.literal('quarantine_rate') }),
  /** The share of spans (`from`..`through`, empty = open) that share a day with another span of the same `person`. */
  z.strictObject({ ...base, kind: z.literal('overlapping_spans'), person: ident, from: ident, through: ident }),
]);

export type Check = z.infer<typeof CheckSchema>;
export type CheckInput = z.input<typeof CheckSchema>;

const KNOWN_PROGRAMS = ['snap', 'wic', 'liheap', 'housing_voucher', 'tanf', 'medicaid', 'ssi', 'transportation_voucher'];

/** The default gates. */
export const DEFAULT_CHECKS: CheckInput[] = [
  // Keys: the loader replaces rows by key, so a duplicate here is a bug; block.
  ...ENTITIES.map((e): CheckInput => ({ id: `${e.name}.unique_key`, entity: e.name, kind: 'unique', columns: [...e.key], severity: 'block', threshold: 0, description: `(${e.key.join(', ')}) identifies one row` })),
  // Quarantine: a few bad rows are reported; a file that is mostly bad is a broken extract.
  ...ENTITIES.map((e): CheckInput => ({ id: `${e.name}.quarantine_warn`, entity: e.name, kind: 'quarantine_rate', severity: 'warn', threshold: 0.05, minRows: 20, description: 'more than 5% of a file\'s rows quarantined' })),
  ...ENTITIES.map((e): CheckInput => ({ id: `${e.name}.quarantine_block`, entity: e.name, kind: 'quarantine_rate', severity: 'block', threshold: 0.5, minRows: 100, description: 'more than half of a file\'s rows quarantined' })),
  // Volume: a staging table that shrinks by half (a full refresh from a truncated extract) blocks;
  // incoming extracts much smaller than the last one warn (a partial export).
  ...ENTITIES.map((e): CheckInput => ({ id: `${e.name}.volume_drop`, entity: e.name, kind: 'volume_change', measure: 'table', severity: 'block', threshold: 0.5, minRows: 100, description: 'rows fell by more than 50% since the previous run' })),
  { id: 'referrals.incoming_volume_drop', entity: 'referrals', kind: 'volume_change', measure: 'incoming', severity: 'warn', threshold: 0.5, minRows: 100, description: 'this run\'s referral files have less than half the rows of the last load' },
  // Relationships beyond the person (the orphan rule covers person_id).
  { id: 'referrals.target_org_in_directory', entity: 'referrals', kind: 'relationship', column: 'target_org_id', references: { entity: 'services', column: 'org_id' }, severity: 'warn', threshold: 0.05, description: 'referrals to organizations missing from the service directory (gap analysis cannot place them)' },
  { id: 'referrals.person_exists', entity: 'referrals', kind: 'relationship', column: 'person_id', references: { entity: 'people', column: 'person_id' }, severity: 'block', threshold: 0 },
  { id: 'enrollments.referral_exists', entity: 'enrollments', kind: 'relationship', column: 'referral_id', references: { entity: 'referrals', column: 'referral_id' }, severity: 'warn', threshold: 0.1 },
  // Completeness of optional columns the metrics lean on.
  { id: 'people.county_present', entity: 'people', kind: 'not_null', column: 'county_fips', severity: 'warn', threshold: 0.2, description: 'county drives the geography and gap pages' },
  { id: 'encounters.paid_amount_present', entity: 'encounters', kind: 'not_null', column: 'paid_amount', severity: 'warn', threshold: 0.25 },
  { id: 'referrals.program_present', entity: 'referrals', kind: 'not_null', column: 'program_id', severity: 'warn', threshold: 0.5 },
  // Values and ranges the contract leaves open.
  { id: 'enrollments.known_program', entity: 'enrollments', kind: 'accepted_values', column: 'program', values: KNOWN_PROGRAMS, severity: 'warn', threshold: 0.05 },
  { id: 'phq9.score_range', entity: 'phq9', kind: 'range', column: 'total_score', min: 0, max: 27, severity: 'block', threshold: 0 },
  { id: 'encounters.paid_amount_range', entity: 'encounters', kind: 'range', column: 'paid_amount', min: 0, max: 2_000_000, severity: 'warn', threshold: 0.001 },
  { id: 'referrals.referred_on_range', entity: 'referrals', kind: 'range', column: 'referred_on', min: '2000-01-01', severity: 'warn', threshold: 0.01 },
  { id: 'services.capacity_range', entity: 'services', kind: 'range', column: 'monthly_capacity', min: 0, max: 100_000, severity: 'warn', threshold: 0 },
  // Cross-field rules.
  { id: 'referrals.closed_after_referred', entity: 'referrals', kind: 'cross_field', condition: 'closed_on >= referred_on', severity: 'block', threshold: 0 },
  { id: 'referrals.accepted_when_in_service', entity: 'referrals', kind: 'cross_field', condition: `NOT (status IN ('accepted', 'in_progress', 'completed') AND accepted_on IS NULL)`, severity: 'warn', threshold: 0.05, description: 'accepted, in-progress and completed referrals carry accepted_on' },
  { id: 'encounters.inpatient_has_end', entity: 'encounters', kind: 'cross_field', condition: `NOT (encounter_type = 'inpatient' AND end_date IS NULL)`, severity: 'warn', threshold: 0.05 },
  { id: 'people.born_before_enrolled', entity: 'people', kind: 'cross_field', condition: 'enrolled_from >= birth_date', severity: 'warn', threshold: 0.01 },
  // Overlapping coverage spans (same payer and program: others are quarantined) are merged for
  // person-time; the merge is reported whenever there is one.
  { id: 'coverage.overlapping_spans', entity: 'coverage', kind: 'overlapping_spans', person: 'person_id', from: 'coverage_from', through: 'coverage_through', severity: 'warn', threshold: 0, description: 'spans that overlap another span of the same person: merged for person-time, each day counted once' },
];

export type QualityGatesConfig = Config['qualityGates'];

/** The checks in force: defaults, minus disabled ones, with overrides, plus extra checks from the config. */
export function resolveChecks(cfg: QualityGatesConfig | undefined): Check[] {
  const out: Check[] = [];
  const extra = cfg?.checks ?? [];
  const all = [...DEFAULT_CHECKS, ...extra];
  const ids = new Set<string>();
  for (const [i, raw] of all.entries()) {
    const parsed = CheckSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`qualityGates.checks[${i - DEFAULT_CHECKS.length}]: ${issue?.path.join('.') || '(check)'}: ${issue?.message}`);
    }
    if (ids.has(parsed.data.id)) throw new Error(`qualityGates: check id ${parsed.data.id} is declared twice`);
    ids.add(parsed.data.id);
    out.push(parsed.data);
  }
  for (const id of [...(cfg?.disable ?? []), ...Object.keys(cfg?.overrides ?? {})]) {
    if (!ids.has(id)) throw new Error(`qualityGates: no check called ${id}; known: ${[...ids].join(', ')}`);
  }
  const disabled = new Set(cfg?.disable ?? []);
  return out.filter((c) => !disabled.has(c.id)).map((c) => ({ ...c, ...(cfg?.overrides?.[c.id] ?? {}) }) as Check);
}
