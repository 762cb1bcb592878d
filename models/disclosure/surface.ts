// The designed publication surface (issue 14): which cuts are published at which grains,
// each with its whole frame of groups. Publishing everything the engine can compute made
// two thirds of the table withheld rows that informed no one and constrained everything
// (every extra grain of a cut is one more relation an attacker can combine), so only the
// cuts the dashboards, reports and exports use are published:
//   - `all` at every grain (headline figures, trends, control charts by month);
//   - one-way cuts at the whole span, years and quarters (disparities, trends by group);
//   - two-way cuts (race_ethnicity*payer, domain*county_fips) at the whole span only: with
//     one grain a two-way table and its margins stay a two-dimensional table, where the
//     attacker's linear programs have whole-number answers (a two-way cut at two grains is
//     a three-way table, and withheld cells of three-way tables are far harder to protect);
//   - zip3 (many small prefixes) at the whole span only; counties, programs and target
//     organisations (many small groups, and organisations tied to domains through the public
//     directory) at the whole span and years: by quarter they were withheld almost everywhere
//     and linked every referral metric to every other through the directory.
// Configurable (closeloop.config.json "publication"); every published cut lists its fixed
// frame: every group of the dimension, a row with zero counts where the engine had none,
// so the existence of a row says nothing (the engine writes a row only for a group with a
// denominator above zero).
//
// Frames: the contract's enumerations (race_ethnicity, sex, age_band, payer, rurality,
// limited_english, domain) and, for open-ended dimensions (preferred_language, county_fips,
// zip3, program_id, target_org_id), every group seen for that dimension anywhere in the
// results table or in the previous publication's; a two-way frame is the product of its
// parts' frames. Kept from the previous publication because the attacker holds both: a group
// that left a frame would say its rows are all 0 now (and whose they were), and a frame that
// is rebuilt each run says of every group in it that someone of that group is there now.
import type { DuckDBConnection } from '@duckdb/node-api';
import { z } from 'zod';
import { exec, rows, sqlString as str } from '../duckdb.ts';
import { DOMAINS } from '../contracts/domains.ts';
import { AGE_BANDS } from '../metrics/dimensions.ts';
import type { MetricMeta } from './metricMeta.ts';

const Grains = z.array(z.enum(['all', 'year', 'quarter', 'month']));

export const PublicationSchema = z
  .object({
    all: Grains.default(['all', 'year', 'quarter', 'month']),
    oneWay: Grains.default(['all', 'year', 'quarter']),
    twoWay: Grains.default(['all']),
    /** Grains for a named dimension, overriding oneWay / twoWay. */
    byDimension: z.record(z.string(), Grains).default({ zip3: ['all'], county_fips: ['all', 'year'], target_org_id: ['all'], program_id: ['all', 'year'], preferred_language: ['all', 'year'] }),
    /**
     * One-way grains for metrics whose cohorts are small (a prefix of the metric id):
     * PHQ-9 episodes and the funnel's matured cohorts, withheld almost everywhere by
     * quarter and group, are cut by group for the whole span and years only.
     */
    byMetricPrefix: z.record(z.string(), Grains).default({ phq9_: ['all', 'year'], funnel_: ['all', 'year'] }),
  })
  .strict();
export type Publication = z.infer<typeof PublicationSchema>;
export const DEFAULT_PUBLICATION: Publication = PublicationSchema.parse({});

/** Enumerated frames (the contract's value lists, plus unknown where a value can be empty). */
export const ENUM_FRAMES: Record<string, readonly string[]> = {
  race_ethnicity: ['hispanic_latino', 'white', 'black', 'asian', 'american_indian_alaska_native', 'native_hawaiian_pacific_islander', 'middle_eastern_north_african', 'multiracial', 'other', 'unknown'],
  sex: ['female', 'male', 'other', 'unknown'],
  age_band: AGE_BANDS.map((b) => b.band),
  payer: ['medicaid', 'medicare', 'dual', 'commercial', 'uninsured', 'other', 'unknown'],
  rurality: ['urban', 'rural', 'unknown'],
  limited_english: ['yes', 'no', 'unknown'],
  domain: [...DOMAINS],
};

export function grainsFor(p: Publication, dimension: string, metric?: string): readonly string[] {
  if (dimension === 'all') return p.all;
  const grains = p.byDimension[dimension] ?? (dimension.includes('*') ? p.twoWay : p.oneWay);
  const prefix = metric === undefined ? undefined : Object.keys(p.byMetricPrefix).find((x) => metric.startsWith(x));
  return prefix === undefined ? grains : grains.filter((g) => p.byMetricPrefix[prefix]!.includes(g));
}

export interface SurfaceResult {
  /** rows the engine computed that the surface does not publish */
  removed: number;
  /** zero rows added to complete frames */
  added: number;
  /** cuts the disclosure rounds removed from the publication (finalise.ts: coarsening) */
  coarsened?: { metric: string; grain: string; dimension: string }[];
}

/**
 * Cuts the results table down to the publication surface and completes every published
 * cut's frame with zero rows (their figures per metric kind: zero counts, no value).
 * `previous`: the previous publication's results table, whose open-ended groups stay in
 * the frames (sticky frames).
 */
export async function applyPublicationSurface(conn: DuckDBConnection, metas: Map<string, MetricMeta>, p: Publication = DEFAULT_PUBLICATION, table = 'metric_results', previous?: string): Promise<SurfaceResult> {
  const pairs = await rows<{ m: string; d: string }>(conn, `SELECT DISTINCT metric_id AS m, dimension AS d FROM ${table}`);
  const dims = [...new Set(pairs.map((r) => r.d))];
  const allowedPairs = pairs.flatMap(({ m, d }) => grainsFor(p, d, m).map((g) => `(${str(m)}, ${str(d)}, ${str(g)})`));
  await exec(conn, `CREATE OR REPLACE TEMP TABLE _surface (metric_id VARCHAR, dimension VARCHAR, period_grain VARCHAR)`);
  if (allowedPairs.length) await exec(conn, `INSERT INTO _surface VALUES ${allowedPairs.join(', ')}`);
  const keep = [`EXISTS (SELECT 1 FROM _surface s WHERE s.metric_id = ${table}.metric_id AND s.dimension = ${table}.dimension AND s.period_grain = ${table}.period_grain)`];
  const before = (await rows<{ n: number }>(conn, `SELECT count(*)::INTEGER AS n FROM ${table}`))[0]?.n ?? 0;
  await exec(conn, `DELETE FROM ${table} WHERE NOT (${keep.join(' OR ') || 'false'})`);
  const after = (await rows<{ n: number }>(conn, `SELECT count(*)::INTEGER AS n FROM ${table}`))[0]?.n ?? 0;

  // the frame of each one-way dimension
  await exec(conn, `CREATE OR REPLACE TEMP TABLE _frame_one AS
SELECT DISTINCT dimension, group_value FROM ${table} WHERE dimension <> 'all' AND NOT contains(dimension, '*')
${Object.entries(ENUM_FRAMES).map(([d, values]) => `UNION SELECT ${str(d)}, unnest([${values.map(str).join(', ')}])`).join('\n')}
${openGroups(table)}
${previous ? openGroups(previous) : ''}`);
  // the frame of each cut: one-way groups, or the product of a two-way cut's parts
  await exec(conn, `CREATE OR REPLACE TEMP TABLE _frame AS
SELECT c.dimension, f.group_value FROM (SELECT DISTINCT dimension FROM ${table} WHERE dimension <> 'all' AND NOT contains(dimension, '*')) c
JOIN _frame_one f USING (dimension)
UNION ALL
SELECT c.dimension, a.group_value || '*' || b.group_value
FROM (SELECT DISTINCT dimension FROM ${table} WHERE contains(dimension, '*')) c
JOIN _frame_one a ON a.dimension = split_part(c.dimension, '*', 1)
JOIN _frame_one b ON b.dimension = split_part(c.dimension, '*', 2)`);
  // zero figures by metric kind
  const kinds = [...metas.values()].map((m) => `(${str(m.id)}, ${str(m.kind)})`).join(', ');
  const cols = (await rows<{ c: string }>(conn, `SELECT column_name AS c FROM duckdb_columns() WHERE table_name = ${str(table)} ORDER BY column_index`)).map((r) => r.c);
  const zero: Record<string, string> = {
    numerator: `CASE k.kind WHEN 'mean' THEN NULL ELSE 0 END`,
    denominator: `CASE k.kind WHEN 'count' THEN NULL ELSE 0 END`,
    value: `CASE k.kind WHEN 'count' THEN 0 END`,
    suppressed: 'false',
    note: `CASE k.kind WHEN 'ratio' THEN 'no provider' END`,
  };
  const copied = new Set(['period_end', 'reference_group', 'run_id', 'as_of', 'period_status']);
  const select = cols.map((c) => {
    if (['metric_id', 'period_grain', 'period_start', 'dimension'].includes(c)) return `cut.${c}`;
    if (c === 'group_value') return 'f.group_value';
    if (zero[c]) return `${zero[c]} AS ${c}`;
    if (copied.has(c)) return `cut.${c}`;
    return `NULL AS ${c}`;
  });
  const before2 = (await rows<{ n: number }>(conn, `SELECT count(*)::INTEGER AS n FROM ${table}`))[0]?.n ?? 0;
  // every period the metric publishes (its `all` row) x every dimension it is cut by, at
  // the grains the surface publishes for that dimension

  await exec(conn, `INSERT INTO ${table} (${cols.join(', ')})
SELECT ${select.join(', ')}
FROM (SELECT a.metric_id, a.period_grain, a.period_start, md.dimension, a.period_end, ref.reference_group, a.run_id, a.as_of${cols.includes('period_status') ? ', a.period_status' : ''}
      FROM ${table} a
      JOIN (SELECT DISTINCT metric_id, dimension FROM ${table} WHERE dimension <> 'all') md USING (metric_id)
      JOIN _surface g ON g.metric_id = a.metric_id AND g.dimension = md.dimension AND g.period_grain = a.period_grain
      LEFT JOIN (SELECT metric_id, period_grain, period_start, dimension, any_value(reference_group) AS reference_group FROM ${table} GROUP BY ALL) ref
        ON ref.metric_id = a.metric_id AND ref.period_grain = a.period_grain AND ref.period_start = a.period_start AND ref.dimension = md.dimension
      WHERE a.dimension = 'all') cut
JOIN _frame f USING (dimension)
JOIN (VALUES ${kinds}) k(metric_id, kind) ON k.metric_id = cut.metric_id
WHERE NOT EXISTS (SELECT 1 FROM ${table} r WHERE r.metric_id = cut.metric_id AND r.period_grain = cut.period_grain
  AND r.period_start = cut.period_start AND r.dimension = cut.dimension AND r.group_value = f.group_value)`);
  const added = ((await rows<{ n: number }>(conn, `SELECT count(*)::INTEGER AS n FROM ${table}`))[0]?.n ?? 0) - before2;
  await exec(conn, 'DROP TABLE _frame; DROP TABLE _frame_one; DROP TABLE _surface');
  return { removed: before - after, added };
}

/**
 * The open-ended groups of a results table (this run's, or the previous publication's), from
 * its one-way cuts and the parts of its two-way cuts: a dimension may be published only
 * inside a two-way cut, and its cells then need the zero rows of a whole frame too, or each
 * cell the engine wrote would say it is above zero. Enumerated dimensions take their frames
 * from the contract alone.
 */
function openGroups(table: string): string {
  const open = `NOT list_contains([${Object.keys(ENUM_FRAMES).map(str).join(', ')}], dimension)`;
  const part = (k: 1 | 2) => `SELECT split_part(dimension, '*', ${k}) AS dimension, split_part(group_value, '*', ${k}) AS group_value FROM ${table}
WHERE contains(dimension, '*') AND length(group_value) - length(replace(group_value, '*', '')) = 1`;
  return `UNION SELECT dimension, group_value FROM (
  SELECT dimension, group_value FROM ${table} WHERE dimension <> 'all' AND NOT contains(dimension, '*')
  UNION ALL ${part(1)}
  UNION ALL ${part(2)}) WHERE ${open}`;
}
