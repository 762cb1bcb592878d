// The metrics engine: every catalog metric x period x dimension x group into the long
// results table `metric_results` (outputs.md). Aggregation happens in SQL (aggregate.ts:
// one GROUPING SETS query per fact, rolled up from months into periods), on the run's
// engine: the DuckDB warehouse, or PostgreSQL (models/engines/), whose aggregated rows
// (_metric_parts) come back to the warehouse. JS only computes intervals and Kaplan-Meier
// estimates on already-aggregated rows and appends them back in bulk. Person-level rows
// never reach JS.
import { readFileSync } from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';
import { exec, rows, scalar, sqlString } from '../duckdb.ts';
import { duckdbEngine, type SqlEngine } from '../engines/engine.ts';
import { buildIntermediate, INTERMEDIATE_MODELS, type IntermediateModel } from '../intermediate/index.ts';
import { modelVars, readSqlFile, renderSql } from '../intermediate/sql.ts';
import {
  aalenJohansenCurve, incidenceAt, incidenceMedian, kaplanMeierCurve, kaplanMeierMedian, poissonExactInterval, tIntervalFromMoments, wilsonInterval,
} from '../stats/index.ts';
import { coverageBasis, monthLevelSql, rollupSelectSql, survivalSql, withCoverageSql, type AggregationSpec, type CoverageBasis } from './aggregate.ts';
import { bulkTable, type BulkValue } from './bulk.ts';
import { compactSurvival, parseCompeting, parseSurvival } from './survival.ts';
import { METRICS, factsInUse, type FactPart, type Metric } from './catalog.ts';
import { engineFingerprint, sqlReads } from './dependencies.ts';
import { DEFAULT_TWO_WAY_CUT, dimensionParts, isOneWayDimension } from './dimensions.ts';
import { factById, factSqlSource } from './facts.ts';
import { buildGapTable } from './gapTable.ts';
import { buildPrePostSummary } from './prePostSummary.ts';

export interface ComputeMetricsOptions {
  /** The run's as-of date, YYYY-MM-DD. */
  asOf: string;
  runId: string;
  /** Two-way cuts besides race_ethnicity*payer, which is always computed (e.g. 'sex*age_band'). */
  twoWayCuts?: string[];
  /** 3-digit ZIP prefixes released as '000'; default data/reference/restricted-zip3.csv. */
  restrictedZip3?: string[];
  /** Keep the intermediate and fact tables (temporary, this connection) for inspection. */
  keepIntermediate?: boolean;
  /** Progress: called after each phase with its duration. */
  onPhase?: (phase: string, seconds: number) => void;
  /**
   * An incremental run: the staging entities whose rows changed since the generation this
   * warehouse was copied from. Facts that read none of them take their aggregated parts
   * from that generation (metric_parts_cache) when its fingerprint (as-of date, settings,
   * engine code) is the same; everything else is recomputed.
   */
  reuse?: { changed: ReadonlySet<string> };
  /**
   * Where the intermediate models, facts and aggregations run: by default the warehouse
   * connection itself; a PostgreSQL engine must hold the staging tables already.
   */
  engine?: SqlEngine;
}

export interface ComputeMetricsResult {
  /** Rows written to metric_results. */
  rows: number;
  seconds: number;
  perMetric: Record<string, number>;
  /** Facts and custom-rows metrics taken from the previous generation, and those computed. */
  reused: string[];
  recomputed: string[];
}

export const GRAIN_ORDER = ['all', 'year', 'quarter', 'month'] as const;

/** The Kaplan-Meier curves kept for dashboards: metric, grain and dimensions. */
const KM_CURVES = { metric: 'days_to_close', grain: 'all', dimensions: ['all', 'target_org_id'] } as const;

const RESTRICTED_ZIP3_FILE = new URL('../../data/reference/restricted-zip3.csv', import.meta.url);

/** The default list of restricted 3-digit ZIP prefixes (one-column CSV with a zip3 header). */
export function defaultRestrictedZip3(): string[] {
  const lines = readFileSync(RESTRICTED_ZIP3_FILE, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  if (lines[0] !== 'zip3') throw new Error(`${RESTRICTED_ZIP3_FILE.pathname}: expected a zip3 header`);
  return lines.slice(1);
}

/** race_ethnicity*payer plus the requested cuts, checked: two different one-way dimensions. */
export function resolveTwoWayCuts(requested: readonly string[] = []): string[] {
  const cuts = [DEFAULT_TWO_WAY_CUT];
  for (const cut of requested) {
    const parts = dimensionParts(cut);
    if (parts.length !== 2 || parts[0] === parts[1] || !parts.every(isOneWayDimension)) {
      throw new Error(`two-way cut ${JSON.stringify(cut)}: expected two different dimensions joined by '*', e.g. 'sex*age_band'`);
    }
    if (!cuts.includes(cut)) cuts.push(cut);
  }
  return cuts;
}

/** A metric's dimensions plus the requested two-way cuts whose parts it has. */
function withCuts(dimensions: readonly string[], cuts: readonly string[]): string[] {
  const out = [...dimensions];
  for (const cut of cuts) if (!out.includes(cut) && dimensionParts(cut).every((p) => out.includes(p))) out.push(cut);
  return out;
}

interface Emit {
  metric: Metric;
  part: FactPart;
  dimensions: string[];
}
interface Plan {
  spec: AggregationSpec;
  emits: Emit[];
}

/** One aggregation per fact x age basis x snapshot (x duration column): metrics sharing a fact share its pass. */
export function planAggregations(metrics: readonly Metric[], cuts: readonly string[]): Plan[] {
  const plans = new Map<string, Plan>();
  for (const metric of metrics) {
    if (!('parts' in metric.sql)) continue;
    for (const part of metric.sql.parts) {
      const fact = factById(part.fact);
      const duration = metric.kind === 'duration' || metric.kind === 'incidence'
        ? { time: part.time as string, event: part.event as string, competing: part.competing }
        : undefined;
      const name = ['_agg', fact.id.replace(/^fct_/, ''), metric.ageAt, metric.snapshot ? 'snapshot' : '', duration?.time ?? '']
        .filter(Boolean).join('_');
      let plan = plans.get(name);
      if (!plan) {
        plan = { spec: { name, fact, ageAt: metric.ageAt, snapshot: metric.snapshot, dimensions: [], measures: [], duration }, emits: [] };
        plans.set(name, plan);
      }
      const dimensions = withCuts(part.dimensions ?? metric.dimensions, cuts);
      // every measure of the fact: sums are cheap, and marts (the pre/post summary) read them
      plan.spec = {
        ...plan.spec,
        dimensions: [...new Set([...plan.spec.dimensions, ...dimensions])],
        measures: duration ? [] : Object.keys(fact.measures),
      };
      plan.emits.push({ metric, part, dimensions });
    }
  }
  // a plan for count metrics only aggregates the rows they count (the zero all rows are added later)
  for (const plan of plans.values()) {
    if (plan.emits.every((e) => e.metric.kind === 'count')) {
      plan.spec = { ...plan.spec, nonZero: plan.emits.map((e) => e.part.numerator as string) };
    }
  }
  return [...plans.values()];
}

// source: the fact (or rows:<file>, or count) a part comes from, the unit of reuse
const PARTS_COLUMNS = `source VARCHAR, metric_id VARCHAR, period_grain VARCHAR, period_start DATE, period_end DATE, dimension VARCHAR,
  group_value VARCHAR, numerator DOUBLE, denominator DOUBLE, sum_x DOUBLE, sum_x2 DOUBLE, value DOUBLE,
  ci_low DOUBLE, ci_high DOUBLE, note VARCHAR, rse DOUBLE`;

const list = (xs: readonly string[]) => xs.map(sqlString).join(', ');
const col = (name: string | undefined) => (name === undefined ? 'NULL' : `${name}::DOUBLE`);

interface SurvivalGroup {
  period_grain: string;
  period_start: string;
  period_end: string;
  dimension: string;
  group_value: string;
  events: number;
  cases: number;
  survival: string;
}

export async function computeMetrics(conn: DuckDBConnection, opts: ComputeMetricsOptions): Promise<ComputeMetricsResult> {
  const started = performance.now();
  let lap = started;
  const phase = (name: string) => {
    const now = performance.now();
    opts.onPhase?.(name, (now - lap) / 1000);
    lap = now;
  };
  const vars = modelVars(opts.asOf);
  const cuts = resolveTwoWayCuts(opts.twoWayCuts);
  const restrictedZip3 = opts.restrictedZip3 ?? defaultRestrictedZip3();
  const facts = factsInUse();
  const sources = [
    ...facts.map((id) => sourceReads(id, withOwnVars(factSqlSource(id)), factById(id).span)),
    ...METRICS.flatMap((m) => ('rows' in m.sql ? [sourceReads(`rows:${m.sql.rows}`, factText(m.sql.rows), null)] : [])),
  ];
  const engine = opts.engine ?? duckdbEngine(conn);
  const { dialect } = engine;
  // parts made by another engine are equivalent, not bit-identical: switching recomputes all
  const fingerprint = engineFingerprint({ asOf: opts.asOf, cuts, restrictedZip3, ...(dialect.name === 'duckdb' ? {} : { engine: dialect.name }) });
  const clean = await reusableSources(conn, opts.reuse, fingerprint, sources);
  // the aggregation joins person attributes, coverage, spans and periods whatever the fact
  const needed = new Set<IntermediateModel>(['int_spans', 'int_periods', 'int_coverage', 'int_person_attributes']);
  for (const s of sources) if (!clean.has(s.source)) for (const m of s.models) needed.add(m);
  const intermediate = await buildIntermediate(engine, { asOf: opts.asOf, restrictedZip3, only: clean.size ? needed : undefined });
  phase(`intermediate models (${Object.keys(intermediate).length})`);

  const plans = planAggregations(METRICS, cuts);
  const survivalRows: BulkValue[][] = [];
  const curveRows: BulkValue[][] = [];
  // Kaplan-Meier estimates are JS work on aggregated rows: they run while DuckDB computes
  // the next statement (DuckDB works on its own threads).
  const jsWork: Array<() => void> = [];
  const sql = async <T>(statement: Promise<T>): Promise<T> => {
    while (jsWork.length > 0) (jsWork.shift() as () => void)();
    return statement;
  };
  const kaplanMeier = (source: string, metric: Metric, part: FactPart, groups: SurvivalGroup[]) => () => {
    if (metric.interval === 'aalen_johansen') {
      for (const g of groups) survivalRows.push([source, metric.id, g.period_grain, g.period_start, g.period_end, g.dimension, g.group_value, ...aalenJohansenFigures(g, part.at)]);
      return;
    }
    for (const g of groups) {
      const data = parseSurvival(g.survival);
      const km = kaplanMeierMedian(compactSurvival(data));
      survivalRows.push([source, metric.id, g.period_grain, g.period_start, g.period_end, g.dimension, g.group_value, km.events, km.cases, km.median, km.low, km.high, null]);
      if (metric.id === KM_CURVES.metric && g.period_grain === KM_CURVES.grain && (KM_CURVES.dimensions as readonly string[]).includes(g.dimension)) {
        for (const p of kaplanMeierCurve(data)) {
          curveRows.push([metric.id, g.period_grain, g.period_start, g.dimension, g.group_value, p.time, p.atRisk, p.events, p.censored, p.survival, p.lower, p.upper]);
        }
      }
    }
  };

  await engine.createEmptyTable('_metric_parts', PARTS_COLUMNS);
  // fact by fact, each dropped once its aggregations are done: person-level tables are the
  // memory that matters at scale
  for (const id of facts) {
    if (clean.has(id)) {
      phase(`${id} (reused)`);
      continue;
    }
    const { file, vars: own } = factSqlSource(id);
    const factPlans = plans.filter((p) => p.spec.fact.id === id);
    const bases = [...new Set(factPlans.map((p) => coverageBasis(p.spec)).filter((b): b is CoverageBasis => b !== null))];
    const factSql = withCoverageSql(renderSql(factText(file), { ...vars, ...own }, `${file}.sql`, dialect), bases, vars.as_of as string);
    await sql(engine.createTable(id, factSql));
    for (const { spec, emits } of factPlans) {
      await sql(engine.createTable(`${spec.name}_month`, monthLevelSql(spec, vars.as_of as string, dialect)));
      if (!spec.duration) await sql(engine.createTable(spec.name, rollupSelectSql(spec, dialect)));
      // metrics read off the same curves (the median and the shares served) share their groups
      const survivalGroups = new Map<string, SurvivalGroup[]>();
      for (const { metric, part, dimensions } of emits) {
        if (spec.duration) {
          const key = dimensions.join('|');
          let groups = survivalGroups.get(key);
          if (!groups) survivalGroups.set(key, (groups = await sql(engine.rows<SurvivalGroup>(survivalSql(spec, dimensions, dialect)))));
          jsWork.push(kaplanMeier(id, metric, part, groups));
          continue;
        }
        await sql(engine.exec(`INSERT INTO _metric_parts (source, metric_id, period_grain, period_start, period_end, dimension, group_value, numerator, denominator, sum_x, sum_x2)
SELECT ${sqlString(id)}, ${sqlString(metric.id)}, period_grain, period_start, period_end, dimension, group_value,
  ${col(part.numerator)}, ${col(part.denominator)}, ${col(part.sum)}, ${col(part.sumSquares)}
FROM ${spec.name} WHERE dimension IN (${list(dimensions)})`));
      }
      await sql(engine.dropTable(`${spec.name}_month`));
    }
    if (!opts.keepIntermediate) await sql(engine.dropTable(id));
    phase(`${id} and its aggregations`);
  }
  await sql(Promise.resolve());
  phase('Kaplan-Meier (rest)');

  for (const metric of METRICS) {
    if (!('rows' in metric.sql) || clean.has(`rows:${metric.sql.rows}`)) continue;
    const sql = renderSql(factText(metric.sql.rows), vars, `${metric.sql.rows}.sql`, dialect);
    await engine.exec(`INSERT INTO _metric_parts (source, metric_id, period_grain, period_start, period_end, dimension, group_value, numerator, denominator, value, note)
SELECT ${sqlString(`rows:${metric.sql.rows}`)}, ${sqlString(metric.id)}, period_grain, period_start, period_end, dimension, group_value, numerator, denominator, value, note FROM (${sql}) AS r`);
  }

  // count metrics: the all row of every period of the span, zero included
  for (const metric of METRICS.filter((m) => m.kind === 'count')) {
    await engine.exec(`INSERT INTO _metric_parts (source, metric_id, period_grain, period_start, period_end, dimension, group_value, numerator)
SELECT 'count', ${sqlString(metric.id)}, grain, period_start, period_end, 'all', 'all', 0
FROM int_periods WHERE span_entity = ${sqlString(metric.span)}${metric.snapshot ? ` AND grain = 'all'` : ''}`);
  }

  // The aggregated rows come back to the warehouse (nothing to do when it is the engine);
  // the rest runs there.
  await engine.copyToWarehouse('_metric_parts', PARTS_COLUMNS, conn);
  // and the spans, which period_status reads
  await engine.createTable('_metric_spans', 'SELECT span_entity, span_start FROM int_spans');
  await engine.copyToWarehouse('_metric_spans', 'span_entity VARCHAR, span_start DATE', conn);
  for (const source of clean) {
    await exec(conn, `INSERT INTO _metric_parts SELECT * FROM metric_parts_cache WHERE source = ${sqlString(source)}`);
  }

  await bulkTable(conn, '_km_rows', [
    ['source', 'VARCHAR'], ['metric_id', 'VARCHAR'], ['period_grain', 'VARCHAR'], ['period_start', 'VARCHAR'], ['period_end', 'VARCHAR'],
    ['dimension', 'VARCHAR'], ['group_value', 'VARCHAR'], ['events', 'DOUBLE'], ['cases', 'DOUBLE'],
    ['median', 'DOUBLE'], ['low', 'DOUBLE'], ['high', 'DOUBLE'], ['rse', 'DOUBLE'],
  ], survivalRows);
  await exec(conn, `INSERT INTO _metric_parts (source, metric_id, period_grain, period_start, period_end, dimension, group_value, numerator, denominator, value, ci_low, ci_high, rse)
SELECT source, metric_id, period_grain, period_start::DATE, period_end::DATE, dimension, group_value, events, cases, median, low, high, rse FROM _km_rows`);

  // What the next incremental run may reuse (the zero rows of counts are always rebuilt).
  await exec(conn, `CREATE OR REPLACE TABLE metric_parts_cache AS SELECT * FROM _metric_parts WHERE source <> 'count'`);
  await exec(conn, `CREATE OR REPLACE TABLE metric_cache_meta AS SELECT ${sqlString(fingerprint)} AS fingerprint`);

  await bulkTable(conn, '_metric_catalog', [
    ['metric_id', 'VARCHAR'], ['kind', 'VARCHAR'], ['interval', 'VARCHAR'], ['scale', 'DOUBLE'], ['ord', 'DOUBLE'],
    ['maturity', 'DOUBLE'], ['span', 'VARCHAR'], ['snapshot', 'DOUBLE'],
  ], METRICS.map((m, i) => [m.id, m.kind, m.interval, m.scale, i, m.maturityDays, m.span, m.snapshot ? 1 : 0]));

  // parts add up; a group one part lacks (no numerator rows) has a zero numerator
  await exec(conn, `CREATE OR REPLACE TEMP TABLE _metric_merged AS
SELECT m.*, c.kind, c.interval, c.scale, c.ord, c.maturity, c.span, c.snapshot,
  CASE WHEN c.interval = 't' THEN m.denominator ELSE m.numerator END AS k1,
  CASE WHEN c.interval = 't' THEN m.sum_x ELSE m.denominator END AS k2,
  CASE WHEN c.interval = 't' THEN m.sum_x2 ELSE 0 END AS k3
FROM (
  SELECT p.metric_id, p.period_grain, p.period_start, p.period_end, p.dimension, p.group_value,
    CASE WHEN any_value(c.kind) IN ('proportion', 'rate') THEN coalesce(sum(p.numerator), 0) ELSE sum(p.numerator) END AS numerator,
    sum(p.denominator) AS denominator, sum(p.sum_x) AS sum_x, sum(p.sum_x2) AS sum_x2,
    max(p.value) AS value, max(p.ci_low) AS ci_low, max(p.ci_high) AS ci_high, max(p.note) AS note, max(p.rse) AS rse
  FROM _metric_parts p
  JOIN _metric_catalog c USING (metric_id)
  GROUP BY p.metric_id, p.period_grain, p.period_start, p.period_end, p.dimension, p.group_value
) m
JOIN _metric_catalog c USING (metric_id)
WHERE CASE c.kind
  WHEN 'count' THEN m.dimension = 'all' OR m.numerator >= 1
  WHEN 'ratio' THEN true
  ELSE m.denominator > 0
END`);
  await exec(conn, 'DROP TABLE _metric_parts');
  phase('custom rows and merge');

  await computeIntervals(conn);
  phase('intervals');

  const grainOrder = `CASE r.period_grain ${GRAIN_ORDER.map((g, i) => `WHEN '${g}' THEN ${i}`).join(' ')} END`;
  // RSE of the published value (NCHS reliability: "unreliable" above 30% or with fewer than
  // 20 events); durations from their interval, incidences from their standard error.
  const rse = `CASE r.kind
    WHEN 'proportion' THEN CASE WHEN r.value > 0 THEN sqrt((1 - r.value) / (r.denominator * r.value)) END
    WHEN 'rate' THEN CASE WHEN r.numerator > 0 THEN 1 / sqrt(r.numerator) END
    WHEN 'count' THEN CASE WHEN r.numerator > 0 THEN 1 / sqrt(r.numerator) END
    WHEN 'mean' THEN CASE WHEN r.n > 1 AND r.value <> 0 THEN sqrt(greatest(0, (r.sum_x2 - r.sum_x * r.sum_x / r.n) / (r.n - 1)) / r.n) / abs(r.value) END
    WHEN 'duration' THEN CASE WHEN r.value > 0 THEN (r.ci_high - r.ci_low) / (2 * 1.959963984540054 * r.value) END
    WHEN 'incidence' THEN r.rse
  END`;
  await exec(conn, `CREATE OR REPLACE TABLE metric_results AS
WITH r AS (
  SELECT
    m.metric_id,
    m.period_grain,
    m.period_start,
    m.period_end,
    m.dimension,
    m.group_value,
    CASE WHEN m.kind = 'mean' THEN NULL ELSE m.numerator END AS numerator,
    CASE WHEN m.kind = 'count' THEN NULL ELSE m.denominator END AS denominator,
    CASE m.kind
      WHEN 'proportion' THEN m.numerator / m.denominator
      WHEN 'rate' THEN m.numerator / m.denominator * m.scale
      WHEN 'count' THEN m.numerator
      WHEN 'mean' THEN m.sum_x / m.denominator
      ELSE m.value
    END::DOUBLE AS value,
    (CASE WHEN m.kind IN ('duration', 'incidence') THEN m.ci_low ELSE ci.low * m.scale END)::DOUBLE AS ci_low,
    (CASE WHEN m.kind IN ('duration', 'incidence') THEN m.ci_high ELSE ci.high * m.scale END)::DOUBLE AS ci_high,
    m.note,
    m.kind, m.interval, m.ord, m.maturity, m.span, m.snapshot, m.rse, m.sum_x, m.sum_x2, m.denominator AS n
  FROM _metric_merged m
  LEFT JOIN _ci ci ON ci.method = m.interval AND ci.k1 = m.k1 AND ci.k2 = m.k2 AND ci.k3 = m.k3
)
SELECT
  r.metric_id, r.period_grain, r.period_start, r.period_end, r.dimension, r.group_value,
  r.numerator, r.denominator, r.value, r.ci_low, r.ci_high,
  false AS suppressed,
  NULL::VARCHAR AS reference_group,
  NULL::DOUBLE AS rate_difference,
  NULL::DOUBLE AS rd_ci_low,
  NULL::DOUBLE AS rd_ci_high,
  NULL::DOUBLE AS rate_ratio,
  NULL::DOUBLE AS rr_ci_low,
  NULL::DOUBLE AS rr_ci_high,
  NULL::DOUBLE AS p_value,
  NULL::DOUBLE AS q_value,
  NULL::BOOLEAN AS disparity_flag,
  ${sqlString(opts.runId)} AS run_id,
  ${vars.as_of} AS as_of,
  r.note,
  -- final: every unit's windows have elapsed (calendar end + maturity <= as-of); partial: the
  -- period starts before the metric's data do; a snapshot is what it is at the as-of date
  CASE
    WHEN r.snapshot = 1 THEN 'final'
    WHEN r.period_grain <> 'all' AND r.period_start < sp.span_start THEN 'partial'
    WHEN CASE r.period_grain
        WHEN 'month' THEN last_day(r.period_start)
        WHEN 'quarter' THEN (r.period_start + INTERVAL 3 MONTH - INTERVAL 1 DAY)::DATE
        WHEN 'year' THEN (r.period_start + INTERVAL 12 MONTH - INTERVAL 1 DAY)::DATE
        ELSE r.period_end
      END + r.maturity::INTEGER <= ${vars.as_of} THEN 'final'
    ELSE 'provisional'
  END AS period_status,
  CASE
    WHEN r.kind = 'ratio' OR (r.kind = 'rate' AND r.interval = 'none') OR r.value IS NULL THEN NULL
    WHEN r.kind = 'count' THEN r.numerator < 20
    WHEN r.kind = 'mean' THEN r.n < 20 OR coalesce(${rse} > 0.3, true)
    ELSE r.numerator < 20 OR coalesce(${rse} > 0.3, true)
  END AS unreliable,
  NULL::BOOLEAN AS disparity_flag_unadjusted
FROM r
LEFT JOIN _metric_spans sp ON sp.span_entity = r.span
ORDER BY r.ord, ${grainOrder}, r.period_start, r.dimension = 'all' DESC, r.dimension, r.group_value`);

  phase('metric_results');

  // The curves and the pre/post summary of a reused fact are the previous run's, taken
  // from the unsuppressed copies it kept: disclosure control later edits the published
  // tables in place, and withholding an already withheld table again is not the same
  // (a nulled count no longer triggers suppression).
  if (clean.has(KM_CURVES_FACT)) await restoreUnsuppressed(conn, 'km_curves');
  else {
    await bulkTable(conn, '_km_curves', [
      ['metric_id', 'VARCHAR'], ['period_grain', 'VARCHAR'], ['period_start', 'VARCHAR'], ['dimension', 'VARCHAR'], ['group_value', 'VARCHAR'],
      ['time', 'DOUBLE'], ['at_risk', 'DOUBLE'], ['events', 'DOUBLE'], ['censored', 'DOUBLE'], ['survival', 'DOUBLE'], ['lower', 'DOUBLE'], ['upper', 'DOUBLE'],
    ], curveRows);
    await exec(conn, `CREATE OR REPLACE TABLE km_curves AS
SELECT metric_id, period_grain, period_start::DATE AS period_start, dimension, group_value,
  time::INTEGER AS time, at_risk::INTEGER AS at_risk, events::INTEGER AS events, censored::INTEGER AS censored,
  survival, lower, upper
FROM _km_curves ORDER BY metric_id, dimension = 'all' DESC, dimension, group_value, time`);
  }

  await buildGapTable(conn, { runId: opts.runId, asOfSql: vars.as_of as string });
  if (clean.has('fct_prepost')) {
    await restoreUnsuppressed(conn, 'prepost_summary');
    await exec(conn, `UPDATE prepost_summary SET run_id = ${sqlString(opts.runId)}`);
  } else await buildPrePostSummary(conn, { runId: opts.runId, asOfSql: vars.as_of as string, table: plans.find((p) => p.spec.fact.id === 'fct_prepost')?.spec.name, engine });
  for (const t of ['km_curves', 'prepost_summary']) await exec(conn, `CREATE OR REPLACE TABLE ${t}_unsuppressed AS SELECT * FROM ${t}`);
  phase('km_curves, gap_table, prepost_summary');

  if (!opts.keepIntermediate) {
    for (const t of [...plans.map((p) => p.spec.name), ...INTERMEDIATE_MODELS, 'ref_restricted_zip3', '_metric_spans']) await engine.dropTable(t);
    for (const t of ['_km_rows', '_km_curves', '_metric_catalog', '_metric_merged', '_ci', '_metric_spans']) await exec(conn, `DROP TABLE IF EXISTS ${t}`);
  }

  const perMetric: Record<string, number> = Object.fromEntries(METRICS.map((m) => [m.id, 0]));
  for (const r of await rows<{ metric_id: string; n: number }>(conn, 'SELECT metric_id, count(*) AS n FROM metric_results GROUP BY metric_id')) {
    perMetric[r.metric_id] = r.n;
  }
  const total = await scalar<number>(conn, 'SELECT count(*) FROM metric_results');
  return {
    rows: total, seconds: (performance.now() - started) / 1000, perMetric,
    reused: sources.filter((s) => clean.has(s.source)).map((s) => s.source),
    recomputed: sources.filter((s) => !clean.has(s.source)).map((s) => s.source),
  };
}

/**
 * events, cases, value, low, high and RSE of an Aalen-Johansen metric for one group: the
 * median day (at undefined) or the cumulative incidence at day `at`, whose events are the
 * cases observed to have the event by that day.
 */
function aalenJohansenFigures(g: SurvivalGroup, at: number | undefined): BulkValue[] {
  const rows = parseCompeting(g.survival);
  const curve = aalenJohansenCurve(rows);
  if (at === undefined) {
    const m = incidenceMedian(curve);
    return [g.events, g.cases, m.median, m.low, m.high, null];
  }
  const f = incidenceAt(curve, at);
  const events = rows.reduce((t, r) => t + (r.time <= at ? r.events : 0), 0);
  return [events, g.cases, f.incidence, f.lower, f.upper, f.incidence > 0 ? f.se / f.incidence : null];
}

const factText = (file: string) => readSqlFile(new URL(`./sql/${file}.sql`, import.meta.url));

/** A fact's SQL with its own placeholder values filled in (they may name tables), the run's left as they are. */
const withOwnVars = ({ file, vars }: { file: string; vars: Record<string, string> }) =>
  Object.entries(vars).reduce((text, [k, v]) => text.replaceAll(`{{${k}}}`, v), factText(file));

/** The fact whose Kaplan-Meier curves are kept (km_curves). */
const KM_CURVES_FACT = (() => {
  const m = METRICS.find((x) => x.id === KM_CURVES.metric);
  if (!m || !('parts' in m.sql) || !m.sql.parts[0]) throw new Error(`${KM_CURVES.metric}: not a fact-based metric`);
  return factById(m.sql.parts[0].fact).id;
})();

interface SourceReads {
  source: string;
  /** Staging entities it reads: those in its SQL, plus people and coverage and its span entity. */
  entities: Set<string>;
  /** Intermediate models its SQL reads. */
  models: Set<IntermediateModel>;
}

function sourceReads(source: string, text: string, span: string | null): SourceReads {
  const { entities, models } = sqlReads(text);
  // the aggregation joins person attributes and coverage for the population dimensions
  entities.add('people');
  entities.add('coverage');
  if (span) entities.add(span);
  return { source, entities, models };
}

/**
 * The sources an incremental run may take from the previous generation: those reading no
 * changed entity, when the warehouse holds parts made with the same fingerprint. None on
 * a full run.
 */
async function reusableSources(
  conn: DuckDBConnection,
  reuse: ComputeMetricsOptions['reuse'],
  fingerprint: string,
  sources: SourceReads[],
): Promise<Set<string>> {
  if (!reuse) return new Set();
  const cached = await rows<{ n: number }>(conn, `SELECT count(*) AS n FROM duckdb_tables() WHERE NOT temporary AND table_name IN ('metric_parts_cache', 'metric_cache_meta')`);
  if (cached[0]?.n !== 2) return new Set();
  const previous = await rows<{ fingerprint: string }>(conn, 'SELECT fingerprint FROM metric_cache_meta');
  if (previous[0]?.fingerprint !== fingerprint) return new Set();
  const clean = new Set<string>();
  for (const s of sources) if (![...s.entities].some((e) => reuse.changed.has(e))) clean.add(s.source);
  return clean;
}

/**
 * Intervals for every distinct (numerator, denominator) or (n, sum, sum of squares) among
 * the aggregated rows: many rows share them, and the figures go back to SQL as one table.
 */
async function computeIntervals(conn: DuckDBConnection): Promise<void> {
  const keys = await rows<{ interval: string; k1: number; k2: number; k3: number }>(conn, `SELECT DISTINCT interval, k1, k2, k3
FROM _metric_merged WHERE interval IN ('wilson', 'poisson_exact', 't') AND k1 IS NOT NULL AND k2 IS NOT NULL`);
  const out: BulkValue[][] = [];
  for (const { interval, k1, k2, k3 } of keys) {
    let ci: { low: number | null; high: number | null } | null = null;
    if (interval === 'wilson') ci = wilsonInterval(k1, k2);
    else if (interval === 'poisson_exact') ci = poissonExactInterval(k1, k2);
    else ci = tIntervalFromMoments(k1, k2, k3);
    if (ci) out.push([interval, k1, k2, k3, ci.low, ci.high]);
  }
  await bulkTable(conn, '_ci', [['method', 'VARCHAR'], ['k1', 'DOUBLE'], ['k2', 'DOUBLE'], ['k3', 'DOUBLE'], ['low', 'DOUBLE'], ['high', 'DOUBLE']], out);
}

/** The engine's own (unsuppressed) copy of a table a reused fact feeds, kept by the previous run. */
async function restoreUnsuppressed(conn: DuckDBConnection, table: 'km_curves' | 'prepost_summary') {
  await exec(conn, `CREATE OR REPLACE TABLE ${table} AS SELECT * FROM ${table}_unsuppressed`);
}
