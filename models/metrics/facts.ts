// Facts: the person-level rows metrics count, one SQL file each under ./sql/. The engine
// builds each fact once per run, aggregates it once at month level with GROUPING SETS over
// every dimension its metrics need, then rolls the months up into the periods of the
// fact's span (month, quarter, year, all). A fact row carries:
//   person_id    whose attributes give the population dimensions;
//   payer, program_id  for facts with coverage 'row': the payer and program the row falls
//                under (others take them from coverage as of the metric's age date);
//   anchor_date  the date that places it in a month (and the age date for ageAt 'anchor');
//   the fact dimensions it declares (domain, target_org_id);
//   its keys     columns kept apart through the month-level aggregation, for facts whose
//                period membership is more than "its month lies in the period";
//   its measures (0/1 flags, counts, member-months, dollars) and, for durations, a time
//                column and an event flag named by the catalog.
import { CORE_DOMAINS } from '../contracts/domains.ts';
import { dateKeySql, type FactDimension } from './dimensions.ts';

export const SPAN_ENTITIES = ['screenings', 'referrals', 'phq9', 'encounters'] as const;
export type SpanEntity = (typeof SPAN_ENTITIES)[number];

export interface Measure {
  /** Aggregate over fact rows within a month-level group (alias: the measure name); none for
   * a measure computed at rollup from the others. */
  month?: string;
  /** Aggregate over month-level rows `a` that fall in period `p`. */
  rollup: string;
}

export interface FactDef {
  id: string;
  span: SpanEntity;
  /** What one row is. */
  holds: string;
  dimensions: readonly FactDimension[];
  keys: readonly string[];
  /** When a month-level row `a` (month a.month_start) belongs to period `p`. */
  periodJoin: string;
  /**
   * Where the time-varying dimensions (payer, program_id) come from: 'as_of_date' = the
   * person's coverage on the metric's age date (the anchor, or the as-of date; not covered
   * that day: unknown); 'row' = the fact row's own payer and program_id columns (person-time
   * split by the coverage of each day, people in a period under their last enrolled day).
   */
  coverage: 'as_of_date' | 'row';
  measures: Record<string, Measure>;
  /** The fact's SQL when it is not ./sql/<id>.sql: a shared template and the values of its
   * own placeholders (one template serves facts that differ only in a partition column). */
  sql?: { file: string; vars: Record<string, string> };
}

const MONTH_IN_PERIOD = 'a.month_start BETWEEN p.calendar_start AND p.period_end';
/** Enrolled on some day of p: first day (month_start's month) <= p's end, last day (to_month's month) >= p's start. */
const ENROLLED_IN_PERIOD = 'a.month_start <= p.period_end AND a.to_month >= p.calendar_start';
/** ... and the person's last coverage segment in p: the next one starts after p's end. */
const LAST_SEGMENT_IN_PERIOD = '(a.next_month IS NULL OR a.next_month > p.period_end)';

const sums = (...names: string[]): Record<string, Measure> =>
  Object.fromEntries(names.map((n) => [n, { month: `sum(${n})`, rollup: `sum(a.${n})` }]));

/**
 * Distinct people per period without a person x period expansion: a fact row is a person's
 * month with a screening and `prev_month` their previous such month, so the row is the
 * person's first in period p exactly when prev_month is before p (each person counted
 * once per period). `until` columns give the first month at or after this one in which
 * the numerator event happened.
 */
const FIRST_IN_PERIOD = `${MONTH_IN_PERIOD} AND (a.prev_month IS NULL OR a.prev_month < p.calendar_start)`;

/** Screening rows for fct_people_screened: the person, domain, date and result of each. */
const ALL_SCREENING_ROWS = 'SELECT person_id, domain, screened_on, result FROM stg_screenings';
const ADULT_AT_SCREENING = `${dateKeySql('sc.screened_on')} - pa.birth_key >= 180000`;
const CORE = CORE_DOMAINS.map((d) => `'${d}'`).join(', ');
/** CMS SDOH-1/-2: answered (positive or negative) rows of the five core domains, on screenings of people aged 18 or more that day. */
const SDOH_SCREENING_ROWS = `SELECT sc.person_id, sc.domain, sc.screened_on, sc.result
  FROM stg_screenings sc JOIN int_person_attributes pa USING (person_id)
  WHERE sc.domain IN (${CORE}) AND sc.result IN ('positive', 'negative') AND ${ADULT_AT_SCREENING}`;
/** Screenings (screening_id) that answer all five core domains, of people aged 18 or more that day: CMS SDOH-1's "screened". */
const SDOH_COMPLETE_SCREENINGS = `SELECT sc.person_id, min(sc.screened_on) AS screened_on
  FROM stg_screenings sc JOIN int_person_attributes pa USING (person_id)
  WHERE sc.domain IN (${CORE}) AND sc.result IN ('positive', 'negative') AND ${ADULT_AT_SCREENING}
  GROUP BY sc.screening_id, sc.person_id
  HAVING count(DISTINCT sc.domain) = ${CORE_DOMAINS.length}`;

const peopleScreened = (id: string, holds: string, screenings: string, byDomain: boolean): FactDef => ({
  id,
  span: 'screenings',
  sql: { file: 'fct_people_screened', vars: { per: byDomain ? ', domain' : '', per_r: byDomain ? ', r.domain' : '', screenings } },
  holds,
  dimensions: byDomain ? ['domain'] : [],
  keys: ['prev_month', 'positive_until'],
  periodJoin: FIRST_IN_PERIOD,
  coverage: 'as_of_date',
  measures: {
    screened: { month: 'sum(screened)', rollup: 'sum(a.screened)' },
    screened_positive: { month: 'sum(screened)', rollup: 'coalesce(sum(a.screened_positive) FILTER (WHERE a.positive_until <= p.period_end), 0)' },
  },
});

const screenedPeople = (id: string, holds: string, screenings: string): FactDef => ({
  id,
  span: 'screenings',
  sql: { file: 'fct_screened_people', vars: { screenings } },
  holds,
  dimensions: [],
  keys: ['prev_month', 'from_month', 'to_month', 'next_month'],
  periodJoin: `${FIRST_IN_PERIOD} AND a.from_month <= p.period_end AND a.to_month >= p.calendar_start AND ${LAST_SEGMENT_IN_PERIOD}`,
  coverage: 'row',
  measures: sums('screened'),
});

export const FACTS = [
  {
    id: 'fct_enrolled_people',
    span: 'screenings',
    holds: 'one row per coverage segment reaching into the screening span: anchor = its first day in the span, to_month = the month of its last day, next_month = the month the next segment starts, adult_on = (coarsened) the 18th birthday',
    dimensions: [],
    keys: ['to_month', 'next_month', 'adult_on'],
    periodJoin: `${ENROLLED_IN_PERIOD} AND ${LAST_SEGMENT_IN_PERIOD}`,
    coverage: 'row',
    measures: {
      enrolled: { month: 'sum(enrolled)', rollup: 'sum(a.enrolled)' },
      enrolled_adults: { rollup: 'coalesce(sum(a.enrolled) FILTER (WHERE a.adult_on <= p.period_end), 0)' },
    },
  },
  screenedPeople('fct_screened_people',
    'one row per person x month with a screening x coverage segment, with the previous such month and the months of the segment and of the next one',
    'SELECT person_id, screened_on FROM stg_screenings'),
  screenedPeople('fct_sdoh_screened_people',
    'one row per person x month with a complete adult screening (all five core domains answered, aged 18+) x coverage segment, as fct_screened_people',
    SDOH_COMPLETE_SCREENINGS),
  peopleScreened('fct_people_screened',
    'one row per person x month with a screening (any domain, any result): anchor = first screening of the month, prev_month, positive_until = first month from this one with a positive screen',
    ALL_SCREENING_ROWS, false),
  peopleScreened('fct_people_screened_by_domain',
    'one row per person x domain x month with a screening row in that domain, with prev_month and positive_until for the same domain',
    ALL_SCREENING_ROWS, true),
  peopleScreened('fct_sdoh_people_screened',
    'one row per adult x month with an answered core-domain screening row, as fct_people_screened',
    SDOH_SCREENING_ROWS, false),
  peopleScreened('fct_sdoh_people_screened_by_domain',
    'one row per adult x core domain x month with an answered screening row in that domain, as fct_people_screened_by_domain',
    SDOH_SCREENING_ROWS, true),
  {
    id: 'fct_sns_e_needs',
    span: 'screenings',
    holds: 'one row per person x SNS-E domain (food, housing_instability, transportation) x month with a positive screen: anchor = the month\'s first, prev_month',
    dimensions: ['domain'],
    keys: ['prev_month'],
    periodJoin: FIRST_IN_PERIOD,
    coverage: 'as_of_date',
    measures: sums('intervention_den', 'intervention_num'),
  },
  {
    id: 'fct_positive_needs',
    span: 'screenings',
    holds: 'one row per positive need (positive screening row: screening_id x domain), anchored on screened_on',
    dimensions: ['domain'],
    keys: [],
    periodJoin: MONTH_IN_PERIOD,
    coverage: 'as_of_date',
    measures: sums('positive_need', 'referral_30d_den', 'referral_30d_num', 'unmet_90d_den', 'unmet_90d_num'),
  },
  {
    id: 'fct_connected_people',
    span: 'screenings',
    holds: 'one row per person with a positive core-domain screen, anchored on their earliest one',
    dimensions: [],
    keys: [],
    periodJoin: MONTH_IN_PERIOD,
    coverage: 'as_of_date',
    measures: sums('connected_60d_den', 'connected_60d_num'),
  },
  {
    id: 'fct_funnel_people',
    span: 'screenings',
    holds: 'one row per person screened, anchored on their first screening, with the nested funnel stages reached by day 30 (referral) or 90 after it',
    dimensions: [],
    keys: [],
    periodJoin: MONTH_IN_PERIOD,
    coverage: 'as_of_date',
    measures: sums('funnel_screened', 'funnel_positive', 'funnel_referred', 'funnel_accepted', 'funnel_served', 'funnel_met'),
  },
  {
    id: 'fct_referrals',
    span: 'referrals',
    holds: 'one row per referral made by the as-of date, anchored on referred_on, with its milestones as of that date',
    dimensions: ['domain', 'target_org_id'],
    keys: [],
    periodJoin: MONTH_IN_PERIOD,
    coverage: 'as_of_date',
    measures: sums(
      'acceptance_den', 'acceptance_num', 'closed_60d_den', 'closed_60d_num', 'need_met_den', 'need_met_num',
      'capacity_den', 'capacity_num', 'enrollment_90d_den', 'enrollment_90d_num', 'stale_open',
    ),
  },
  {
    id: 'fct_phq9_episodes',
    span: 'phq9',
    holds: 'one row per PHQ-9 index episode, anchored on its index date',
    dimensions: [],
    keys: [],
    periodJoin: MONTH_IN_PERIOD,
    coverage: 'as_of_date',
    measures: sums('episode_den', 'follow_up_num', 'response_num', 'remission_num', 'change_n', 'change', 'change_sq'),
  },
  {
    id: 'fct_enrollment_spans',
    span: 'encounters',
    holds: 'one row per coverage segment (one payer, one program) reaching into the utilization span: its first day in the span, the month of its last, and the member-months of those two months',
    dimensions: [],
    keys: ['to_month'],
    periodJoin: ENROLLED_IN_PERIOD,
    coverage: 'row',
    measures: {
      segments: { month: 'count(*)', rollup: 'sum(a.segments)' },
      first_mm: { month: 'sum(first_mm)', rollup: 'sum(a.first_mm)' },
      last_mm: { month: 'sum(last_mm)', rollup: 'sum(a.last_mm)' },
      member_months: {
        // first month if in p + last month if in p (and not the first) + whole months
        // strictly between them that lie in p
        rollup: `sum(
    CASE WHEN a.month_start >= p.calendar_start THEN a.first_mm ELSE 0 END
    + CASE WHEN a.to_month <= p.period_end AND a.to_month > a.month_start THEN a.last_mm ELSE 0 END
    + a.segments * greatest(0, date_diff('month',
        greatest((a.month_start + INTERVAL '1 month')::DATE, p.calendar_start),
        least((a.to_month - INTERVAL '1 month')::DATE, date_trunc('month', p.period_end)::DATE)) + 1))`,
      },
    },
  },
  {
    id: 'fct_encounter_events',
    span: 'encounters',
    holds: 'one row per encounter starting on an enrolled day: ED visit, inpatient admission (0/1), dollars paid',
    dimensions: [],
    keys: [],
    periodJoin: MONTH_IN_PERIOD,
    coverage: 'row',
    measures: sums('ed_visits', 'inpatient_admits', 'paid'),
  },
  {
    id: 'fct_prepost',
    span: 'encounters',
    holds: 'one row per person whose 180-day windows around their first referral are enrolled, observed and over by the as-of date, anchored on the first referral',
    dimensions: [],
    keys: [],
    periodJoin: MONTH_IN_PERIOD,
    coverage: 'row',
    measures: sums('people', 'pre_member_months', 'post_member_months', 'ed_pre', 'ed_post', 'inpatient_pre', 'inpatient_post'),
  },
] as const satisfies readonly FactDef[];

export type FactId = (typeof FACTS)[number]['id'];

/** The SQL file (in ./sql, without .sql) of a fact and the placeholder values it adds. */
export function factSqlSource(id: string): { file: string; vars: Record<string, string> } {
  return factById(id).sql ?? { file: id, vars: {} };
}

export function factById(id: string): FactDef {
  const f = (FACTS as readonly FactDef[]).find((x) => x.id === id);
  if (!f) throw new Error(`unknown fact ${id}`);
  return f;
}
