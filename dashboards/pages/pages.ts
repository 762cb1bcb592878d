// The dashboard pages as data: which filters each offers (kept in the URL), and which
// charts and tables it shows. The layout (layout.ts) turns a page into an HTML shell; the
// client (public/js) fills it from the API. No inline script or style anywhere, so the
// pages run under a strict Content-Security-Policy.

import { EVALUATION_LIMITS } from '../../models/evaluation/limits.ts';

export type FilterId = 'grain' | 'from' | 'to' | 'dimension' | 'program' | 'county' | 'domain' | 'metric' | 'period_start' | 'scale' | 'org';

export interface FilterDef {
  id: FilterId;
  label: string;
  /** Where the options come from (see public/js/filters.js). */
  options: 'grains' | 'grains_all' | 'periods' | 'dimensions' | 'population_dimensions' | 'programs' | 'counties' | 'domains' | 'metrics_comparable' | 'scales' | 'orgs';
  /** Value when the URL does not say; empty = none (everyone). */
  default?: string;
  /** Offer an "any" choice (no filter). */
  any?: string;
}

export type Block =
  | {
      kind: 'chart';
      chart: string;
      /** Fixed parameters of this chart. */
      fixed?: Record<string, string>;
      /** Page filters passed on to the chart. */
      uses?: FilterId[];
      /** Metric id whose definition the caption links to. */
      definition?: string;
      wide?: boolean;
      /** Operational counts are shown, never exported (issue 14): no download links. */
      noDownloads?: boolean;
    }
  | { kind: 'tiles'; uses: FilterId[] }
  /** The overview's story: where the loop closes and not, the largest disparity, the biggest gap (issue 16). */
  | { kind: 'story' }
  /** A partner's own figures, gaps and downloads, shown on the overview to a partner only (issue 16). */
  | { kind: 'partner-home' }
  | { kind: 'table'; source: 'gaps' | 'runs' | 'load-report' | 'quality-checks' | 'disparity-summary'; uses?: FilterId[]; heading: string; intro?: string; limit?: number }
  | { kind: 'partner' }
  | { kind: 'dictionary' }
  | { kind: 'print' }
  | { kind: 'notes'; heading: string; items: readonly string[] }
  | { kind: 'section'; heading: string; intro?: string; blocks: Block[] };

export interface PageDef {
  id: string;
  path: string;
  title: string;
  nav: string;
  lede: string;
  filters: FilterDef[];
  blocks: Block[];
  /** Shown in the navigation (the print report is linked from the overview instead). */
  inNav: boolean;
  audience?: string;
}

const GRAIN: FilterDef = { id: 'grain', label: 'Period', options: 'grains', default: 'quarter' };
const FROM: FilterDef = { id: 'from', label: 'From', options: 'periods', any: 'first period' };
const TO: FilterDef = { id: 'to', label: 'To', options: 'periods', any: 'latest period' };
const DIMENSION: FilterDef = { id: 'dimension', label: 'Compare groups by', options: 'population_dimensions', any: 'no comparison' };
const PROGRAM: FilterDef = { id: 'program', label: 'Attributed program', options: 'programs', any: 'all programs' };
const COUNTY: FilterDef = { id: 'county', label: 'County', options: 'counties', any: 'all counties' };
const DOMAIN: FilterDef = { id: 'domain', label: 'Need domain', options: 'domains', any: 'all domains' };

const TREND: FilterId[] = ['grain', 'from', 'to', 'dimension', 'program', 'county', 'domain'];
const trend = (metric: string, uses: FilterId[] = TREND): Block => ({ kind: 'chart', chart: 'trend', fixed: { metric }, uses, definition: metric });
/** Monthly Laney p' / u' chart (issue 15): a special cause stands out from month-to-month noise. */
const spc = (metric: string, uses: FilterId[] = ['program', 'county', 'domain']): Block => ({ kind: 'chart', chart: 'spc', fixed: { metric }, uses, definition: metric });
const SPC_INTRO = 'Month by month against control limits (Laney p\' and u\' charts): a month beyond the dashed limits, or 8 months in a row on one side of the centre line, is a change worth explaining; anything else is the noise months always show. Only final months set the limits and are tested.';

export const PAGES: PageDef[] = [
  {
    id: 'overview',
    path: '/',
    title: 'Overview',
    nav: 'Overview',
    lede: 'Where access, loop closure and outcomes stand: the latest final period of each headline measure (one whose outcome windows have all passed), whether it changed significantly from the one before, and its trend with the newer, provisional periods drawn hollow.',
    filters: [GRAIN, FROM, TO, PROGRAM, COUNTY],
    inNav: true,
    blocks: [
      { kind: 'partner-home' },
      { kind: 'story' },
      { kind: 'tiles', uses: ['grain', 'from', 'to', 'program', 'county'] },
      {
        kind: 'section',
        heading: 'Connection and loop closure',
        blocks: [trend('connected_60d_rate', ['grain', 'from', 'to', 'program', 'county']), trend('closed_loop_rate', ['grain', 'from', 'to', 'program', 'county'])],
      },
    ],
  },
  {
    id: 'access',
    path: '/access',
    title: 'Access',
    nav: 'Access',
    lede: 'Who is screened for social needs, who screens positive, and how quickly positive needs turn into referrals and connections.',
    filters: [GRAIN, FROM, TO, DIMENSION, PROGRAM, COUNTY, DOMAIN],
    inNav: true,
    blocks: [
      {
        kind: 'section',
        heading: 'Screening',
        blocks: [trend('screening_rate'), trend('screen_positive_rate')],
      },
      {
        kind: 'section',
        heading: 'From positive screen to help',
        blocks: [trend('need_referral_rate'), trend('connected_60d_rate'), trend('enrollment_after_referral_rate'), { kind: 'chart', chart: 'km', fixed: { metric: 'days_to_referral' }, definition: 'days_to_referral' }],
      },
      {
        kind: 'section',
        heading: 'From referral to service',
        intro: 'Shares of referrals served by day 30, 60 and 90, counting a referral closed without a service as never served (not as if it might still be).',
        blocks: [trend('share_served_30d'), trend('share_served_90d')],
      },
      { kind: 'section', heading: 'Month by month', intro: SPC_INTRO, blocks: [spc('need_referral_rate')] },
    ],
  },
  {
    id: 'closed-loop',
    path: '/closed-loop',
    title: 'Closed loop',
    nav: 'Closed loop',
    lede: 'Whether referrals are accepted, served and closed with an outcome, how long that takes, and how each partner organization is doing.',
    filters: [GRAIN, FROM, TO, DIMENSION, PROGRAM, COUNTY, DOMAIN],
    inNav: true,
    blocks: [
      { kind: 'chart', chart: 'funnel', uses: ['program', 'county'], wide: true, definition: 'funnel_positive_share' },
      {
        kind: 'section',
        heading: 'Trends',
        blocks: [trend('referral_acceptance_rate'), trend('closed_loop_rate'), trend('need_met_rate'), trend('days_to_close')],
      },
      {
        kind: 'section',
        heading: 'Time to close',
        intro: 'Kaplan-Meier estimates count referrals still open as open, so the medians are not biased towards the quick ones.',
        blocks: [
          { kind: 'chart', chart: 'km', fixed: { metric: 'days_to_close', dimension: 'all' }, definition: 'days_to_close' },
          { kind: 'chart', chart: 'km', fixed: { metric: 'days_to_close', dimension: 'target_org_id' }, definition: 'days_to_close' },
        ],
      },
      { kind: 'section', heading: 'Month by month', intro: SPC_INTRO, blocks: [spc('referral_acceptance_rate'), spc('closed_loop_rate')] },
      {
        kind: 'section',
        heading: 'Partner scorecards',
        intro: 'Acceptance, closed loop and median days to close over the whole span; stale open referrals at the as-of date.',
        blocks: [{ kind: 'chart', chart: 'scorecard', wide: true, definition: 'referral_acceptance_rate' }],
      },
    ],
  },
  {
    id: 'service-gaps',
    path: '/service-gaps',
    title: 'Service gaps',
    nav: 'Service gaps',
    lede: 'Where positive needs go unmet, by need domain and county, against the capacity of the programs in the service directory.',
    filters: [DOMAIN, COUNTY],
    inNav: true,
    blocks: [
      { kind: 'chart', chart: 'gap-heatmap', uses: ['domain', 'county'], wide: true, definition: 'unmet_need_rate' },
      { kind: 'chart', chart: 'gap-map', uses: ['domain'], wide: true, definition: 'unmet_need_rate' },
      { kind: 'chart', chart: 'demand-capacity', uses: ['domain', 'county'], wide: true, definition: 'demand_capacity_ratio' },
      { kind: 'table', source: 'gaps', uses: ['domain', 'county'], heading: 'Gap table', intro: 'Domain x county cells ranked by unmet positive needs (needs whose 90-day window has passed minus those met), then by unmet need rate.' },
      { kind: 'partner' },
    ],
  },
  {
    id: 'outcomes',
    path: '/outcomes',
    title: 'Outcomes',
    nav: 'Outcomes',
    lede: 'Depression outcomes (PHQ-9) and health-care use: emergency visits and admissions per 1,000 member-months, and before and after the first referral.',
    filters: [GRAIN, FROM, TO, { ...DIMENSION }, PROGRAM, COUNTY],
    inNav: true,
    blocks: [
      {
        kind: 'section',
        heading: 'Depression (PHQ-9)',
        blocks: [{ kind: 'chart', chart: 'phq9', uses: ['dimension'], definition: 'phq9_follow_up_rate' }, trend('phq9_remission_rate', ['grain', 'from', 'to', 'dimension', 'program', 'county'])],
      },
      {
        kind: 'section',
        heading: 'Utilization',
        blocks: [
          trend('ed_visits_per_1000_mm', ['grain', 'from', 'to', 'dimension', 'program', 'county']),
          trend('inpatient_admits_per_1000_mm', ['grain', 'from', 'to', 'dimension', 'program', 'county']),
          { kind: 'chart', chart: 'prepost', uses: ['dimension'], wide: true, definition: 'ed_visits_pre_referral_per_1000_mm' },
        ],
      },
      { kind: 'section', heading: 'Month by month', intro: SPC_INTRO, blocks: [spc('ed_visits_per_1000_mm', ['program', 'county'])] },
    ],
  },
  {
    id: 'evaluation',
    path: '/evaluation',
    title: 'Evaluation',
    nav: 'Evaluation',
    lede: 'Did a first referral change emergency visits, admissions and PHQ-9 scores? Referred people against people who screened positive and were not yet referred, month by month around the referral, with the baseline months before it. Choose a need domain to compare first referrals in that domain with people who screened positive in it.',
    filters: [DOMAIN],
    inNav: true,
    blocks: [
      { kind: 'chart', chart: 'event-study', fixed: { outcome: 'ed_visits' }, uses: ['domain'], wide: true },
      { kind: 'chart', chart: 'evaluation-effect', uses: ['domain'], wide: true },
      { kind: 'chart', chart: 'event-study', fixed: { outcome: 'inpatient_admits' }, uses: ['domain'], wide: true },
      { kind: 'chart', chart: 'evaluation-balance', uses: ['domain'], wide: true },
      { kind: 'chart', chart: 'evaluation-phq9', uses: ['domain'], wide: true },
      { kind: 'chart', chart: 'evaluation-phq9-balance', uses: ['domain'], wide: true },
      { kind: 'notes', heading: 'What this can and cannot show', items: EVALUATION_LIMITS },
    ],
  },
  {
    id: 'disparities',
    path: '/disparities',
    title: 'Disparities',
    nav: 'Disparities',
    lede: 'Pick a measure and a way of grouping people: each group against the reference group, with 95% intervals, flagged where the AHRQ rule says the difference matters.',
    filters: [
      { id: 'metric', label: 'Measure', options: 'metrics_comparable', default: 'closed_loop_rate' },
      { id: 'dimension', label: 'Groups', options: 'population_dimensions', default: 'race_ethnicity' },
      { id: 'grain', label: 'Period', options: 'grains_all', default: 'all' },
      { id: 'period_start', label: 'Period starting', options: 'periods', any: 'latest' },
      { id: 'scale', label: 'Compare as', options: 'scales', default: 'ratio' },
    ],
    inNav: true,
    blocks: [
      { kind: 'chart', chart: 'forest', uses: ['metric', 'dimension', 'grain', 'period_start', 'scale'], wide: true },
      { kind: 'table', source: 'disparity-summary', uses: ['metric', 'dimension', 'grain', 'period_start'], heading: 'Summary measures', intro: 'Over the groups shown (withheld groups left out), as in NCI HD*Calc and Healthy People 2030.' },
    ],
  },
  {
    id: 'data-quality',
    path: '/data-quality',
    title: 'Data quality and runs',
    nav: 'Data quality',
    lede: 'Pipeline runs, rows loaded and quarantined per file with the top reasons, the quality gates of each run, and how fresh each extract is. Operational counts for administrators and evaluators; never exported.',
    filters: [],
    inNav: true,
    audience: 'Administrators and evaluators',
    blocks: [
      { kind: 'table', source: 'runs', heading: 'Run history', intro: 'Newest first. Every run is listed, including failed ones; the server keeps serving the last published run while a new one is under way.', limit: 25 },
      { kind: 'chart', chart: 'quarantine', wide: true, noDownloads: true },
      { kind: 'table', source: 'load-report', heading: 'Files of the published run' },
      { kind: 'table', source: 'quality-checks', heading: 'Quality gates of the published run', intro: 'The checks a pipeline run makes before it publishes (qualityGates in closeloop.config.json): a blocking gate that fails stops the publish; a warning is published with the run. The run history above gives every run\'s counts.' },
      { kind: 'chart', chart: 'freshness', noDownloads: true },
    ],
  },
  {
    id: 'dictionary',
    path: '/dictionary',
    title: 'Metric dictionary',
    nav: 'Dictionary',
    lede: 'Every definition, numerator and denominator behind the figures. Measures that mirror HEDIS or CMS measures are closeloop\'s own implementation, not certified.',
    filters: [],
    inNav: true,
    blocks: [{ kind: 'dictionary' }],
  },
  {
    id: 'report',
    path: '/report',
    title: 'Report',
    nav: 'Print report',
    lede: 'The headline charts and tables for the chosen periods, laid out for printing or saving as PDF from the browser.',
    filters: [GRAIN, FROM, TO, PROGRAM],
    inNav: true,
    blocks: [
      { kind: 'print' },
      { kind: 'tiles', uses: ['grain', 'from', 'to', 'program'] },
      {
        kind: 'section',
        heading: 'Trends',
        blocks: ['screening_rate', 'connected_60d_rate', 'closed_loop_rate', 'need_met_rate', 'phq9_remission_rate', 'ed_visits_per_1000_mm'].map((m) => trend(m, ['grain', 'from', 'to', 'program'])),
      },
      { kind: 'chart', chart: 'funnel', uses: ['program'], wide: true, definition: 'funnel_positive_share' },
      { kind: 'chart', chart: 'phq9', wide: true, definition: 'phq9_follow_up_rate' },
      { kind: 'table', source: 'gaps', heading: 'Largest service gaps', limit: 10 },
    ],
  },
];

export function pageByPath(path: string): PageDef | undefined {
  return PAGES.find((p) => p.path === path);
}
