// The other published aggregates the metric engine writes (pipelines/publish.ts copies
// them as they are), suppressed after the results table so they never show what it
// withholds (metrics.md: "The same rules cover every other published figure"):
//
// km_curves: published on a common time grid with survival and its interval only, no
//   number at risk, events or censored (kmGrid.ts);
// gap_table (one row per need domain x county, figures copied from the results table's
//   grain-`all` domain*county_fips rows):
//   - each metric's figures are emptied where that results row is suppressed, or where one
//     of its counts is in 1..threshold-1 (positive_needs; needs_measurable, needs_met,
//     unmet_needs, unmet_need_rate and its interval; no_capacity_referrals,
//     closed_not_met_referrals, capacity_rejection_share; capacity_months,
//     demand_capacity_ratio);
//   - `suppressed` (added) is true when any figure of the row is withheld;
//   - rank is recomputed: cells with shown unmet figures first (unmet needs, then unmet
//     rate, descending), then the withheld ones by domain and county, so a rank never
//     places a withheld count between two shown ones;
//   - directory columns (serving programs, capacity) are not counts of people: kept.
//   A column this module does not know is an error: nothing is published unsuppressed.
// prepost_summary (per measure x dimension x group; people, pre/post events and
//   member-months, rates, ratio):
//   - one decision per dimension x group for both measures (they share people and
//     member-months): suppressed when a linked results row (the measure's pre or post
//     metric at grain `all`) is suppressed, when people, events or member-months are in
//     (0, threshold), and by complementary suppression over groups -> `all` and two-way
//     cells -> margins (suppressionCore.ts);
//   - a suppressed row keeps its keys, has every figure emptied and `suppressed` = true.
import type { DuckDBConnection } from '@duckdb/node-api';
import { exec, rows } from '../duckdb.ts';
import { dimensionParts } from '../metrics/dimensions.ts';
import { execCount, readColumns, stageTable, toFloat64 } from './columnar.ts';
import { publishKmCurves } from './kmGrid.ts';
import { metricMetaMap, type MetricInput } from './metricMeta.ts';
import { solveSuppression } from './suppressionCore.ts';

async function tableColumns(conn: DuckDBConnection, table: string): Promise<Array<{ name: string; type: string }> | null> {
  const cols = await rows<{ name: string; type: string }>(conn,
    `SELECT column_name AS name, data_type AS type FROM information_schema.columns
     WHERE table_name = '${table}' AND table_schema = 'main' AND table_catalog = current_database() ORDER BY ordinal_position`);
  return cols.length ? cols : null;
}

function requireColumns(table: string, present: Array<{ name: string }>, needed: readonly string[]): void {
  const missing = needed.filter((c) => !present.some((p) => p.name === c));
  if (missing.length) throw new Error(`${table}: no column ${missing.join(', ')}: disclosure control cannot suppress it, nothing published`);
}

export interface OtherTablesResult {
  /** Kaplan-Meier curves not published (their results row withheld, or no grid protects them) */
  kmCurvesWithheld: number | null;
  gapRowsWithheld: number | null;
  prepostRowsSuppressed: number | null;
}

export async function suppressOtherTables(
  conn: DuckDBConnection,
  opts: { metrics: readonly MetricInput[]; threshold: number; results?: string },
): Promise<OtherTablesResult> {
  const results = opts.results ?? 'metric_results';
  return {
    kmCurvesWithheld: await publishKmCurves(conn, opts.threshold, results),
    gapRowsWithheld: await suppressGapTable(conn, opts.threshold, results),
    prepostRowsSuppressed: await suppressPrePost(conn, opts, results),
  };
}

/** gap_table figure groups: the results metric each copies, and its count columns. */
const GAP_FIGURES = [
  { metric: 'positive_needs', columns: ['positive_needs'], counts: ['positive_needs'] },
  {
    metric: 'unmet_need_rate',
    columns: ['needs_measurable', 'needs_met', 'unmet_needs', 'unmet_need_rate', 'unmet_ci_low', 'unmet_ci_high'],
    counts: ['needs_measurable', 'needs_met', 'unmet_needs'],
  },
  {
    metric: 'capacity_rejection_share',
    columns: ['no_capacity_referrals', 'closed_not_met_referrals', 'capacity_rejection_share'],
    counts: ['no_capacity_referrals', 'closed_not_met_referrals'],
  },
  { metric: 'demand_capacity_ratio', columns: ['capacity_months', 'demand_capacity_ratio'], counts: [] },
] as const;
/** gap_table columns that are keys or directory facts, not counts of people. */
const GAP_OTHER = ['rank', 'domain', 'county_fips', 'period_start', 'period_end', 'capacity_note', 'serving_programs',
  'programs_capacity_unknown', 'known_monthly_capacity', 'programs', 'run_id', 'as_of', 'suppressed'];

/**
 * The gap table's rank: by unmet needs, withheld cells last (by domain and county, which
 * tells nothing). A partner's view ranks again on what it shows (server/data/partnerView.ts).
 */
export const GAP_RANK = 'row_number() OVER (ORDER BY unmet_needs IS NULL, unmet_needs DESC, unmet_need_rate DESC NULLS LAST, domain, county_fips)::INTEGER';

export async function suppressGapTable(conn: DuckDBConnection, threshold: number, results: string): Promise<number | null> {
  const cols = await tableColumns(conn, 'gap_table');
  if (!cols) return null;
  const known = new Set<string>([...GAP_OTHER, ...GAP_FIGURES.flatMap((g) => g.columns)]);
  const unknown = cols.filter((c) => !known.has(c.name)).map((c) => c.name);
  if (unknown.length) throw new Error(`gap_table: column ${unknown.join(', ')} has no disclosure rule (models/disclosure/otherTables.ts): nothing published`);
  requireColumns('gap_table', cols, ['domain', 'county_fips', 'rank']);
  await exec(conn, `ALTER TABLE gap_table ADD COLUMN IF NOT EXISTS suppressed BOOLEAN DEFAULT false`);
  await exec(conn, `UPDATE gap_table SET suppressed = false`);
  for (const g of GAP_FIGURES) {
    const present = g.columns.filter((c) => cols.some((x) => x.name === c));
    if (!present.length) continue;
    const small = g.counts.filter((c) => present.includes(c)).map((c) => `(${c} > 0 AND ${c} < ${threshold})`);
    await exec(conn, `UPDATE gap_table AS t SET ${present.map((c) => `${c} = NULL`).join(', ')}, suppressed = true
WHERE ${[...small, `EXISTS (SELECT 1 FROM ${results} r WHERE r.suppressed AND r.metric_id = '${g.metric}' AND r.period_grain = 'all'
  AND r.dimension = 'domain*county_fips' AND r.group_value = t.domain || '*' || t.county_fips)`].join(' OR ')}`);
  }
  await exec(conn, `UPDATE gap_table AS t SET rank = k.new_rank
FROM (SELECT domain, county_fips, ${GAP_RANK} AS new_rank
      FROM gap_table) k
WHERE t.domain = k.domain AND t.county_fips = k.county_fips`);
  const withheld = await rows<{ n: number }>(conn, `SELECT count(*)::INTEGER AS n FROM gap_table WHERE suppressed`);
  return withheld[0]?.n ?? 0;
}

/** prepost_summary measures and the results metrics (pre, post) that carry the same events and member-months. */
const PREPOST_METRICS: Record<string, { pre: string; post: string }> = {
  ed_visits: { pre: 'ed_visits_pre_referral_per_1000_mm', post: 'ed_visits_post_referral_per_1000_mm' },
  inpatient_admits: { pre: 'inpatient_pre_referral_per_1000_mm', post: 'inpatient_post_referral_per_1000_mm' },
};
const PREPOST_KEYS = ['measure', 'period_start', 'period_end', 'dimension', 'group_value', 'run_id', 'as_of', 'suppressed'];
const PREPOST_COUNTS = ['people', 'pre_events', 'post_events', 'pre_member_months', 'post_member_months'];

export async function suppressPrePost(
  conn: DuckDBConnection,
  opts: { metrics: readonly MetricInput[]; threshold: number },
  results: string,
): Promise<number | null> {
  const cols = await tableColumns(conn, 'prepost_summary');
  if (!cols) return null;
  requireColumns('prepost_summary', cols, ['measure', 'dimension', 'group_value', ...PREPOST_COUNTS]);
  const measures = await rows<{ measure: string }>(conn, `SELECT DISTINCT measure FROM prepost_summary`);
  for (const m of measures) {
    if (!PREPOST_METRICS[m.measure]) throw new Error(`prepost_summary: measure ${m.measure} has no linked results metrics (models/disclosure/otherTables.ts): nothing published`);
  }
  const links = Object.entries(PREPOST_METRICS).flatMap(([measure, m]) => [[measure, m.pre], [measure, m.post]]);
  await stageTable(conn, 'cl_pp_links', links.length, [
    { name: 'measure', type: 'VARCHAR', values: links.map((l) => l[0] as string) },
    { name: 'metric_id', type: 'VARCHAR', values: links.map((l) => l[1] as string) },
  ]);
  // One row per dimension x group: the measures' counts side by side, and whether a linked
  // results row is suppressed.
  const { length: n, columns } = await readColumns(conn, `WITH g AS (
  SELECT dimension, group_value, max(people) AS people,
    max(pre_member_months) AS pre_mm, max(post_member_months) AS post_mm,
    max(pre_events) FILTER (WHERE measure = 'ed_visits') AS ed_pre, max(post_events) FILTER (WHERE measure = 'ed_visits') AS ed_post,
    max(pre_events) FILTER (WHERE measure = 'inpatient_admits') AS ip_pre, max(post_events) FILTER (WHERE measure = 'inpatient_admits') AS ip_post
  FROM prepost_summary GROUP BY dimension, group_value
),
linked AS (
  SELECT DISTINCT r.dimension, r.group_value FROM ${results} r JOIN cl_pp_links l USING (metric_id)
  WHERE r.period_grain = 'all' AND r.suppressed
)
SELECT g.*, (l.dimension IS NOT NULL) AS given FROM g LEFT JOIN linked l USING (dimension, group_value)
ORDER BY g.dimension, g.group_value`);
  const dimension = columns.dimension as string[];
  const group = columns.group_value as string[];
  // people first: the row's size for the derivation guard
  const quantities = ['people', 'pre_mm', 'post_mm', 'ed_pre', 'ed_post', 'ip_pre', 'ip_post'].map((c) => toFloat64(columns[c], n));
  const suppressed = new Uint8Array(n);
  (columns.given as boolean[]).forEach((g, i) => {
    if (g) suppressed[i] = 1;
  });

  // Relations (a) and (b) over this grain-all table; every measure's unit is a person's
  // member-months, so population dimensions partition (ask one linked metric's catalog entry).
  const meta = metricMetaMap(opts.metrics).get(PREPOST_METRICS.ed_visits?.pre as string);
  const index = new Map<string, number>();
  for (let i = 0; i < n; i++) index.set(`${dimension[i]}\u001f${group[i]}`, i);
  const rels = new Map<string, { whole: number; parts: number[] }>();
  const link = (whole: number | undefined, tag: string, part: number) => {
    if (whole === undefined) return;
    const k = `${whole}\u001f${tag}`;
    const rel = rels.get(k) ?? { whole, parts: [] };
    rel.parts.push(part);
    rels.set(k, rel);
  };
  for (let i = 0; i < n; i++) {
    const d = dimension[i] as string;
    const parts = dimensionParts(d);
    const sums = (p: string) => meta?.groupsSumToAll(p) ?? false;
    if (parts.length === 1 && sums(d)) link(index.get(`all\u001fall`), d, i);
    if (parts.length === 2) {
      const gv = group[i] as string;
      const star = gv.indexOf('*');
      if (sums(parts[1] as string)) link(index.get(`${parts[0]}\u001f${gv.slice(0, star)}`), d, i);
      if (sums(parts[0] as string)) link(index.get(`${parts[1]}\u001f${gv.slice(star + 1)}`), d, i);
    }
  }
  const list = [...rels.values()];
  const start = new Int32Array(list.length + 1);
  list.forEach((r, k) => {
    start[k + 1] = (start[k] as number) + r.parts.length;
  });
  solveSuppression({
    quantities,
    suppressed,
    threshold: opts.threshold,
    relations: { whole: Int32Array.from(list.map((r) => r.whole)), start, parts: Int32Array.from(list.flatMap((r) => r.parts)) },
  });

  const hit: number[] = [];
  for (let i = 0; i < n; i++) if (suppressed[i]) hit.push(i);
  await stageTable(conn, 'cl_pp_hits', hit.length, [
    { name: 'dimension', type: 'VARCHAR', values: hit.map((i) => dimension[i] as string) },
    { name: 'group_value', type: 'VARCHAR', values: hit.map((i) => group[i] as string) },
  ]);
  const figures = cols.map((c) => c.name).filter((c) => !PREPOST_KEYS.includes(c));
  await exec(conn, `ALTER TABLE prepost_summary ADD COLUMN IF NOT EXISTS suppressed BOOLEAN DEFAULT false`);
  await exec(conn, `UPDATE prepost_summary SET suppressed = false`);
  const changed = await execCount(conn, `UPDATE prepost_summary AS t SET ${figures.map((c) => `${c} = NULL`).join(', ')}, suppressed = true
FROM cl_pp_hits h WHERE t.dimension = h.dimension AND t.group_value = h.group_value`);
  await exec(conn, 'DROP TABLE cl_pp_links');
  await exec(conn, 'DROP TABLE cl_pp_hits');
  return changed;
}
