// Test helpers: an in-memory DuckDB with a metric_results table (RESULT_COLUMNS) built from
// inline rows, and synthetic metric descriptions for disclosure and disparity tests.
import { openDatabase, rows, type Database, type Row } from '../../../models/duckdb.ts';
import { RESULT_COLUMNS } from '../../../models/results.ts';
import type { MetricKind, MetricMeta } from '../../../models/disclosure/metricMeta.ts';
import { POPULATION_DIMENSIONS } from '../../../models/metrics/dimensions.ts';

export interface ResultInput {
  metric_id: string;
  period_grain?: string;
  period_start?: string;
  period_end?: string;
  dimension?: string;
  group_value?: string;
  numerator?: number | null;
  denominator?: number | null;
  value?: number | null;
  suppressed?: boolean | null;
  note?: string | null;
}

export async function resultsDb(input: readonly ResultInput[]): Promise<Database> {
  const db = await openDatabase(':memory:', { threads: 1, memoryLimit: '512MB' });
  await db.conn.run(`CREATE TABLE metric_results (${RESULT_COLUMNS.map((c) => `${c.name} ${c.type}`).join(', ')})`);
  await insertResults(db, input);
  return db;
}

export async function insertResults(db: Database, input: readonly ResultInput[]): Promise<void> {
  if (input.length === 0) return;
  const appender = await db.conn.createAppender('metric_results');
  for (const r of input) {
    const full: Record<string, unknown> = {
      period_grain: 'all',
      period_start: '2025-01-01',
      period_end: '2025-12-31',
      dimension: 'all',
      group_value: 'all',
      numerator: null,
      denominator: null,
      value: null,
      suppressed: null,
      run_id: 'test',
      as_of: '2025-12-31',
      ...r,
    };
    if (full.value === null && typeof full.numerator === 'number' && typeof full.denominator === 'number' && full.denominator > 0) {
      full.value = full.numerator / full.denominator;
    }
    for (const c of RESULT_COLUMNS) {
      const v = full[c.name];
      if (v === null || v === undefined) appender.appendNull();
      else if (c.type === 'DOUBLE') appender.appendDouble(v as number);
      else if (c.type === 'BOOLEAN') appender.appendBoolean(v as boolean);
      else appender.appendVarchar(String(v));
    }
    appender.endRow();
  }
  appender.closeSync();
}

export async function readResults(db: Database, where = 'true'): Promise<Row[]> {
  return rows(db.conn, `SELECT * REPLACE (period_start::VARCHAR AS period_start, period_end::VARCHAR AS period_end, as_of::VARCHAR AS as_of)
FROM metric_results WHERE ${where} ORDER BY metric_id, period_grain, period_start, dimension, group_value`);
}

/** One row by its dimension and group (grain all unless given). */
export function pick(rs: readonly Row[], metric: string, dimension: string, group: string, grain = 'all', start?: string): Row {
  const r = rs.find((x) => x.metric_id === metric && x.dimension === dimension && x.group_value === group && x.period_grain === grain
    && (start === undefined || x.period_start === start));
  if (!r) throw new Error(`no row ${metric} ${grain} ${start ?? ''} ${dimension}=${group}`);
  return r;
}

/** A synthetic metric: population dimensions partition; domain and target_org_id when partitionsByFacts. */
export function testMetric(
  id: string,
  kind: MetricKind,
  opts: { direction?: 'higher_better' | 'lower_better'; additive?: boolean; dollars?: boolean; partitionsByFacts?: boolean } = {},
): MetricMeta {
  return {
    id,
    kind,
    direction: opts.direction ?? 'higher_better',
    dollarNumerator: opts.dollars ?? false,
    additiveOverTime: () => opts.additive ?? true,
    groupsSumToAll: (d) => (POPULATION_DIMENSIONS as readonly string[]).includes(d) || ((opts.partitionsByFacts ?? true) && (d === 'domain' || d === 'target_org_id')),
  };
}
