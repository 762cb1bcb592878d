// PHQ-9 comparison (issue 22): the change in score from an elevated index PHQ-9 (>= 10) to
// the follow-up on days 120..240, referred against not-yet-referred people, with the event
// study's weights (age band x Medicaid). Person-level work in DuckDB (phq9.sql); here only
// the per-cell sums, the small-cell rule and the published tables. Design: README.md here.
import type { DuckDBConnection } from '@duckdb/node-api';
import { exec, rows, sqlString } from '../duckdb.ts';
import { bulkTable, type BulkValue } from '../metrics/bulk.ts';
import { normalQuantile, normalSf } from '../stats/distributions.ts';
import { runEvaluationSql } from './sql.ts';

/** The index score that makes an episode elevated: PHQ-9 >= 10, moderate depression or worse. */
export const PHQ9_INDEX_MIN = 10;
export const PHQ9_FOLLOW_UP_DAYS = [120, 240] as const;
export const PHQ9_REFERRAL_DAYS = 30;
const Z = normalQuantile(0.975);

export interface Phq9Balance { covariate: string; smd_before: number | null; smd_after: number | null; binary: boolean; counts: number[] }
export interface Phq9Comparison {
  /** referred and comparison people in the cells used */
  treated: number;
  comparison: number;
  /** mean change (follow-up - index), referred minus weighted comparison, in PHQ-9 points */
  estimate: number | null;
  se: number | null;
  balance: Phq9Balance[];
}

/** The unpublished comparison. Leaves temporary tables _ph_* behind; buildPhq9Comparison drops them. */
export async function computePhq9Comparison(conn: DuckDBConnection, asOf: string): Promise<Phq9Comparison> {
  await runEvaluationSql(conn, 'phq9.sql', asOf);
  // the weighted difference of means and its variance: sum of share^2 x (s_t^2 / n_t + s_c^2 / n_c)
  const e = (await rows<{ treated: number | null; comparison: number | null; estimate: number | null; variance: number | null }>(conn, `
SELECT sum(n_t)::INTEGER AS treated, sum(n_c)::INTEGER AS comparison, sum(n_t::DOUBLE / n * (m_t - m_c)) AS estimate,
  sum((n_t::DOUBLE / n) ** 2 * (v_t / n_t + v_c / n_c)) AS variance
FROM _ph_cells`))[0]!;
  const covariates: Array<[string, string, boolean]> = [
    ['Index PHQ-9 score', 'index_score::DOUBLE', false],
    ['Age (years)', 'age::DOUBLE', false],
    ['Female', 'female::INTEGER::DOUBLE', true],
    ['Medicaid', 'medicaid::INTEGER::DOUBLE', true],
  ];
  const balance: Phq9Balance[] = [];
  for (const [covariate, expr, binary] of covariates) {
    const r = (await rows<{ mt: number | null; vt: number | null; mc: number | null; vc: number | null; mtw: number | null; mcw: number | null; counts: number[] }>(conn, `
WITH w AS (
  SELECT p.treated, ${expr} AS x, c.stratum IS NOT NULL AS used, CASE WHEN p.treated THEN 1.0 ELSE c.n_t::DOUBLE / c.n_c END AS wt
  FROM _ph_person p LEFT JOIN _ph_cells c USING (stratum)
)
SELECT avg(x) FILTER (WHERE treated) AS mt, var_samp(x) FILTER (WHERE treated) AS vt,
  avg(x) FILTER (WHERE NOT treated) AS mc, var_samp(x) FILTER (WHERE NOT treated) AS vc,
  avg(x) FILTER (WHERE treated AND used) AS mtw,
  sum(wt * x) FILTER (WHERE NOT treated AND used) / sum(wt) FILTER (WHERE NOT treated AND used) AS mcw,
  -- for a yes/no characteristic, the people with and without it in each group behind the SMDs
  [count(*) FILTER (WHERE treated AND x = 1), count(*) FILTER (WHERE treated AND x = 0),
   count(*) FILTER (WHERE NOT treated AND x = 1), count(*) FILTER (WHERE NOT treated AND x = 0),
   count(*) FILTER (WHERE treated AND used AND x = 1), count(*) FILTER (WHERE treated AND used AND x = 0),
   count(*) FILTER (WHERE NOT treated AND used AND x = 1), count(*) FILTER (WHERE NOT treated AND used AND x = 0)]::INTEGER[] AS counts
FROM w WHERE x IS NOT NULL`))[0]!;
    const sd = r.vt !== null && r.vc !== null ? Math.sqrt((r.vt + r.vc) / 2) : null;
    const smd = (a: number | null, b: number | null) => (sd && a !== null && b !== null ? (a - b) / sd : sd === 0 && a !== null && a === b ? 0 : null);
    balance.push({ covariate, smd_before: smd(r.mt, r.mc), smd_after: smd(r.mtw, r.mcw), binary, counts: r.counts.map(Number) });
  }
  return {
    treated: e.treated ?? 0,
    comparison: e.comparison ?? 0,
    estimate: e.estimate,
    se: e.variance === null ? null : Math.sqrt(e.variance),
    balance,
  };
}

const r1 = (x: number | null) => (x === null || !Number.isFinite(x) ? null : Number((Math.round(x * 10) / 10).toFixed(1)));
const r2 = (x: number | null) => (x === null || !Number.isFinite(x) ? null : Number((Math.round(x * 100) / 100).toFixed(2)));
const sig3 = (x: number | null) => (x === null || !Number.isFinite(x) ? null : Number(x.toPrecision(3)));

/**
 * Computes the comparison and writes evaluation_phq9 (one row) and evaluation_phq9_balance
 * under the small-cell rule: nothing but the status when the referred or the comparison
 * people are fewer than `threshold`; a yes/no characteristic's SMDs only when every count
 * of people with and without it behind them is 0 or at least `threshold`.
 */
export async function buildPhq9Comparison(conn: DuckDBConnection, opts: { runId: string; asOf: string; threshold: number }): Promise<Phq9Comparison & { status: string }> {
  const c = await computePhq9Comparison(conn, opts.asOf);
  for (const t of ['_eval_runs', '_ph_episode', '_ph_person', '_ph_cells']) await exec(conn, `DROP TABLE IF EXISTS ${t}`);
  const t = opts.threshold;
  let status: string;
  let note = '';
  if (c.treated === 0 || c.comparison === 0 || c.estimate === null) {
    status = 'not_estimable';
    note = `No referred and comparison people of the same age band and Medicaid coverage with an index PHQ-9 of ${PHQ9_INDEX_MIN} or more, a positive screening and a follow-up PHQ-9 on days ${PHQ9_FOLLOW_UP_DAYS[0]}..${PHQ9_FOLLOW_UP_DAYS[1]}.`;
  } else if (c.treated < t || c.comparison < t) {
    status = 'withheld';
    note = `Fewer than ${t} referred or comparison people: withheld by the small-cell rule.`;
  } else status = 'published';
  const shown = status === 'published';
  const se = c.se ?? 0;
  const row: BulkValue[] = [
    status, note,
    shown ? r1(c.estimate) : null,
    shown ? r1(c.estimate! - Z * se) : null,
    shown ? r1(c.estimate! + Z * se) : null,
    shown && se > 0 ? sig3(2 * normalSf(Math.abs(c.estimate! / se))) : null,
    shown ? c.treated : null,
    shown ? c.comparison : null,
  ];
  await bulkTable(conn, '_evaluation_phq9', [
    ['status', 'VARCHAR'], ['note', 'VARCHAR'], ['change_difference', 'DOUBLE'], ['ci_low', 'DOUBLE'], ['ci_high', 'DOUBLE'], ['p_value', 'DOUBLE'],
    ['treated_people', 'DOUBLE'], ['comparison_people', 'DOUBLE'],
  ], [row]);
  const small = (n: number) => n > 0 && n < t;
  const balance = shown
    ? c.balance.filter((b) => !(b.binary && b.counts.some(small))).map((b, i) => [b.covariate, r2(b.smd_before), r2(b.smd_after), i])
    : [];
  await bulkTable(conn, '_evaluation_phq9_balance', [['covariate', 'VARCHAR'], ['smd_before', 'DOUBLE'], ['smd_after', 'DOUBLE'], ['ord', 'DOUBLE']], balance);
  const stamp = `${sqlString(opts.runId)} AS run_id, DATE ${sqlString(opts.asOf)} AS as_of`;
  await exec(conn, `CREATE OR REPLACE TABLE evaluation_phq9 AS
SELECT status, note, change_difference, ci_low, ci_high, p_value, treated_people::INTEGER AS treated_people, comparison_people::INTEGER AS comparison_people, ${stamp}
FROM _evaluation_phq9`);
  await exec(conn, `CREATE OR REPLACE TABLE evaluation_phq9_balance AS SELECT covariate, smd_before, smd_after, ${stamp} FROM _evaluation_phq9_balance ORDER BY ord`);
  for (const tb of ['_evaluation_phq9', '_evaluation_phq9_balance']) await exec(conn, `DROP TABLE ${tb}`);
  return { ...c, status };
}
