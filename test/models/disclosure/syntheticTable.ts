// A large synthetic results table with consistent relations, for timing the publish step
// (bench.ts) : base cells per metric x month x person attributes with random counts, rolled
// up in DuckDB to every one-way cut, race_ethnicity*payer and `all`, and to quarters,
// years and the whole span. Proportions, rates and counts.
import type { DuckDBConnection } from '@duckdb/node-api';
import { RESULT_COLUMNS } from '../../../models/results.ts';
import { testMetric } from './resultsTable.ts';
import type { MetricMeta } from '../../../models/disclosure/metricMeta.ts';

export interface SyntheticOptions {
  metrics: number;
  months: number;
  /** base cells per metric x month */
  cells: number;
  seed?: number;
}

export function syntheticMetrics(n: number): MetricMeta[] {
  return Array.from({ length: n }, (_, i) => {
    const kind = i % 4 === 3 ? 'rate' : i % 4 === 2 ? 'count' : 'proportion';
    return testMetric(`m${String(i).padStart(2, '0')}`, kind, { direction: i % 2 ? 'lower_better' : 'higher_better', additive: true });
  });
}

export async function buildSyntheticResults(conn: DuckDBConnection, o: SyntheticOptions): Promise<number> {
  const metrics = syntheticMetrics(o.metrics);
  await conn.run(`SELECT setseed(${o.seed ?? 0.42})`);
  await conn.run(`CREATE OR REPLACE TEMP TABLE syn_metrics AS SELECT * FROM (VALUES ${metrics.map((m) => `('${m.id}', '${m.kind}')`).join(', ')}) t(metric_id, kind)`);
  // base cells: attributes drawn with skew so some groups are small
  await conn.run(`CREATE OR REPLACE TEMP TABLE syn_base AS
SELECT m.metric_id, m.kind, (DATE '2023-01-01' + INTERVAL (mo) MONTH)::DATE AS month,
  'r' || (floor(pow(random(), 2) * 8))::INTEGER AS race_ethnicity,
  'l' || (floor(pow(random(), 3) * 10))::INTEGER AS preferred_language,
  CASE WHEN random() < 0.8 THEN 'no' WHEN random() < 0.9 THEN 'yes' ELSE 'unknown' END AS limited_english,
  CASE WHEN random() < 0.5 THEN 'female' WHEN random() < 0.98 THEN 'male' ELSE 'unknown' END AS sex,
  'a' || (floor(random() * 5))::INTEGER AS age_band,
  'p' || (floor(pow(random(), 2) * 5))::INTEGER AS payer,
  CASE WHEN random() < 0.7 THEN 'urban' ELSE 'rural' END AS rurality,
  'c' || (floor(pow(random(), 2) * 400))::INTEGER AS county_fips,
  'z' || (floor(pow(random(), 2) * 200))::INTEGER AS zip3,
  'g' || (floor(pow(random(), 2) * 60))::INTEGER AS program_id,
  floor(random() * 30)::DOUBLE AS den0,
  random() AS share
FROM syn_metrics m, range(${o.months}) t(mo), range(${o.cells}) c(i)`);
  await conn.run(`CREATE OR REPLACE TEMP TABLE syn_cells AS
SELECT metric_id, kind, month, race_ethnicity, preferred_language, limited_english, sex, age_band, payer, rurality, county_fips, zip3, program_id,
  CASE WHEN kind = 'rate' THEN den0 * 0.7 + 0.3 ELSE den0 END AS den,
  CASE WHEN kind = 'count' THEN den0 ELSE floor(den0 * share) END AS num
FROM syn_base`);
  const dims = ['race_ethnicity', 'preferred_language', 'limited_english', 'sex', 'age_band', 'payer', 'rurality', 'county_fips', 'zip3', 'program_id'];
  const sets = ['()', ...dims.map((d) => `(${d})`), '(race_ethnicity, payer)'];
  const dimExpr = `CASE ${dims.map((d, i) => `WHEN grouping_id(${dims.join(', ')}) = ${(1 << dims.length) - 1 - (1 << (dims.length - 1 - i))} THEN '${d}'`).join(' ')}
    WHEN grouping_id(${dims.join(', ')}) = ${(1 << dims.length) - 1} THEN 'all' ELSE 'race_ethnicity*payer' END`;
  const gvExpr = `CASE ${dims.map((d, i) => `WHEN grouping_id(${dims.join(', ')}) = ${(1 << dims.length) - 1 - (1 << (dims.length - 1 - i))} THEN ${d}`).join(' ')}
    WHEN grouping_id(${dims.join(', ')}) = ${(1 << dims.length) - 1} THEN 'all' ELSE race_ethnicity || '*' || payer END`;
  const periods = [
    { grain: 'month', start: 'month', end: `(month + INTERVAL 1 MONTH - INTERVAL 1 DAY)::DATE` },
    { grain: 'quarter', start: `date_trunc('quarter', month)::DATE`, end: `(date_trunc('quarter', month) + INTERVAL 3 MONTH - INTERVAL 1 DAY)::DATE` },
    { grain: 'year', start: `date_trunc('year', month)::DATE`, end: `(date_trunc('year', month) + INTERVAL 1 YEAR - INTERVAL 1 DAY)::DATE` },
    { grain: 'all', start: `DATE '2023-01-01'`, end: `DATE '2025-12-31'` },
  ];
  await conn.run(`CREATE OR REPLACE TABLE metric_results (${RESULT_COLUMNS.map((c) => `${c.name} ${c.type}`).join(', ')})`);
  for (const p of periods) {
    await conn.run(`INSERT INTO metric_results (metric_id, period_grain, period_start, period_end, dimension, group_value, numerator, denominator, value, suppressed, run_id, as_of)
SELECT metric_id, '${p.grain}', ps, pe, dimension, group_value, CASE WHEN kind = 'count' THEN den ELSE num END, CASE WHEN kind = 'count' THEN NULL ELSE den END,
  CASE WHEN kind = 'count' THEN den WHEN kind = 'rate' THEN num / den * 1000 ELSE num / den END, false, 'bench', DATE '2025-12-31'
FROM (
  SELECT metric_id, kind, ${p.start} AS ps, max(${p.end}) AS pe, ${dimExpr} AS dimension, ${gvExpr} AS group_value, sum(num) AS num, sum(den) AS den
  FROM syn_cells
  GROUP BY GROUPING SETS (${sets.map((s) => (s === '()' ? `(metric_id, kind, ${p.start})` : `(metric_id, kind, ${p.start}, ${s.slice(1, -1)})`)).join(', ')})
) WHERE den > 0 OR dimension = 'all'`);
  }
  await conn.run('DROP TABLE syn_base');
  await conn.run('DROP TABLE syn_cells');
  const r = await conn.runAndReadAll('SELECT count(*)::INTEGER AS n FROM metric_results');
  return r.getRowsJson()[0]?.[0] as number;
}
