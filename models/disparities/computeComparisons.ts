// Disparity statistics over the results table (metrics.md, "Disparities"), before
// suppression: the reference group of every metric x grain x period x dimension (chosen in
// SQL), each other group's difference, ratio, intervals and p-value (JS, models/stats, on
// the aggregated rows), Benjamini-Hochberg q-values per metric x grain x period over the
// default family, and the AHRQ flag. Written back in one UPDATE from a staged table.
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Config, ReferenceChoice } from '../config.ts';
import { exec } from '../duckdb.ts';
import { DEFAULT_TWO_WAY_CUT, POPULATION_DIMENSIONS } from '../metrics/dimensions.ts';
import { benjaminiHochberg } from '../stats/index.ts';
import { readColumns, stageTable, toFloat64, toInt32, execCount } from '../disclosure/columnar.ts';
import { metricMeta, type MetricInput } from '../disclosure/metricMeta.ts';
import type { ComparisonKind } from './compare.ts';
import { compareAll, KIND_CODES, VALUE_FIELDS, type ComparisonBatch } from './comparisonBatch.ts';
import {
  clearStatisticsSql, comparedRowsSql, pairsSql, referenceGroupsSql, writeStatisticsSql,
} from './comparisonSql.ts';

/**
 * The BH family of a metric x grain x period: the comparisons a default run makes. Cuts
 * requested beyond these (config twoWayCuts) get statistics but no q-value (they are not
 * in the family, and a q-value outside a family has no meaning).
 */
export const DEFAULT_FAMILY_DIMENSIONS: readonly string[] = [...POPULATION_DIMENSIONS, 'target_org_id', DEFAULT_TWO_WAY_CUT];

/** "Most favourable" reference candidates need at least this denominator. */
export const MIN_FAVOURABLE_DENOMINATOR = 30;

export interface ComputeComparisonsOptions {
  metrics: readonly MetricInput[];
  config: Pick<Config, 'referenceGroups'>;
  /** Defaults to metric_results. */
  table?: string;
  /** Worker threads for the statistics (default: one per core, at most 4; 1 = this thread only). */
  workers?: number;
}

export interface ComputeComparisonsResult {
  /** Rows of compared dimensions (reference_group set). */
  rows: number;
  /** Rows compared with their reference (statistics filled). */
  comparisons: number;
}

export async function computeComparisons(conn: DuckDBConnection, opts: ComputeComparisonsOptions): Promise<ComputeComparisonsResult> {
  const table = opts.table ?? 'metric_results';
  const compared = opts.metrics.filter(hasDisparityStatistics).map(metricMeta).filter((m) => m.kind === 'proportion' || m.kind === 'rate');
  await stageTable(conn, 'cl_cmp_metrics', compared.length, [
    { name: 'metric_id', type: 'VARCHAR', values: compared.map((m) => m.id) },
    { name: 'kind', type: 'VARCHAR', values: compared.map((m): ComparisonKind => (m.kind === 'rate' ? (m.dollarNumerator ? 'dollar_rate' : 'rate') : 'proportion')) },
    { name: 'direction', type: 'VARCHAR', values: compared.map((m) => m.direction) },
  ]);
  const refConfig = referenceConfig(opts.config.referenceGroups ?? {});
  await stageTable(conn, 'cl_cmp_refcfg', refConfig.length, [
    { name: 'dimension', type: 'VARCHAR', values: refConfig.map(([d]) => d) },
    { name: 'mode', type: 'VARCHAR', values: refConfig.map(([, c]) => (typeof c === 'object' ? 'group' : c)) },
    { name: 'grp', type: 'VARCHAR', values: refConfig.map(([, c]) => (typeof c === 'object' ? c.group : null)) },
  ]);

  await exec(conn, comparedRowsSql(table));
  await exec(conn, referenceGroupsSql(MIN_FAVOURABLE_DENOMINATOR));
  await exec(conn, pairsSql(DEFAULT_FAMILY_DIMENSIONS));

  const { length, columns } = await readColumns(conn,
    `SELECT cid, x1, n1, x2, n2, kind, direction, family, in_family, is_reference FROM cl_cmp ORDER BY cid`);
  const cid = toInt32(columns.cid, length, 'cl_cmp.cid');
  const family = toInt32(columns.family, length, 'cl_cmp.family');
  const inFamily = columns.in_family as boolean[];
  const isReference = columns.is_reference as boolean[];
  const batch: ComparisonBatch = {
    kind: Uint8Array.from(columns.kind as ComparisonKind[], (k) => KIND_CODES.indexOf(k)),
    direction: Uint8Array.from(columns.direction as string[], (d) => (d === 'lower_better' ? 1 : 0)),
    x1: toFloat64(columns.x1, length),
    n1: toFloat64(columns.n1, length),
    x2: toFloat64(columns.x2, length),
    n2: toFloat64(columns.n2, length),
    active: new Uint8Array(length),
  };
  let comparisons = 0;
  for (let i = 0; i < length; i++) {
    // the reference itself, no reference row (a named group absent), or an empty group: no comparison
    const ok = !isReference[i] && (batch.n1[i] as number) > 0 && (batch.n2[i] as number) > 0
      && !Number.isNaN(batch.x1[i] as number) && !Number.isNaN(batch.x2[i] as number);
    if (ok) {
      batch.active[i] = 1;
      comparisons++;
    }
  }
  const { values, flag } = await compareAll(batch, { workers: opts.workers });
  const width = VALUE_FIELDS.length;
  const field = (name: (typeof VALUE_FIELDS)[number]) => {
    const k = VALUE_FIELDS.indexOf(name);
    const out = new Float64Array(length);
    for (let i = 0; i < length; i++) out[i] = values[i * width + k] as number;
    return out;
  };
  const p = field('p_value');
  const q = familyQValues(p, family, inFamily);
  // disparity_flag: the AHRQ rule and q < 0.05 (issue 15); the rule alone stays in
  // disparity_flag_unadjusted. Re-derived after suppression (finalise.ts), which may change q.
  const unadjusted = Array.from(flag, (f) => (f < 0 ? null : f === 1));
  const adjusted = unadjusted.map((f, i) => (f === null ? null : f && (q[i] as number) < 0.05));

  await stageTable(conn, 'cl_cmp_stats', length, [
    { name: 'cid', type: 'INTEGER', values: cid },
    ...VALUE_FIELDS.map((f) => ({ name: f, type: 'DOUBLE' as const, values: f === 'p_value' ? p : field(f) })),
    { name: 'q_value', type: 'DOUBLE', values: q },
    { name: 'disparity_flag', type: 'BOOLEAN', values: adjusted },
    { name: 'disparity_flag_unadjusted', type: 'BOOLEAN', values: unadjusted },
  ]);

  await exec(conn, clearStatisticsSql(table));
  const written = await execCount(conn, writeStatisticsSql(table));
  if (written !== length) {
    throw new Error(`disparity statistics: wrote ${written} of ${length} compared rows of ${table}: are (metric_id, period_grain, period_start, dimension, group_value) unique and non-null?`);
  }
  for (const t of ['cl_cmp_metrics', 'cl_cmp_refcfg', 'cl_cmp_rows', 'cl_cmp_refs', 'cl_cmp', 'cl_cmp_stats']) {
    await exec(conn, `DROP TABLE IF EXISTS ${t}`);
  }
  return { rows: length, comparisons };
}

/** Catalog entries can opt out (the funnel's step shares: each is a share of the step before, not of a population). */
export function hasDisparityStatistics(m: MetricInput): boolean {
  return !('disparities' in m) || m.disparities !== false;
}

/**
 * The configured reference per dimension, plus each two-way cut whose two parts both name a
 * group (race_ethnicity*payer: white*commercial under the defaults). `unknown` is refused:
 * it measures missing data, not a group of people.
 */
export function referenceConfig(groups: Config['referenceGroups']): Array<[string, ReferenceChoice]> {
  const out = Object.entries(groups);
  for (const [d, c] of out) {
    if (typeof c === 'object' && c.group.split('*').includes('unknown')) {
      throw new Error(`referenceGroups.${d}: 'unknown' cannot be a reference group (it measures missing data, not a group of people)`);
    }
  }
  for (const cut of DEFAULT_FAMILY_DIMENSIONS.filter((d) => d.includes('*'))) {
    if (groups[cut] !== undefined) continue;
    const parts = cut.split('*').map((d) => groups[d]);
    if (parts.every((c) => typeof c === 'object')) out.push([cut, { group: parts.map((c) => (c as { group: string }).group).join('*') }]);
  }
  return out;
}

/**
 * BH q-values within each family, over the comparisons of the default family that have a
 * p-value (NaN = none). Comparisons outside the family get none.
 */
export function familyQValues(p: ArrayLike<number>, family: ArrayLike<number>, inFamily: readonly boolean[]): Float64Array {
  const members = new Map<number, number[]>();
  for (let i = 0; i < p.length; i++) {
    if (Number.isNaN(p[i] as number) || !inFamily[i]) continue;
    const f = family[i] as number;
    let list = members.get(f);
    if (!list) members.set(f, (list = []));
    list.push(i);
  }
  const q = new Float64Array(p.length).fill(Number.NaN);
  for (const idx of members.values()) {
    const adjusted = benjaminiHochberg(idx.map((i) => p[i] as number));
    idx.forEach((i, k) => {
      q[i] = adjusted[k] ?? Number.NaN;
    });
  }
  return q;
}
