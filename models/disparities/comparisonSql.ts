// SQL for the disparity comparisons (metrics.md, "Disparities"): which rows are compared,
// each dimension's reference group, and the group-vs-reference pairs. DuckDB orders
// VARCHAR by bytes, which is the spec's "byte order" for ties.
import { sqlString } from '../duckdb.ts';

/** Key columns of a results row (unique per row). */
export const KEY_COLUMNS = ['metric_id', 'period_grain', 'period_start', 'dimension', 'group_value'] as const;

/** Statistic columns computeComparisons owns (results table, outputs.md). */
export const STAT_COLUMNS = [
  'rate_difference', 'rd_ci_low', 'rd_ci_high', 'rate_ratio', 'rr_ci_low', 'rr_ci_high', 'p_value', 'q_value', 'disparity_flag',
  'disparity_flag_unadjusted',
] as const;

/**
 * Rows that get disparity statistics: compared metrics (temp table cl_cmp_metrics) in every
 * dimension except `all` and any cut involving `domain` (they compare needs, not people).
 */
export function comparedRowsSql(table: string): string {
  return `CREATE OR REPLACE TEMP TABLE cl_cmp_rows AS
SELECT r.metric_id, r.period_grain, r.period_start, r.dimension, r.group_value,
  r.numerator AS x, r.denominator AS n, m.kind, m.direction
FROM ${table} r JOIN cl_cmp_metrics m USING (metric_id)
WHERE r.dimension <> 'all' AND NOT list_contains(string_split(r.dimension, '*'), 'domain')`;
}

/**
 * The reference group per metric x grain x period x dimension, the same for every period
 * and grain of a metric x dimension (a series), so a trend compares with one group
 * throughout. `unknown` (or a two-way cell with an unknown part) is never a reference.
 * - {group}: that group (config referenceGroups; the AHRQ defaults name white, commercial,
 *   en, no, urban). Choice: when it has no row in a period, it is still named as the
 *   reference and no group is compared.
 * - most_favourable (every dimension not named, two-way cuts included unless both parts are
 *   named): the group with the best whole-span rate (highest when higher is better, lowest
 *   otherwise) among groups with a whole-span denominator >= minFavourableDenominator;
 *   ties to the larger denominator, then byte order. When no group reaches it, there is no
 *   reference and no group is compared: the largest group would tell an attacker that every
 *   withheld group is smaller than it (issue 14, route 4), so no reference is ever chosen by
 *   size.
 * Where a series has no whole-span rows (tables built by hand) each period chooses from its
 * own rows.
 */
export function referenceGroupsSql(minFavourableDenominator: number): string {
  return `CREATE OR REPLACE TEMP TABLE cl_cmp_refs AS
WITH candidates AS (
  SELECT *, x / n AS rate FROM cl_cmp_rows
  WHERE n > 0 AND x IS NOT NULL AND NOT list_contains(string_split(group_value, '*'), 'unknown')
),
rank_by AS (
  SELECT metric_id, period_grain, period_start, dimension,
    first(group_value ORDER BY CASE WHEN direction = 'higher_better' THEN -rate ELSE rate END, n DESC, group_value)
      FILTER (WHERE n >= ${minFavourableDenominator}) AS favourable
  FROM candidates
  GROUP BY metric_id, period_grain, period_start, dimension
),
whole_span AS (
  SELECT metric_id, dimension, favourable FROM rank_by WHERE period_grain = 'all'
),
partitions AS (
  SELECT DISTINCT metric_id, period_grain, period_start, dimension FROM cl_cmp_rows
)
SELECT p.metric_id, p.period_grain, p.period_start, p.dimension,
  CASE c.mode
    WHEN 'group' THEN c.grp
    ELSE CASE WHEN w.metric_id IS NOT NULL THEN w.favourable ELSE k.favourable END
  END AS reference_group
FROM partitions p
LEFT JOIN whole_span w USING (metric_id, dimension)
LEFT JOIN rank_by k USING (metric_id, period_grain, period_start, dimension)
LEFT JOIN cl_cmp_refcfg c USING (dimension)`;
}

/**
 * Every compared row with its reference's numerator and denominator, its BH family (metric
 * x grain x period) and whether its dimension belongs to the default family.
 * cid numbers rows in key order, so the statistics can be staged by cid.
 */
export function pairsSql(familyDimensions: readonly string[]): string {
  return `CREATE OR REPLACE TEMP TABLE cl_cmp AS
SELECT (row_number() OVER (ORDER BY g.metric_id, g.period_grain, g.period_start, g.dimension, g.group_value) - 1)::INTEGER AS cid,
  g.metric_id, g.period_grain, g.period_start, g.dimension, g.group_value, k.reference_group,
  g.x AS x1, g.n AS n1, ref.x AS x2, ref.n AS n2, g.kind, g.direction,
  (dense_rank() OVER (ORDER BY g.metric_id, g.period_grain, g.period_start) - 1)::INTEGER AS family,
  g.dimension IN (${familyDimensions.map(sqlString).join(', ')}) AS in_family,
  coalesce(g.group_value = k.reference_group, false) AS is_reference
FROM cl_cmp_rows g
LEFT JOIN cl_cmp_refs k USING (metric_id, period_grain, period_start, dimension)
LEFT JOIN cl_cmp_rows ref
  ON ref.metric_id = g.metric_id AND ref.period_grain = g.period_grain AND ref.period_start = g.period_start
  AND ref.dimension = g.dimension AND ref.group_value = k.reference_group`;
}

/** Clears reference_group and the statistics everywhere: computeComparisons owns them. */
export function clearStatisticsSql(table: string): string {
  const cols = ['reference_group', ...STAT_COLUMNS];
  return `UPDATE ${table} SET ${cols.map((c) => `${c} = NULL`).join(', ')}
WHERE ${cols.map((c) => `${c} IS NOT NULL`).join(' OR ')}`;
}

/** Writes reference_group (every compared row) and the staged statistics (cl_cmp_stats). */
export function writeStatisticsSql(table: string): string {
  return `UPDATE ${table} AS r SET reference_group = u.reference_group,
  ${STAT_COLUMNS.map((c) => `${c} = u.${c}`).join(', ')}
FROM (SELECT c.metric_id, c.period_grain, c.period_start, c.dimension, c.group_value, c.reference_group,
        ${STAT_COLUMNS.map((s) => `s.${s}`).join(', ')}
      FROM cl_cmp c LEFT JOIN cl_cmp_stats s USING (cid)) AS u
WHERE ${KEY_COLUMNS.map((k) => `r.${k} = u.${k}`).join(' AND ')}`;
}
