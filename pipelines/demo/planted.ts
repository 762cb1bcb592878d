/**
 * What the demo generator plants, as data, so tests of other modules can
 * assert that the metrics and statistics find it (and find nothing where
 * nothing was planted). README.md explains each item and its size.
 *
 * Groups and references use the values of the population dimensions in
 * metrics.md. For race/ethnicity, payer, language, limited English and
 * rurality the reference below is the one the default rule names (AHRQ's:
 * white, commercial, en, no, urban). For partner organizations it is the
 * partner the effect was built against; the default rule compares with the
 * partner with the most favourable whole-span rate (30 or more referrals),
 * which only widens the gap. The demo tests check both.
 */

export interface PlantedDisparity {
  metric: string;
  dimension: string;
  group: string;
  reference: string;
  /** How the group's value compares with the reference's. */
  direction: 'lower' | 'higher';
  /**
   * True when the AHRQ disparity flag is expected on the group's `all`-period
   * row at the default demo size (20,000 people). False for durations, which
   * carry no disparity statistics: compare the medians instead.
   */
  flagged: boolean;
  description: string;
}

export const PLANTED: PlantedDisparity[] = [
  {
    metric: 'referral_acceptance_rate',
    dimension: 'limited_english',
    group: 'yes',
    reference: 'no',
    direction: 'lower',
    flagged: true,
    description: 'Partners accept referrals of people whose preferred language is not English (and known) with 0.62 x the probability.',
  },
  {
    metric: 'closed_loop_rate',
    dimension: 'limited_english',
    group: 'yes',
    reference: 'no',
    direction: 'lower',
    flagged: true,
    description: 'Fewer acceptances, and accepted referrals of limited-English people are closed with 0.72 x the probability.',
  },
  {
    metric: 'connected_60d_rate',
    dimension: 'rurality',
    group: 'rural',
    reference: 'urban',
    direction: 'lower',
    flagged: true,
    description: 'Rural counties: positive screens are referred with 0.8 x the probability and later, partners accept with 0.8 x the probability and take 16 days on average to accept (2.5 elsewhere).',
  },
  {
    metric: 'days_to_close',
    dimension: 'rurality',
    group: 'rural',
    reference: 'urban',
    direction: 'higher',
    flagged: false,
    description: 'Rural counties: every step takes longer (on average acceptance 16 vs 2.5 days, first service 14 vs 5, closure 50 vs 28, rejection 8 vs 4), so the median days to close is about twice as long.',
  },
  {
    metric: 'referral_acceptance_rate',
    dimension: 'target_org_id',
    group: 'ORG-07',
    reference: 'ORG-01',
    direction: 'lower',
    flagged: true,
    description: 'Piedmont RideConnect accepts with 0.35 x the usual probability.',
  },
  {
    metric: 'closed_loop_rate',
    dimension: 'target_org_id',
    group: 'ORG-07',
    reference: 'ORG-01',
    direction: 'lower',
    flagged: true,
    description: 'Piedmont RideConnect leaves 75% of the referrals it does not accept without any answer (open, soon stale).',
  },
  {
    metric: 'referral_acceptance_rate',
    dimension: 'target_org_id',
    group: 'ORG-11',
    reference: 'ORG-01',
    direction: 'lower',
    flagged: true,
    description: 'BrightPath Housing Services accepts with 0.5 x the usual probability.',
  },
  {
    metric: 'capacity_rejection_share',
    dimension: 'target_org_id',
    group: 'ORG-11',
    reference: 'ORG-01',
    direction: 'higher',
    flagged: true,
    description: 'BrightPath Housing Services rejects 90% of the referrals it does not accept, 90% of them for no_capacity.',
  },
  {
    metric: 'connected_60d_rate',
    dimension: 'payer',
    group: 'uninsured',
    reference: 'commercial',
    direction: 'lower',
    flagged: true,
    description: 'Uninsured people: positive screens are referred with 0.8 x the probability and partners accept with 0.7 x the probability.',
  },
  {
    metric: 'referral_acceptance_rate',
    dimension: 'payer',
    group: 'uninsured',
    reference: 'commercial',
    direction: 'lower',
    flagged: true,
    description: 'Partners accept referrals of uninsured people with 0.7 x the probability.',
  },
  {
    metric: 'closed_loop_rate',
    dimension: 'race_ethnicity',
    group: 'black',
    reference: 'white',
    direction: 'lower',
    flagged: true,
    description: 'Accepted referrals of Black people are closed with 0.68 x the probability (documented inequities in follow-up).',
  },
  {
    metric: 'ed_visits_per_1000_mm',
    dimension: 'race_ethnicity',
    group: 'black',
    reference: 'white',
    direction: 'higher',
    flagged: true,
    description: 'Black people have 1.35 x the ED visit rate, all else equal (documented inequities in access to primary care).',
  },
];

export interface NullGroup {
  dimension: string;
  group: string;
  reference: string;
  /** Metrics on which the group must NOT be flagged in the `all` period. */
  metrics: string[];
  description: string;
}

/**
 * Groups with no planted difference at all. Sex is drawn independently of
 * every other attribute and no probability anywhere depends on it, so
 * female and male differ only by chance. Sex has no conventional reference:
 * the rule takes the most favourable whole-span rate among groups of 30 or
 * more, which may be female, male or other; whichever of female and male is
 * not the reference must not be flagged. The metrics listed have large
 * denominators at 20,000 people: a chance difference of 10% would be 4 or
 * more standard errors, so the flag rule (p < 0.05 and 10% worse) does not
 * fire, whatever the seed (checked at seeds 1, 2, 3 and the default 42).
 * Metrics with fewer units per group (connected_60d_rate: ~1,500 people per
 * sex; inpatient admissions, PHQ-9, capacity rejections) are left out: there
 * a chance difference of 10% is only about 2 standard errors.
 */
export const NULL_GROUPS: NullGroup[] = [
  {
    dimension: 'sex',
    group: 'male',
    reference: 'female',
    metrics: [
      'screening_rate',
      'screen_positive_rate',
      'need_referral_rate',
      'referral_acceptance_rate',
      'closed_loop_rate',
      'need_met_rate',
      'unmet_need_rate',
      'ed_visits_per_1000_mm',
    ],
    description: 'Sex: identical probabilities everywhere.',
  },
];

/** Planted structure that is not a difference between population groups. */
export interface PlantedEffect {
  id: string;
  description: string;
}

export const PLANTED_EFFECTS: PlantedEffect[] = [
  { id: 'screening_rises', description: 'The monthly chance of a screening rises linearly from 2% to 8% of engaged people over the window.' },
  { id: 'referral_timing', description: 'Of screen-driven referrals, ~4% are dated before the screening (they must not count as follow-up) and ~8% 31-90 days after it.' },
  { id: 'stale_org_07', description: 'ORG-07 leaves most unaccepted referrals open: of its referrals made more than 30 days before the as-of date, about 63% are still open, against about 35% for ORG-01.' },
  { id: 'no_provider_cells', description: 'No directory program serves housing_instability or housing_quality in Bertie (37015) and Ashe (37009), nor transportation in Swain (37173); referrals from there go to out-of-area programs and are mostly rejected as ineligible.' },
  { id: 'short_capacity_cells', description: 'Capacity is 0.2 x the adequate level for food in Robeson (37155) and Halifax (37083) and for housing_instability in Halifax (ORG-05): demand/capacity ratios far above 1.' },
  { id: 'unknown_capacity', description: 'SafeHaven (ORG-10, interpersonal_safety) never publishes capacity; Connect Seniors (ORG-13) not in Bertie, Ashe and Swain.' },
  { id: 'phq9_need_met_improves', description: 'PHQ-9: after a referral of theirs closed need_met, people improve by 62% of their index score by ~150 days; otherwise 30% (usual care, the same with or without social needs). The PHQ-9 index follows the first positive social-need screening (0-14 days) for people screened positive, so referred and not-yet-referred people both have one near that time. With referralEffect: false a need met counts as not met (30%).' },
  { id: 'ed_after_need_met', description: 'ED visits fall to 0.65 x from the quarter after a person\'s first need_met closure (post-referral ED rate below pre-referral for them).' },
  { id: 'ed_after_first_referral', description: 'ED visits x0.6 from the second calendar month after a person\'s first referral (each visit kept with probability 0.6; the issue\'s example was x0.8, too small for the default demo\'s comparison group to see): the effect the evaluation (models/evaluation) must recover. Off with referralEffect: false, as are ed_after_need_met, the end of ed_housing and the PHQ-9 effect of a need met.' },
  { id: 'crisis_before_referral', description: 'A crisis before the first referral: Poisson(0.25) extra ED visits on the 30 days before it (also with referralEffect: false): referrals follow crises.' },
  { id: 'ed_housing', description: 'People with an active housing_instability need have 1.7 x the ED visit rate until a housing referral closes need_met.' },
];

/** Rule ids of the data contract ("Bad rows"). */
export type RuleId =
  | 'missing_required'
  | 'bad_date'
  | 'unknown_enum'
  | 'not_an_int'
  | 'out_of_range'
  | 'too_long'
  | 'not_5_digits'
  | 'date_order'
  | 'items_do_not_sum'
  | 'future_date'
  | 'before_1900'
  | 'orphan'
  | 'duplicate_key'
  | 'coverage_conflict';

export type Entity = 'people' | 'coverage' | 'screenings' | 'referrals' | 'enrollments' | 'phq9' | 'encounters' | 'services';

/** A raw row: column -> text as written; null = empty field. Text `{end-N}` is the end date minus N days. */
export type RawRow = Record<string, string | null>;

export interface PlantedBadRow {
  entity: Entity;
  /** The row's key as written; composite keys joined with '|' (screenings: screening_id|domain; coverage: person_id|coverage_from; services: program_id|county_fips). */
  key: string;
  /** The first rule the row breaks, in column order; the row breaks no other rule. */
  rule: RuleId;
  column: string;
  description: string;
  row: RawRow;
  /** For duplicate_key: the valid first copy, written on the line just before. */
  firstCopy?: RawRow;
}

/** A person every demo has (the first person), for planted rows that must not be orphans. */
export const PLANTED_PERSON = 'P0000001';
/** A person id that no demo has. */
export const ORPHAN_PERSON = 'PX99999';

const person = (id: string | null, over: RawRow = {}): RawRow => ({
  person_id: id,
  birth_date: '1984-05-17',
  sex: 'female',
  race_ethnicity: 'white',
  preferred_language: 'en',
  zip: '27601',
  county_fips: '37183',
  rurality: 'urban',
  payer: 'medicaid',
  program_id: 'ACO-02',
  enrolled_from: '2019-01-01',
  enrolled_through: null,
  ...over,
});

const screening = (id: string, over: RawRow = {}): RawRow => ({
  screening_id: id,
  person_id: PLANTED_PERSON,
  screened_on: '{end-200}',
  instrument: 'ahc_hrsn',
  domain: 'food',
  result: 'negative',
  ...over,
});

const referral = (id: string, over: RawRow = {}): RawRow => ({
  referral_id: id,
  person_id: PLANTED_PERSON,
  need_domain: 'food',
  referred_on: '{end-150}',
  source_org_id: 'CLN-02',
  target_org_id: 'ORG-02',
  program_id: 'SVC-0201',
  status: 'pending',
  accepted_on: null,
  service_started_on: null,
  closed_on: null,
  outcome: null,
  ...over,
});

const enrollment = (id: string, over: RawRow = {}): RawRow => ({
  enrollment_id: id,
  person_id: PLANTED_PERSON,
  program: 'snap',
  domain: 'food',
  referral_id: null,
  applied_on: '{end-140}',
  enrolled_on: '{end-120}',
  ended_on: null,
  status: 'enrolled',
  ...over,
});

const phq9 = (id: string, total: string, items: Array<string | null>, over: RawRow = {}): RawRow => {
  const row: RawRow = { assessment_id: id, person_id: PLANTED_PERSON, assessed_on: '{end-90}', total_score: total };
  items.forEach((v, i) => (row[`item_${i + 1}`] = v));
  return { ...row, ...over };
};
const noItems = Array<string | null>(9).fill(null);

const encounter = (id: string, over: RawRow = {}): RawRow => ({
  encounter_id: id,
  person_id: PLANTED_PERSON,
  encounter_type: 'primary_care',
  start_date: '{end-60}',
  end_date: '{end-60}',
  paid_amount: '142.50',
  ...over,
});

const service = (id: string, county: string, capacity: string | null): RawRow => ({
  program_id: id,
  org_id: 'ORG-14',
  org_name: 'Family Resource Centers of NC',
  program_name: 'Benefits Navigation (pilot)',
  domain: 'financial_strain',
  county_fips: county,
  monthly_capacity: capacity,
});

/**
 * The deliberately bad rows, a fixed set (about 40) whatever the demo size:
 * ~0.02% of the rows at 20,000 people. Their keys contain an X so they are
 * easy to find, and no good row refers to them.
 */
export const PLANTED_BAD_ROWS: PlantedBadRow[] = [
  // people
  { entity: 'people', key: 'PX00001', rule: 'bad_date', column: 'birth_date', description: 'month 13', row: person('PX00001', { birth_date: '1987-13-05' }) },
  { entity: 'people', key: 'PX00002', rule: 'future_date', column: 'birth_date', description: 'birth date in the future', row: person('PX00002', { birth_date: '2099-01-01' }) },
  { entity: 'people', key: 'PX00003', rule: 'before_1900', column: 'birth_date', description: 'birth date before 1900', row: person('PX00003', { birth_date: '1899-12-31' }) },
  { entity: 'people', key: 'PX00004', rule: 'unknown_enum', column: 'sex', description: "sex coded 'F' instead of female", row: person('PX00004', { sex: 'F' }) },
  { entity: 'people', key: 'PX00005', rule: 'unknown_enum', column: 'payer', description: 'payer outside the list', row: person('PX00005', { payer: 'medicaid_managed_care' }) },
  { entity: 'people', key: 'PX00006', rule: 'not_5_digits', column: 'zip', description: 'ZIP with its leading zero lost', row: person('PX00006', { zip: '2770' }) },
  { entity: 'people', key: 'PX00007', rule: 'not_5_digits', column: 'county_fips', description: 'FIPS with a dash', row: person('PX00007', { county_fips: '37-119' }) },
  { entity: 'people', key: 'PX00008', rule: 'date_order', column: 'enrolled_through', description: 'span ends before it starts', row: person('PX00008', { enrolled_from: '2025-03-01', enrolled_through: '2025-01-31' }) },
  { entity: 'people', key: '', rule: 'missing_required', column: 'person_id', description: 'empty person_id', row: person(null, { birth_date: '1990-02-11' }) },
  { entity: 'people', key: 'PX00010', rule: 'too_long', column: 'program_id', description: 'program_id of 70 characters', row: person('PX00010', { program_id: 'ACO-02-' + 'X'.repeat(63) }) },
  { entity: 'people', key: 'PX00011', rule: 'duplicate_key', column: 'person_id', description: 'person listed twice in one file', row: person('PX00011', { payer: 'dual' }), firstCopy: person('PX00011') },
  { entity: 'people', key: 'PX00012', rule: 'missing_required', column: 'enrolled_from', description: 'an enrollment end without a start', row: person('PX00012', { enrolled_from: null, enrolled_through: '2025-06-30' }) },
  // coverage: PX00011's first copy loads, covered by Medicaid from 2019 on (its roster span)
  { entity: 'coverage', key: 'PX00011|2025-07-01', rule: 'coverage_conflict', column: 'coverage_from', description: 'a commercial span inside a Medicaid span: two payers on one day', row: { person_id: 'PX00011', coverage_from: '2025-07-01', coverage_through: null, payer: 'commercial', program_id: 'ACO-02', plan_id: 'COMMERCIAL-PPO' } },
  // screenings
  { entity: 'screenings', key: 'SX00001|food', rule: 'bad_date', column: 'screened_on', description: '29 February in a non-leap year', row: screening('SX00001', { screened_on: '2025-02-29' }) },
  { entity: 'screenings', key: 'SX00002|food_insecurity', rule: 'unknown_enum', column: 'domain', description: 'domain outside the list', row: screening('SX00002', { domain: 'food_insecurity' }) },
  { entity: 'screenings', key: 'SX00003|housing_instability', rule: 'unknown_enum', column: 'result', description: "result 'pos'", row: screening('SX00003', { domain: 'housing_instability', result: 'pos' }) },
  { entity: 'screenings', key: 'SX00004|food', rule: 'orphan', column: 'person_id', description: 'person not in people', row: screening('SX00004', { person_id: ORPHAN_PERSON }) },
  { entity: 'screenings', key: 'SX00005|food', rule: 'duplicate_key', column: 'screening_id', description: 'same screening and domain twice', row: screening('SX00005', { result: 'positive' }), firstCopy: screening('SX00005') },
  { entity: 'screenings', key: 'SX00006|transportation', rule: 'missing_required', column: 'screened_on', description: 'no screening date', row: screening('SX00006', { domain: 'transportation', screened_on: null }) },
  // referrals
  { entity: 'referrals', key: 'RX00001', rule: 'duplicate_key', column: 'referral_id', description: 'referral exported twice', row: referral('RX00001', { status: 'accepted', accepted_on: '{end-148}' }), firstCopy: referral('RX00001') },
  { entity: 'referrals', key: 'RX00002', rule: 'missing_required', column: 'closed_on', description: 'completed without a closing date', row: referral('RX00002', { status: 'completed', accepted_on: '{end-149}' }) },
  { entity: 'referrals', key: 'RX00003', rule: 'date_order', column: 'closed_on', description: 'closed before it was made', row: referral('RX00003', { status: 'rejected', closed_on: '{end-160}', outcome: 'ineligible' }) },
  { entity: 'referrals', key: 'RX00004', rule: 'missing_required', column: 'outcome', description: 'closing date without an outcome', row: referral('RX00004', { status: 'completed', accepted_on: '{end-149}', closed_on: '{end-120}' }) },
  { entity: 'referrals', key: 'RX00005', rule: 'bad_date', column: 'accepted_on', description: 'date with slashes', row: referral('RX00005', { status: 'accepted', accepted_on: '2025/03/04' }) },
  { entity: 'referrals', key: 'RX00006', rule: 'orphan', column: 'person_id', description: 'person not in people', row: referral('RX00006', { person_id: ORPHAN_PERSON }) },
  { entity: 'referrals', key: 'RX00007', rule: 'unknown_enum', column: 'need_domain', description: "need_domain 'Housing'", row: referral('RX00007', { need_domain: 'Housing' }) },
  // enrollments
  { entity: 'enrollments', key: 'EX00001', rule: 'date_order', column: 'enrolled_on', description: 'enrolled before applying', row: enrollment('EX00001', { applied_on: '{end-100}', enrolled_on: '{end-130}' }) },
  { entity: 'enrollments', key: 'EX00002', rule: 'unknown_enum', column: 'status', description: "status 'approved'", row: enrollment('EX00002', { status: 'approved' }) },
  // phq9
  { entity: 'phq9', key: 'AX00001', rule: 'items_do_not_sum', column: 'total_score', description: 'items sum to 12, total says 14', row: phq9('AX00001', '14', ['2', '2', '1', '2', '1', '1', '2', '1', '0']) },
  { entity: 'phq9', key: 'AX00002', rule: 'out_of_range', column: 'total_score', description: 'total 31 (max 27)', row: phq9('AX00002', '31', noItems) },
  { entity: 'phq9', key: 'AX00003', rule: 'not_an_int', column: 'item_3', description: "item_3 '2.5'", row: phq9('AX00003', '11', [null, null, '2.5', null, null, null, null, null, null]) },
  { entity: 'phq9', key: 'AX00004', rule: 'orphan', column: 'person_id', description: 'person not in people', row: phq9('AX00004', '9', noItems, { person_id: ORPHAN_PERSON }) },
  // encounters
  { entity: 'encounters', key: 'VX00001', rule: 'out_of_range', column: 'paid_amount', description: 'negative paid amount (a reversal)', row: encounter('VX00001', { paid_amount: '-120.00' }) },
  { entity: 'encounters', key: 'VX00002', rule: 'unknown_enum', column: 'encounter_type', description: "encounter_type 'urgent_care'", row: encounter('VX00002', { encounter_type: 'urgent_care' }) },
  { entity: 'encounters', key: 'VX00003', rule: 'date_order', column: 'end_date', description: 'discharged before admission', row: encounter('VX00003', { encounter_type: 'inpatient', start_date: '{end-50}', end_date: '{end-53}', paid_amount: '9800.00' }) },
  { entity: 'encounters', key: 'VX00004', rule: 'missing_required', column: 'start_date', description: 'no start date', row: encounter('VX00004', { start_date: null, end_date: null }) },
  { entity: 'encounters', key: 'VX00005', rule: 'orphan', column: 'person_id', description: 'person not in people', row: encounter('VX00005', { person_id: ORPHAN_PERSON }) },
  { entity: 'encounters', key: 'VX00006', rule: 'duplicate_key', column: 'encounter_id', description: 'claim header sent twice', row: encounter('VX00006', { paid_amount: '150.00' }), firstCopy: encounter('VX00006') },
  // services
  { entity: 'services', key: 'SVC-9901|3701', rule: 'not_5_digits', column: 'county_fips', description: 'county FIPS of 4 digits', row: service('SVC-9901', '3701', '40') },
  { entity: 'services', key: 'SVC-9902|37119', rule: 'out_of_range', column: 'monthly_capacity', description: 'negative capacity', row: service('SVC-9902', '37119', '-5') },
  { entity: 'services', key: 'SVC-9903|37183', rule: 'not_an_int', column: 'monthly_capacity', description: "capacity 'about 20'", row: service('SVC-9903', '37183', 'about 20') },
];
