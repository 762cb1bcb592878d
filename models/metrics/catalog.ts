// The metric catalog: every metric of the spec's metrics.md, declared once and validated.
// Computation (engine.ts), the API, exports, dashboards and the metric dictionary all read
// these entries. Adding a metric = one entry here + its SQL (a measure in a fact file
// under ./sql, see facts.ts, or a new fact file).
import { z } from 'zod';
import { CORE_DOMAINS } from '../contracts/domains.ts';
import {
  DEFAULT_TWO_WAY_CUT,
  DOMAIN_COUNTY_CUT,
  POPULATION_DIMENSIONS,
  dimensionParts,
  isOneWayDimension,
  isPopulationDimension,
} from './dimensions.ts';
import { FACTS, SPAN_ENTITIES, factById } from './facts.ts';

export const METRIC_GROUPS = ['access', 'closed_loop', 'service_gaps', 'outcomes'] as const;
export const METRIC_KINDS = ['proportion', 'rate', 'duration', 'count', 'mean', 'ratio', 'incidence'] as const;
/** What one counted unit of the metric is: decides its dimensions and disclosure relations. */
export const COUNTED_UNITS = ['person', 'person_domain', 'positive_need', 'referral', 'episode', 'member_month'] as const;

const GROUP_TITLES: Record<(typeof METRIC_GROUPS)[number], string> = {
  access: 'Access',
  closed_loop: 'Closed loop',
  service_gaps: 'Service gaps',
  outcomes: 'Outcomes',
};

/** One fact feeding the metric; several parts are added up (e.g. numerator and denominator from different facts). */
const FactPart = z.object({
  fact: z.string(),
  numerator: z.string().optional(),
  denominator: z.string().optional(),
  /** mean: sum and sum of squares of the values (denominator = number of cases). */
  sum: z.string().optional(),
  sumSquares: z.string().optional(),
  /** duration / incidence: time column (days) and event flag (1 = happened, 0 = censored at time). */
  time: z.string().optional(),
  event: z.string().optional(),
  /** Aalen-Johansen: flag of the competing event (1 = it happened at time, so the event never can). */
  competing: z.string().optional(),
  /** incidence: the day at which the cumulative incidence is read. */
  at: z.number().int().positive().optional(),
  /** The part yields only these of the metric's dimensions (default: all of them). */
  dimensions: z.array(z.string()).optional(),
});
export type FactPart = z.infer<typeof FactPart>;

/**
 * How a metric that mirrors a published measure compares with the measure's specification:
 * what it follows and every difference, with the reason (the dictionary's fidelity table).
 */
const Fidelity = z.object({
  /** The measure and the version of it compared with. */
  measure: z.string().min(1),
  matches: z.array(z.string().min(1)).min(1),
  differs: z.array(z.object({ what: z.string().min(1), why: z.string().min(1) })),
});
export type Fidelity = z.infer<typeof Fidelity>;

const MetricSql = z.union([
  z.object({ parts: z.array(FactPart).min(1) }),
  /** A file under ./sql yielding finished result rows (the metric does not fit the fact pattern). */
  z.object({ rows: z.string() }),
]);

export const MetricSchema = z
  .object({
    id: z.string().regex(/^[a-z][a-z0-9_]*$/),
    group: z.enum(METRIC_GROUPS),
    title: z.string().min(1),
    /** Plain language; says where closeloop made a choice the spec left open. */
    definition: z.string().min(1),
    numerator: z.string().min(1),
    denominator: z.string().min(1),
    kind: z.enum(METRIC_KINDS),
    /** Unit of the value column. */
    unit: z.string().min(1),
    direction: z.enum(['higher_better', 'lower_better']),
    /** The date that places a unit in a period. */
    anchor: z.string().min(1),
    /** Where ages (age_band) are taken: the anchor date, the period's end, or the as-of date. */
    ageAt: z.enum(['anchor', 'period_end', 'as_of']),
    /** Windows in days, counted from the anchor (day 0 = the anchor day). */
    windows: z.array(z.number().int().nonnegative()),
    /**
     * Days after the anchor until a unit's contribution can no longer change (its longest
     * forward window; 0 for figures of the period itself). A period's figure is final once
     * its calendar end + maturityDays <= the as-of date (period_status).
     */
    maturityDays: z.number().int().nonnegative(),
    /** The entity whose earliest date starts the metric's span. */
    span: z.enum(SPAN_ENTITIES),
    countedUnit: z.enum(COUNTED_UNITS),
    /** 'all', one-way cuts, then the two-way cuts computed by default. */
    dimensions: z.array(z.string()).min(1),
    /** Grain `all` only (a state at the as-of date). */
    snapshot: z.boolean(),
    /**
     * Month numerators and denominators add up to the quarter's and year's (disclosure
     * relation (c)). See isAdditiveOverTime for the age_band exception.
     */
    additiveOverTime: z.boolean(),
    /** Published measure the definition mirrors (not certified). */
    mirrors: z.string().optional(),
    /** For a mirrored measure: what matches its specification and what differs (required with mirrors). */
    fidelity: Fidelity.optional(),
    /** Compared with a reference group (disparity statistics); false for the funnel's step shares. */
    disparities: z.boolean().default(true),
    /**
     * Person-time comes in whole windows of this many days, one per person (pre/post
     * referral): member-months then tell how many people are behind them (disclosure).
     */
    wholeWindowDays: z.number().int().positive().optional(),
    /** Multiplier of value (rates per 1000 member-months). */
    scale: z.number().positive(),
    /** Interval reported in ci_low/ci_high. */
    interval: z.enum(['wilson', 'poisson_exact', 'kaplan_meier', 'aalen_johansen', 't', 'none']),
    sql: MetricSql,
  })
  .superRefine((m, ctx) => {
    const issue = (message: string) => ctx.addIssue({ code: 'custom', message: `${m.id}: ${message}` });
    if (m.dimensions[0] !== 'all') issue('dimensions must start with all');
    for (const d of m.dimensions) {
      if (d === 'all') continue;
      const parts = dimensionParts(d);
      if (parts.length > 2 || !parts.every(isOneWayDimension)) issue(`unknown dimension ${d}`);
      if (parts.length === 2 && !parts.every((p) => m.dimensions.includes(p))) issue(`two-way cut ${d} needs both one-way cuts`);
    }
    // rates of events get the exact Poisson interval; a dollar rate (paid_pmpm) none
    const allowed = { proportion: ['wilson'], rate: ['poisson_exact', 'none'], duration: ['kaplan_meier', 'aalen_johansen'], count: ['none'], mean: ['t'], ratio: ['none'], incidence: ['aalen_johansen'] }[m.kind];
    if (!allowed.includes(m.interval)) issue(`a ${m.kind} metric reports interval ${allowed.join(' or ')}`);
    if (m.snapshot && m.additiveOverTime) issue('a snapshot has no time grains to add up');
    if (Boolean(m.mirrors) !== Boolean(m.fidelity)) issue('a metric that mirrors a measure says how faithfully (fidelity), and only such a metric');
    if ('rows' in m.sql) return;
    for (const part of m.sql.parts) {
      const fact = FACTS.find((f) => f.id === part.fact);
      if (!fact) {
        issue(`unknown fact ${part.fact}`);
        continue;
      }
      if (fact.span !== m.span) issue(`fact ${fact.id} observes the ${fact.span} span, the metric the ${m.span} span`);
      const measures = Object.keys(fact.measures);
      for (const key of ['numerator', 'denominator', 'sum', 'sumSquares'] as const) {
        const name = part[key];
        if (name !== undefined && !measures.includes(name)) issue(`fact ${fact.id} has no measure ${name}`);
      }
      if ((m.kind === 'duration' || m.kind === 'incidence') && (!part.time || !part.event)) issue(`a ${m.kind} part names its time and event columns`);
      if (m.interval === 'aalen_johansen' && !part.competing) issue('an Aalen-Johansen part names its competing-event column');
      if ((m.kind === 'incidence') !== (part.at !== undefined)) issue('an incidence part (and only one) names the day it is read at');
      if (part.at !== undefined && part.at > m.maturityDays) issue(`read at day ${part.at} but final after ${m.maturityDays} days`);
      for (const d of part.dimensions ?? []) if (!m.dimensions.includes(d)) issue(`part dimension ${d} is not a metric dimension`);
      for (const d of part.dimensions ?? m.dimensions) {
        for (const p of dimensionParts(d)) {
          if (!isPopulationDimension(p) && !(fact.dimensions as readonly string[]).includes(p)) issue(`fact ${fact.id} does not carry ${p}`);
        }
      }
      // payer and program at the period's end cannot come from a single date's coverage
      const coverageCut = (part.dimensions ?? m.dimensions).some((d) => dimensionParts(d).some((p) => p === 'payer' || p === 'program_id'));
      if (m.ageAt === 'period_end' && coverageCut && fact.coverage !== 'row') issue(`fact ${fact.id} takes payer and program on a date; a period-end metric needs coverage 'row'`);
    }
  });

export type Metric = z.infer<typeof MetricSchema>;

const POPULATION = ['all', ...POPULATION_DIMENSIONS] as const;
const BY_UNIT = {
  person: [...POPULATION, DEFAULT_TWO_WAY_CUT],
  episode: [...POPULATION, DEFAULT_TWO_WAY_CUT],
  member_month: [...POPULATION, DEFAULT_TWO_WAY_CUT],
  positive_need: [...POPULATION, 'domain', DEFAULT_TWO_WAY_CUT],
  person_domain: [...POPULATION, 'domain', DEFAULT_TWO_WAY_CUT],
  referral: [...POPULATION, 'target_org_id', 'domain', DEFAULT_TWO_WAY_CUT],
} as const;
const SERVICE_GAP = (unit: 'positive_need' | 'referral') => [...BY_UNIT[unit], DOMAIN_COUNTY_CUT];

const CORE = CORE_DOMAINS.join(', ');

/** The funnel's steps: stage, who reaches it, who reached the one before, title, plain words. */
const FUNNEL_STEPS: ReadonlyArray<readonly [stage: string, num: string, den: string, title: string, what: string]> = [
  ['positive', 'screened positive for a domain at their first screening', 'were screened', 'screened positive', 'people whose first screening had a positive domain, of the people screened.'],
  ['referred', 'were referred for one of those domains within 30 days', 'screened positive', 'referred', 'people referred for a positive domain within 30 days, of those who screened positive.'],
  ['accepted', 'had such a referral accepted by day 90', 'were referred', 'accepted', 'people with such a referral accepted by day 90 (accepted_on, or a first service or need_met closing, which show acceptance), of those referred.'],
  ['served', 'were served by day 90', 'had a referral accepted', 'served', 'people first served by day 90 (or whose need was closed as met by then), of those with a referral accepted.'],
  ['met', 'had the need met by day 90', 'were served', 'need met', 'people with a referral closed need_met by day 90, of those served.'],
];
const CERT = 'closeloop\'s own implementation, not certified';

// Additive over time (disclosure relation (c)): true where every unit sits in exactly one
// month through a fixed anchor date (events, positive needs, referrals, episodes, each
// person's earliest positive core screen, person-time). False for "people in the period"
// (screening_rate, screen_positive_rate, the SDOH and SNS-E rates): a person screened in
// January and in February is one person in the quarter, so months do not add up. Durations
// and means are additive in their counts (events, cases, n), which is what disclosure
// differencing would exploit.
//
// Payer and program (attribution) come from coverage: a unit falls under the coverage of
// its age date (the anchor, or the as-of date); people in a period under their last enrolled
// day in it; person-time day by day. facts.ts (`coverage`) and aggregate.ts do it.
const COVERAGE_IN_PERIOD = 'Enrolled = covered (coverage spans, overlapping spans merged); payer and program are those of the person\'s last enrolled day in the period.';
const COVERAGE_ON_ANCHOR = 'Payer and program are the person\'s coverage on the anchor date (unknown when not covered that day).';

/** The PHQ-9 episodes of the DRR-E mirrors: index rule and denominator, said once. */
const DRR_E_EPISODES =
  'Index episode: a PHQ-9 with total >= 10 for a person aged 12 or more that day, with no index episode in the preceding 365 days (the first such PHQ-9 starts the chain). On a day with several PHQ-9s the highest total is the index score (ties: the smallest assessment_id). In the denominator when the 240-day window has ended by the as-of date, the person was continuously enrolled from the index date to day 240 (at most one gap of at most 45 days), had no hospice encounter in that window and did not die by its end (where the extracts say so). Payer and program are the person\'s coverage on the index date.';
const DRR_E_DENOMINATOR = 'Index episodes at least 240 days before the as-of date, continuously enrolled through day 240, no hospice, alive';
const DRR_E_FIDELITY: z.input<typeof Fidelity> = {
  measure: 'HEDIS DRR-E, Depression Remission or Response for Adolescents and Adults (follow-up PHQ-9, response, remission)',
  matches: [
    'members 12 or older with an elevated PHQ-9 (total 10 or more) start an index episode',
    'follow-up in the 120-240 days (4-8 months) after the index date; the most recent PHQ-9 in it decides response (at least 50% lower than the index score) and remission (below 5)',
    'continuous enrollment through the follow-up window (index date to day 240): at most one gap, of at most 45 days',
    'on a day with several PHQ-9s the highest is the index score',
    'episodes of people in hospice, or who died, are left out (where the extracts say so: hospice encounters, death_date)',
  ],
  differs: [
    { what: 'no depression or dysthymia diagnosis is required, and the diagnosis-based exclusions (bipolar, personality, psychotic and pervasive developmental disorders) are not applied', why: 'the extracts carry no diagnoses; an elevated PHQ-9 alone starts an episode' },
    { what: 'episodes chain over the whole span (a new index more than 365 days after the last) and fall in the calendar month, quarter and year of their index date, instead of one intake period per measurement year', why: 'trends over every period; windows not yet over by the as-of date are left out' },
    { what: 'age on the index date', why: 'the episode\'s own date, as for every closeloop metric anchored on an event' },
    { what: 'hospice and death count only inside the episode\'s window (index date to day 240), not the whole measurement year', why: 'closeloop has no measurement year; the window is what the episode observes' },
  ],
};

/** Person-time from coverage, said once for the utilization rates. */
const MEMBER_MONTHS = 'Member-months: for each month, days covered / days in the month, overlapping spans merged (a day never counts twice), a gap between spans not counted. A person who changed payer or program counts under each for the days they had it: their member-months, and the encounters of those days, split between the groups.';

const entries: Array<z.input<typeof MetricSchema>> = [
  // ---------------------------------------------------------------- Access
  {
    id: 'screening_rate',
    group: 'access',
    title: 'Screening rate (any screening)',
    definition:
      'Share of people enrolled on any day of the period who had at least one social-need screening in the period (any domain, any result, any age). The screening need not fall on an enrolled day. ' + COVERAGE_IN_PERIOD + ' Broader than CMS SDOH-1, which sdoh_screening_rate mirrors: here any screening of anyone counts.',
    numerator: 'People enrolled on any day of the period with at least one screening dated in the period',
    denominator: 'People enrolled (covered) on any day of the period, within the screening span and by the as-of date',
    kind: 'proportion', unit: 'proportion of people (0-1)', direction: 'higher_better',
    anchor: 'period', ageAt: 'period_end', windows: [], maturityDays: 0, span: 'screenings', countedUnit: 'person',
    dimensions: [...BY_UNIT.person], snapshot: false, additiveOverTime: false,
    scale: 1, interval: 'wilson',
    sql: { parts: [{ fact: 'fct_enrolled_people', denominator: 'enrolled' }, { fact: 'fct_screened_people', numerator: 'screened' }] },
  },
  {
    id: 'sdoh_screening_rate',
    group: 'access',
    title: 'Screening for social drivers of health (SDOH-1)',
    definition:
      `Share of adults enrolled on any day of the period who were screened on all five core domains (${CORE}) in the period: one screening that answers each of the five (positive or negative; a declined answer is not an answer), made when the person was 18 or older. Adults: aged 18 or more at the period's end. ${COVERAGE_IN_PERIOD} Mirrors CMS SDOH-1 (screening for social drivers of health); ${CERT}; see the fidelity table.`,
    numerator: 'Adults enrolled on any day of the period with a screening in the period that answers all five core domains, made at 18 or older',
    denominator: 'People enrolled on any day of the period and aged 18 or more at its end',
    kind: 'proportion', unit: 'proportion of people (0-1)', direction: 'higher_better',
    anchor: 'period', ageAt: 'period_end', windows: [], maturityDays: 0, span: 'screenings', countedUnit: 'person',
    dimensions: [...BY_UNIT.person], snapshot: false, additiveOverTime: false,
    mirrors: 'CMS SDOH-1', scale: 1, interval: 'wilson',
    fidelity: {
      measure: 'CMS SDOH-1, Screening for Social Drivers of Health (hospital IQR; MIPS #487 for clinicians)',
      matches: [
        'adults: 18 or older',
        `the five health-related social needs: ${CORE}`,
        'screened = asked about all five and answered, in one screening',
      ],
      differs: [
        { what: 'population: people enrolled (covered) on any day of the period, not patients admitted (IQR) or seen in an encounter (MIPS)', why: 'closeloop measures an enrolled, attributed population; its extracts have no admissions or visit lists' },
        { what: 'age taken at the period\'s end for the denominator (the screening itself must be made at 18 or older), not on the day of admission or encounter', why: 'a person who was not screened has no admission or encounter date in the extracts' },
        { what: 'a person who declined (opted out of) the screening stays in the denominator, as not screened', why: 'the denominator comes from coverage alone; leaving people out for their answers is not implemented' },
        { what: 'periods: every calendar month, quarter and year and the whole span, not one annual reporting period', why: 'trends and small-period monitoring' },
      ],
    },
    sql: { parts: [{ fact: 'fct_enrolled_people', denominator: 'enrolled_adults' }, { fact: 'fct_sdoh_screened_people', numerator: 'screened' }] },
  },
  {
    id: 'screen_positive_rate',
    group: 'access',
    title: 'Screen positive rate (any domain)',
    definition:
      'Share of people screened in the period who screened positive, any age, any domain. The all row and the population cuts count a person positive for any domain; the domain cut counts people positive for that domain among people screened for that domain in the period (closeloop\'s choice: someone never asked about a domain is not in its denominator). Declined answers count as screened, not positive. Ages, payer and program are taken at the person\'s first screening in the period (unknown payer and program when not covered that day). Lower is better: a positive screen is an unmet social need. Broader than CMS SDOH-2, which sdoh_positive_rate mirrors.',
    numerator: 'People with a positive screening row in the period (for the domain, in the domain cut)',
    denominator: 'People with a screening row in the period, any result, declined included (for the domain, in the domain cut)',
    kind: 'proportion', unit: 'proportion of people (0-1)', direction: 'lower_better',
    anchor: 'screened_on (the person\'s first screening in the period)', ageAt: 'anchor', windows: [], maturityDays: 0, span: 'screenings', countedUnit: 'person',
    dimensions: [...POPULATION, 'domain', DEFAULT_TWO_WAY_CUT], snapshot: false, additiveOverTime: false,
    scale: 1, interval: 'wilson',
    sql: {
      parts: [
        { fact: 'fct_people_screened', numerator: 'screened_positive', denominator: 'screened', dimensions: [...POPULATION, DEFAULT_TWO_WAY_CUT] },
        { fact: 'fct_people_screened_by_domain', numerator: 'screened_positive', denominator: 'screened', dimensions: ['domain'] },
      ],
    },
  },
  {
    id: 'sdoh_positive_rate',
    group: 'access',
    title: 'Screen positive rate for social drivers of health (SDOH-2)',
    definition:
      `Share of adults screened who screened positive, per core domain (${CORE}): in the domain cut, people positive for the domain among people whose screening in the period answered it (positive or negative; a declined answer is not an answer), on screenings made at 18 or older. The all row counts people positive in any core domain among people with any answered core domain. Ages, payer and program are taken at the person's first such screening in the period (unknown payer and program when not covered that day). Lower is better. Mirrors CMS SDOH-2; ${CERT}; see the fidelity table.`,
    numerator: 'Adults with a positive core-domain screening row in the period (for the domain, in the domain cut)',
    denominator: 'Adults with an answered core-domain screening row in the period (for the domain, in the domain cut)',
    kind: 'proportion', unit: 'proportion of people (0-1)', direction: 'lower_better',
    anchor: 'screened_on (the person\'s first such screening in the period)', ageAt: 'anchor', windows: [], maturityDays: 0, span: 'screenings', countedUnit: 'person',
    dimensions: [...POPULATION, 'domain', DEFAULT_TWO_WAY_CUT], snapshot: false, additiveOverTime: false,
    mirrors: 'CMS SDOH-2', scale: 1, interval: 'wilson',
    fidelity: {
      measure: 'CMS SDOH-2, Screen Positive Rate for Social Drivers of Health',
      matches: [
        'adults: 18 or older on the day of the screening',
        `the five health-related social needs (${CORE}), one rate per need (the domain cut)`,
        'a rate per need: people positive for it among people screened for it',
      ],
      differs: [
        { what: 'population: anyone with an answered screening row in the period, enrolled or not, not patients admitted or seen and screened under SDOH-1', why: 'closeloop measures a population from its screening extracts, not from admissions' },
        { what: 'the all row (positive in any core domain) is closeloop\'s addition; CMS reports the five rates only', why: 'every closeloop metric has an all row for trends and disparities' },
        { what: 'periods: every calendar month, quarter and year and the whole span', why: 'trends and small-period monitoring' },
      ],
    },
    sql: {
      parts: [
        { fact: 'fct_sdoh_people_screened', numerator: 'screened_positive', denominator: 'screened', dimensions: [...POPULATION, DEFAULT_TWO_WAY_CUT] },
        { fact: 'fct_sdoh_people_screened_by_domain', numerator: 'screened_positive', denominator: 'screened', dimensions: ['domain'] },
      ],
    },
  },
  {
    id: 'need_referral_rate',
    group: 'access',
    title: 'Positive needs referred within 30 days',
    definition:
      'Share of positive needs (one per positive screening row: screening x domain, every domain, any age) followed by a referral of the same person for the same domain made 0 to 30 days after the screening (any status; referrals made before the screening do not count). Needs screened less than 30 days before the as-of date are not yet measurable and stay out of the denominator. ' + COVERAGE_ON_ANCHOR + ' Need-based and broader than HEDIS SNS-E, which sns_e_intervention_rate mirrors (member-based, three domains, cancelled referrals not counted).',
    numerator: 'Positive needs with a same-person, same-domain referral made on days 0-30 after the screening',
    denominator: 'Positive needs screened at least 30 days before the as-of date',
    kind: 'proportion', unit: 'proportion of positive needs (0-1)', direction: 'higher_better',
    anchor: 'screened_on', ageAt: 'anchor', windows: [30], maturityDays: 30, span: 'screenings', countedUnit: 'positive_need',
    dimensions: [...BY_UNIT.positive_need], snapshot: false, additiveOverTime: true,
    scale: 1, interval: 'wilson',
    sql: { parts: [{ fact: 'fct_positive_needs', numerator: 'referral_30d_num', denominator: 'referral_30d_den' }] },
  },
  {
    id: 'sns_e_intervention_rate',
    group: 'access',
    title: 'Social need intervention within 30 days (SNS-E)',
    definition:
      'Member-based, per domain: people with a positive screen for food, housing_instability or transportation in the period who received an intervention within 30 days of the first such screen in the period: a referral of theirs in the domain made 0 to 30 days after it that was not cancelled. A cancelled referral (status cancelled: withdrawn by the referrer) is no intervention; a rejected one is (the referral is the intervention, whatever the partner answered). Denominator: such people whose 30-day window has elapsed, who were continuously enrolled over the calendar year of that screen (to the as-of date; at most one gap of at most 45 days) and had no hospice encounter that year nor died by its end. The domain cut gives the three HEDIS rates; the all row adds the three domains up (a person with two of them counts twice). Ages, payer and program are taken at that first screen. Mirrors the intervention rates of HEDIS SNS-E; ' + CERT + '; see the fidelity table.',
    numerator: 'People x domain with a non-cancelled same-domain referral on days 0-30 after their first positive screen in the period',
    denominator: 'People x domain (food, housing_instability, transportation) with a positive screen in the period, measurable, continuously enrolled that year, not in hospice, alive',
    kind: 'proportion', unit: 'proportion of people per domain (0-1)', direction: 'higher_better',
    anchor: 'screened_on (the person\'s first positive screen in the domain in the period)', ageAt: 'anchor', windows: [30], maturityDays: 30, span: 'screenings', countedUnit: 'person_domain',
    dimensions: [...BY_UNIT.person_domain], snapshot: false, additiveOverTime: false,
    mirrors: 'HEDIS SNS-E', scale: 1, interval: 'wilson',
    fidelity: {
      measure: 'HEDIS SNS-E, Social Need Screening and Intervention (the three intervention rates)',
      matches: [
        'member-based: one unit per person and domain, not per screening',
        'the domains food, housing and transportation, each its own rate (the domain cut)',
        'an intervention on the day of the positive screen or up to 30 days after it',
        'continuous enrollment over the measurement year: at most one gap, of at most 45 days',
        'people in hospice, or who died, during the year are left out (where the extracts say so: hospice encounters, death_date)',
      ],
      differs: [
        { what: 'an intervention is a referral in closeloop\'s referral extract (not cancelled), not any of the coded interventions HEDIS accepts (assessments, counseling, education, provision of services)', why: 'closeloop sees referrals, not clinical records' },
        { what: 'housing is housing_instability only; HEDIS\'s housing rate also covers homelessness and inadequate housing (closeloop\'s housing_quality)', why: 'the contract\'s domains split housing in two; mixing them would change what a housing_instability referral answers' },
        { what: 'age strata: the age_band cut (0-17, 18-25, 26-44, 45-64, 65+), whose 18-64 bands add up to HEDIS\'s 18-64 stratum; ages at the screen (HEDIS stratifies by age in the measurement year)', why: 'one set of age bands and one age date per metric' },
        { what: 'periods: calendar months, quarters and years and the whole span, each counting a person\'s first positive screen in it; HEDIS takes screens from January 1 to December 1 of the year', why: 'not-yet-measurable screens (less than 30 days before the as-of date) are left out instead' },
        { what: 'the screening instruments are not checked against HEDIS\'s list; I-SNP and long-term institutional stays are not excluded', why: 'the extracts carry neither' },
        { what: 'continuous enrollment in a year still under way runs to the as-of date', why: 'so the current year can be watched' },
      ],
    },
    sql: { parts: [{ fact: 'fct_sns_e_needs', numerator: 'intervention_num', denominator: 'intervention_den' }] },
  },
  {
    id: 'days_to_referral',
    group: 'access',
    title: 'Days from positive screen to referral',
    definition:
      'Median days from a positive screening to the first referral of the same person for the same domain made on or after it, estimated with Kaplan-Meier. A need with no such referral by day 30 is censored at 30 days; one screened less than 30 days before the as-of date and not yet referred is censored at the as-of date. The median is empty when fewer than half the needs are referred within 30 days.',
    numerator: 'Positive needs referred within 30 days (events)',
    denominator: 'Positive needs (cases: events + censored)',
    kind: 'duration', unit: 'days (median)', direction: 'lower_better',
    anchor: 'screened_on', ageAt: 'anchor', windows: [30], maturityDays: 30, span: 'screenings', countedUnit: 'positive_need',
    dimensions: [...BY_UNIT.positive_need], snapshot: false, additiveOverTime: true,
    scale: 1, interval: 'kaplan_meier',
    sql: { parts: [{ fact: 'fct_positive_needs', time: 'referral_days', event: 'referral_event' }] },
  },
  {
    id: 'days_to_service',
    group: 'access',
    title: 'Days from referral to first service',
    definition:
      'Median days from referral to the first service delivered (service_started_on), read off the cumulative incidence of service with closure without a recorded service as a competing event (Aalen-Johansen), over the first 90 days. A referral closed without service can never be served, so it is not censored (treating it as censored, as 1 - Kaplan-Meier does, would overstate how many are served). Open referrals are censored at the as-of date. The median is the first day on which at least half the referrals have been served; it is empty ("median not reached") where fewer than half are served by day 90, which is common where many referrals close without service. Its 95% interval comes from the pointwise log band of the incidence. The shares served by day 30, 60 and 90 are published as their own metrics (share_served_30d, share_served_60d, share_served_90d). Dates after the as-of date count as not yet happened.',
    numerator: 'Referrals first served within 90 days (events)',
    denominator: 'Referrals (cases: served, closed without service, and still open)',
    kind: 'duration', unit: 'days (median)', direction: 'lower_better',
    anchor: 'referred_on', ageAt: 'anchor', windows: [90], maturityDays: 90, span: 'referrals', countedUnit: 'referral',
    dimensions: [...BY_UNIT.referral], snapshot: false, additiveOverTime: true,
    scale: 1, interval: 'aalen_johansen',
    sql: { parts: [{ fact: 'fct_referrals', time: 'service_days', event: 'service_event', competing: 'closed_unserved_event' }] },
  },
  ...[30, 60, 90].map((day): z.input<typeof MetricSchema> => ({
    id: `share_served_${day}d`,
    group: 'access',
    title: `Referrals served within ${day} days`,
    definition:
      `Share of referrals whose first service (service_started_on) fell on days 0-${day} after the referral: the Aalen-Johansen cumulative incidence of service at day ${day}, with closure without a recorded service as a competing event and open referrals censored at the as-of date. Unlike 1 - Kaplan-Meier it does not treat closed, unserved referrals as if they might still be served. 95% interval: R's survfit "log" interval with its infinitesimal-jackknife standard error. The numerator shown is the count of referrals observed served by day ${day}; the value is the estimate, which also accounts for referrals still open.`,
    numerator: `Referrals observed served on days 0-${day}`,
    denominator: 'Referrals (cases: served, closed without service, and still open)',
    kind: 'incidence', unit: 'proportion of referrals (0-1)', direction: 'higher_better',
    anchor: 'referred_on', ageAt: 'anchor', windows: [day], maturityDays: day, span: 'referrals', countedUnit: 'referral',
    dimensions: [...BY_UNIT.referral], snapshot: false, additiveOverTime: true,
    scale: 1, interval: 'aalen_johansen',
    sql: { parts: [{ fact: 'fct_referrals', time: 'service_days', event: 'service_event', competing: 'closed_unserved_event', at: day }] },
  })),
  {
    id: 'connected_60d_rate',
    group: 'access',
    title: 'Connected to a community service within 60 days',
    definition:
      `Share of adults with a positive screen in a core domain (${CORE}) who were connected within 60 days. Each person counts once, anchored on their earliest positive core screening made at 18 or older; their needs are every core domain positive on that date. Connected = a referral of theirs in one of those domains, made at any time, with accepted_on or service_started_on on days 0-60 after the anchor (a status without a date does not count). People whose anchor is less than 60 days before the as-of date are not yet measurable. ${COVERAGE_ON_ANCHOR} Mirrors MIPS quality measure #498 (connection to community service provider); ${CERT}; see the fidelity table.`,
    numerator: 'Adults with a same-domain referral accepted or first served on days 0-60 after their anchor',
    denominator: 'Adults with a positive core screen at 18 or older whose earliest one is at least 60 days before the as-of date',
    kind: 'proportion', unit: 'proportion of people (0-1)', direction: 'higher_better',
    anchor: 'earliest positive core screen at 18 or older', ageAt: 'anchor', windows: [60], maturityDays: 60, span: 'screenings', countedUnit: 'person',
    dimensions: [...BY_UNIT.person], snapshot: false, additiveOverTime: true,
    mirrors: 'MIPS quality measure #498', scale: 1, interval: 'wilson',
    fidelity: {
      measure: 'MIPS quality measure #498, Connection to Community Service Provider',
      matches: [
        'adults: 18 or older at the screening',
        `a positive screen for one or more of the five needs (${CORE})`,
        'connected: contact with a community service provider for at least one of those needs within 60 days after the screening',
      ],
      differs: [
        { what: 'contact = the referral accepted (accepted_on) or a first service (service_started_on) on days 0-60; other contact the provider recorded outside the referral platform is not seen', why: 'closeloop knows contact only through the referral extract' },
        { what: 'a person is anchored once, on their earliest positive core screen in the span, and placed in that period; MIPS takes patients seen from November 1 of the previous year to October 31', why: 'one unit per person; screens less than 60 days before the as-of date are left out instead' },
        { what: 'the population is everyone screened in the extracts, not a clinician\'s patients with a qualifying encounter', why: 'closeloop measures a population, not a clinician' },
      ],
    },
    sql: { parts: [{ fact: 'fct_connected_people', numerator: 'connected_60d_num', denominator: 'connected_60d_den' }] },
  },
  {
    id: 'enrollment_after_referral_rate',
    group: 'access',
    title: 'Program enrollment within 90 days of referral',
    definition:
      'Share of referrals followed by an enrollment of the same person in a program of the same domain (status enrolled or ended, enrolled_on set) with enrolled_on 0 to 90 days after the referral. Matched by person, domain and date, not by referral_id. Only referrals in domains that appear in the enrollments extract count; referrals made less than 90 days before the as-of date are not yet measurable.',
    numerator: 'Referrals with a same-person, same-domain enrollment on days 0-90 after the referral',
    denominator: 'Referrals made at least 90 days before the as-of date, in domains present in the enrollments extract',
    kind: 'proportion', unit: 'proportion of referrals (0-1)', direction: 'higher_better',
    anchor: 'referred_on', ageAt: 'anchor', windows: [90], maturityDays: 90, span: 'referrals', countedUnit: 'referral',
    dimensions: [...BY_UNIT.referral], snapshot: false, additiveOverTime: true,
    scale: 1, interval: 'wilson',
    sql: { parts: [{ fact: 'fct_referrals', numerator: 'enrollment_90d_num', denominator: 'enrollment_90d_den' }] },
  },
  // ---------------------------------------------------------------- Closed loop
  {
    id: 'referral_acceptance_rate',
    group: 'closed_loop',
    title: 'Referral acceptance rate',
    definition:
      'Share of referrals accepted within 14 days: accepted_on on days 0-14 after the referral (whatever the status, cancelled included), or, where accepted_on is empty, a first service or a need_met closing on days 0-14 (both imply acceptance). A fixed window, so recent periods are not biased downwards by acceptances still to come. A status of accepted, in_progress or completed with no date at all cannot be placed in the window and does not count (closeloop\'s choice). Referrals made less than 14 days before the as-of date are not yet measurable.',
    numerator: 'Referrals accepted (accepted_on, else first service or need_met closing) on days 0-14',
    denominator: 'Referrals made at least 14 days before the as-of date',
    kind: 'proportion', unit: 'proportion of referrals (0-1)', direction: 'higher_better',
    anchor: 'referred_on', ageAt: 'anchor', windows: [14], maturityDays: 14, span: 'referrals', countedUnit: 'referral',
    dimensions: [...BY_UNIT.referral], snapshot: false, additiveOverTime: true,
    scale: 1, interval: 'wilson',
    sql: { parts: [{ fact: 'fct_referrals', numerator: 'acceptance_num', denominator: 'acceptance_den' }] },
  },
  {
    id: 'closed_loop_rate',
    group: 'closed_loop',
    title: 'Loop closed within 60 days',
    definition:
      'Share of referrals closed (closed_on and outcome set) on days 0-60 after the referral, any outcome. Referrals made less than 60 days before the as-of date are not yet measurable.',
    numerator: 'Referrals closed within 60 days of referral',
    denominator: 'Referrals made at least 60 days before the as-of date',
    kind: 'proportion', unit: 'proportion of referrals (0-1)', direction: 'higher_better',
    anchor: 'referred_on', ageAt: 'anchor', windows: [60], maturityDays: 60, span: 'referrals', countedUnit: 'referral',
    dimensions: [...BY_UNIT.referral], snapshot: false, additiveOverTime: true,
    scale: 1, interval: 'wilson',
    sql: { parts: [{ fact: 'fct_referrals', numerator: 'closed_60d_num', denominator: 'closed_60d_den' }] },
  },
  {
    id: 'need_met_rate',
    group: 'closed_loop',
    title: 'Need met',
    definition: 'Share of referrals closed with outcome need_met on days 0-90 after the referral, over all referrals whose 90 days have passed (closed or not). A fixed window: counting closed referrals at any time would compare recent periods, where only the quick closings (often rejections) are in, with older ones. Referrals made less than 90 days before the as-of date are not yet measurable.',
    numerator: 'Referrals closed need_met within 90 days of referral',
    denominator: 'Referrals made at least 90 days before the as-of date',
    kind: 'proportion', unit: 'proportion of referrals (0-1)', direction: 'higher_better',
    anchor: 'referred_on', ageAt: 'anchor', windows: [90], maturityDays: 90, span: 'referrals', countedUnit: 'referral',
    dimensions: [...BY_UNIT.referral], snapshot: false, additiveOverTime: true,
    scale: 1, interval: 'wilson',
    sql: { parts: [{ fact: 'fct_referrals', numerator: 'need_met_num', denominator: 'need_met_den' }] },
  },
  {
    id: 'days_to_close',
    group: 'closed_loop',
    title: 'Days to close the loop',
    definition:
      'Median days from referral to closing (closed_on with an outcome), estimated with Kaplan-Meier over all referrals over the first 180 days; open ones are censored at the as-of date, and referrals still open on day 180 at day 180, so a period\'s figure is final once 180 days have passed since its end. The median is the first time the curve is at or below 0.5 (the midpoint of a stretch where it is exactly 0.5, as R\'s survfit), empty ("median not reached") where more than half are still open on day 180; its 95% interval comes from the log-log (Greenwood) pointwise bands, empty where a band never reaches 0.5.',
    numerator: 'Referrals closed within 180 days and by the as-of date (events)',
    denominator: 'Referrals (cases: events + censored)',
    kind: 'duration', unit: 'days (median)', direction: 'lower_better',
    anchor: 'referred_on', ageAt: 'anchor', windows: [180], maturityDays: 180, span: 'referrals', countedUnit: 'referral',
    dimensions: [...BY_UNIT.referral], snapshot: false, additiveOverTime: true,
    scale: 1, interval: 'kaplan_meier',
    sql: { parts: [{ fact: 'fct_referrals', time: 'close_days', event: 'close_event' }] },
  },
  {
    id: 'stale_open_referrals',
    group: 'closed_loop',
    title: 'Stale open referrals',
    definition:
      'Number of referrals still open at the as-of date (not closed by then) that were made more than 30 days before it. A snapshot at the as-of date: grain all only, ages taken at the as-of date. Aggregate only: no list of the referrals is served.',
    numerator: 'Open referrals made more than 30 days before the as-of date',
    denominator: 'None (a count)',
    kind: 'count', unit: 'referrals', direction: 'lower_better',
    anchor: 'as-of date', ageAt: 'as_of', windows: [30], maturityDays: 0, span: 'referrals', countedUnit: 'referral',
    dimensions: [...BY_UNIT.referral], snapshot: true, additiveOverTime: false,
    scale: 1, interval: 'none',
    sql: { parts: [{ fact: 'fct_referrals', numerator: 'stale_open' }] },
  },
  // The funnel (issue 15): people, one cohort, each step a share of the step before.
  ...FUNNEL_STEPS.map(([stage, num, den, title, what], k): z.input<typeof MetricSchema> => ({
    id: `funnel_${stage}_share`,
    group: 'closed_loop',
    title: `Funnel: ${title}`,
    definition:
      `Step ${k + 1} of the referral funnel, counted in people: ${what} Everyone counts once, in the period of their first screening, and only once day 90 after it has passed, so every period is one matured cohort and the steps nest (each is a share of the step before). The referral must be for a domain positive at that first screening and made on days 0-30 after it; acceptance, service and need met count up to day 90 after it.`,
    numerator: `People screened who ${num}`,
    denominator: `People screened who ${den} (at least 90 days before the as-of date)`,
    kind: 'proportion', unit: 'proportion of people (0-1)', direction: 'higher_better',
    anchor: 'first screening', ageAt: 'anchor', windows: [30, 90], maturityDays: 90, span: 'screenings', countedUnit: 'person',
    dimensions: ['all', 'program_id', 'county_fips'], snapshot: false, additiveOverTime: true, disparities: false,
    scale: 1, interval: 'wilson',
    sql: { parts: [{ fact: 'fct_funnel_people', numerator: `funnel_${stage}`, denominator: `funnel_${k === 0 ? 'screened' : FUNNEL_STEPS[k - 1]![0]}` }] },
  })),
  // ---------------------------------------------------------------- Service gaps
  {
    id: 'positive_needs',
    group: 'service_gaps',
    title: 'Positive needs',
    definition: 'Number of positive needs (positive screening rows: screening x domain) screened in the period.',
    numerator: 'Positive screening rows in the period',
    denominator: 'None (a count)',
    kind: 'count', unit: 'positive needs', direction: 'lower_better',
    anchor: 'screened_on', ageAt: 'anchor', windows: [], maturityDays: 0, span: 'screenings', countedUnit: 'positive_need',
    dimensions: SERVICE_GAP('positive_need'), snapshot: false, additiveOverTime: true,
    scale: 1, interval: 'none',
    sql: { parts: [{ fact: 'fct_positive_needs', numerator: 'positive_need' }] },
  },
  {
    id: 'unmet_need_rate',
    group: 'service_gaps',
    title: 'Unmet need rate',
    definition:
      'Share of positive needs not met within 90 days: no referral of the same person for the same domain made on or after the screening and closed need_met on or before day 90 after the screening. A fixed window: a need met on day 200 counts as unmet here, whatever the as-of date, so old and recent periods are measured alike. Needs screened less than 90 days before the as-of date are not yet measurable. Lower is better.',
    numerator: 'Positive needs without a same-domain referral closed need_met on days 0-90 after the screening',
    denominator: 'Positive needs screened at least 90 days before the as-of date',
    kind: 'proportion', unit: 'proportion of positive needs (0-1)', direction: 'lower_better',
    anchor: 'screened_on', ageAt: 'anchor', windows: [90], maturityDays: 90, span: 'screenings', countedUnit: 'positive_need',
    dimensions: SERVICE_GAP('positive_need'), snapshot: false, additiveOverTime: true,
    scale: 1, interval: 'wilson',
    sql: { parts: [{ fact: 'fct_positive_needs', numerator: 'unmet_90d_num', denominator: 'unmet_90d_den' }] },
  },
  {
    id: 'capacity_rejection_share',
    group: 'service_gaps',
    title: 'Closed for lack of capacity',
    definition:
      'Share of referrals closed without the need met within 90 days of referral whose outcome is no_capacity. A fixed window, counted once the 90 days have passed: recent periods would otherwise hold only the referrals that closed quickly. Lower is better.',
    numerator: 'Referrals closed with outcome no_capacity within 90 days of referral',
    denominator: 'Referrals made at least 90 days before the as-of date and closed within 90 days with an outcome other than need_met',
    kind: 'proportion', unit: 'proportion of referrals (0-1)', direction: 'lower_better',
    anchor: 'referred_on', ageAt: 'anchor', windows: [90], maturityDays: 90, span: 'referrals', countedUnit: 'referral',
    dimensions: SERVICE_GAP('referral'), snapshot: false, additiveOverTime: true,
    scale: 1, interval: 'wilson',
    sql: { parts: [{ fact: 'fct_referrals', numerator: 'capacity_num', denominator: 'capacity_den' }] },
  },
  {
    id: 'demand_capacity_ratio',
    group: 'service_gaps',
    title: 'Demand to capacity',
    definition:
      'Positive needs in the period divided by the capacity of the directory programs serving that domain in that county: the sum of their monthly_capacity x months in the period (months counted like member-months, clipped to the screening span and the as-of date). Computed per domain x county (the person\'s county) and, summing needs and capacity, per domain, per county and overall. A row exists for every cell with a positive need or a serving program: where a serving program\'s capacity is unknown the denominator and value are empty (note "capacity unknown"); where no program serves it the denominator is 0 and the value empty (note "no provider"); where the serving programs\' capacity is 0 the value is empty (note "zero capacity").',
    numerator: 'Positive needs in the period',
    denominator: 'Sum of monthly_capacity of serving programs x months in the period',
    kind: 'ratio', unit: 'positive needs per capacity-month', direction: 'lower_better',
    anchor: 'screened_on', ageAt: 'anchor', windows: [], maturityDays: 0, span: 'screenings', countedUnit: 'positive_need',
    dimensions: ['all', 'domain', 'county_fips', DOMAIN_COUNTY_CUT], snapshot: false, additiveOverTime: true,
    scale: 1, interval: 'none',
    sql: { rows: 'demand_capacity_ratio' },
  },
  // ---------------------------------------------------------------- Outcomes
  {
    id: 'phq9_follow_up_rate',
    group: 'outcomes',
    title: 'PHQ-9 follow-up',
    definition:
      'Share of PHQ-9 index episodes with a follow-up PHQ-9 120 to 240 days after the index date. ' + DRR_E_EPISODES + ' Mirrors HEDIS DRR-E (depression remission or response); ' + CERT + '; see the fidelity table.',
    numerator: 'Index episodes with a PHQ-9 on days 120-240 after the index date',
    denominator: DRR_E_DENOMINATOR,
    kind: 'proportion', unit: 'proportion of episodes (0-1)', direction: 'higher_better',
    anchor: 'index date', ageAt: 'anchor', windows: [120, 240, 365], maturityDays: 240, span: 'phq9', countedUnit: 'episode',
    dimensions: [...BY_UNIT.episode], snapshot: false, additiveOverTime: true,
    mirrors: 'HEDIS DRR-E', fidelity: DRR_E_FIDELITY, scale: 1, interval: 'wilson',
    sql: { parts: [{ fact: 'fct_phq9_episodes', numerator: 'follow_up_num', denominator: 'episode_den' }] },
  },
  {
    id: 'phq9_response_rate',
    group: 'outcomes',
    title: 'PHQ-9 response',
    definition:
      'Share of index episodes whose last PHQ-9 on days 120-240 (latest assessed_on; ties: the larger assessment_id) is at most 50% of the index score. Episodes without a follow-up stay in the denominator (same as PHQ-9 follow-up). ' + DRR_E_EPISODES + ' Mirrors HEDIS DRR-E; ' + CERT + '; see the fidelity table.',
    numerator: 'Index episodes whose last follow-up score is <= 50% of the index score',
    denominator: DRR_E_DENOMINATOR,
    kind: 'proportion', unit: 'proportion of episodes (0-1)', direction: 'higher_better',
    anchor: 'index date', ageAt: 'anchor', windows: [120, 240, 365], maturityDays: 240, span: 'phq9', countedUnit: 'episode',
    dimensions: [...BY_UNIT.episode], snapshot: false, additiveOverTime: true,
    mirrors: 'HEDIS DRR-E', fidelity: DRR_E_FIDELITY, scale: 1, interval: 'wilson',
    sql: { parts: [{ fact: 'fct_phq9_episodes', numerator: 'response_num', denominator: 'episode_den' }] },
  },
  {
    id: 'phq9_remission_rate',
    group: 'outcomes',
    title: 'PHQ-9 remission',
    definition:
      'Share of index episodes whose last PHQ-9 on days 120-240 is below 5. Episodes without a follow-up stay in the denominator. ' + DRR_E_EPISODES + ' Mirrors HEDIS DRR-E; ' + CERT + '; see the fidelity table.',
    numerator: 'Index episodes whose last follow-up score is < 5',
    denominator: DRR_E_DENOMINATOR,
    kind: 'proportion', unit: 'proportion of episodes (0-1)', direction: 'higher_better',
    anchor: 'index date', ageAt: 'anchor', windows: [120, 240, 365], maturityDays: 240, span: 'phq9', countedUnit: 'episode',
    dimensions: [...BY_UNIT.episode], snapshot: false, additiveOverTime: true,
    mirrors: 'HEDIS DRR-E', fidelity: DRR_E_FIDELITY, scale: 1, interval: 'wilson',
    sql: { parts: [{ fact: 'fct_phq9_episodes', numerator: 'remission_num', denominator: 'episode_den' }] },
  },
  {
    id: 'phq9_mean_change',
    group: 'outcomes',
    title: 'PHQ-9 mean change',
    definition:
      'Mean change in PHQ-9 score (last follow-up on days 120-240 minus index score) over the index episodes of the PHQ-9 response denominator that have a follow-up, with a 95% t interval (empty for a single episode). Negative is improvement. Read it with care: it covers completers only (episodes without a follow-up PHQ-9, often those who dropped out, are not in it), and because episodes are selected on a high score (10 or more), scores tend to fall back toward the mean on retesting even without any effect of care (regression to the mean), so part of the mean change is not improvement. Not a HEDIS measure.',
    numerator: 'None (a mean; the sum of changes is not shown)',
    denominator: 'Index episodes of the PHQ-9 response denominator with a follow-up (cases)',
    kind: 'mean', unit: 'PHQ-9 points', direction: 'lower_better',
    anchor: 'index date', ageAt: 'anchor', windows: [120, 240, 365], maturityDays: 240, span: 'phq9', countedUnit: 'episode',
    dimensions: [...BY_UNIT.episode], snapshot: false, additiveOverTime: true,
    scale: 1, interval: 't',
    sql: { parts: [{ fact: 'fct_phq9_episodes', denominator: 'change_n', sum: 'change', sumSquares: 'change_sq' }] },
  },
  {
    id: 'ed_visits_per_1000_mm',
    group: 'outcomes',
    title: 'ED visits per 1,000 member-months',
    definition:
      'Emergency department encounters starting on a day the person is covered, per 1,000 member-months of coverage in the period (member-months clipped to the utilization span, which starts at the earliest encounter). ' + MEMBER_MONTHS + ' Ages are taken at the period\'s end.',
    numerator: 'ED encounters starting on covered days in the period',
    denominator: 'Member-months of coverage in the period',
    kind: 'rate', unit: 'per 1,000 member-months', direction: 'lower_better',
    anchor: 'start_date', ageAt: 'period_end', windows: [], maturityDays: 0, span: 'encounters', countedUnit: 'member_month',
    dimensions: [...BY_UNIT.member_month], snapshot: false, additiveOverTime: true,
    scale: 1000, interval: 'poisson_exact',
    sql: { parts: [{ fact: 'fct_encounter_events', numerator: 'ed_visits' }, { fact: 'fct_enrollment_spans', denominator: 'member_months' }] },
  },
  {
    id: 'inpatient_admits_per_1000_mm',
    group: 'outcomes',
    title: 'Inpatient admissions per 1,000 member-months',
    definition:
      'Inpatient encounters (admission date on a covered day) per 1,000 member-months of coverage in the period. ' + MEMBER_MONTHS + ' Ages are taken at the period\'s end.',
    numerator: 'Inpatient encounters starting on covered days in the period',
    denominator: 'Member-months of coverage in the period',
    kind: 'rate', unit: 'per 1,000 member-months', direction: 'lower_better',
    anchor: 'start_date', ageAt: 'period_end', windows: [], maturityDays: 0, span: 'encounters', countedUnit: 'member_month',
    dimensions: [...BY_UNIT.member_month], snapshot: false, additiveOverTime: true,
    scale: 1000, interval: 'poisson_exact',
    sql: { parts: [{ fact: 'fct_encounter_events', numerator: 'inpatient_admits' }, { fact: 'fct_enrollment_spans', denominator: 'member_months' }] },
  },
  {
    id: 'paid_pmpm',
    group: 'outcomes',
    title: 'Paid per member per month',
    definition:
      'Sum of paid_amount (empty = 0) over encounters of every type starting on covered days, per member-month of coverage in the period. ' + MEMBER_MONTHS + ' A dollar rate, not a count of events, so no Poisson interval is reported (closeloop\'s choice: dollars per claim are too skewed for an honest interval from these sums alone).',
    numerator: 'Dollars paid for encounters starting on covered days in the period',
    denominator: 'Member-months of coverage in the period',
    kind: 'rate', unit: 'USD per member-month', direction: 'lower_better',
    anchor: 'start_date', ageAt: 'period_end', windows: [], maturityDays: 0, span: 'encounters', countedUnit: 'member_month',
    dimensions: [...BY_UNIT.member_month], snapshot: false, additiveOverTime: true,
    scale: 1, interval: 'none',
    sql: { parts: [{ fact: 'fct_encounter_events', numerator: 'paid' }, { fact: 'fct_enrollment_spans', denominator: 'member_months' }] },
  },
  ...prePost('ed_visits', 'ED visits', 'ed', 'pre'),
  ...prePost('ed_visits', 'ED visits', 'ed', 'post'),
  ...prePost('inpatient', 'Inpatient admissions', 'inpatient', 'pre'),
  ...prePost('inpatient', 'Inpatient admissions', 'inpatient', 'post'),
];

function prePost(idStem: string, what: string, measureStem: string, side: 'pre' | 'post'): Array<z.input<typeof MetricSchema>> {
  const days = side === 'pre' ? 'days -180 to -1' : 'days 1 to 180';
  return [{
    id: `${idStem}_${side}_referral_per_1000_mm`,
    group: 'outcomes',
    title: `${what} per 1,000 member-months, 180 days ${side === 'pre' ? 'before' : 'after'} first referral`,
    definition:
      `${what} starting on ${days} around a person's first referral, per 1,000 member-months of those windows, for people covered on every day of the 180-day windows before and after the first referral (one unbroken run of coverage, whatever the payer), ending by the as-of date. closeloop also requires the pre window to start on or after the earliest encounter (the utilization span), so no window reaches before the encounter extract's coverage. People are placed in the period of their first referral, under the payer and program of that day (the windows are not split between payers); ages are taken at the period's end. The pre/post summary adds the post/pre rate ratio with its 95% interval, and no p-value. The change from before to after is not an effect of the referral: people are referred after a crisis, when their use is unusually high, so it tends to fall back anyway (regression to the mean), and use changes over time for everyone (secular trend). Without a comparison group neither can be separated from the referral's effect.`,
    numerator: `${what} on ${days} around the first referral`,
    denominator: `Member-months of the ${side}-referral windows`,
    kind: 'rate', unit: 'per 1,000 member-months', direction: 'lower_better',
    anchor: 'first referral date', ageAt: 'period_end', windows: [180], maturityDays: 180, span: 'encounters', countedUnit: 'member_month',
    dimensions: [...BY_UNIT.member_month], snapshot: false, additiveOverTime: true, wholeWindowDays: 180,
    scale: 1000, interval: 'poisson_exact',
    sql: { parts: [{ fact: 'fct_prepost', numerator: `${measureStem}_${side}`, denominator: `${side}_member_months` }] },
  }];
}

export const METRICS: readonly Metric[] = Object.freeze(z.array(MetricSchema).parse(entries));

{
  const ids = new Set<string>();
  for (const m of METRICS) {
    if (ids.has(m.id)) throw new Error(`metric ${m.id} declared twice`);
    ids.add(m.id);
  }
}

export function metricById(id: string): Metric {
  const m = METRICS.find((x) => x.id === id);
  if (!m) throw new Error(`unknown metric ${id}; known: ${METRICS.map((x) => x.id).join(', ')}`);
  return m;
}

/**
 * Whether months add up to quarters and years for this metric in this dimension
 * (disclosure relation (c)). Where ages are taken at the period's end, a person's age
 * band can differ between a month and its quarter, so cuts by age_band are not additive
 * even when the metric is.
 */
export function isAdditiveOverTime(metric: Metric, dimension: string): boolean {
  if (!metric.additiveOverTime) return false;
  return !(metric.ageAt === 'period_end' && dimensionParts(dimension).includes('age_band'));
}

/**
 * Whether the groups of a one-way cut add up to the metric's `all` row (disclosure
 * relations (a) and (b)): each counted unit falls in exactly one group, so the groups'
 * numerators and denominators sum to the `all` row's. The one place disclosure control
 * (models/disclosure/metricMeta.ts) learns this.
 *
 * Population dimensions: true, payer and program_id included although they change over
 * time, because every metric places each unit under one payer and one program: an event-
 * anchored unit under its coverage on its date; a person counted in a period under their
 * last enrolled day in it; person-time day by day (a person who changed payer mid-quarter
 * is in two payer groups of that quarter, each with the member-months and events of their
 * own days, which still add up to the `all` row exactly). domain and target_org_id: only
 * when the unit is a referral, a positive need or a person in one domain (a person can
 * have needs in several domains, and referrals to several organizations).
 */
export function groupsSumToAll(metric: Metric, dimension: string): boolean {
  const parts = dimensionParts(dimension);
  if (parts.length !== 1 || !metric.dimensions.includes(dimension)) return false;
  if (isPopulationDimension(dimension)) return true;
  if (dimension === 'domain' && metric.countedUnit === 'person_domain') return true;
  return metric.countedUnit === 'referral' || metric.countedUnit === 'positive_need';
}

function list(xs: readonly (string | number)[]): string {
  return xs.length === 0 ? 'none' : xs.join(', ');
}

/**
 * How to read every figure (issue 15): maturity, reliability, changes, reference groups,
 * the flag and the summary measures. The dictionary (markdown and page) and the README say
 * the same, from here.
 */
export const READING_GUIDE: ReadonlyArray<{ heading: string; text: string }> = [
  {
    heading: 'Final, provisional and partial periods',
    text: 'Most figures count what happened within a fixed window after each unit\'s anchor date: a referral is closed within 60 days or not, a need met within 90 days or not. A period\'s figure is final once every unit in it has had its whole window: the period\'s last day plus the metric\'s longest window ("final after" below) is on or before the as-of date. Until then it is provisional: units whose window is still open are left out, so the figure can still change, and it is drawn as a hollow point labelled "provisional". A period that began before the metric\'s data do (the first months of an extract) is partial and drawn as an open square. Headline figures, "latest" values and changes use the latest final period only; provisional and partial periods are never compared with final ones. The results table says which in period_status.',
  },
  {
    heading: 'Reliability',
    text: 'A figure is unreliable (column unreliable, drawn hatched) when its relative standard error is above 30% or it rests on fewer than 20 events: the National Center for Health Statistics standard. The relative standard error is sqrt((1 - p) / (n p)) for a proportion p of n, 1 / sqrt(x) for a rate of x events or a count, the standard error over the estimate for a cumulative incidence or a mean, and half the 95% interval over 1.96 x the median for a median. Dollar rates (paid per member per month) and demand/capacity ratios are not rated. Unreliable is not withheld: withheld ("n<11", suppressed) protects privacy; unreliable warns about precision; a missing figure, such as a median that is not reached, is a third state and says so.',
  },
  {
    heading: 'Changes between periods',
    text: 'A change from the previous final period is called better or worse only when it is statistically significant at 0.05: the two-proportion test for proportions (Fisher\'s exact test when a count is small), the exact test of the rate ratio for rates. Otherwise it is "no significant change", and a change of exactly zero is "no change". Medians and means are not tested and carry no direction. The monthly control charts (Laney p\' and u\') show months that stand out from ordinary month-to-month variation: a month beyond the 3-sigma limits, or 8 months in a row on one side of the centre line.',
  },
  {
    heading: 'Reference groups',
    text: 'Each group is compared with one reference group per dimension, the same in every period and grain. Where a dimension has a conventional reference, it is the one AHRQ\'s National Healthcare Quality and Disparities Report uses: race and ethnicity white, payer commercial, preferred language en, limited English no, rurality urban (race and ethnicity x payer: white x commercial). For the others (sex, age band, county, ZIP3, attributed program, partner organization) it is the group with the most favourable rate over the whole span among groups with at least 30 in the denominator; when none has 30, no group is compared (a reference chosen by size would tell which withheld groups are smaller than it). unknown is never the reference and is left out of the summary measures; its share of the population is reported as data completeness (unknown_share). closeloop.config.json can name other references (referenceGroups).',
  },
  {
    heading: 'The disparity flag',
    text: 'disparity_flag is set when a group is at least 10% worse than the reference on the adverse scale (AHRQ\'s rule: the adverse rate is 1 - rate where higher is better, the rate itself otherwise), the difference is significant (p < 0.05), and it stays significant after the Benjamini-Hochberg correction over the comparisons of the same metric and period (q < 0.05): with thousands of comparisons, p < 0.05 alone flags many differences that are chance. disparity_flag_unadjusted keeps AHRQ\'s rule alone. The dashboards draw the adjusted flag.',
  },
  {
    heading: 'Summary measures of disparity',
    text: 'Computed over the groups shown (withheld groups and unknown left out), on the adverse scale (Keppel and Pearcy 2005), so they measure the same thing as the flag. Index of disparity: the average absolute difference of the other groups from the reference, as a percentage of the reference. Between-group variance: the population-weighted variance of the group rates, less the part sampling noise alone would give (sum of p_j (1 - p_j) v_j, where v_j is a group\'s sampling variance), floored at 0; empty for dollar rates. Maximal rate difference and ratio: the highest group over the lowest.',
  },
  {
    heading: 'What is published, and what is withheld',
    text: 'No count of people or events from 1 to 10 is shown or can be derived from what is shown (models/disclosure/README.md). Published: everyone at every grain; each group dimension for the whole span, years and quarters (counties and programs for the span and years; organisations, ZIP3 and two-way cuts for the whole span only; PHQ-9 and funnel cuts for the span and years), each with every group listed, a group with nobody in it as zero. A cell is withheld ("n<11") for its own small counts or to keep another cell\'s from being worked out; a cut that would show fewer than two groups in most periods, or whose small counts withholding cannot protect, is not published at all (the run lists these, and asking for one says why). A withheld figure is not zero and not missing data.',
  },
  {
    heading: 'Before and after the first referral',
    text: 'The change in emergency visits and admissions from the 180 days before a person\'s first referral to the 180 days after is not an effect of the referral: people are referred after a crisis, when their use is unusually high, so it tends to fall back anyway (regression to the mean), and use changes over time for everyone (secular trend). Without a comparison group neither can be told apart from an effect, so no p-value is shown.',
  },
  {
    heading: 'The evaluation: an effect against a comparison group',
    text: 'The Evaluation page compares the change in emergency visits and admissions of people after their first referral with the change, over the same months, of people who screened positive and were not yet referred (a difference in differences, month by month from 6 months before to 12 after, with the months just before the referral left out of the baseline because referrals follow crises). A flat pre-period supports the comparison; it cannot rule out differences the data do not record. The design, its assumptions and its limits are in models/evaluation/README.md.',
  },
];

/** The metric dictionary as markdown (README, `closeloop metrics`, dashboards). */
export function metricDictionaryMarkdown(): string {
  const out: string[] = [
    '# Metric dictionary',
    '',
    'Every figure closeloop publishes comes from one of these definitions. Definitions that mirror a published measure (HEDIS, CMS) follow its windows and thresholds but are closeloop\'s own implementation, not certified by NCQA or CMS.',
    '',
    'Common rules: nothing after the as-of date counts (a later milestone is treated as not yet happened); windows count days from the anchor (day 0 = the anchor day) and are inclusive; a unit whose window has not ended by the as-of date is left out of the denominator ("not yet measurable"), never counted as a failure. Proportions carry a 95% Wilson interval, rates per member-month a 95% exact Poisson interval, durations a Kaplan-Meier median with its 95% Brookmeyer-Crowley (log-log) interval (days to service: an Aalen-Johansen cumulative incidence), means a 95% t interval. Each metric is computed for its whole span (from the earliest date of the entity it counts to the as-of date) and for the calendar years, quarters and months overlapping it.',
    '',
    '## How to read the figures',
    '',
    ...READING_GUIDE.flatMap((g) => [`**${g.heading}.** ${g.text}`, '']),
  ];
  for (const group of METRIC_GROUPS) {
    out.push(`## ${GROUP_TITLES[group]}`, '');
    for (const m of METRICS.filter((x) => x.group === group)) {
      out.push(
        `### ${m.title} (\`${m.id}\`)`,
        '',
        m.definition,
        '',
        `- **Numerator:** ${m.numerator}`,
        `- **Denominator:** ${m.denominator}`,
        `- **Kind / unit:** ${m.kind}, ${m.unit}`,
        `- **Direction:** ${m.direction === 'higher_better' ? 'higher is better' : 'lower is better'}`,
        `- **Anchor:** ${m.anchor}${m.snapshot ? ' (snapshot: whole span only)' : ''}; ages at the ${m.ageAt === 'period_end' ? 'period\'s end' : m.ageAt === 'as_of' ? 'as-of date' : 'anchor date'}`,
        `- **Windows (days):** ${list(m.windows)}`,
        `- **Final after:** ${m.snapshot ? 'a snapshot at the as-of date' : m.maturityDays === 0 ? 'the period\'s end' : `${m.maturityDays} days after the period\'s end`}`,
        `- **Dimensions:** ${list(m.dimensions)}`,
      );
      if (m.mirrors) out.push(`- **Mirrors:** ${m.mirrors} (closeloop's own implementation, not certified; see Fidelity below)`);
      out.push('');
    }
  }
  out.push(...fidelityTableMarkdown());
  return out.join('\n');
}

const cell = (text: string) => text.replaceAll('|', '\\|');

/**
 * The fidelity table: for every metric that mirrors a published measure, what matches the
 * measure's specification and every difference, with the reason. One row per difference;
 * a metric's first row names the measure and what matches.
 */
export function fidelityTableMarkdown(): string[] {
  const out = [
    '## Fidelity to the measures mirrored',
    '',
    'Each metric below follows a published measure as far as the extracts allow. Every difference from the measure\'s specification is listed, with the reason. They are not certified by NCQA or CMS.',
    '',
    '| metric | measure | what matches | what differs | why |',
    '|---|---|---|---|---|',
  ];
  // metrics mirroring one measure the same way (the three DRR-E rates) share their rows
  const byMeasure = new Map<string, { ids: string[]; fidelity: Fidelity }>();
  for (const m of METRICS) {
    if (!m.fidelity) continue;
    const key = JSON.stringify(m.fidelity);
    const entry = byMeasure.get(key) ?? { ids: [], fidelity: m.fidelity };
    entry.ids.push(`\`${m.id}\``);
    byMeasure.set(key, entry);
  }
  for (const { ids, fidelity: f } of byMeasure.values()) {
    const rows = f.differs.length ? f.differs : [{ what: 'nothing', why: '' }];
    rows.forEach((d, i) => {
      const first = i === 0;
      out.push(`| ${first ? ids.join(', ') : ''} | ${first ? cell(f.measure) : ''} | ${first ? cell(f.matches.join('; ')) : ''} | ${cell(d.what)} | ${cell(d.why)} |`);
    });
  }
  out.push('');
  return out;
}

/** The facts the catalog uses (each built once per run). */
export function factsInUse(): string[] {
  const ids = new Set<string>();
  for (const m of METRICS) if ('parts' in m.sql) for (const p of m.sql.parts) ids.add(factById(p.fact).id);
  return [...ids];
}
