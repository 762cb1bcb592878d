// Evaluation (issue 22): a stacked event study with not-yet-referred comparison people and
// the difference-in-differences average over months +1..+6, for ED visits and inpatient
// admissions per 1,000 member-months. The panel and every person-level step run in DuckDB
// (event_study.sql); JavaScript only adds up per-cell figures, inverts a 4 x 4 matrix for
// the pre-trend test and applies the small-cell rule. Design and limits: README.md here.
import type { DuckDBConnection } from '@duckdb/node-api';
import { exec, rows, sqlString } from '../duckdb.ts';
import { bulkTable, type BulkValue } from '../metrics/bulk.ts';
import { chiSquareSf, normalQuantile, normalSf } from '../stats/distributions.ts';
import { runEvaluationSql } from './sql.ts';

export const OUTCOMES = ['ed_visits', 'inpatient_admits'] as const;
export type Outcome = (typeof OUTCOMES)[number];
export const REL_MONTHS = { first: -6, last: 12, baseline: [-6, -2], anticipation: -1, att: [1, 6] } as const;
/** The pre-period months tested for a trend: -6..-3 (with the baseline -6..-2, the five deviations sum to zero). */
const PRETREND_MONTHS = [-6, -5, -4, -3];
const ATT_MONTHS = [1, 2, 3, 4, 5, 6];
const Z = normalQuantile(0.975);

export interface MonthEstimate {
  e: number;
  /** ATT(e), events per person-month (x 1,000 = per 1,000 member-months) */
  estimate: number;
  variance: number;
  treated: number;
  cohorts: number;
  eventsTreated: number;
  eventsComparison: number;
  /** baseline events (months -6..-2) of the people in month e's cells */
  baseTreated: number;
  baseComparison: number;
}

export interface OutcomeEstimate {
  outcome: Outcome;
  months: MonthEstimate[];
  att: { estimate: number; se: number } | null;
  pretrend: { chi2: number; df: number; p: number } | null;
}

export interface BalanceRow { covariate: string; smd_before: number | null; smd_after: number | null; counts?: number[] }

export interface EventStudy {
  /** 'any' (every stack) or the need domain of the referred people's first referral */
  domain: string;
  treatedPeople: number;
  comparisonPeople: number;
  cohorts: number;
  firstCohort: string | null;
  lastCohort: string | null;
  outcomes: OutcomeEstimate[];
  balance: BalanceRow[];
}

const monthText = (m: number) => `${Math.floor(m / 12)}-${String((m % 12) + 1).padStart(2, '0')}`;

/** The selection of every domain, the default. */
export const ANY_DOMAIN = 'any';

/**
 * The unpublished estimates for every domain together ('any') and for each domain of a first
 * referral (person-level work in SQL, on the warehouse's stg_* tables). Leaves temporary
 * tables _ev_* behind on this connection; dropEventStudyTables removes them.
 */
export async function computeEventStudies(conn: DuckDBConnection, asOf: string): Promise<EventStudy[]> {
  await runEvaluationSql(conn, 'event_study.sql', asOf);

  const est = await rows<{ sel: string; outcome: Outcome; e: number; estimate: number; treated: number; cohorts: number; events_t: number; events_c: number; base_t: number; base_c: number }>(conn, `
SELECT sel, outcome, e::INTEGER AS e, sum(n_t::DOUBLE / n_e * (m_t - m_c)) AS estimate, sum(n_t)::INTEGER AS treated,
  count(DISTINCT g)::INTEGER AS cohorts, sum(events_t)::DOUBLE AS events_t, sum(events_c)::DOUBLE AS events_c,
  sum(base_t)::DOUBLE AS base_t, sum(base_c)::DOUBLE AS base_c
FROM _ev_cells GROUP BY sel, outcome, e ORDER BY sel, outcome, e`);
  const cov = await rows<{ sel: string; outcome: Outcome; e1: number; e2: number; c: number }>(conn, `
SELECT a.sel, a.outcome, a.e::INTEGER AS e1, b.e::INTEGER AS e2, sum(a.psi * b.psi) AS c
FROM _ev_psi a JOIN _ev_psi b ON a.sel = b.sel AND a.outcome = b.outcome AND a.person_id = b.person_id
WHERE a.e = b.e OR (a.e IN (${PRETREND_MONTHS}) AND b.e IN (${PRETREND_MONTHS})) OR (a.e IN (${ATT_MONTHS}) AND b.e IN (${ATT_MONTHS}))
GROUP BY ALL`);
  const covMap = new Map(cov.map((c) => [`${c.sel}|${c.outcome}|${c.e1}|${c.e2}`, c.c]));
  const sizes = await rows<{ sel: string; treated: number; comparison: number; cohorts: number; first_g: number | null; last_g: number | null }>(conn, `
SELECT c.sel, count(DISTINCT person_id) FILTER (WHERE treated)::INTEGER AS treated,
  count(DISTINCT person_id) FILTER (WHERE NOT treated)::INTEGER AS comparison,
  count(DISTINCT g)::INTEGER AS cohorts, min(g)::INTEGER AS first_g, max(g)::INTEGER AS last_g
FROM _ev_rows r JOIN _ev_cells c USING (outcome, e, g, domain, stratum)
WHERE r.usable AND r.outcome = 'ed_visits' AND r.e = 1
GROUP BY c.sel`);
  const balances = await balance(conn);
  const sels = [ANY_DOMAIN, ...[...new Set(est.map((r) => r.sel))].filter((x) => x !== ANY_DOMAIN).sort()];

  return sels.map((sel) => {
    const covOf = (o: Outcome, a: number, b: number) => covMap.get(`${sel}|${o}|${a}|${b}`) ?? 0;
    const outcomes: OutcomeEstimate[] = OUTCOMES.map((outcome) => {
      const months = est.filter((r) => r.sel === sel && r.outcome === outcome).map((r) => ({
        e: r.e, estimate: r.estimate, variance: covOf(outcome, r.e, r.e), treated: r.treated, cohorts: r.cohorts,
        eventsTreated: r.events_t, eventsComparison: r.events_c, baseTreated: r.base_t, baseComparison: r.base_c,
      }));
      const has = (es: number[]) => es.every((e) => months.some((m) => m.e === e));
      let att: OutcomeEstimate['att'] = null;
      if (has(ATT_MONTHS)) {
        // the mean of ATT(+1..+6); its variance is the mean of the covariance block
        const estimate = ATT_MONTHS.reduce((s, e) => s + months.find((m) => m.e === e)!.estimate, 0) / ATT_MONTHS.length;
        let v = 0;
        for (const a of ATT_MONTHS) for (const b of ATT_MONTHS) v += covOf(outcome, a, b);
        att = { estimate, se: Math.sqrt(v) / ATT_MONTHS.length };
      }
      let pretrend: OutcomeEstimate['pretrend'] = null;
      if (has(PRETREND_MONTHS)) {
        const b = PRETREND_MONTHS.map((e) => months.find((m) => m.e === e)!.estimate);
        const V = PRETREND_MONTHS.map((a) => PRETREND_MONTHS.map((c) => covOf(outcome, a, c)));
        const x = solve(V, b);
        if (x) {
          const chi2 = b.reduce((s, bi, i) => s + bi * x[i]!, 0);
          pretrend = { chi2, df: b.length, p: chiSquareSf(chi2, b.length) };
        }
      }
      return { outcome, months, att, pretrend };
    });
    const sz = sizes.find((r) => r.sel === sel);
    return {
      domain: sel,
      treatedPeople: sz?.treated ?? 0,
      comparisonPeople: sz?.comparison ?? 0,
      cohorts: sz?.cohorts ?? 0,
      firstCohort: sz?.first_g == null ? null : monthText(sz.first_g),
      lastCohort: sz?.last_g == null ? null : monthText(sz.last_g),
      outcomes,
      balance: balances.get(sel) ?? [],
    };
  });
}

/** The estimates for every domain together (the default selection). */
export async function computeEventStudy(conn: DuckDBConnection, asOf: string): Promise<EventStudy> {
  return (await computeEventStudies(conn, asOf))[0]!;
}

/**
 * Standardised mean differences, treated vs comparison, per selection ('any' and each domain),
 * over the stacks of month +1: before = every usable comparison person-stack with weight 1;
 * after = the cells used, with the comparison weights n_t / n_c. The denominator is the pooled
 * SD before weighting. Every characteristic of the issue's list: the pre-period outcomes, age,
 * sex, payer, county (the largest absolute SMD over the county indicators, the county not named),
 * rurality and the screening month (months from the first positive screening to the referral
 * month). counts: for a yes/no characteristic, the person-stacks with and without it behind the
 * SMDs (each group, before and after), for the small-cell rule.
 */
async function balance(conn: DuckDBConnection): Promise<Map<string, BalanceRow[]>> {
  const payer = (v: string) => `coalesce(payer = '${v}', false)::INTEGER::DOUBLE`;
  const covariates: Array<[string, string, boolean]> = [
    ['ED visits per month, months -6..-2', 'pre_ed / 5.0', false],
    ['Admissions per month, months -6..-2', 'pre_ip / 5.0', false],
    ['Age (years)', 'age::DOUBLE', false],
    ['Female', 'female::INTEGER::DOUBLE', true],
    ['Medicaid', payer('medicaid'), true],
    ['Medicare', payer('medicare'), true],
    ['Dual (Medicare and Medicaid)', payer('dual'), true],
    ['Commercial', payer('commercial'), true],
    ['Uninsured', payer('uninsured'), true],
    ['Rural', 'rural::INTEGER::DOUBLE', true],
    ['Months from first positive screening', 'screen_lag::DOUBLE', false],
  ];
  const weighted = (x: string) => `
WITH base AS (
  SELECT p.*, ${x} AS x, r.stratum
  FROM _ev_person p JOIN _ev_rows r ON r.g = p.g AND r.domain = p.domain AND r.person_id = p.person_id AND r.outcome = 'ed_visits' AND r.e = 1 AND r.usable
),
sb AS (SELECT CASE WHEN domain = '*' THEN '${ANY_DOMAIN}' ELSE domain END AS sel, * FROM base)
SELECT b.*, CASE WHEN b.treated THEN 1.0 ELSE c.n_t::DOUBLE / c.n_c END AS wt, c.g IS NOT NULL AS used
FROM sb b LEFT JOIN _ev_cells c ON c.sel = b.sel AND c.outcome = 'ed_visits' AND c.e = 1 AND c.g = b.g AND c.domain = b.domain AND c.stratum = b.stratum`;
  const out = new Map<string, BalanceRow[]>();
  const push = (sel: string, row: BalanceRow) => out.set(sel, [...(out.get(sel) ?? []), row]);
  for (const [name, expr, binary] of covariates) {
    const rs = await rows<{ sel: string; mt: number | null; vt: number | null; mc: number | null; vc: number | null; mcw: number | null; mtw: number | null; counts: number[] }>(conn, `
WITH w AS (${weighted(expr)})
SELECT sel, avg(x) FILTER (WHERE treated) AS mt, var_samp(x) FILTER (WHERE treated) AS vt,
  avg(x) FILTER (WHERE NOT treated) AS mc, var_samp(x) FILTER (WHERE NOT treated) AS vc,
  sum(wt * x) FILTER (WHERE NOT treated AND used) / sum(wt) FILTER (WHERE NOT treated AND used) AS mcw,
  avg(x) FILTER (WHERE treated AND used) AS mtw,
  [count(*) FILTER (WHERE treated AND x = 1), count(*) FILTER (WHERE treated AND x = 0),
   count(*) FILTER (WHERE NOT treated AND x = 1), count(*) FILTER (WHERE NOT treated AND x = 0),
   count(*) FILTER (WHERE treated AND used AND x = 1), count(*) FILTER (WHERE treated AND used AND x = 0),
   count(*) FILTER (WHERE NOT treated AND used AND x = 1), count(*) FILTER (WHERE NOT treated AND used AND x = 0)]::INTEGER[] AS counts
FROM w WHERE x IS NOT NULL GROUP BY sel ORDER BY sel`);
    for (const r of rs) {
      const sd = r.vt !== null && r.vc !== null ? Math.sqrt((r.vt + r.vc) / 2) : null;
      const smd = (a: number | null, b: number | null) => (sd && a !== null && b !== null ? (a - b) / sd : sd === 0 && a === b ? 0 : null);
      push(r.sel, { covariate: name, smd_before: smd(r.mt, r.mc), smd_after: smd(r.mtw, r.mcw), ...(binary ? { counts: r.counts.map(Number) } : {}) });
    }
  }
  // County: one indicator per county; the row is the largest absolute SMD before and after
  const county = await rows<{ sel: string; kt: number; kc: number; ktu: number; kcu: number; wkc: number | null; nt: number; nc: number; ntu: number; wc: number | null }>(conn, `
WITH w AS (${weighted('county_fips')}),
tot AS (
  SELECT sel, count(*) FILTER (WHERE treated) AS nt, count(*) FILTER (WHERE NOT treated) AS nc,
    count(*) FILTER (WHERE treated AND used) AS ntu, sum(wt) FILTER (WHERE NOT treated AND used) AS wc
  FROM w GROUP BY sel
)
SELECT sel, x, count(*) FILTER (WHERE treated)::INTEGER AS kt, count(*) FILTER (WHERE NOT treated)::INTEGER AS kc,
  count(*) FILTER (WHERE treated AND used)::INTEGER AS ktu, count(*) FILTER (WHERE NOT treated AND used)::INTEGER AS kcu,
  sum(wt) FILTER (WHERE NOT treated AND used) AS wkc, any_value(t.nt)::INTEGER AS nt, any_value(t.nc)::INTEGER AS nc,
  any_value(t.ntu)::INTEGER AS ntu, any_value(t.wc) AS wc
FROM w JOIN tot t USING (sel) WHERE x IS NOT NULL GROUP BY sel, x ORDER BY sel, x`);
  for (const sel of new Set(county.map((c) => c.sel))) {
    let before: number | null = null;
    let after: number | null = null;
    const counts: number[] = [];
    for (const c of county.filter((x) => x.sel === sel)) {
      const pt = c.kt / c.nt, pc = c.kc / c.nc;
      // the sample variance of a 0/1 variable with share p among n: p (1 - p) n / (n - 1)
      const vt = c.nt > 1 ? (pt * (1 - pt) * c.nt) / (c.nt - 1) : null;
      const vc = c.nc > 1 ? (pc * (1 - pc) * c.nc) / (c.nc - 1) : null;
      const sd = vt !== null && vc !== null ? Math.sqrt((vt + vc) / 2) : null;
      if (!sd) continue;
      const b = Math.abs(pt - pc) / sd;
      before = Math.max(before ?? 0, b);
      if (c.ntu > 0 && c.wc) after = Math.max(after ?? 0, Math.abs(c.ktu / c.ntu - (c.wkc ?? 0) / c.wc) / sd);
      counts.push(c.kt, c.nt - c.kt, c.kc, c.nc - c.kc, c.ktu, c.ntu - c.ktu, c.kcu);
    }
    push(sel, { covariate: 'County (largest absolute SMD of any county)', smd_before: before, smd_after: after, counts });
  }
  return out;
}

export async function dropEventStudyTables(conn: DuckDBConnection): Promise<void> {
  for (const t of ['_eval_runs', '_ev_bounds', '_ev_cov', '_ev_first', '_ev_stack', '_ev_y', '_ev_panel', '_ev_person', '_ev_rows', '_ev_cells', '_ev_psi']) {
    await exec(conn, `DROP TABLE IF EXISTS ${t}`);
  }
}

/** Solves V x = b by Gaussian elimination with partial pivoting; null if V is singular. */
function solve(V: number[][], b: number[]): number[] | null {
  const n = b.length;
  const a = V.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[p]![c]!)) p = r;
    const scale = Math.max(...a.map((row) => Math.abs(row[c]!)));
    if (!(Math.abs(a[p]![c]!) > 1e-12 * (scale || 1)) || scale === 0) return null;
    [a[c], a[p]] = [a[p]!, a[c]!];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = a[r]![c]! / a[c]![c]!;
      for (let k = c; k <= n; k++) a[r]![k]! -= f * a[c]![k]!;
    }
  }
  return a.map((row, i) => row[n]! / row[i]!);
}

const round = (x: number | null, step: number) => (x === null || !Number.isFinite(x) ? null : Math.round(x / step) * step);
const r1 = (x: number | null) => (x === null ? null : Number(round(x, 0.1)!.toFixed(1)));
const r2 = (x: number | null) => (x === null ? null : Number(round(x, 0.01)!.toFixed(2)));
/** p-values to 3 significant digits (a small p stays small, never 0). */
const sig3 = (x: number | null) => (x === null || !Number.isFinite(x) ? null : Number(x.toPrecision(3)));

const periodOf = (e: number) =>
  e >= REL_MONTHS.baseline[0] && e <= REL_MONTHS.baseline[1] ? 'baseline' : e === REL_MONTHS.anticipation ? 'anticipation' : e === 0 ? 'referral' : 'after';

/**
 * Which selections' figures may be published under the small-cell rule (threshold t):
 * - a selection's people: both groups >= t; and the referred people of the domains withheld
 *   (the 'any' count minus the published domains' counts: each referred person is in one
 *   domain) 0 or >= t, else the smallest published domain is withheld too;
 * - a month e of an outcome: every event sum behind it (the referred and the comparison
 *   people's events in month e and their baseline events) 0 or >= t; and, as for people, the
 *   sums of the domains not shown at month e ('any' minus the shown domains: the cells
 *   partition by domain) 0 or >= t, else the smallest shown domain is hidden at month e.
 * Returns the selections whose people are shown and, per selection and outcome, the months shown.
 */
export function publishable(studies: EventStudy[], t: number): { people: Set<string>; months: Map<string, Set<number>> } {
  const small = (n: number) => n > 0 && n < t;
  const any = studies.find((s) => s.domain === ANY_DOMAIN);
  const domains = studies.filter((s) => s.domain !== ANY_DOMAIN);
  const people = new Set(studies.filter((s) => s.treatedPeople >= t && s.comparisonPeople >= t).map((s) => s.domain));
  const byTreated = (a: EventStudy, b: EventStudy) => a.treatedPeople - b.treatedPeople || a.domain.localeCompare(b.domain);
  if (any && people.has(ANY_DOMAIN)) {
    for (;;) {
      const shown = domains.filter((d) => people.has(d.domain));
      if (shown.length === 0 || !small(any.treatedPeople - shown.reduce((n, d) => n + d.treatedPeople, 0))) break;
      people.delete(shown.sort(byTreated)[0]!.domain);
    }
  }
  const months = new Map<string, Set<number>>();
  const key = (sel: string, o: Outcome) => `${sel}|${o}`;
  const sums = (m: MonthEstimate) => [m.eventsTreated, m.eventsComparison, m.baseTreated, m.baseComparison];
  for (const s of studies) {
    for (const o of s.outcomes) {
      const ok = people.has(s.domain) ? o.months.filter((m) => !sums(m).some(small)).map((m) => m.e) : [];
      months.set(key(s.domain, o.outcome), new Set(ok));
    }
  }
  if (any) {
    for (const o of any.outcomes) {
      for (const m of o.months) {
        if (!months.get(key(ANY_DOMAIN, o.outcome))!.has(m.e)) continue;
        for (;;) {
          const shown = domains
            .map((d) => ({ d, m: d.outcomes.find((x) => x.outcome === o.outcome)!.months.find((x) => x.e === m.e) }))
            .filter((x) => x.m && months.get(key(x.d.domain, o.outcome))!.has(m.e));
          const rest = sums(m).map((v, i) => v - shown.reduce((n, x) => n + sums(x.m!)[i]!, 0));
          if (shown.length === 0 || !rest.some(small)) break;
          const hide = shown.sort((a, b) => a.m!.treated - b.m!.treated || a.d.domain.localeCompare(b.d.domain))[0]!;
          months.get(key(hide.d.domain, o.outcome))!.delete(m.e);
        }
      }
    }
  }
  return { people, months };
}

/**
 * Computes the event studies ('any' and each domain of a first referral) and writes the
 * published tables (evaluation_summary, evaluation_event_study, evaluation_balance, one set of
 * rows per domain selection) under the small-cell rule (publishable): nothing but the status
 * when the referred or comparison people are fewer than `threshold`; a month's estimate only
 * when every event sum behind it is 0 or at least `threshold`; the average over +1..+6 only
 * when its six months are published, the pre-trend test only when months -6..-3 are; a yes/no
 * balance figure only when every count behind it is 0 or at least `threshold`. Estimates are
 * published per 1,000 member-months, rounded to 0.1. Returns the 'any' selection.
 */
export async function buildEvaluation(conn: DuckDBConnection, opts: { runId: string; asOf: string; threshold: number }): Promise<EventStudy> {
  const studies = await computeEventStudies(conn, opts.asOf);
  await dropEventStudyTables(conn);
  const t = opts.threshold;
  const small = (n: number) => n > 0 && n < t;
  const pub = publishable(studies, t);
  const summary: BulkValue[][] = [];
  const months: BulkValue[][] = [];
  const balance: BulkValue[][] = [];
  for (const study of studies) {
    const peopleShown = pub.people.has(study.domain);
    for (const o of study.outcomes) {
      const shownMonths = pub.months.get(`${study.domain}|${o.outcome}`)!;
      const hidden = o.months.filter((m) => !shownMonths.has(m.e)).map((m) => m.e);
      const attShown = o.att !== null && ATT_MONTHS.every((e) => shownMonths.has(e));
      let status: string;
      let note: string;
      if (study.cohorts === 0 || o.months.length === 0) {
        status = 'not_estimable';
        note = 'No cohort: the data need 13 whole months with encounters and referrals (six before a first referral, six after), and people with a positive screening who were referred and not yet referred.';
      } else if (!peopleShown) {
        status = 'withheld';
        note = study.treatedPeople >= t && study.comparisonPeople >= t
          ? 'Withheld with the smallest domains so that the domains withheld for fewer than the small-cell threshold of people cannot be worked out from the others.'
          : `Fewer than ${t} referred or comparison people: withheld by the small-cell rule.`;
      } else if (!o.att) {
        status = 'not_estimable';
        note = 'Months +1..+6 are not all observed for any cohort.';
      } else if (!attShown) {
        status = 'withheld';
        note = `Events in months +1..+6 (referred or comparison people, or their baseline) are between 1 and ${t - 1}: the average is withheld by the small-cell rule${hidden.length < o.months.length ? '; the months shown are published' : ''}.`;
      } else {
        status = 'published';
        note = hidden.length ? `Month${hidden.length > 1 ? 's' : ''} ${hidden.map((e) => (e > 0 ? `+${e}` : `${e}`)).join(', ')} withheld: events between 1 and ${t - 1} (small-cell rule).` : '';
      }
      const att = attShown && peopleShown ? o.att : null;
      const pretrendShown = att !== null && o.pretrend !== null && PRETREND_MONTHS.every((e) => shownMonths.has(e));
      summary.push([
        study.domain, o.outcome, status, note,
        att ? r1(1000 * att.estimate) : null,
        att ? r1(1000 * (att.estimate - Z * att.se)) : null,
        att ? r1(1000 * (att.estimate + Z * att.se)) : null,
        att ? sig3(att.se > 0 ? 2 * normalSf(Math.abs(att.estimate / att.se)) : null) : null,
        pretrendShown ? r2(o.pretrend!.chi2) : null,
        pretrendShown ? o.pretrend!.df : null,
        pretrendShown ? sig3(o.pretrend!.p) : null,
        peopleShown ? study.treatedPeople : null,
        peopleShown ? study.comparisonPeople : null,
        study.cohorts, study.firstCohort, study.lastCohort,
      ]);
      for (const m of o.months) {
        if (!shownMonths.has(m.e)) continue;
        const se = Math.sqrt(m.variance);
        months.push([study.domain, o.outcome, m.e, r1(1000 * m.estimate), r1(1000 * (m.estimate - Z * se)), r1(1000 * (m.estimate + Z * se)), periodOf(m.e)]);
      }
    }
    if (peopleShown) {
      study.balance.forEach((b, i) => {
        if (!(b.counts ?? []).some(small)) balance.push([study.domain, b.covariate, r2(b.smd_before), r2(b.smd_after), i]);
      });
    }
  }
  await bulkTable(conn, '_evaluation_summary', [
    ['domain', 'VARCHAR'], ['outcome', 'VARCHAR'], ['status', 'VARCHAR'], ['note', 'VARCHAR'], ['att_per_1000', 'DOUBLE'], ['ci_low', 'DOUBLE'], ['ci_high', 'DOUBLE'], ['p_value', 'DOUBLE'],
    ['pretrend_chi2', 'DOUBLE'], ['pretrend_df', 'DOUBLE'], ['pretrend_p', 'DOUBLE'], ['treated_people', 'DOUBLE'], ['comparison_people', 'DOUBLE'],
    ['cohorts', 'DOUBLE'], ['first_cohort', 'VARCHAR'], ['last_cohort', 'VARCHAR'],
  ], summary);
  await bulkTable(conn, '_evaluation_months', [
    ['domain', 'VARCHAR'], ['outcome', 'VARCHAR'], ['rel_month', 'DOUBLE'], ['estimate_per_1000', 'DOUBLE'], ['ci_low', 'DOUBLE'], ['ci_high', 'DOUBLE'], ['period', 'VARCHAR'],
  ], months);
  await bulkTable(conn, '_evaluation_balance', [['domain', 'VARCHAR'], ['covariate', 'VARCHAR'], ['smd_before', 'DOUBLE'], ['smd_after', 'DOUBLE'], ['ord', 'DOUBLE']], balance);
  const stamp = `${sqlString(opts.runId)} AS run_id, DATE ${sqlString(opts.asOf)} AS as_of`;
  // 'any' first, then the domains in order
  const domainOrder = `CASE WHEN domain = '${ANY_DOMAIN}' THEN 0 ELSE 1 END, domain`;
  await exec(conn, `CREATE OR REPLACE TABLE evaluation_summary AS
SELECT domain, outcome, status, note, att_per_1000, ci_low, ci_high, p_value, pretrend_chi2, pretrend_df::INTEGER AS pretrend_df, pretrend_p,
  treated_people::INTEGER AS treated_people, comparison_people::INTEGER AS comparison_people, cohorts::INTEGER AS cohorts, first_cohort, last_cohort, ${stamp}
FROM _evaluation_summary ORDER BY ${domainOrder}, outcome`);
  await exec(conn, `CREATE OR REPLACE TABLE evaluation_event_study AS
SELECT domain, outcome, rel_month::INTEGER AS rel_month, estimate_per_1000, ci_low, ci_high, period, ${stamp}
FROM _evaluation_months ORDER BY ${domainOrder}, outcome, rel_month`);
  await exec(conn, `CREATE OR REPLACE TABLE evaluation_balance AS SELECT domain, covariate, smd_before, smd_after, ${stamp} FROM _evaluation_balance ORDER BY ${domainOrder}, ord`);
  for (const tb of ['_evaluation_summary', '_evaluation_months', '_evaluation_balance']) await exec(conn, `DROP TABLE ${tb}`);
  return studies[0]!;
}
