// A small published generation built in the test itself: the tables the server reads
// (run_info, load_report, quality_checks, entity_freshness, metric_results, km_curves, gap_table,
// service_directory, prepost_summary, disparity_summary), already suppressed, with a
// pointer and run history, in a throw-away store folder. Figures come from a seeded
// generator so charts look like real data; a few rows are written by hand so tests can
// name them (a suppressed group, a formula-looking group value, a "no provider" cell).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { METRICS, type Metric } from '../../models/metrics/catalog.ts';
import { openDatabase } from '../../models/duckdb.ts';
import { RESULT_COLUMNS } from '../../models/results.ts';
import { storePaths, writePointer } from '../../pipelines/store.ts';

export type FixtureRow = Record<string, string | number | boolean | null | undefined>;

export interface FixtureOptions {
  runId?: string;
  asOf?: string;
  /** Leave these tables out (to test the "not available in this run" states). */
  omit?: string[];
  /** Added to every generated value of proportions (to tell two generations apart). */
  shift?: number;
  /** Rows appended to metric_results as they are. */
  extraResults?: FixtureRow[];
  /** Rows of partner_withheld (organisation, metric, domain or null for the whole metric). */
  partnerWithheld?: Array<[string, string, string | null]>;
}

export interface PublishedFixture {
  root: string;
  runId: string;
  asOf: string;
  /** Publish another generation into the same store and switch the pointer to it. */
  publish(opts?: FixtureOptions): Promise<{ runId: string; file: string }>;
  cleanup(): void;
}

export const FIXTURE = {
  races: ['white', 'black', 'hispanic_latino', 'asian', 'american_indian_alaska_native', 'unknown'],
  payers: ['medicaid', 'medicare', 'dual', 'commercial', 'unknown'],
  programs: ['ACO-01', 'ACO-02', 'ACO-03'],
  counties: ['37119', '37183', '37063', '37155', '37083', '37173'],
  orgs: [
    { id: 'ORG-01', name: 'Carolina Harvest Food Network' },
    { id: 'ORG-04', name: 'Homes First NC, Inc.' },
    { id: 'ORG-07', name: 'Piedmont RideConnect' },
    { id: 'ORG-09', name: 'EnergyAssist NC' },
    { id: 'ORG-10', name: '=SafeHaven Alliance' },
  ],
  domains: ['food', 'housing_instability', 'transportation', 'utilities', 'interpersonal_safety', 'employment'],
  ageBands: ['18-25', '26-44', '45-64', '65+'],
  /** A group that is always suppressed (primary suppression: a tiny denominator). */
  suppressedGroup: { dimension: 'race_ethnicity', group: 'american_indian_alaska_native' },
  /** The domain x county cell no program serves. */
  noProvider: { domain: 'employment', county: '37173' },
  /** A partner whose median days to close is not reached over the whole span (issue 15: its scorecard row must stay its own). */
  medianNotReached: { metric: 'days_to_close', org: 'ORG-04' },
} as const;

/** Which org serves which domain, and where (the service directory). */
const DIRECTORY: Array<{ org: string; program: string; name: string; domain: string; counties: readonly string[]; capacity: number | null }> = [
  { org: 'ORG-01', program: 'SVC-0101', name: 'Community Food Pantry Network', domain: 'food', counties: FIXTURE.counties, capacity: 120 },
  { org: 'ORG-04', program: 'SVC-0401', name: 'Rapid Rehousing', domain: 'housing_instability', counties: ['37119', '37183', '37063'], capacity: 25 },
  { org: 'ORG-07', program: 'SVC-0701', name: 'Rides to Care', domain: 'transportation', counties: ['37119', '37183', '37063', '37155'], capacity: 60 },
  { org: 'ORG-09', program: 'SVC-0901', name: 'Utility Bill Assistance', domain: 'utilities', counties: FIXTURE.counties, capacity: 40 },
  { org: 'ORG-10', program: 'SVC-1001', name: 'Safety Planning & Shelter', domain: 'interpersonal_safety', counties: FIXTURE.counties, capacity: null },
  { org: 'ORG-09', program: 'SVC-0902', name: 'Job Readiness', domain: 'employment', counties: ['37119', '37183', '37063', '37155', '37083'], capacity: 15 },
];

/** Mulberry32: a tiny seeded generator, so the fixture is the same on every run. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const iso = (d: Date) => d.toISOString().slice(0, 10);
const utc = (y: number, m: number, d = 1) => new Date(Date.UTC(y, m, d));

interface Period {
  grain: string;
  start: string;
  end: string;
  months: number;
}

/** Calendar periods overlapping [from, asOf], as the metric engine makes them. */
export function fixturePeriods(from: string, asOf: string): Period[] {
  const out: Period[] = [];
  const f = new Date(`${from}T00:00:00Z`);
  const a = new Date(`${asOf}T00:00:00Z`);
  const clip = (end: Date) => iso(end > a ? a : end);
  const monthsBetween = (s: Date, e: Date) => (e.getUTCFullYear() - s.getUTCFullYear()) * 12 + e.getUTCMonth() - s.getUTCMonth() + 1;
  out.push({ grain: 'all', start: from, end: asOf, months: monthsBetween(f, a) });
  for (let y = f.getUTCFullYear(); y <= a.getUTCFullYear(); y++) {
    const s = utc(y, 0);
    out.push({ grain: 'year', start: iso(s), end: clip(utc(y, 11, 31)), months: Math.min(12, monthsBetween(s > f ? s : f, utc(y, 11, 31) > a ? a : utc(y, 11, 31))) });
  }
  for (let d = utc(f.getUTCFullYear(), Math.floor(f.getUTCMonth() / 3) * 3); d <= a; d = utc(d.getUTCFullYear(), d.getUTCMonth() + 3)) {
    const e = utc(d.getUTCFullYear(), d.getUTCMonth() + 3, 0);
    out.push({ grain: 'quarter', start: iso(d), end: clip(e), months: Math.min(3, monthsBetween(d > f ? d : f, e > a ? a : e)) });
  }
  for (let d = utc(f.getUTCFullYear(), f.getUTCMonth()); d <= a; d = utc(d.getUTCFullYear(), d.getUTCMonth() + 1)) {
    out.push({ grain: 'month', start: iso(d), end: clip(utc(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)), months: 1 });
  }
  return out;
}

/** Groups of a dimension in the fixture (only dimensions the fixture publishes). */
function groupsOf(dimension: string): string[] | null {
  switch (dimension) {
    case 'all': return ['all'];
    case 'race_ethnicity': return [...FIXTURE.races];
    case 'payer': return [...FIXTURE.payers];
    case 'program_id': return [...FIXTURE.programs];
    case 'county_fips': return [...FIXTURE.counties];
    case 'age_band': return [...FIXTURE.ageBands];
    case 'target_org_id': return FIXTURE.orgs.map((o) => o.id);
    case 'domain': return [...FIXTURE.domains];
    case 'domain*county_fips': return FIXTURE.domains.flatMap((d) => FIXTURE.counties.map((c) => `${d}*${c}`));
    case 'race_ethnicity*payer': return ['white*medicaid', 'white*commercial', 'black*medicaid', 'black*commercial', 'hispanic_latino*medicaid'];
    default: return null;
  }
}

const SHARE: Record<string, number> = {
  all: 1, white: 0.42, black: 0.3, hispanic_latino: 0.16, asian: 0.05, american_indian_alaska_native: 0.002, unknown: 0.068,
  medicaid: 0.5, medicare: 0.2, dual: 0.1, commercial: 0.15, 'ACO-01': 0.45, 'ACO-02': 0.35, 'ACO-03': 0.2,
  '37119': 0.35, '37183': 0.28, '37063': 0.14, '37155': 0.12, '37083': 0.07, '37173': 0.04,
  'ORG-01': 0.35, 'ORG-04': 0.15, 'ORG-07': 0.2, 'ORG-09': 0.2, 'ORG-10': 0.1,
  food: 0.3, housing_instability: 0.2, transportation: 0.2, utilities: 0.15, interpersonal_safety: 0.08, employment: 0.07,
  '18-25': 0.15, '26-44': 0.35, '45-64': 0.35, '65+': 0.15,
};
/** How much worse (adverse) a group does: planted disparities. */
const EFFECT: Record<string, number> = { black: 0.82, hispanic_latino: 0.9, 'ORG-07': 0.45, '37083': 0.75, '37173': 0.8, uninsured: 0.8, dual: 0.92 };

const share = (g: string) => g.split('*').reduce((s, p) => s * (SHARE[p] ?? 0.1), 1);
const effect = (g: string) => g.split('*').reduce((s, p) => s * (EFFECT[p] ?? 1), 1);

/** Base figures per metric: value at the start and its drift per year; volume per month. */
const BASE: Record<string, { v: number; drift: number; volume: number }> = {
  screening_rate: { v: 0.42, drift: 0.08, volume: 2000 },
  screen_positive_rate: { v: 0.31, drift: -0.02, volume: 900 },
  need_referral_rate: { v: 0.58, drift: 0.06, volume: 280 },
  connected_60d_rate: { v: 0.44, drift: 0.07, volume: 200 },
  enrollment_after_referral_rate: { v: 0.27, drift: 0.03, volume: 150 },
  referral_acceptance_rate: { v: 0.71, drift: 0.03, volume: 260 },
  closed_loop_rate: { v: 0.52, drift: 0.08, volume: 240 },
  need_met_rate: { v: 0.61, drift: 0.04, volume: 150 },
  unmet_need_rate: { v: 0.56, drift: -0.05, volume: 280 },
  capacity_rejection_share: { v: 0.3, drift: -0.02, volume: 70 },
  phq9_follow_up_rate: { v: 0.46, drift: 0.05, volume: 60 },
  phq9_response_rate: { v: 0.29, drift: 0.03, volume: 60 },
  phq9_remission_rate: { v: 0.13, drift: 0.02, volume: 60 },
  ed_visits_per_1000_mm: { v: 48, drift: -3, volume: 16000 },
  inpatient_admits_per_1000_mm: { v: 9.5, drift: -0.6, volume: 16000 },
  paid_pmpm: { v: 412, drift: 10, volume: 16000 },
  ed_visits_pre_referral_per_1000_mm: { v: 61, drift: 0, volume: 1800 },
  ed_visits_post_referral_per_1000_mm: { v: 52, drift: 0, volume: 1800 },
  inpatient_pre_referral_per_1000_mm: { v: 12, drift: 0, volume: 1800 },
  inpatient_post_referral_per_1000_mm: { v: 10.5, drift: 0, volume: 1800 },
  days_to_referral: { v: 6, drift: -1, volume: 280 },
  days_to_service: { v: 19, drift: -2, volume: 240 },
  share_served_30d: { v: 0.41, drift: 0.03, volume: 240 },
  share_served_60d: { v: 0.52, drift: 0.03, volume: 240 },
  share_served_90d: { v: 0.57, drift: 0.03, volume: 240 },
  funnel_positive_share: { v: 0.31, drift: 0, volume: 900 },
  funnel_referred_share: { v: 0.55, drift: 0.04, volume: 280 },
  funnel_accepted_share: { v: 0.7, drift: 0.02, volume: 155 },
  funnel_served_share: { v: 0.8, drift: 0.02, volume: 108 },
  funnel_met_share: { v: 0.62, drift: 0.03, volume: 86 },
  days_to_close: { v: 41, drift: -4, volume: 240 },
  stale_open_referrals: { v: 0, drift: 0, volume: 310 },
  positive_needs: { v: 0, drift: 0, volume: 330 },
  phq9_mean_change: { v: -4.1, drift: -0.3, volume: 45 },
  demand_capacity_ratio: { v: 0, drift: 0, volume: 330 },
};

const Z = 1.959963984540054;
function wilson(x: number, n: number): [number, number] {
  const p = x / n;
  const d = 1 + (Z * Z) / n;
  const c = (p + (Z * Z) / (2 * n)) / d;
  const h = (Z * Math.sqrt((p * (1 - p)) / n + (Z * Z) / (4 * n * n))) / d;
  return [Math.max(0, c - h), Math.min(1, c + h)];
}

/** Two-sided p of a z statistic (Abramowitz-Stegun erfc), good enough for a fixture. */
function pOfZ(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const y = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return Math.min(1, y * Math.exp(-x * x));
}

const isCount = (n: number | null) => n !== null && n >= 1 && n <= 10;

/** As the engine: final when calendar end + the metric's maturity <= as-of; partial before the data start (2024-11-01). */
function periodStatus(m: Metric, p: Period, asOf: string): string {
  if (m.snapshot) return 'final';
  if (p.grain !== 'all' && p.start < DATA_START) return 'partial';
  const calendarEnd = p.grain === 'all' ? asOf : lastDayOf(p);
  const end = new Date(`${calendarEnd}T00:00:00Z`);
  end.setUTCDate(end.getUTCDate() + m.maturityDays);
  return iso(end) <= asOf ? 'final' : 'provisional';
}

function lastDayOf(p: Period): string {
  const d = new Date(`${p.start}T00:00:00Z`);
  const months = p.grain === 'month' ? 1 : p.grain === 'quarter' ? 3 : 12;
  return iso(utc(d.getUTCFullYear(), d.getUTCMonth() + months, 0));
}

/** As the engine (NCHS): fewer than 20 events, or a relative standard error above 30%. */
function unreliable(m: Metric, row: FixtureRow): boolean | null {
  if (row.suppressed || row.value === null || m.kind === 'ratio' || (m.kind === 'rate' && m.interval === 'none')) return null;
  if (m.kind === 'mean') return (row.denominator as number) < 20;
  const x = row.numerator as number;
  if (m.kind === 'proportion' || m.kind === 'incidence') {
    const v = row.value as number;
    return x < 20 || v === 0 || Math.sqrt((1 - v) / ((row.denominator as number) * v)) > 0.3;
  }
  return x < 20;
}

const DATA_START = '2024-11-01';

function metricRows(m: Metric, periods: Period[], runId: string, asOf: string, shift: number, rand: () => number): FixtureRow[] {
  const base = BASE[m.id] ?? { v: 0.5, drift: 0, volume: 100 };
  const out: FixtureRow[] = [];
  const dims = m.dimensions.filter((d) => groupsOf(d));
  for (const p of periods) {
    if (m.snapshot && p.grain !== 'all') continue;
    const years = (Date.parse(p.start) - Date.parse(periods[0]!.start)) / (365.25 * 86400e3);
    for (const dimension of dims) {
      const groups = groupsOf(dimension)!;
      const cells: FixtureRow[] = [];
      for (const g of groups) {
        const noise = 1 + (rand() - 0.5) * 0.08;
        const vol = Math.round(base.volume * p.months * share(g) * (m.snapshot ? 1 / p.months : 1) * noise);
        const row: FixtureRow = {
          metric_id: m.id, period_grain: p.grain, period_start: p.start, period_end: p.end, dimension, group_value: g,
          numerator: null, denominator: null, value: null, ci_low: null, ci_high: null, suppressed: false,
          reference_group: null, rate_difference: null, rd_ci_low: null, rd_ci_high: null, rate_ratio: null, rr_ci_low: null, rr_ci_high: null,
          p_value: null, q_value: null, disparity_flag: null, run_id: runId, as_of: asOf, note: null,
          period_status: periodStatus(m, p, asOf), unreliable: null, disparity_flag_unadjusted: null,
        };
        const eff = effect(g);
        let suppress = false;
        switch (m.kind) {
          case 'incidence':
          case 'proportion': {
            const good = m.direction === 'higher_better';
            const v0 = Math.min(0.97, Math.max(0.02, base.v + base.drift * years + shift));
            const v = good ? v0 * eff : 1 - (1 - v0) * eff;
            const n = Math.max(0, vol);
            const x = Math.round(n * Math.min(0.99, Math.max(0.01, v)));
            suppress = isCount(n) || isCount(x) || isCount(n - x);
            Object.assign(row, { numerator: x, denominator: n, value: n ? x / n : null });
            if (n) [row.ci_low, row.ci_high] = wilson(x, n);
            break;
          }
          case 'rate': {
            const mm = Math.max(0, vol);
            const perMm = Math.max(0, base.v + base.drift * years) / m.scale;
            const adverse = perMm / eff;
            const events = m.id === 'paid_pmpm' ? Math.round(mm * adverse * 100) / 100 : Math.round(mm * adverse);
            suppress = (mm > 0 && mm < 11) || (m.id !== 'paid_pmpm' && isCount(events));
            const value = mm ? (events / mm) * m.scale : null;
            Object.assign(row, { numerator: events, denominator: mm, value });
            if (value !== null && m.interval !== 'none') {
              const se = Math.sqrt(Math.max(events, 1)) / mm * m.scale;
              row.ci_low = Math.max(0, value - Z * se);
              row.ci_high = value + Z * se;
            }
            break;
          }
          case 'duration': {
            const cases = vol;
            const events = Math.round(cases * 0.72);
            const med = Math.max(1, Math.round(base.v / Math.sqrt(eff) + base.drift * years));
            suppress = isCount(cases) || isCount(events) || isCount(cases - events);
            Object.assign(row, { numerator: events, denominator: cases, value: cases ? med : null, ci_low: med - 3, ci_high: med + 4 });
            if (m.id === FIXTURE.medianNotReached.metric && g === FIXTURE.medianNotReached.org && p.grain === 'all') Object.assign(row, { value: null, ci_high: null });
            break;
          }
          case 'count': {
            const n = Math.round(vol * (m.id === 'stale_open_referrals' ? 0.12 / eff : 1));
            suppress = isCount(n);
            Object.assign(row, { numerator: n, value: n });
            break;
          }
          case 'mean': {
            const n = vol;
            const mean = base.v * eff;
            suppress = isCount(n);
            const half = n > 1 ? 2.2 * 5.5 / Math.sqrt(n) : null;
            Object.assign(row, { denominator: n, value: n ? mean : null, ci_low: half ? mean - half : null, ci_high: half ? mean + half : null });
            break;
          }
          case 'ratio': {
            const [domain, county] = g.includes('*') ? g.split('*') : dimension === 'domain' ? [g, null] : dimension === 'county_fips' ? [null, g] : [null, null];
            const programs = DIRECTORY.filter((d) => (!domain || d.domain === domain) && (!county || d.counties.includes(county)));
            const capacityUnknown = programs.some((d) => d.capacity === null);
            const cap = programs.reduce((s, d) => s + (d.capacity ?? 0), 0) * p.months;
            const demand = vol;
            suppress = isCount(demand);
            Object.assign(row, { numerator: demand });
            if (programs.length === 0) Object.assign(row, { denominator: 0, note: 'no provider' });
            else if (capacityUnknown) Object.assign(row, { note: 'capacity unknown' });
            else Object.assign(row, { denominator: cap, value: cap ? demand / cap : null });
            break;
          }
        }
        if (dimension === FIXTURE.suppressedGroup.dimension && g === FIXTURE.suppressedGroup.group) suppress = true;
        if (suppress) {
          for (const k of ['numerator', 'denominator', 'value', 'ci_low', 'ci_high']) row[k] = null;
          row.suppressed = true;
        }
        row.unreliable = unreliable(m, row);
        cells.push(row);
      }
      addDisparities(m, dimension, cells);
      out.push(...cells);
    }
  }
  return out;
}

/**
 * The AHRQ default references the engine uses (models/config.ts), and for partners ORG-01
 * (the engine would take the most favourable one; naming it keeps ORG-04, the partner the
 * security tests sign in as, a compared group).
 */
const NAMED_REFERENCE: Record<string, string> = { race_ethnicity: 'white', payer: 'commercial', 'race_ethnicity*payer': 'white*commercial', target_org_id: 'ORG-01' };

/**
 * Reference = the named default, else the most favourable shown group of 30 or more (never
 * unknown); difference, ratio, a z-test p, the AHRQ flag alone and with q < 0.05.
 */
function addDisparities(m: Metric, dimension: string, cells: FixtureRow[]) {
  if (dimension === 'all' || dimension.startsWith('domain')) return;
  if ((m.kind !== 'proportion' && m.kind !== 'rate') || !m.disparities) return;
  const shown = cells.filter((c) => !c.suppressed && (c.denominator as number) > 0);
  if (shown.length < 2) return;
  const candidates = shown.filter((c) => !String(c.group_value).split('*').includes('unknown') && (c.denominator as number) >= 30);
  const better = (a: FixtureRow, b: FixtureRow) => (m.direction === 'higher_better' ? (b.value as number) > (a.value as number) : (b.value as number) < (a.value as number));
  const ref = shown.find((c) => c.group_value === NAMED_REFERENCE[dimension]) ?? (candidates.length ? candidates.reduce((a, b) => (better(a, b) ? b : a)) : null);
  if (!ref) return;
  for (const c of cells) {
    c.reference_group = ref.group_value;
    if (c === ref || c.suppressed) continue;
    const y = c.value as number;
    const r = ref.value as number;
    c.rate_difference = y - r;
    c.rate_ratio = r ? y / r : null;
    if (m.id === 'paid_pmpm') continue;
    const scale = m.kind === 'rate' ? m.scale : 1;
    const se = m.kind === 'proportion'
      ? Math.sqrt((y * (1 - y)) / (c.denominator as number) + (r * (1 - r)) / (ref.denominator as number))
      : scale * Math.sqrt((c.numerator as number) / (c.denominator as number) ** 2 + (ref.numerator as number) / (ref.denominator as number) ** 2);
    c.rd_ci_low = y - r - Z * se;
    c.rd_ci_high = y - r + Z * se;
    const x1 = Math.max(c.numerator as number, 0.5);
    const x0 = Math.max(ref.numerator as number, 0.5);
    const seLog = Math.sqrt(1 / x1 + 1 / x0);
    if (c.rate_ratio) {
      c.rr_ci_low = (c.rate_ratio as number) * Math.exp(-Z * seLog);
      c.rr_ci_high = (c.rate_ratio as number) * Math.exp(Z * seLog);
    }
    c.p_value = se > 0 ? pOfZ((y - r) / se) : 1;
    c.q_value = Math.min(1, (c.p_value as number) * 3);
    const adverse = (v: number) => (m.kind === 'proportion' && m.direction === 'higher_better' ? 1 - v : v);
    const worse = adverse(r) === 0 ? adverse(y) > 0 : (adverse(y) - adverse(r)) / adverse(r) >= 0.1;
    c.disparity_flag_unadjusted = (c.p_value as number) < 0.05 && worse;
    c.disparity_flag = c.disparity_flag_unadjusted && (c.q_value as number) < 0.05;
  }
}

function disparitySummaryRows(results: FixtureRow[]): FixtureRow[] {
  const key = (r: FixtureRow) => `${r.metric_id}|${r.period_grain}|${r.period_start}|${r.dimension}`;
  const byKey = new Map<string, FixtureRow[]>();
  for (const r of results) {
    if (r.reference_group === null) continue;
    const k = key(r);
    if (!byKey.has(k)) byKey.set(k, []);
    byKey.get(k)!.push(r);
  }
  const out: FixtureRow[] = [];
  for (const rows of byKey.values()) {
    const unknown = rows.find((r) => r.group_value === 'unknown' && !r.suppressed);
    const all = results.find((r) => r.metric_id === rows[0]!.metric_id && r.period_grain === rows[0]!.period_grain && r.period_start === rows[0]!.period_start && r.dimension === 'all');
    const shown = rows.filter((r) => !r.suppressed && !String(r.group_value).split('*').includes('unknown'));
    const ref = shown.find((r) => r.group_value === r.reference_group);
    if (!ref) continue;
    const ys = shown.map((r) => r.value as number);
    const ns = shown.map((r) => r.denominator as number);
    const total = ns.reduce((a, b) => a + b, 0);
    const mu = ys.reduce((s, y, i) => s + (ns[i]! / total) * y, 0);
    const y0 = ref.value as number;
    const min = Math.min(...ys);
    out.push({
      metric_id: ref.metric_id, period_grain: ref.period_grain, period_start: ref.period_start, period_end: ref.period_end,
      dimension: ref.dimension, reference_group: ref.group_value, reference_shown: true, groups_shown: shown.length,
      index_of_disparity: y0 && shown.length > 1 ? (100 * ys.reduce((s, y) => s + Math.abs(y - y0), 0)) / (shown.length - 1) / y0 : null,
      between_group_variance: ys.reduce((s, y, i) => s + (ns[i]! / total) * (y - mu) ** 2, 0),
      max_rate_difference: Math.max(...ys) - min,
      max_rate_ratio: min ? Math.max(...ys) / min : null,
      unknown_share: unknown && all && !all.suppressed ? (unknown.denominator as number) / (all.denominator as number) : null,
    });
  }
  return out;
}

function kmRows(asOf: string, periods: Period[]): FixtureRow[] {
  const out: FixtureRow[] = [];
  const all = periods.find((p) => p.grain === 'all')!;
  const curve = (metric: string, dimension: string, group: string, n: number, median: number) => {
    const hazard = Math.log(2) / median;
    let atRisk = n;
    let s = 1;
    for (let t = 0; t <= 720 && atRisk > 0; t += t < 30 ? 3 : 10) {
      const events = Math.max(0, Math.round(atRisk * (1 - Math.exp(-hazard * (t < 30 ? 3 : 10)))));
      const censored = Math.round(atRisk * 0.02);
      const gw = events ? s * (1 - events / atRisk) : s;
      const se = Math.sqrt(Math.max(1e-9, (1 - gw) / Math.max(atRisk, 1)));
      out.push({
        metric_id: metric, period_grain: 'all', period_start: all.start, dimension, group_value: group, time: t,
        survival: gw, lower: Math.max(0, gw - 1.96 * se), upper: Math.min(1, gw + 1.96 * se),
      });
      s = gw;
      atRisk -= events + censored;
    }
  };
  for (const metric of ['days_to_close', 'days_to_referral']) {
    const med = BASE[metric]!.v;
    curve(metric, 'all', 'all', 5200, med);
    for (const o of FIXTURE.orgs) curve(metric, 'target_org_id', o.id, Math.round(5200 * share(o.id)), med / Math.sqrt(effect(o.id)));
    for (const r of FIXTURE.races.filter((x) => x !== FIXTURE.suppressedGroup.group)) curve(metric, 'race_ethnicity', r, Math.round(5200 * share(r)), med / Math.sqrt(effect(r)));
  }
  void asOf;
  return out;
}

function gapRows(results: FixtureRow[], runId: string, asOf: string): FixtureRow[] {
  const cell = (metric: string, g: string) => results.find((r) => r.metric_id === metric && r.period_grain === 'all' && r.dimension === 'domain*county_fips' && r.group_value === g);
  const rows: FixtureRow[] = [];
  for (const d of FIXTURE.domains) {
    for (const c of FIXTURE.counties) {
      const g = `${d}*${c}`;
      const unmet = cell('unmet_need_rate', g);
      const needs = cell('positive_needs', g);
      const dcr = cell('demand_capacity_ratio', g);
      const rej = cell('capacity_rejection_share', g);
      const programs = DIRECTORY.filter((x) => x.domain === d && x.counties.includes(c));
      const suppressed = Boolean(unmet?.suppressed || needs?.suppressed);
      const measurable = unmet?.denominator as number | null;
      const unmetCount = unmet && !suppressed ? Math.round((unmet.value as number) * (measurable as number)) : null;
      const rej_ = rej && !rej.suppressed ? rej : null;
      const dcr_ = dcr && !dcr.suppressed ? dcr : null;
      rows.push({
        domain: d, county_fips: c, period_start: String(cell('unmet_need_rate', g)?.period_start ?? ''), period_end: asOf,
        positive_needs: suppressed ? null : (needs?.value as number),
        needs_measurable: suppressed ? null : measurable,
        needs_met: suppressed || unmetCount === null ? null : (measurable as number) - unmetCount,
        unmet_needs: unmetCount,
        unmet_need_rate: suppressed ? null : (unmet?.value as number),
        unmet_ci_low: suppressed ? null : (unmet?.ci_low as number),
        unmet_ci_high: suppressed ? null : (unmet?.ci_high as number),
        no_capacity_referrals: rej_ ? (rej_.numerator as number) : null,
        closed_not_met_referrals: rej_ ? (rej_.denominator as number) : null,
        capacity_rejection_share: rej_ ? (rej_.value as number) : null,
        capacity_months: dcr_ ? ((dcr_.denominator as number | null) ?? null) : null,
        demand_capacity_ratio: dcr_ ? ((dcr_.value as number | null) ?? null) : null,
        capacity_note: (dcr?.note as string | null) ?? null,
        serving_programs: programs.length,
        programs_capacity_unknown: programs.filter((p) => p.capacity === null).length,
        known_monthly_capacity: programs.some((p) => p.capacity !== null) ? programs.reduce((t, p) => t + (p.capacity ?? 0), 0) : null,
        programs: programs.length ? programs.map((p) => `${p.name} (${FIXTURE.orgs.find((o) => o.id === p.org)!.name}; ${p.program})`).join(' | ') : null,
        run_id: runId, as_of: asOf,
        suppressed,
      });
    }
  }
  rows.sort((a, b) => ((b.unmet_needs as number) ?? -1) - ((a.unmet_needs as number) ?? -1) || ((b.unmet_need_rate as number) ?? -1) - ((a.unmet_need_rate as number) ?? -1));
  rows.forEach((r, i) => (r.rank = i + 1));
  return rows;
}

/** The shape of models/metrics/prePostSummary.ts after models/disclosure/otherTables.ts. */
function prepostRows(results: FixtureRow[], runId: string, asOf: string): FixtureRow[] {
  const out: FixtureRow[] = [];
  for (const [measure, stem] of [['ed_visits', 'ed_visits'], ['inpatient_admits', 'inpatient']] as const) {
    const pre = results.filter((r) => r.metric_id === `${stem}_pre_referral_per_1000_mm` && r.period_grain === 'all');
    for (const a of pre) {
      const b = results.find((r) => r.metric_id === `${stem}_post_referral_per_1000_mm` && r.period_grain === 'all' && r.dimension === a.dimension && r.group_value === a.group_value);
      if (!b) continue;
      const suppressed = Boolean(a.suppressed || b.suppressed);
      const rr = suppressed ? null : (b.value as number) / (a.value as number);
      const se = suppressed ? 0 : Math.sqrt(1 / (a.numerator as number) + 1 / (b.numerator as number));
      const shown = (v: unknown) => (suppressed ? null : (v as number));
      out.push({
        measure, period_start: a.period_start, period_end: a.period_end, dimension: a.dimension, group_value: a.group_value,
        people: shown(Math.round((a.denominator as number) / 6)),
        pre_events: shown(a.numerator), pre_member_months: shown(a.denominator), post_events: shown(b.numerator), post_member_months: shown(b.denominator),
        pre_rate_per_1000: shown(a.value), post_rate_per_1000: shown(b.value),
        rate_ratio: rr, rr_ci_low: rr === null ? null : rr * Math.exp(-Z * se), rr_ci_high: rr === null ? null : rr * Math.exp(Z * se),
        run_id: runId, as_of: asOf, suppressed,
      });
    }
  }
  return out;
}

function loadReportRows(): FixtureRow[] {
  const f = (file: string, entity: string, read: number, q: number, reasons: Array<{ rule: string; column: string | null; count: number }>, rejected = false, message: string | null = null) =>
    ({ file, entity, rows_read: read, rows_loaded: rejected ? 0 : read - q, rows_quarantined: rejected ? 0 : q, rejected, message, reasons: JSON.stringify(reasons) });
  return [
    f('people.csv', 'people', 20000, 12, [{ rule: 'bad_date', column: 'birth_date', count: 7 }, { rule: 'not_5_digits', column: 'zip', count: 5 }]),
    f('screenings.csv', 'screenings', 180400, 31, [{ rule: 'orphan', column: 'person_id', count: 19 }, { rule: 'unknown_enum', column: 'domain', count: 12 }]),
    f('referrals.csv', 'referrals', 14021, 44, [{ rule: 'date_order', column: 'closed_on', count: 30 }, { rule: 'missing_required', column: 'outcome', count: 14 }]),
    f('phq9.csv', 'phq9', 9120, 3, [{ rule: 'items_do_not_sum', column: 'total_score', count: 3 }]),
    f('encounters.csv', 'encounters', 96000, 0, []),
    f('services.csv', 'services', 64, 0, []),
    f('notes.txt', '', 0, 0, [], true, 'notes.txt: rejected whole: not a data file of any entity'),
  ];
}

/** The quality-gate results of the fixture's runs (pipelines/quality: CheckResult), as `closeloop run` records and publishes them. */
export const QUALITY_CHECKS = [
  { id: 'referrals.person_exists', entity: 'referrals', kind: 'relationship', severity: 'block', status: 'pass', observed: 0, threshold: 0, violations: 0, rows: 13977, message: 'referrals.person_exists: 0 of 13,977 rows (0.00%) break the rule (limit 0.00%)' },
  { id: 'referrals.target_org_in_directory', entity: 'referrals', kind: 'relationship', severity: 'warn', status: 'warn', observed: 0.0715, threshold: 0.05, violations: 1000, rows: 13977, message: 'referrals.target_org_in_directory: 1,000 of 13,977 rows (7.15%) break the rule (limit 5.00%)' },
  { id: 'referrals.incoming_volume_drop', entity: 'referrals', kind: 'volume_change', severity: 'warn', status: 'skip', observed: null, threshold: 0.5, violations: null, rows: null, message: 'referrals.incoming_volume_drop: skipped (no earlier load to compare with)' },
] as const;

async function writeTable(conn: import('@duckdb/node-api').DuckDBConnection, dir: string, name: string, columns: Array<[string, string]>, data: FixtureRow[]) {
  await conn.run(`CREATE TABLE ${name} (${columns.map(([c, t]) => `"${c}" ${t}`).join(', ')})`);
  if (data.length === 0) return;
  const file = join(dir, `${name}.ndjson`);
  writeFileSync(file, data.map((r) => JSON.stringify(Object.fromEntries(columns.map(([c]) => [c, r[c] ?? null])))).join('\n'));
  const cols = columns.map(([c, t]) => `'${c}': '${t}'`).join(', ');
  await conn.run(`INSERT INTO ${name} SELECT * FROM read_json('${file}', format = 'newline_delimited', columns = {${cols}})`);
}

async function publishGenerationFile(root: string, o: Required<Pick<FixtureOptions, 'runId' | 'asOf'>> & FixtureOptions): Promise<string> {
  const paths = storePaths(root);
  mkdirSync(paths.publishedDir, { recursive: true });
  mkdirSync(paths.stateDir, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), 'closeloop-fixture-'));
  const file = `${o.runId}.duckdb`;
  const db = await openDatabase(join(paths.publishedDir, file), { memoryLimit: '512MB', threads: 1 });
  const omit = new Set(o.omit ?? []);
  try {
    const conn = db.conn;
    const periods = fixturePeriods(DATA_START, o.asOf);
    const rand = rng(20261031);
    const results: FixtureRow[] = [];
    for (const m of METRICS) results.push(...metricRows(m, periods, o.runId, o.asOf, o.shift ?? 0, rand));
    // Hand-made rows tests name: a group value that would be a formula in a spreadsheet.
    results.push({
      metric_id: 'closed_loop_rate', period_grain: 'all', period_start: '2024-11-01', period_end: o.asOf, dimension: 'program_id', group_value: '=HYPERLINK("x")',
      numerator: 40, denominator: 100, value: 0.4, ci_low: 0.31, ci_high: 0.5, suppressed: false, run_id: o.runId, as_of: o.asOf,
    });
    results.push(...(o.extraResults ?? []));
    await conn.run(`CREATE TABLE run_info AS SELECT '${o.runId}' AS run_id, DATE '${o.asOf}' AS as_of, TIMESTAMPTZ '2026-11-01 06:00:00+00' AS started_at, TIMESTAMPTZ '2026-11-01 06:04:12+00' AS published_at`);
    if (!omit.has('metric_results')) await writeTable(conn, scratch, 'metric_results', RESULT_COLUMNS.map((c) => [c.name, c.type]), results);
    if (!omit.has('load_report')) {
      await writeTable(conn, scratch, 'load_report', [['file', 'VARCHAR'], ['entity', 'VARCHAR'], ['rows_read', 'BIGINT'], ['rows_loaded', 'BIGINT'], ['rows_quarantined', 'BIGINT'], ['rejected', 'BOOLEAN'], ['message', 'VARCHAR'], ['reasons', 'VARCHAR']], loadReportRows());
    }
    if (!omit.has('quality_checks')) {
      await writeTable(conn, scratch, 'quality_checks', [['check_id', 'VARCHAR'], ['entity', 'VARCHAR'], ['kind', 'VARCHAR'], ['severity', 'VARCHAR'], ['status', 'VARCHAR'],
        ['observed', 'DOUBLE'], ['threshold', 'DOUBLE'], ['violations', 'BIGINT'], ['rows_checked', 'BIGINT'], ['message', 'VARCHAR']], QUALITY_CHECKS.map(({ id, rows, ...c }) => ({ ...c, check_id: id, rows_checked: rows })));
    }
    if (!omit.has('entity_freshness')) {
      await conn.run(`CREATE TABLE entity_freshness AS SELECT * FROM (VALUES ('screenings', 180369, DATE '2026-10-31'), ('referrals', 13977, DATE '2026-10-30'),
        ('enrollments', 4410, DATE '2026-10-28'), ('phq9', 9117, DATE '2026-10-29'), ('encounters', 96000, DATE '2026-10-31'), ('people', 19988, NULL::DATE), ('services', 64, NULL::DATE))
        AS t(entity, rows_loaded, latest_date)`);
    }
    if (!omit.has('km_curves')) {
      await writeTable(conn, scratch, 'km_curves', [['metric_id', 'VARCHAR'], ['period_grain', 'VARCHAR'], ['period_start', 'DATE'], ['dimension', 'VARCHAR'], ['group_value', 'VARCHAR'],
        ['time', 'INTEGER'], ['survival', 'DOUBLE'], ['lower', 'DOUBLE'], ['upper', 'DOUBLE']], kmRows(o.asOf, periods));
    }
    if (!omit.has('gap_table')) {
      // The columns of models/metrics/sql/mart_gap_table.sql after models/disclosure/otherTables.ts.
      await writeTable(conn, scratch, 'gap_table', [['rank', 'INTEGER'], ['domain', 'VARCHAR'], ['county_fips', 'VARCHAR'], ['period_start', 'DATE'], ['period_end', 'DATE'],
        ['positive_needs', 'DOUBLE'], ['needs_measurable', 'DOUBLE'], ['needs_met', 'DOUBLE'], ['unmet_needs', 'DOUBLE'], ['unmet_need_rate', 'DOUBLE'], ['unmet_ci_low', 'DOUBLE'], ['unmet_ci_high', 'DOUBLE'],
        ['no_capacity_referrals', 'DOUBLE'], ['closed_not_met_referrals', 'DOUBLE'], ['capacity_rejection_share', 'DOUBLE'], ['capacity_months', 'DOUBLE'], ['demand_capacity_ratio', 'DOUBLE'],
        ['capacity_note', 'VARCHAR'], ['serving_programs', 'BIGINT'], ['programs_capacity_unknown', 'BIGINT'], ['known_monthly_capacity', 'HUGEINT'], ['programs', 'VARCHAR'],
        ['run_id', 'VARCHAR'], ['as_of', 'DATE'], ['suppressed', 'BOOLEAN']], gapRows(results, o.runId, o.asOf));
    }
    if (o.partnerWithheld) {
      await writeTable(conn, scratch, 'partner_withheld', [['org_id', 'VARCHAR'], ['metric_id', 'VARCHAR'], ['domain', 'VARCHAR'], ['reason', 'VARCHAR']],
        o.partnerWithheld.map(([org_id, metric_id, domain]) => ({ org_id, metric_id, domain, reason: 'test' })));
    }
    if (!omit.has('service_directory')) {
      const dir = DIRECTORY.flatMap((d) => d.counties.map((c) => ({
        org_id: d.org, org_name: FIXTURE.orgs.find((x) => x.id === d.org)!.name, program_id: d.program, program_name: d.name, domain: d.domain, county_fips: c, monthly_capacity: d.capacity,
      })));
      await writeTable(conn, scratch, 'service_directory', [['org_id', 'VARCHAR'], ['org_name', 'VARCHAR'], ['program_id', 'VARCHAR'], ['program_name', 'VARCHAR'], ['domain', 'VARCHAR'],
        ['county_fips', 'VARCHAR'], ['monthly_capacity', 'BIGINT']], dir);
    }
    if (!omit.has('prepost_summary')) {
      await writeTable(conn, scratch, 'prepost_summary', [['measure', 'VARCHAR'], ['period_start', 'DATE'], ['period_end', 'DATE'], ['dimension', 'VARCHAR'], ['group_value', 'VARCHAR'],
        ['people', 'INTEGER'], ['pre_events', 'DOUBLE'], ['pre_member_months', 'DOUBLE'], ['post_events', 'DOUBLE'], ['post_member_months', 'DOUBLE'], ['pre_rate_per_1000', 'DOUBLE'],
        ['post_rate_per_1000', 'DOUBLE'], ['rate_ratio', 'DOUBLE'], ['rr_ci_low', 'DOUBLE'], ['rr_ci_high', 'DOUBLE'], ['run_id', 'VARCHAR'], ['as_of', 'DATE'],
        ['suppressed', 'BOOLEAN']], prepostRows(results, o.runId, o.asOf));
    }
    if (!omit.has('disparity_summary')) {
      await writeTable(conn, scratch, 'disparity_summary', [['metric_id', 'VARCHAR'], ['period_grain', 'VARCHAR'], ['period_start', 'DATE'], ['period_end', 'DATE'], ['dimension', 'VARCHAR'],
        ['reference_group', 'VARCHAR'], ['reference_shown', 'BOOLEAN'], ['groups_shown', 'INTEGER'], ['index_of_disparity', 'DOUBLE'], ['between_group_variance', 'DOUBLE'], ['max_rate_difference', 'DOUBLE'], ['max_rate_ratio', 'DOUBLE'],
        ['unknown_share', 'DOUBLE']],
        disparitySummaryRows(results));
    }
    if (!omit.has('evaluation')) {
      // the evaluation's published tables (models/evaluation): ED published, admissions withheld,
      // for every domain ('any') and for first referrals in food (ED published, months -6..+1)
      await writeTable(conn, scratch, 'evaluation_summary', [['domain', 'VARCHAR'], ['outcome', 'VARCHAR'], ['status', 'VARCHAR'], ['note', 'VARCHAR'], ['att_per_1000', 'DOUBLE'], ['ci_low', 'DOUBLE'], ['ci_high', 'DOUBLE'],
        ['p_value', 'DOUBLE'], ['pretrend_chi2', 'DOUBLE'], ['pretrend_df', 'INTEGER'], ['pretrend_p', 'DOUBLE'], ['treated_people', 'INTEGER'], ['comparison_people', 'INTEGER'], ['cohorts', 'INTEGER'],
        ['first_cohort', 'VARCHAR'], ['last_cohort', 'VARCHAR'], ['run_id', 'VARCHAR'], ['as_of', 'DATE']], [
        { domain: 'any', outcome: 'ed_visits', status: 'published', note: '', att_per_1000: -24.7, ci_low: -33.2, ci_high: -16.2, p_value: 0, pretrend_chi2: 2.44, pretrend_df: 4, pretrend_p: 0.656,
          treated_people: 3590, comparison_people: 1212, cohorts: 12, first_cohort: '2025-05', last_cohort: '2026-04', run_id: o.runId, as_of: o.asOf },
        { domain: 'any', outcome: 'inpatient_admits', status: 'withheld', note: 'A month\'s events (referred or comparison people) are between 1 and 10: withheld by the small-cell rule.', att_per_1000: null, ci_low: null,
          ci_high: null, p_value: null, pretrend_chi2: null, pretrend_df: null, pretrend_p: null, treated_people: 3590, comparison_people: 1212, cohorts: 12, first_cohort: '2025-05', last_cohort: '2026-04', run_id: o.runId, as_of: o.asOf },
        { domain: 'food', outcome: 'ed_visits', status: 'published', note: '', att_per_1000: -18.3, ci_low: -35.9, ci_high: -0.7, p_value: 0.0415, pretrend_chi2: 3.1, pretrend_df: 4, pretrend_p: 0.541,
          treated_people: 1210, comparison_people: 402, cohorts: 12, first_cohort: '2025-05', last_cohort: '2026-04', run_id: o.runId, as_of: o.asOf },
        { domain: 'food', outcome: 'inpatient_admits', status: 'withheld', note: 'Fewer than 11 referred or comparison people: withheld by the small-cell rule.', att_per_1000: null, ci_low: null,
          ci_high: null, p_value: null, pretrend_chi2: null, pretrend_df: null, pretrend_p: null, treated_people: null, comparison_people: null, cohorts: 12, first_cohort: '2025-05', last_cohort: '2026-04', run_id: o.runId, as_of: o.asOf },
      ]);
      const period = (e: number) => (e <= -2 ? 'baseline' : e === -1 ? 'anticipation' : e === 0 ? 'referral' : 'after');
      const est = (e: number) => (e <= -2 ? [1.5, -2.1, 0.4, 0.9, -0.7][e + 6]! : e === -1 ? 129.2 : e === 0 ? 118.4 : e === 1 ? -3.2 : -27.5);
      await writeTable(conn, scratch, 'evaluation_event_study', [['domain', 'VARCHAR'], ['outcome', 'VARCHAR'], ['rel_month', 'INTEGER'], ['estimate_per_1000', 'DOUBLE'], ['ci_low', 'DOUBLE'], ['ci_high', 'DOUBLE'],
        ['period', 'VARCHAR'], ['run_id', 'VARCHAR'], ['as_of', 'DATE']],
        [...Array.from({ length: 19 }, (_, i) => i - 6).map((e) => ({ domain: 'any', outcome: 'ed_visits', rel_month: e, estimate_per_1000: est(e), ci_low: est(e) - 9.5, ci_high: est(e) + 9.5, period: period(e), run_id: o.runId, as_of: o.asOf })),
          ...Array.from({ length: 8 }, (_, i) => i - 6).map((e) => ({ domain: 'food', outcome: 'ed_visits', rel_month: e, estimate_per_1000: est(e) / 2, ci_low: est(e) / 2 - 17.5, ci_high: est(e) / 2 + 17.5, period: period(e), run_id: o.runId, as_of: o.asOf }))]);
      await writeTable(conn, scratch, 'evaluation_balance', [['domain', 'VARCHAR'], ['covariate', 'VARCHAR'], ['smd_before', 'DOUBLE'], ['smd_after', 'DOUBLE'], ['run_id', 'VARCHAR'], ['as_of', 'DATE']], [
        { domain: 'any', covariate: 'ED visits per month, months -6..-2', smd_before: 0.16, smd_after: 0.12, run_id: o.runId, as_of: o.asOf },
        { domain: 'any', covariate: 'Age (years)', smd_before: 0.1, smd_after: 0.01, run_id: o.runId, as_of: o.asOf },
        { domain: 'any', covariate: 'Medicaid', smd_before: 0.08, smd_after: 0, run_id: o.runId, as_of: o.asOf },
        { domain: 'food', covariate: 'Months from first positive screening', smd_before: -1.31, smd_after: -1.14, run_id: o.runId, as_of: o.asOf },
      ]);
      await writeTable(conn, scratch, 'evaluation_phq9', [['domain', 'VARCHAR'], ['status', 'VARCHAR'], ['note', 'VARCHAR'], ['change_difference', 'DOUBLE'], ['ci_low', 'DOUBLE'], ['ci_high', 'DOUBLE'], ['p_value', 'DOUBLE'],
        ['treated_people', 'INTEGER'], ['comparison_people', 'INTEGER'], ['run_id', 'VARCHAR'], ['as_of', 'DATE']], [
        { domain: 'any', status: 'published', note: '', change_difference: -2.4, ci_low: -4.1, ci_high: -0.7, p_value: 0.00612, treated_people: 64, comparison_people: 212, run_id: o.runId, as_of: o.asOf },
        { domain: 'food', status: 'withheld', note: 'Fewer than 11 referred or comparison people: withheld by the small-cell rule.', change_difference: null, ci_low: null, ci_high: null, p_value: null,
          treated_people: null, comparison_people: null, run_id: o.runId, as_of: o.asOf },
      ]);
      await writeTable(conn, scratch, 'evaluation_phq9_balance', [['domain', 'VARCHAR'], ['covariate', 'VARCHAR'], ['smd_before', 'DOUBLE'], ['smd_after', 'DOUBLE'], ['run_id', 'VARCHAR'], ['as_of', 'DATE']], [
        { domain: 'any', covariate: 'Index PHQ-9 score', smd_before: 0.21, smd_after: 0.18, run_id: o.runId, as_of: o.asOf },
        { domain: 'any', covariate: 'Age (years)', smd_before: -0.12, smd_after: 0.02, run_id: o.runId, as_of: o.asOf },
      ]);
    }
    await conn.run('CHECKPOINT');
  } finally {
    db.close();
    rmSync(scratch, { recursive: true, force: true });
  }
  return file;
}

/** Run history lines as pipelines/run.ts appends them. */
function appendRun(root: string, runId: string, asOf: string, startedAt: string, status = 'published') {
  const files = loadReportRows().map((r) => ({ ...r, reasons: JSON.parse(r.reasons as string), extra_columns: [], sha256: 'f'.repeat(64) }));
  const record = {
    run_id: runId, status, as_of: asOf, files, metrics_rows: 1234, seconds: 252.4, message: null, exit_code: 2, phases: { load: 100, metrics: 140 },
    quality: QUALITY_CHECKS, quality_counts: { pass: 1, warn: 1, block: 0, skip: 1 }, started_at: startedAt, finished_at: new Date(Date.parse(startedAt) + 252_400).toISOString(),
  };
  appendFileSync(join(storePaths(root).stateDir, 'runs.jsonl'), `${JSON.stringify(record)}\n`);
}

export async function publishedFixture(opts: FixtureOptions = {}): Promise<PublishedFixture> {
  const root = mkdtempSync(join(tmpdir(), 'closeloop-server-'));
  let n = 0;
  const publish = async (o: FixtureOptions = {}) => {
    n += 1;
    const runId = o.runId ?? `20261101T060000000Z-fx${String(n).padStart(2, '0')}`;
    const asOf = o.asOf ?? '2026-10-31';
    const file = await publishGenerationFile(root, { ...o, runId, asOf });
    appendRun(root, runId, asOf, new Date(Date.UTC(2026, 10, n, 6)).toISOString());
    await writePointer(storePaths(root), { run_id: runId, as_of: asOf, warehouse: `${runId}.duckdb`, published: file, published_at: new Date().toISOString() });
    return { runId, file };
  };
  // An earlier failed run in the history, as the runs page shows it.
  mkdirSync(storePaths(root).stateDir, { recursive: true });
  appendFileSync(join(storePaths(root).stateDir, 'runs.jsonl'), `${JSON.stringify({ run_id: null, status: 'failed', as_of: null, files: [], metrics_rows: 0, seconds: 1.2, message: 'run failed: disk full', exit_code: 1, phases: {}, started_at: '2026-10-31T06:00:00.000Z', finished_at: '2026-10-31T06:00:01.200Z' })}\n`);
  const first = await publish(opts);
  return {
    root,
    runId: first.runId,
    asOf: opts.asOf ?? '2026-10-31',
    publish,
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}
