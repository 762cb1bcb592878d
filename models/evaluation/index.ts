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
}

export interface OutcomeEstimate {
  outcome: Outcome;
  months: MonthEstimate[];
  att: { estimate: number; se: number } | null;
  pretrend: { chi2: number; df: number; p: number } | null;
}

export interface BalanceRow { covariate: string; smd_before: number | null; smd_after: number | null }

export interface EventStudy {
  treatedPeople: number;
  comparisonPeople: number;
  cohorts: number;
  firstCohort: string | null;
  lastCohort: string | null;
  outcomes: OutcomeEstimate[];
  balance: BalanceRow[];
}

const monthText = (m: number) => `${Math.floor(m / 12)}-${String((m % 12) + 1).padStart(2, '0')}`;

/**
 * The unpublished estimates (person-level work in SQL, on the warehouse's stg_* tables).
 * Leaves temporary tables _ev_* behind on this connection; dropEventStudyTables removes them.
 */
export async function computeEventStudy(conn: DuckDBConnection, asOf: string): Promise<EventStudy> {
  await runEvaluationSql(conn, 'event_study.sql', asOf);

  const est = await rows<{ outcome: Outcome; e: number; estimate: number; treated: number; cohorts: number; events_t: number; events_c: number }>(conn, `
SELECT outcome, e::INTEGER AS e, sum(n_t::DOUBLE / n_e * (m_t - m_c)) AS estimate, sum(n_t)::INTEGER AS treated,
  count(DISTINCT g)::INTEGER AS cohorts, sum(events_t)::DOUBLE AS events_t, sum(events_c)::DOUBLE AS events_c
FROM _ev_cells GROUP BY outcome, e ORDER BY outcome, e`);
  const cov = await rows<{ outcome: Outcome; e1: number; e2: number; c: number }>(conn, `
SELECT a.outcome, a.e::INTEGER AS e1, b.e::INTEGER AS e2, sum(a.psi * b.psi) AS c
FROM _ev_psi a JOIN _ev_psi b ON a.outcome = b.outcome AND a.person_id = b.person_id
WHERE a.e = b.e OR (a.e IN (${PRETREND_MONTHS}) AND b.e IN (${PRETREND_MONTHS})) OR (a.e IN (${ATT_MONTHS}) AND b.e IN (${ATT_MONTHS}))
GROUP BY ALL`);
  const covOf = (o: Outcome, a: number, b: number) => cov.find((c) => c.outcome === o && c.e1 === a && c.e2 === b)?.c ?? 0;

  const outcomes: OutcomeEstimate[] = OUTCOMES.map((outcome) => {
    const months = est.filter((r) => r.outcome === outcome).map((r) => ({
      e: r.e, estimate: r.estimate, variance: covOf(outcome, r.e, r.e), treated: r.treated, cohorts: r.cohorts,
      eventsTreated: r.events_t, eventsComparison: r.events_c,
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

  const sizes = (await rows<{ treated: number; comparison: number; cohorts: number; first_g: number | null; last_g: number | null }>(conn, `
SELECT count(DISTINCT person_id) FILTER (WHERE treated)::INTEGER AS treated,
  count(DISTINCT person_id) FILTER (WHERE NOT treated)::INTEGER AS comparison,
  count(DISTINCT g)::INTEGER AS cohorts, min(g)::INTEGER AS first_g, max(g)::INTEGER AS last_g
FROM _ev_rows r JOIN _ev_cells c USING (outcome, e, g, stratum)
WHERE r.usable AND r.outcome = 'ed_visits' AND r.e = 1`))[0]!;

  return {
    treatedPeople: sizes.treated,
    comparisonPeople: sizes.comparison,
    cohorts: sizes.cohorts,
    firstCohort: sizes.first_g === null ? null : monthText(sizes.first_g),
    lastCohort: sizes.last_g === null ? null : monthText(sizes.last_g),
    outcomes,
    balance: await balance(conn),
  };
}

/**
 * Standardised mean differences, treated vs comparison, over the stacks of month +1:
 * before = every usable comparison person-stack with weight 1; after = the cells used, with
 * the comparison weights n_t / n_c. The denominator is the pooled SD before weighting.
 */
async function balance(conn: DuckDBConnection): Promise<BalanceRow[]> {
  const covariates: Array<[string, string]> = [
    ['ED visits per month, months -6..-2', 'pre_ed / 5.0'],
    ['Admissions per month, months -6..-2', 'pre_ip / 5.0'],
    ['Age (years)', 'age::DOUBLE'],
    ['Female', 'female::INTEGER::DOUBLE'],
    ['Medicaid', 'medicaid::INTEGER::DOUBLE'],
    ['Rural', 'rural::INTEGER::DOUBLE'],
  ];
  const out: BalanceRow[] = [];
  for (const [name, expr] of covariates) {
    const r = (await rows<{ mt: number | null; vt: number | null; mc: number | null; vc: number | null; mcw: number | null; mtw: number | null }>(conn, `
WITH base AS (
  SELECT p.*, ${expr} AS x, r.stratum
  FROM _ev_person p JOIN _ev_rows r ON r.g = p.g AND r.person_id = p.person_id AND r.outcome = 'ed_visits' AND r.e = 1 AND r.usable
),
w AS (
  SELECT b.*, CASE WHEN b.treated THEN 1.0 ELSE c.n_t::DOUBLE / c.n_c END AS wt, c.g IS NOT NULL AS used
  FROM base b LEFT JOIN _ev_cells c ON c.outcome = 'ed_visits' AND c.e = 1 AND c.g = b.g AND c.stratum = b.stratum
)
SELECT avg(x) FILTER (WHERE treated) AS mt, var_samp(x) FILTER (WHERE treated) AS vt,
  avg(x) FILTER (WHERE NOT treated) AS mc, var_samp(x) FILTER (WHERE NOT treated) AS vc,
  sum(wt * x) FILTER (WHERE NOT treated AND used) / sum(wt) FILTER (WHERE NOT treated AND used) AS mcw,
  avg(x) FILTER (WHERE treated AND used) AS mtw
FROM w WHERE x IS NOT NULL`))[0]!;
    const sd = r.vt !== null && r.vc !== null ? Math.sqrt((r.vt + r.vc) / 2) : null;
    const smd = (a: number | null, b: number | null) => (sd && a !== null && b !== null ? (a - b) / sd : sd === 0 && a === b ? 0 : null);
    out.push({ covariate: name, smd_before: smd(r.mt, r.mc), smd_after: smd(r.mtw, r.mcw) });
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

/**
 * Computes the event study and writes the published tables (evaluation_summary,
 * evaluation_event_study, evaluation_balance) under the small-cell rule: nothing when the
 * treated or comparison people are fewer than `threshold`; an outcome's estimates only when
 * every event sum behind them (treated and comparison, each relative month) is 0 or at
 * least `threshold`. Estimates are published per 1,000 member-months, rounded to 0.1.
 */
export async function buildEvaluation(conn: DuckDBConnection, opts: { runId: string; asOf: string; threshold: number }): Promise<EventStudy> {
  const study = await computeEventStudy(conn, opts.asOf);
  await dropEventStudyTables(conn);
  const t = opts.threshold;
  const small = (n: number) => n > 0 && n < t;
  const peopleShown = study.treatedPeople >= t && study.comparisonPeople >= t;
  const summary: BulkValue[][] = [];
  const months: BulkValue[][] = [];
  for (const o of study.outcomes) {
    let status: string;
    let note: string;
    if (study.cohorts === 0 || o.months.length === 0) {
      status = 'not_estimable';
      note = 'No cohort: the data need 13 whole months with encounters and referrals (six before a first referral, six after), and people with a positive screening who were referred and not yet referred.';
    } else if (!peopleShown) {
      status = 'withheld';
      note = `Fewer than ${t} referred or comparison people: withheld by the small-cell rule.`;
    } else if (o.months.some((m) => small(m.eventsTreated) || small(m.eventsComparison))) {
      status = 'withheld';
      note = `A month's events (referred or comparison people) are between 1 and ${t - 1}: withheld by the small-cell rule.`;
    } else if (!o.att) {
      status = 'not_estimable';
      note = 'Months +1..+6 are not all observed for any cohort.';
    } else {
      status = 'published';
      note = '';
    }
    const shown = status === 'published';
    const att = shown ? o.att : null;
    summary.push([
      o.outcome, status, note,
      att ? r1(1000 * att.estimate) : null,
      att ? r1(1000 * (att.estimate - Z * att.se)) : null,
      att ? r1(1000 * (att.estimate + Z * att.se)) : null,
      att ? sig3(att.se > 0 ? 2 * normalSf(Math.abs(att.estimate / att.se)) : null) : null,
      shown && o.pretrend ? r2(o.pretrend.chi2) : null,
      shown && o.pretrend ? o.pretrend.df : null,
      shown && o.pretrend ? sig3(o.pretrend.p) : null,
      peopleShown ? study.treatedPeople : null,
      peopleShown ? study.comparisonPeople : null,
      study.cohorts, study.firstCohort, study.lastCohort,
    ]);
    if (!shown) continue;
    for (const m of o.months) {
      const se = Math.sqrt(m.variance);
      months.push([
        o.outcome, m.e, r1(1000 * m.estimate), r1(1000 * (m.estimate - Z * se)), r1(1000 * (m.estimate + Z * se)),
        m.e >= REL_MONTHS.baseline[0] && m.e <= REL_MONTHS.baseline[1] ? 'baseline' : m.e === REL_MONTHS.anticipation ? 'anticipation' : m.e === 0 ? 'referral' : 'after',
      ]);
    }
  }
  await bulkTable(conn, '_evaluation_summary', [
    ['outcome', 'VARCHAR'], ['status', 'VARCHAR'], ['note', 'VARCHAR'], ['att_per_1000', 'DOUBLE'], ['ci_low', 'DOUBLE'], ['ci_high', 'DOUBLE'], ['p_value', 'DOUBLE'],
    ['pretrend_chi2', 'DOUBLE'], ['pretrend_df', 'DOUBLE'], ['pretrend_p', 'DOUBLE'], ['treated_people', 'DOUBLE'], ['comparison_people', 'DOUBLE'],
    ['cohorts', 'DOUBLE'], ['first_cohort', 'VARCHAR'], ['last_cohort', 'VARCHAR'],
  ], summary);
  await bulkTable(conn, '_evaluation_months', [
    ['outcome', 'VARCHAR'], ['rel_month', 'DOUBLE'], ['estimate_per_1000', 'DOUBLE'], ['ci_low', 'DOUBLE'], ['ci_high', 'DOUBLE'], ['period', 'VARCHAR'],
  ], months);
  await bulkTable(conn, '_evaluation_balance', [['covariate', 'VARCHAR'], ['smd_before', 'DOUBLE'], ['smd_after', 'DOUBLE'], ['ord', 'DOUBLE']],
    peopleShown ? study.balance.map((b, i) => [b.covariate, r2(b.smd_before), r2(b.smd_after), i]) : []);
  const stamp = `${sqlString(opts.runId)} AS run_id, DATE ${sqlString(opts.asOf)} AS as_of`;
  await exec(conn, `CREATE OR REPLACE TABLE evaluation_summary AS
SELECT outcome, status, note, att_per_1000, ci_low, ci_high, p_value, pretrend_chi2, pretrend_df::INTEGER AS pretrend_df, pretrend_p,
  treated_people::INTEGER AS treated_people, comparison_people::INTEGER AS comparison_people, cohorts::INTEGER AS cohorts, first_cohort, last_cohort, ${stamp}
FROM _evaluation_summary ORDER BY outcome`);
  await exec(conn, `CREATE OR REPLACE TABLE evaluation_event_study AS
SELECT outcome, rel_month::INTEGER AS rel_month, estimate_per_1000, ci_low, ci_high, period, ${stamp}
FROM _evaluation_months ORDER BY outcome, rel_month`);
  await exec(conn, `CREATE OR REPLACE TABLE evaluation_balance AS SELECT covariate, smd_before, smd_after, ${stamp} FROM _evaluation_balance ORDER BY ord`);
  for (const tb of ['_evaluation_summary', '_evaluation_months', '_evaluation_balance']) await exec(conn, `DROP TABLE ${tb}`);
  return study;
}
