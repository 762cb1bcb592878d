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
  /** 'any' (every first referral) or the need domain of the referred people's first referral */
  domain: string;
  /** referred and comparison people in the cells used */
  treated: number;
  comparison: number;
  /** mean change (follow-up - index), referred minus weighted comparison, in PHQ-9 points */
  estimate: number | null;
  se: number | null;
  balance: Phq9Balance[];
}

/**
 * The unpublished comparisons, 'any' first, then each need domain of a first referral. Leaves
 * temporary tables _ph_* behind; buildPhq9Comparison drops them.
 */
export async function computePhq9Comparisons(conn: DuckDBConnection, asOf: string): Promise<Phq9Comparison[]> {
  await runEvaluationSql(conn, 'phq9.sql', asOf);
  // the weighted difference of means and its variance: sum of share^2 x (s_t^2 / n_t + s_c^2 / n_c)
  const est = await rows<{ sel: string; treated: number | null; comparison: number | null; estimate: number | null; variance: number | null }>(conn, `
SELECT sel, sum(n_t)::INTEGER AS treated, sum(n_c)::INTEGER AS comparison, sum(n_t::DOUBLE / n * (m_t - m_c)) AS estimate,
  sum((n_t::DOUBLE / n) ** 2 * (v_t / n_t + v_c / n_c)) AS variance
FROM _ph_cells GROUP BY sel`);
  const covariates: Array<[string, string, boolean]> = [
    ['Index PHQ-9 score', 'index_score::DOUBLE', false],
    ['Age (years)', 'age::DOUBLE', false],
    ['Female', 'female::INTEGER::DOUBLE', true],
    ['Medicaid', 'medicaid::INTEGER::DOUBLE', true],
  ];
  const balance = new Map<string, Phq9Balance[]>();
  for (const [covariate, expr, binary] of covariates) {
    const rs = await rows<{ sel: string; mt: number | null; vt: number | null; mc: number | null; vc: number | null; mtw: number | null; mcw: number | null; counts: number[] }>(conn, `
WITH w AS (
  SELECT p.sel, p.treated, ${expr} AS x, c.stratum IS NOT NULL AS used, CASE WHEN p.treated THEN 1.0 ELSE c.n_t::DOUBLE / c.n_c END AS wt
  FROM _ph_person p LEFT JOIN _ph_cells c USING (sel, stratum)
)
SELECT sel, avg(x) FILTER (WHERE treated) AS mt, var_samp(x) FILTER (WHERE treated) AS vt,
  avg(x) FILTER (WHERE NOT treated) AS mc, var_samp(x) FILTER (WHERE NOT treated) AS vc,
  avg(x) FILTER (WHERE treated AND used) AS mtw,
  sum(wt * x) FILTER (WHERE NOT treated AND used) / sum(wt) FILTER (WHERE NOT treated AND used) AS mcw,
  -- for a yes/no characteristic, the people with and without it in each group behind the SMDs
  [count(*) FILTER (WHERE treated AND x = 1), count(*) FILTER (WHERE treated AND x = 0),
   count(*) FILTER (WHERE NOT treated AND x = 1), count(*) FILTER (WHERE NOT treated AND x = 0),
   count(*) FILTER (WHERE treated AND used AND x = 1), count(*) FILTER (WHERE treated AND used AND x = 0),
   count(*) FILTER (WHERE NOT treated AND used AND x = 1), count(*) FILTER (WHERE NOT treated AND used AND x = 0)]::INTEGER[] AS counts
FROM w WHERE x IS NOT NULL GROUP BY sel`);
    for (const r of rs) {
      const sd = r.vt !== null && r.vc !== null ? Math.sqrt((r.vt + r.vc) / 2) : null;
      const smd = (a: number | null, b: number | null) => (sd && a !== null && b !== null ? (a - b) / sd : sd === 0 && a !== null && a === b ? 0 : null);
      balance.set(r.sel, [...(balance.get(r.sel) ?? []), { covariate, smd_before: smd(r.mt, r.mc), smd_after: smd(r.mtw, r.mcw), binary, counts: r.counts.map(Number) }]);
    }
  }
  const sels = [...new Set([ANY, ...est.map((e) => e.sel), ...balance.keys()])].sort((a, b) => (a === ANY ? -1 : b === ANY ? 1 : a.localeCompare(b)));
  return sels.map((sel) => {
    const e = est.find((x) => x.sel === sel);
    return {
      domain: sel,
      treated: e?.treated ?? 0,
      comparison: e?.comparison ?? 0,
      estimate: e?.estimate ?? null,
      se: e?.variance == null ? null : Math.sqrt(e.variance),
      balance: balance.get(sel) ?? [],
    };
  });
}

const ANY = 'any';

/** The comparison for every domain together (the default selection). */
export async function computePhq9Comparison(conn: DuckDBConnection, asOf: string): Promise<Phq9Comparison> {
  return (await computePhq9Comparisons(conn, asOf))[0]!;
}

const r1 = (x: number | null) => (x === null || !Number.isFinite(x) ? null : Number((Math.round(x * 10) / 10).toFixed(1)));
const r2 = (x: number | null) => (x === null || !Number.isFinite(x) ? null : Number((Math.round(x * 100) / 100).toFixed(2)));
const sig3 = (x: number | null) => (x === null || !Number.isFinite(x) ? null : Number(x.toPrecision(3)));

/**
 * Computes the comparisons ('any' and each domain of a first referral) and writes
 * evaluation_phq9 (one row per selection) and evaluation_phq9_balance under the small-cell
 * rule: nothing but the status when the referred or the comparison people are fewer than
 * `threshold`, or when the referred people of the domains withheld ('any' minus the published
 * domains: each referred person is in one domain) would be 1..threshold-1 (the smallest
 * published domain is withheld too); a yes/no characteristic's SMDs only when every count of
 * people with and without it behind them is 0 or at least `threshold`. Returns 'any'.
 */
export async function buildPhq9Comparison(conn: DuckDBConnection, opts: { runId: string; asOf: string; threshold: number }): Promise<Phq9Comparison & { status: string }> {
  const all = await computePhq9Comparisons(conn, opts.asOf);
  for (const t of ['_eval_runs', '_ph_episode', '_ph_person', '_ph_cells']) await exec(conn, `DROP TABLE IF EXISTS ${t}`);
  const t = opts.threshold;
  const small = (n: number) => n > 0 && n < t;
  const estimable = (c: Phq9Comparison) => c.treated > 0 && c.comparison > 0 && c.estimate !== null;
  const shownSet = new Set(all.filter((c) => estimable(c) && c.treated >= t && c.comparison >= t).map((c) => c.domain));
  const any = all[0]!;
  if (shownSet.has(ANY)) {
    for (;;) {
      const shown = all.filter((c) => c.domain !== ANY && shownSet.has(c.domain));
      if (shown.length === 0 || !small(any.treated - shown.reduce((n, c) => n + c.treated, 0))) break;
      shownSet.delete(shown.sort((a, b) => a.treated - b.treated || a.domain.localeCompare(b.domain))[0]!.domain);
    }
  }
  const out: BulkValue[][] = [];
  const balance: BulkValue[][] = [];
  let anyStatus = 'not_estimable';
  for (const c of all) {
    let status: string;
    let note = '';
    if (!estimable(c)) {
      status = 'not_estimable';
      note = `No referred and comparison people of the same age band and Medicaid coverage with an index PHQ-9 of ${PHQ9_INDEX_MIN} or more, a positive screening and a follow-up PHQ-9 on days ${PHQ9_FOLLOW_UP_DAYS[0]}..${PHQ9_FOLLOW_UP_DAYS[1]}.`;
    } else if (!shownSet.has(c.domain)) {
      status = 'withheld';
      note = c.treated < t || c.comparison < t
        ? `Fewer than ${t} referred or comparison people: withheld by the small-cell rule.`
        : 'Withheld with the smallest domains so that the domains withheld for fewer than the small-cell threshold of people cannot be worked out from the others.';
    } else status = 'published';
    if (c.domain === ANY) anyStatus = status;
    const shown = status === 'published';
    const se = c.se ?? 0;
    out.push([
      c.domain, status, note,
      shown ? r1(c.estimate) : null,
      shown ? r1(c.estimate! - Z * se) : null,
      shown ? r1(c.estimate! + Z * se) : null,
      shown && se > 0 ? sig3(2 * normalSf(Math.abs(c.estimate! / se))) : null,
      shown ? c.treated : null,
      shown ? c.comparison : null,
    ]);
    if (shown) c.balance.forEach((b, i) => { if (!(b.binary && b.counts.some(small))) balance.push([c.domain, b.covariate, r2(b.smd_before), r2(b.smd_after), i]); });
  }
  await bulkTable(conn, '_evaluation_phq9', [
    ['domain', 'VARCHAR'], ['status', 'VARCHAR'], ['note', 'VARCHAR'], ['change_difference', 'DOUBLE'], ['ci_low', 'DOUBLE'], ['ci_high', 'DOUBLE'], ['p_value', 'DOUBLE'],
    ['treated_people', 'DOUBLE'], ['comparison_people', 'DOUBLE'],
  ], out);
  await bulkTable(conn, '_evaluation_phq9_balance', [['domain', 'VARCHAR'], ['covariate', 'VARCHAR'], ['smd_before', 'DOUBLE'], ['smd_after', 'DOUBLE'], ['ord', 'DOUBLE']], balance);
  const stamp = `${sqlString(opts.runId)} AS run_id, DATE ${sqlString(opts.asOf)} AS as_of`;
  const order = `CASE WHEN domain = '${ANY}' THEN 0 ELSE 1 END, domain`;
  await exec(conn, `CREATE OR REPLACE TABLE evaluation_phq9 AS
SELECT domain, status, note, change_difference, ci_low, ci_high, p_value, treated_people::INTEGER AS treated_people, comparison_people::INTEGER AS comparison_people, ${stamp}
FROM _evaluation_phq9 ORDER BY ${order}`);
  await exec(conn, `CREATE OR REPLACE TABLE evaluation_phq9_balance AS SELECT domain, covariate, smd_before, smd_after, ${stamp} FROM _evaluation_phq9_balance ORDER BY ${order}, ord`);
  for (const tb of ['_evaluation_phq9', '_evaluation_phq9_balance']) await exec(conn, `DROP TABLE ${tb}`);
  return { ...any, status: anyStatus };
}
