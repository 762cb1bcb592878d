// Summary measures of disparity (metrics.md, "Disparities"; NCI HD*Calc, Healthy People
// 2030) per metric x grain x period x dimension, over the groups shown after suppression.
// Run after suppress(): only unsuppressed rows with a value enter.
//
// Table disparity_summary, one row per metric x grain x period x compared dimension:
//   metric_id, period_grain, period_start, period_end, dimension
//   reference_group         the dimension's reference group (as in the results table)
//   reference_shown         whether the reference group's row is shown (IDisp needs it)
//   groups_shown            J, the number of shown groups (reference included, unknown not)
//   index_of_disparity      100 x sum_{j != ref} |a_j - a_ref| / (J - 1) / a_ref, in %;
//                           empty when a_ref = 0, J < 2 or the reference is not shown
//   between_group_variance  sum p_j (a_j - mu)^2 less its sampling-noise part
//                           sum p_j (1 - p_j) v_j, floored at 0; p_j = n_j / sum n over the
//                           shown groups; empty for paid_pmpm (no variance of a dollar rate)
//   max_rate_difference     max a - min a
//   max_rate_ratio          max a / min a (empty when min a = 0)
//   unknown_share           the `unknown` group's denominator / the `all` row's: how much of
//                           the population the dimension cannot place (data completeness);
//                           empty when either row is withheld
//   run_id, as_of
// a = the adverse rate (Keppel & Pearcy): 1 - y for a higher-is-better proportion, y itself
// otherwise (y = the published value: proportion 0..1, rate per 1000 member-months,
// paid_pmpm in dollars per member-month); n = the denominator; v = the sampling variance of
// y (a (1 - a) / n for a proportion, events / n^2 x 1000^2 for a rate). Groups named
// `unknown` (or with an `unknown` part in a two-way cut) are left out: missing data is not a
// group of people to compare. Dimensions and metrics as for the comparisons: proportions and
// rates, no `all`, no `domain` cuts.
import type { DuckDBConnection } from '@duckdb/node-api';
import { exec, sqlString } from '../duckdb.ts';
import { disparitySummary } from '../stats/index.ts';
import { readColumns, stageTable, type Json } from '../disclosure/columnar.ts';
import { metricMeta, type MetricInput, type MetricMeta } from '../disclosure/metricMeta.ts';
import { RATE_SCALE } from './compare.ts';
import { hasDisparityStatistics } from './computeComparisons.ts';

export interface SummaryOptions {
  metrics: readonly MetricInput[];
  /** Defaults to metric_results. */
  table?: string;
  /** Defaults to disparity_summary. */
  out?: string;
}

export async function buildDisparitySummary(conn: DuckDBConnection, opts: SummaryOptions): Promise<number> {
  const table = opts.table ?? 'metric_results';
  const out = opts.out ?? 'disparity_summary';
  const metas = opts.metrics.filter(hasDisparityStatistics).map(metricMeta).filter((m) => m.kind === 'proportion' || m.kind === 'rate');
  const ids = metas.map((m) => m.id);
  const byId = new Map(metas.map((m) => [m.id, m]));
  const known = `NOT list_contains(string_split(group_value, '*'), 'unknown')`;
  const shown = `NOT coalesce(suppressed, false) AND value IS NOT NULL AND denominator IS NOT NULL AND ${known}`;
  const isShown = (alias: string) => `NOT coalesce(${alias}.suppressed, false) AND ${alias}.denominator > 0`;
  const { length, columns } = await readColumns(conn, `WITH s AS (
  SELECT metric_id, period_grain, period_start, max(period_end)::VARCHAR AS period_end, dimension, max(reference_group) AS reference_group,
    list(group_value ORDER BY group_value) FILTER (WHERE ${shown}) AS groups,
    list(value ORDER BY group_value) FILTER (WHERE ${shown}) AS vals,
    list(numerator ORDER BY group_value) FILTER (WHERE ${shown}) AS nums,
    list(denominator ORDER BY group_value) FILTER (WHERE ${shown}) AS dens,
    max(denominator) FILTER (WHERE group_value = 'unknown' AND ${isShown(table)}) AS unknown_n,
    max(run_id) AS run_id, max(as_of)::VARCHAR AS as_of
  FROM ${table}
  WHERE metric_id IN (${ids.length ? ids.map(sqlString).join(', ') : 'NULL'})
    AND dimension <> 'all' AND NOT list_contains(string_split(dimension, '*'), 'domain')
  GROUP BY metric_id, period_grain, period_start, dimension
)
SELECT s.* EXCLUDE (period_start, unknown_n), s.period_start::VARCHAR AS period_start,
  CASE WHEN ${isShown('a')} AND s.unknown_n IS NOT NULL THEN s.unknown_n / a.denominator END AS unknown_share
FROM s LEFT JOIN ${table} a ON a.metric_id = s.metric_id AND a.period_grain = s.period_grain AND a.period_start = s.period_start AND a.dimension = 'all'
ORDER BY s.metric_id, s.period_grain, s.period_start, s.dimension`);

  const refShown: boolean[] = [];
  const J: number[] = [];
  const idisp: Array<number | null> = [];
  const bgv: Array<number | null> = [];
  const maxDiff: Array<number | null> = [];
  const maxRatio: Array<number | null> = [];
  for (let i = 0; i < length; i++) {
    const groups = (columns.groups?.[i] ?? []) as string[];
    const vals = ((columns.vals?.[i] ?? []) as Json[]).map(Number);
    const nums = ((columns.nums?.[i] ?? []) as Json[]).map(Number);
    const dens = ((columns.dens?.[i] ?? []) as Json[]).map(Number);
    const ref = groups.indexOf(columns.reference_group?.[i] as string);
    const meta = byId.get(columns.metric_id?.[i] as string);
    const s = disparitySummary(vals.map((value, j) => ({ value, denominator: dens[j] as number, variance: samplingVariance(meta, value, nums[j] as number, dens[j] as number) })), ref,
      { adverse: meta?.kind === 'proportion' && meta.direction === 'higher_better' });
    refShown.push(ref >= 0);
    J.push(groups.length);
    idisp.push(ref >= 0 ? s.indexOfDisparity : null);
    bgv.push(s.betweenGroupVariance);
    maxDiff.push(s.maxRateDifference);
    maxRatio.push(s.maxRateRatio);
  }
  const text = (name: string) => (columns[name] ?? []) as Array<string | null>;
  await stageTable(conn, 'cl_disparity_summary', length, [
    { name: 'metric_id', type: 'VARCHAR', values: text('metric_id') },
    { name: 'period_grain', type: 'VARCHAR', values: text('period_grain') },
    { name: 'period_start', type: 'VARCHAR', values: text('period_start') },
    { name: 'period_end', type: 'VARCHAR', values: text('period_end') },
    { name: 'dimension', type: 'VARCHAR', values: text('dimension') },
    { name: 'reference_group', type: 'VARCHAR', values: text('reference_group') },
    { name: 'reference_shown', type: 'BOOLEAN', values: refShown },
    { name: 'groups_shown', type: 'INTEGER', values: J },
    { name: 'index_of_disparity', type: 'DOUBLE', values: idisp },
    { name: 'between_group_variance', type: 'DOUBLE', values: bgv },
    { name: 'max_rate_difference', type: 'DOUBLE', values: maxDiff },
    { name: 'max_rate_ratio', type: 'DOUBLE', values: maxRatio },
    { name: 'unknown_share', type: 'DOUBLE', values: ((columns.unknown_share ?? []) as Json[]).map((v) => (v === null ? null : Number(v))) },
    { name: 'run_id', type: 'VARCHAR', values: text('run_id') },
    { name: 'as_of', type: 'VARCHAR', values: text('as_of') },
  ]);
  await exec(conn, `CREATE OR REPLACE TABLE ${out} AS
SELECT metric_id, period_grain, period_start::DATE AS period_start, period_end::DATE AS period_end, dimension,
  reference_group, reference_shown, groups_shown, index_of_disparity, between_group_variance,
  max_rate_difference, max_rate_ratio, unknown_share, run_id, as_of::DATE AS as_of
FROM cl_disparity_summary ORDER BY metric_id, period_grain, period_start, dimension`);
  await exec(conn, 'DROP TABLE cl_disparity_summary');
  return length;
}

/** Sampling variance of a published value: y (1 - y) / n for a proportion, x / n^2 scaled for a rate of events; none for a dollar rate. */
function samplingVariance(meta: MetricMeta | undefined, value: number, x: number, n: number): number | null {
  if (!meta || !(n > 0)) return null;
  if (meta.kind === 'proportion') return (value * (1 - value)) / n;
  if (meta.kind === 'rate' && !meta.dollarNumerator && Number.isFinite(x)) return (x / (n * n)) * RATE_SCALE * RATE_SCALE;
  return null;
}
