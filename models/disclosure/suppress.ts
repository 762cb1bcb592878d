// Disclosure control of the results table (metrics.md, "Disclosure control"), run once at
// publish over the whole table: primary and complementary suppression (suppressionCore.ts)
// over the relations built in SQL (relationsSql.ts), counts several metrics publish
// (shared quantities) included, then the derived figures:
// a suppressed row keeps its key, note and reference_group and loses numerator,
// denominator, value, interval and every statistic; a comparison against a suppressed
// reference group is withheld (reference_group kept); disparity_flag only where the
// statistics are shown.
import type { DuckDBConnection } from '@duckdb/node-api';
import { exec, rows } from '../duckdb.ts';
import { PERIOD_GRAINS } from '../results.ts';
import { dimensionParts } from '../metrics/dimensions.ts';
import { execCount, readColumns, stageTable, toFloat64, toInt32 } from './columnar.ts';
import { KNOWN_ONE_WAY_DIMENSIONS, metricMetaMap, type MetricInput, type MetricMeta } from './metricMeta.ts';
import { LINKS_SQL, RELATIONS_SQL, SHARED_CANDIDATES_SQL, SHARED_PAIRS_SQL, rowsSql, sharedRowsSql } from './relationsSql.ts';
import { REASON_COMPLEMENTARY, REASON_PRIMARY, solveSuppression, type Relations } from './suppressionCore.ts';

/** The CMS cell-size rule: no count 1..10 shown. Configurable only upward. */
export const MIN_THRESHOLD = 11;

const STATISTICS = [
  'rate_difference', 'rd_ci_low', 'rd_ci_high', 'rate_ratio', 'rr_ci_low', 'rr_ci_high', 'p_value', 'q_value', 'disparity_flag',
] as const;
const FIGURES = ['numerator', 'denominator', 'value', 'ci_low', 'ci_high', ...STATISTICS] as const;
const KEYS = ['metric_id', 'period_grain', 'period_start', 'dimension', 'group_value'] as const;

export interface SuppressOptions {
  metrics: readonly MetricInput[];
  threshold: number;
  /** Defaults to metric_results. */
  table?: string;
}

export interface SuppressResult {
  rows: number;
  relations: number;
  /** rows suppressed in all (given + primary + complementary) */
  suppressed: number;
  given: number;
  primary: number;
  complementary: number;
  /** comparisons withheld because their reference group is suppressed */
  withheldComparisons: number;
  /** quantities published by several metrics, e.g. ['phq9_follow_up_rate.denominator', 'phq9_response_rate.denominator'] */
  sharedQuantities: string[][];
}

export function checkThreshold(threshold: number): void {
  if (!Number.isInteger(threshold) || threshold < MIN_THRESHOLD) {
    throw new Error(`suppression threshold must be an integer of at least ${MIN_THRESHOLD} (it may only be raised), got ${threshold}`);
  }
}

export async function suppress(conn: DuckDBConnection, opts: SuppressOptions): Promise<SuppressResult> {
  checkThreshold(opts.threshold);
  const table = opts.table ?? 'metric_results';
  const metas = metricMetaMap(opts.metrics);
  await checkTable(conn, table, metas);

  await stageMetricTraits(conn, table, metas);
  await exec(conn, rowsSql(table));
  const realRows = (await rows<{ n: number }>(conn, 'SELECT count(*)::INTEGER AS n FROM cl_sup_rows'))[0]?.n ?? 0;
  const sharedQuantities = await stageSharedQuantities(conn, realRows);
  await exec(conn, LINKS_SQL);

  const { length: n, columns } = await readColumns(conn, `SELECT rid, q_den, q_num, q_comp, given FROM cl_sup_rows ORDER BY rid`);
  const quantities = [toFloat64(columns.q_den, n), toFloat64(columns.q_num, n), toFloat64(columns.q_comp, n)];
  const suppressed = new Uint8Array(n);
  (columns.given as boolean[]).forEach((g, i) => {
    if (g) suppressed[i] = 1;
  });
  const relations = await readRelations(conn);
  const shared = sharedQuantities.length ? await readShared(conn) : undefined;
  const outcome = solveSuppression({ quantities, suppressed, relations, threshold: opts.threshold, shared });

  // the real rows (shared-quantity stand-ins follow them)
  const hit: number[] = [];
  let primary = 0;
  let complementary = 0;
  for (let i = 0; i < realRows; i++) {
    if (!suppressed[i]) continue;
    hit.push(i);
    if (outcome.reason[i] === REASON_PRIMARY) primary++;
    if (outcome.reason[i] === REASON_COMPLEMENTARY) complementary++;
  }
  await stageTable(conn, 'cl_sup_out', hit.length, [{ name: 'rid', type: 'INTEGER', values: hit }]);
  await exec(conn, `CREATE OR REPLACE TEMP TABLE cl_sup_hits AS
SELECT ${KEYS.map((k) => `s.${k}`).join(', ')} FROM cl_sup_out o JOIN cl_sup_rows s USING (rid)`);

  await exec(conn, `UPDATE ${table} SET suppressed = false WHERE suppressed IS DISTINCT FROM false`);
  const written = await execCount(conn, `UPDATE ${table} AS r SET suppressed = true, ${FIGURES.map((f) => `${f} = NULL`).join(', ')}
FROM cl_sup_hits h WHERE ${KEYS.map((k) => `r.${k} = h.${k}`).join(' AND ')}`);
  if (written !== hit.length) throw new Error(`suppression: marked ${written} of ${hit.length} rows of ${table}`);

  // Comparisons against a suppressed reference group (their statistics use its figures).
  const withheldComparisons = await execCount(conn, `UPDATE ${table} AS g SET ${STATISTICS.map((s) => `${s} = NULL`).join(', ')}
FROM cl_sup_hits h
WHERE g.metric_id = h.metric_id AND g.period_grain = h.period_grain AND g.period_start = h.period_start
  AND g.dimension = h.dimension AND g.reference_group = h.group_value AND g.group_value <> h.group_value
  AND NOT g.suppressed AND (${STATISTICS.map((s) => `g.${s} IS NOT NULL`).join(' OR ')})`);

  for (const t of ['cl_sup_metrics', 'cl_sup_dims', 'cl_sup_rows', 'cl_sup_links', 'cl_sup_out', 'cl_sup_hits', 'cl_sup_slots', 'cl_sup_candidates',
    'cl_sup_shared_nodes', 'cl_sup_shared_values', 'cl_sup_shared_rows', 'cl_sup_shared_members']) {
    await exec(conn, `DROP TABLE IF EXISTS ${t}`);
  }
  return {
    rows: realRows,
    relations: relations.whole.length,
    suppressed: hit.length,
    given: hit.length - primary - complementary,
    primary,
    complementary,
    withheldComparisons,
    sharedQuantities,
  };
}

/** Keys unique and non-null, grains known, every metric in the catalog, every dimension known. */
async function checkTable(conn: DuckDBConnection, table: string, metas: Map<string, MetricMeta>): Promise<void> {
  const nullKeys = await rows<{ n: number }>(conn,
    `SELECT count(*)::INTEGER AS n FROM ${table} WHERE ${KEYS.map((k) => `${k} IS NULL`).join(' OR ')}`);
  if ((nullKeys[0]?.n ?? 0) > 0) throw new Error(`${table}: ${nullKeys[0]?.n} rows with an empty ${KEYS.join('/')}: cannot relate them, nothing published`);
  const dup = await rows<Record<string, string>>(conn,
    `SELECT ${KEYS.map((k) => `${k}::VARCHAR AS ${k}`).join(', ')} FROM ${table} GROUP BY ALL HAVING count(*) > 1 LIMIT 1`);
  if (dup[0]) throw new Error(`${table}: duplicate row ${KEYS.map((k) => dup[0]?.[k]).join(' / ')}`);
  const combos = await rows<{ metric_id: string; dimension: string; period_grain: string }>(conn,
    `SELECT DISTINCT metric_id, dimension, period_grain FROM ${table}`);
  for (const c of combos) {
    if (!metas.has(c.metric_id)) throw new Error(`${table}: metric ${c.metric_id} is not in the catalog: disclosure control does not know which of its figures are counts`);
    if (!(PERIOD_GRAINS as readonly string[]).includes(c.period_grain)) throw new Error(`${table}: unknown period_grain ${c.period_grain} (metric ${c.metric_id})`);
    const parts = dimensionParts(c.dimension);
    if (parts.length > 2 || !parts.every((p) => KNOWN_ONE_WAY_DIMENSIONS.includes(p))) {
      throw new Error(`${table}: dimension ${c.dimension} (metric ${c.metric_id}) is unknown to disclosure control: add its relations before publishing it`);
    }
  }
}

/** cl_sup_metrics (kind per metric) and cl_sup_dims (relations per metric x dimension). */
async function stageMetricTraits(conn: DuckDBConnection, table: string, metas: Map<string, MetricMeta>): Promise<void> {
  const present = await rows<{ metric_id: string; dimension: string }>(conn, `SELECT DISTINCT metric_id, dimension FROM ${table} ORDER BY ALL`);
  const ids = [...new Set(present.map((p) => p.metric_id))];
  const m = ids.map((id) => metas.get(id) as MetricMeta);
  await stageTable(conn, 'cl_sup_metrics', m.length, [
    { name: 'metric_id', type: 'VARCHAR', values: ids },
    { name: 'kind', type: 'VARCHAR', values: m.map((x) => x.kind) },
    { name: 'dollars', type: 'BOOLEAN', values: m.map((x) => x.dollarNumerator) },
  ]);
  const dims = present.map((p) => {
    const meta = metas.get(p.metric_id) as MetricMeta;
    const parts = dimensionParts(p.dimension);
    return {
      metric_id: p.metric_id,
      dimension: p.dimension,
      n_parts: parts.length,
      part1: parts[0] ?? null,
      part2: parts[1] ?? null,
      sums1: parts[0] !== undefined && meta.groupsSumToAll(parts[0]),
      sums2: parts[1] !== undefined && meta.groupsSumToAll(parts[1]),
      additive: meta.additiveOverTime(p.dimension),
    };
  });
  await stageTable(conn, 'cl_sup_dims', dims.length, [
    { name: 'metric_id', type: 'VARCHAR', values: dims.map((d) => d.metric_id) },
    { name: 'dimension', type: 'VARCHAR', values: dims.map((d) => d.dimension) },
    { name: 'n_parts', type: 'INTEGER', values: dims.map((d) => d.n_parts) },
    { name: 'part1', type: 'VARCHAR', values: dims.map((d) => d.part1) },
    { name: 'part2', type: 'VARCHAR', values: dims.map((d) => d.part2) },
    { name: 'sums1', type: 'BOOLEAN', values: dims.map((d) => d.sums1) },
    { name: 'sums2', type: 'BOOLEAN', values: dims.map((d) => d.sums2) },
    { name: 'additive', type: 'BOOLEAN', values: dims.map((d) => d.additive) },
  ]);
}

async function readRelations(conn: DuckDBConnection): Promise<Relations> {
  const { length, columns } = await readColumns(conn, RELATIONS_SQL);
  const rel = toInt32(columns.rel, length, 'relation id');
  const whole = toInt32(columns.whole, length, 'relation whole');
  const parts = toInt32(columns.part, length, 'relation part');
  const R = length === 0 ? 0 : (rel[length - 1] as number) + 1;
  const wholes = new Int32Array(R);
  const start = new Int32Array(R + 1);
  for (let k = 0; k < length; k++) {
    const r = rel[k] as number;
    wholes[r] = whole[k] as number;
    start[r + 1] = k + 1; // ids are dense and sorted: the last part of r sets its end
  }
  return { whole: wholes, start, parts };
}

/**
 * Finds the quantities several metrics share (relationsSql.ts), groups them (a = b and
 * b = c make one quantity) and appends their stand-in rows to cl_sup_rows.
 */
async function stageSharedQuantities(conn: DuckDBConnection, realRows: number): Promise<string[][]> {
  for (const sql of SHARED_CANDIDATES_SQL) await exec(conn, sql);
  const pairs = await rows<{ ma: string; sa: string; mb: string; sb: string }>(conn, SHARED_PAIRS_SQL);
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let r = x;
    while (parent.get(r) !== r) r = parent.get(r) as string;
    parent.set(x, r);
    return r;
  };
  for (const p of pairs) {
    const a = `${p.ma}\u001f${p.sa}`;
    const b = `${p.mb}\u001f${p.sb}`;
    if (!parent.has(a)) parent.set(a, a);
    if (!parent.has(b)) parent.set(b, b);
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent.set(ra < rb ? rb : ra, ra < rb ? ra : rb);
  }
  const classes = new Map<string, string[]>();
  for (const node of [...parent.keys()].sort()) {
    const root = find(node);
    classes.set(root, [...(classes.get(root) ?? []), node]);
  }
  const groups = [...classes.values()];
  const nodes = groups.flatMap((members, k) => members.map((m) => ({ class: k, metric: m.split('\u001f')[0] as string, slot: m.split('\u001f')[1] as string })));
  await stageTable(conn, 'cl_sup_shared_nodes', nodes.length, [
    { name: 'class', type: 'INTEGER', values: nodes.map((x) => x.class) },
    { name: 'metric_id', type: 'VARCHAR', values: nodes.map((x) => x.metric) },
    { name: 'slot', type: 'VARCHAR', values: nodes.map((x) => x.slot) },
  ]);
  if (groups.length) for (const sql of sharedRowsSql(realRows)) await exec(conn, sql);
  return groups.map((members) => members.map((m) => m.replace('\u001f', '.').replace(/\.den$/, '.denominator').replace(/\.num$/, '.numerator')));
}

async function readShared(conn: DuckDBConnection): Promise<{ row: Int32Array; start: Int32Array; members: Int32Array }> {
  const { length, columns } = await readColumns(conn, 'SELECT shared, member FROM cl_sup_shared_members ORDER BY shared, member');
  const sharedRow = toInt32(columns.shared, length, 'shared row');
  const member = toInt32(columns.member, length, 'shared member');
  const row: number[] = [];
  const start: number[] = [0];
  for (let k = 0; k < length; k++) {
    if (k === 0 || sharedRow[k] !== sharedRow[k - 1]) {
      if (k > 0) start.push(k);
      row.push(sharedRow[k] as number);
    }
  }
  start.push(length);
  return { row: Int32Array.from(row), start: Int32Array.from(start), members: member };
}
