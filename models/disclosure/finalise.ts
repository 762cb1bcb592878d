// The publish step after the metric engine (architecture.md): disparity statistics on the
// full table, then disclosure control once over the whole results table, the derived
// figures, the disparity summaries over the shown groups, the other published aggregates,
// and the independent audit. The caller blocks the publish when audit.ok is false.
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Config } from '../config.ts';
import { computeComparisons } from '../disparities/computeComparisons.ts';
import { buildDisparitySummary } from '../disparities/summaries.ts';
import { settleAddedColumns } from '../metrics/afterSuppression.ts';
import { auditResults, type AuditReport } from './audit.ts';
import type { MetricInput } from './metricMeta.ts';
import { suppressOtherTables, type OtherTablesResult } from './otherTables.ts';
import { checkThreshold, suppress, type SuppressResult } from './suppress.ts';
import { rows } from '../duckdb.ts';

export interface FinaliseOptions {
  metrics: readonly MetricInput[];
  config: Pick<Config, 'referenceGroups' | 'suppressionThreshold'>;
  /** Told as each step ends (progress lines of a run). */
  onPhase?: (phase: string, seconds: number) => void;
}

export interface FinaliseResult {
  /** group-vs-reference comparisons computed (before suppression) */
  comparisons: number;
  /** results rows suppressed (primary + complementary + given) */
  suppressedRows: number;
  suppression: SuppressResult;
  /** rows of disparity_summary */
  summaries: number;
  otherTables: OtherTablesResult;
  audit: AuditReport;
  seconds: Record<'comparisons' | 'suppression' | 'summaries' | 'otherTables' | 'audit', number>;
}

export async function finaliseResults(conn: DuckDBConnection, opts: FinaliseOptions): Promise<FinaliseResult> {
  const threshold = opts.config.suppressionThreshold;
  checkThreshold(threshold);
  const seconds = { comparisons: 0, suppression: 0, summaries: 0, otherTables: 0, audit: 0 };
  if (!(await tableExists(conn, 'metric_results'))) {
    // no metric engine output (e.g. a roster-only first drop): nothing is published, nothing to check
    return {
      comparisons: 0, suppressedRows: 0, summaries: 0, seconds,
      suppression: { rows: 0, relations: 0, suppressed: 0, given: 0, primary: 0, complementary: 0, withheldComparisons: 0, sharedQuantities: [] },
      otherTables: { kmPointsDropped: null, gapRowsWithheld: null, prepostRowsSuppressed: null },
      audit: { ok: true, rows: 0, relations: 0, violations: [] },
    };
  }
  const timed = async <T>(phase: keyof typeof seconds, f: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    try {
      return await f();
    } finally {
      seconds[phase] = (performance.now() - t) / 1000;
      opts.onPhase?.(phase, seconds[phase]);
    }
  };
  const comparisons = await timed('comparisons', () => computeComparisons(conn, { metrics: opts.metrics, config: opts.config }));
  const suppression = await timed('suppression', async () => {
    const r = await suppress(conn, { metrics: opts.metrics, threshold });
    await settleAddedColumns(conn);
    return r;
  });
  const summaries = await timed('summaries', () => buildDisparitySummary(conn, { metrics: opts.metrics }));
  const otherTables = await timed('otherTables', () => suppressOtherTables(conn, { metrics: opts.metrics, threshold }));
  const audit = await timed('audit', () => auditResults(conn, { metrics: opts.metrics, threshold }));
  return { comparisons: comparisons.comparisons, suppressedRows: suppression.suppressed, suppression, summaries, otherTables, audit, seconds };
}

async function tableExists(conn: DuckDBConnection, name: string): Promise<boolean> {
  const r = await rows<{ n: number }>(conn, `SELECT count(*)::INTEGER AS n FROM duckdb_tables() WHERE table_name = '${name}' AND database_name = current_database() AND schema_name = 'main'`);
  return (r[0]?.n ?? 0) > 0;
}
