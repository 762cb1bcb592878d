// SQL for the suppressor: each results row's count-like quantities, and the relations
// between published rows (metrics.md, "Disclosure control"):
//  (a) the groups of a one-way cut add up to the `all` row of the same metric, grain and
//      period, where each counted unit is in exactly one group (cl_sup_dims.sums1);
//  (b) the cells of a two-way cut a*b with a fixed value of a add up to the margin row of
//      a (when b partitions the units), and likewise for b;
//  (c) for metrics additive over time (in that dimension), months add up to their quarter,
//      quarters to their year, and (closeloop's addition) years to the grain-`all` row of
//      the whole span: the span is the union of the years, so `all` minus the shown years
//      is as revealing as a year minus its shown quarters.
// The independent audit (audit.ts) rebuilds the same relations its own way, from the
// published rows, without this file.

/**
 * Quantities per row (NULL = not a count for this metric kind), rows numbered in key order
 * (rid) so everything downstream is independent of the table's physical order:
 *  q_den: proportion, duration, mean: a count; rate: person-time (member-months)
 *         (ratio: capacity-months and count: empty are not counts);
 *  q_num: proportion, duration (events), ratio (demand), rate of events; count: the count
 *         (the dollar numerator of paid_pmpm is not a count);
 *  q_comp: proportion: denominator - numerator; duration: censored = cases - events.
 * Two-way group values are split at the first '*' (the engine writes them as a*b).
 */
export function rowsSql(table: string): string {
  return `CREATE OR REPLACE TEMP TABLE cl_sup_rows AS
SELECT (row_number() OVER (ORDER BY r.metric_id, r.period_grain, r.period_start, r.dimension, r.group_value) - 1)::INTEGER AS rid,
  r.metric_id, r.period_grain, r.period_start, r.dimension, r.group_value,
  CASE WHEN m.kind IN ('proportion', 'rate', 'duration', 'mean') THEN r.denominator END AS q_den,
  CASE WHEN m.kind IN ('proportion', 'duration', 'ratio') OR (m.kind = 'rate' AND NOT m.dollars) THEN r.numerator
       WHEN m.kind = 'count' THEN coalesce(r.numerator, r.value) END AS q_num,
  CASE WHEN m.kind IN ('proportion', 'duration') THEN r.denominator - r.numerator END AS q_comp,
  coalesce(r.suppressed, false) AS given,
  CASE WHEN contains(r.dimension, '*') THEN split_part(r.group_value, '*', 1) END AS gv1,
  CASE WHEN contains(r.dimension, '*') THEN substr(r.group_value, length(split_part(r.group_value, '*', 1)) + 2) END AS gv2,
  CASE r.period_grain WHEN 'month' THEN 'quarter' WHEN 'quarter' THEN 'year' WHEN 'year' THEN 'all' END AS parent_grain,
  CASE r.period_grain WHEN 'month' THEN date_trunc('quarter', r.period_start)::DATE
                      WHEN 'quarter' THEN date_trunc('year', r.period_start)::DATE END AS parent_start
FROM ${table} r JOIN cl_sup_metrics m USING (metric_id)`;
}

/** Whole/part links of relations (a), (b), (c); tag distinguishes the relations of one whole. */
export const LINKS_SQL = `CREATE OR REPLACE TEMP TABLE cl_sup_links AS
SELECT w.rid AS whole, p.rid AS part, p.dimension AS tag
FROM cl_sup_rows p
JOIN cl_sup_dims d ON d.metric_id = p.metric_id AND d.dimension = p.dimension AND d.n_parts = 1 AND d.sums1
JOIN cl_sup_rows w ON w.metric_id = p.metric_id AND w.period_grain = p.period_grain AND w.period_start = p.period_start
  AND w.dimension = 'all'
UNION ALL
SELECT w.rid, p.rid, p.dimension
FROM cl_sup_rows p
JOIN cl_sup_dims d ON d.metric_id = p.metric_id AND d.dimension = p.dimension AND d.n_parts = 2 AND d.sums2
JOIN cl_sup_rows w ON w.metric_id = p.metric_id AND w.period_grain = p.period_grain AND w.period_start = p.period_start
  AND w.dimension = d.part1 AND w.group_value = p.gv1
UNION ALL
SELECT w.rid, p.rid, p.dimension
FROM cl_sup_rows p
JOIN cl_sup_dims d ON d.metric_id = p.metric_id AND d.dimension = p.dimension AND d.n_parts = 2 AND d.sums1
JOIN cl_sup_rows w ON w.metric_id = p.metric_id AND w.period_grain = p.period_grain AND w.period_start = p.period_start
  AND w.dimension = d.part2 AND w.group_value = p.gv2
UNION ALL
SELECT w.rid, p.rid, 'time'
FROM cl_sup_rows p
JOIN cl_sup_dims d ON d.metric_id = p.metric_id AND d.dimension = p.dimension AND d.additive
JOIN cl_sup_rows w ON w.metric_id = p.metric_id AND w.dimension = p.dimension AND w.group_value = p.group_value
  AND w.period_grain = p.parent_grain AND w.period_start = p.parent_start
WHERE p.period_grain IN ('month', 'quarter')
UNION ALL
SELECT w.rid, p.rid, 'time'
FROM cl_sup_rows p
JOIN cl_sup_dims d ON d.metric_id = p.metric_id AND d.dimension = p.dimension AND d.additive
JOIN cl_sup_rows w ON w.metric_id = p.metric_id AND w.dimension = p.dimension AND w.group_value = p.group_value
  AND w.period_grain = 'all'
WHERE p.period_grain = 'year'`;

/** Relations numbered by (whole, tag), parts in row order: ready for a CSR layout. */
export const RELATIONS_SQL = `SELECT (dense_rank() OVER (ORDER BY whole, tag) - 1)::INTEGER AS rel, whole, part
FROM cl_sup_links ORDER BY rel, part`;

/**
 * Quantities two metrics share (e.g. the three PHQ-9 proportions' index episodes, ED and
 * inpatient rates' member-months, positive_needs and days_to_referral's cases): a value
 * hidden in one metric but shown in the other is not hidden, so relations must hold over
 * what any of them shows. Detected from the data, in two steps: candidate pairs of
 * (metric, numerator|denominator) equal on every common `all` row, then confirmed equal on
 * every common row, with at least MIN_SHARED_KEYS non-zero common values (a handful of
 * equal small values is coincidence). Rows: (ma, sa, mb, sb).
 */
export const MIN_SHARED_KEYS = 20;
const SLOT_VALUES = `SELECT rid, metric_id, 'den' AS slot, period_grain, period_start, dimension, group_value, q_den AS v FROM cl_sup_rows WHERE q_den IS NOT NULL
  UNION ALL
  SELECT rid, metric_id, 'num', period_grain, period_start, dimension, group_value, q_num FROM cl_sup_rows WHERE q_num IS NOT NULL`;
const SAME = `abs(a.v - b.v) <= 1e-9 * greatest(1, abs(a.v))`;

export const SHARED_CANDIDATES_SQL = [`CREATE OR REPLACE TEMP TABLE cl_sup_slots AS ${SLOT_VALUES}`, `CREATE OR REPLACE TEMP TABLE cl_sup_candidates AS
SELECT a.metric_id AS ma, a.slot AS sa, b.metric_id AS mb, b.slot AS sb
FROM cl_sup_slots a JOIN cl_sup_slots b ON a.period_grain = b.period_grain AND a.period_start = b.period_start
  AND a.dimension = 'all' AND b.dimension = 'all' AND a.metric_id < b.metric_id
GROUP BY ALL HAVING bool_and(${SAME})`];

export const SHARED_PAIRS_SQL = `SELECT c.ma, c.sa, c.mb, c.sb
FROM cl_sup_candidates c
JOIN cl_sup_slots a ON a.metric_id = c.ma AND a.slot = c.sa
JOIN cl_sup_slots b ON b.metric_id = c.mb AND b.slot = c.sb AND a.period_grain = b.period_grain AND a.period_start = b.period_start
  AND a.dimension = b.dimension AND a.group_value = b.group_value
GROUP BY ALL HAVING bool_and(${SAME}) AND count(*) FILTER (WHERE a.v <> 0) >= ${MIN_SHARED_KEYS}
ORDER BY ALL`;

/**
 * One "shared" row per shared quantity (class, staged in cl_sup_shared_nodes) and key: the
 * value any member shows, appended to cl_sup_rows after the real rows (rid from `first`),
 * with the union of the members' relations (cl_sup_dims) and its members (cl_sup_shared_members).
 */
export function sharedRowsSql(first: number): string[] {
  return [`CREATE OR REPLACE TEMP TABLE cl_sup_shared_values AS
SELECT n.class, s.rid AS member, s.period_grain, s.period_start, s.dimension, s.group_value, s.v
FROM cl_sup_slots s JOIN cl_sup_shared_nodes n ON n.metric_id = s.metric_id AND n.slot = s.slot`,
`CREATE OR REPLACE TEMP TABLE cl_sup_shared_rows AS
SELECT (${first} + row_number() OVER (ORDER BY class, period_grain, period_start, dimension, group_value) - 1)::INTEGER AS rid,
  class, period_grain, period_start, dimension, group_value, max(v) AS v
FROM cl_sup_shared_values GROUP BY class, period_grain, period_start, dimension, group_value`,
`INSERT INTO cl_sup_rows (rid, metric_id, period_grain, period_start, dimension, group_value, q_den, q_num, q_comp, given, gv1, gv2, parent_grain, parent_start)
SELECT s.rid, '~shared:' || s.class, s.period_grain, s.period_start, s.dimension, s.group_value, s.v, NULL, NULL, false, r.gv1, r.gv2, r.parent_grain, r.parent_start
FROM cl_sup_shared_rows s
JOIN (SELECT DISTINCT ON (period_grain, period_start, dimension, group_value) period_grain, period_start, dimension, group_value, gv1, gv2, parent_grain, parent_start
      FROM cl_sup_rows) r USING (period_grain, period_start, dimension, group_value)`,
`INSERT INTO cl_sup_dims
SELECT '~shared:' || n.class, d.dimension, any_value(d.n_parts), any_value(d.part1), any_value(d.part2), bool_or(d.sums1), bool_or(d.sums2), bool_or(d.additive)
FROM cl_sup_dims d JOIN (SELECT DISTINCT class, metric_id FROM cl_sup_shared_nodes) n USING (metric_id)
GROUP BY n.class, d.dimension`,
`CREATE OR REPLACE TEMP TABLE cl_sup_shared_members AS
SELECT s.rid AS shared, v.member
FROM cl_sup_shared_values v JOIN cl_sup_shared_rows s USING (class, period_grain, period_start, dimension, group_value)
ORDER BY shared, member`];
}
