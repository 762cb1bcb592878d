// Reading the (already suppressed) results table: filtering only, never aggregation of
// anything person-level. Every filter value is checked against what the generation holds,
// so a bad value is a 400 that lists the values that exist.
import { groupLabel } from '../labels.ts';
import type { Row } from '../../models/duckdb.ts';
import { RESULT_COLUMNS, type PeriodGrain } from '../../models/results.ts';
import type { Generation } from '../generation.ts';
import { badRequest, HttpError, notFound } from '../http.ts';
import { availability, findMetric, metricIds, type Metric } from './catalog.ts';

export const RESULT_COLUMN_NAMES = RESULT_COLUMNS.map((c) => c.name);

export interface ResultFilter {
  metric: string;
  dimension?: string;
  grain?: PeriodGrain;
  period_start?: string;
  /** Period starts from..to, inclusive. */
  from?: string;
  to?: string;
  /** One group of the dimension. */
  group?: string;
}

/** "a, b, c" or "a, b, c and 40 more" for long lists. */
export function listValues(values: readonly string[], max = 25): string {
  if (values.length <= max) return values.join(', ');
  return `${values.slice(0, max).join(', ')} and ${values.length - max} more`;
}

export function oneOf(name: string, value: string, allowed: readonly string[]): string {
  if (!allowed.includes(value)) {
    throw badRequest(`parameter '${name}' must be one of ${listValues(allowed)} (got '${value}')`, { parameter: name });
  }
  return value;
}

/**
 * Validation results per generation (a published generation never changes, so a filter
 * that passed once passes for the generation's life). Only successes are kept: a refused
 * value is checked afresh every time (and never grows the cache), and the entries of a
 * generation go with it.
 */
const checked = new WeakMap<Generation, { metrics: Map<string, Metric>; filters: Set<string> }>();
function checkedOf(gen: Generation) {
  let c = checked.get(gen);
  if (!c) checked.set(gen, (c = { metrics: new Map(), filters: new Set() }));
  return c;
}

/** The metric must exist in the catalog and in this run. */
export async function requireMetric(gen: Generation, id: string): Promise<Metric> {
  const c = checkedOf(gen);
  const known = c.metrics.get(id);
  if (known) return known;
  const m = findMetric(id);
  if (!m) throw notFound(`unknown metric '${id}'; known metrics: ${metricIds().join(', ')}`, { parameter: 'id' });
  if (!gen.hasTable('metric_results')) throw new HttpError(404, 'the results table is not available in this run', { reason: 'not_available' });
  c.metrics.set(id, m);
  return m;
}

/** Validate a filter against the generation's contents; returns it unchanged. */
export async function checkFilter(gen: Generation, f: ResultFilter): Promise<ResultFilter> {
  const key = JSON.stringify([f.metric, f.dimension ?? null, f.grain ?? null]);
  const c = checkedOf(gen);
  if (c.filters.has(key)) return f;
  await requireMetric(gen, f.metric);
  const a = await availability(gen);
  await explainWithheldCut(gen, f, a);
  if (f.dimension !== undefined) oneOf('dimension', f.dimension, [...(a.dimensions.get(f.metric) ?? [])].sort());
  if (f.grain !== undefined) oneOf('grain', f.grain, [...(a.periods.get(f.metric)?.keys() ?? [])]);
  c.filters.add(key);
  return f;
}

/**
 * A cut the publish left out to protect small counts (table withheld_cuts, issue 14) is
 * not a typo: the 400 says so, rather than listing the values that exist.
 */
async function explainWithheldCut(gen: Generation, f: ResultFilter, a: Awaited<ReturnType<typeof availability>>) {
  if (f.dimension === undefined && f.grain === undefined) return;
  const dimOk = f.dimension === undefined || a.dimensions.get(f.metric)?.has(f.dimension);
  const grainOk = f.grain === undefined || a.periods.get(f.metric)?.has(f.grain);
  if ((dimOk && grainOk) || !gen.hasTable('withheld_cuts')) return;
  const where = ['metric_id = ?'];
  const params = [f.metric];
  if (f.dimension !== undefined) (where.push('dimension = ?'), params.push(f.dimension));
  if (f.grain !== undefined) (where.push('period_grain = ?'), params.push(f.grain));
  const hit = await gen.query<{ period_grain: string; dimension: string; reason: string }>(
    `SELECT period_grain, dimension, reason FROM withheld_cuts WHERE ${where.join(' AND ')} ORDER BY period_grain, dimension LIMIT 1`, params);
  const w = hit[0];
  if (!w) return;
  throw new HttpError(400, `${f.metric} by ${w.dimension} (${w.period_grain}) is not published in this run to protect small counts: ${w.reason}`,
    { parameter: f.dimension !== undefined && !dimOk ? 'dimension' : 'grain', reason: 'withheld_cut' });
}

export function whereClause(f: ResultFilter): { sql: string; params: string[] } {
  const where: string[] = ['metric_id = ?'];
  const params: string[] = [f.metric];
  const add = (cond: string, v: string | undefined) => {
    if (v === undefined) return;
    where.push(cond);
    params.push(v);
  };
  add('dimension = ?', f.dimension);
  add('period_grain = ?', f.grain);
  add('period_start = CAST(? AS DATE)', f.period_start);
  add('period_start >= CAST(? AS DATE)', f.from);
  add('period_start <= CAST(? AS DATE)', f.to);
  add('group_value = ?', f.group);
  return { sql: where.join(' AND '), params };
}

const SELECT = RESULT_COLUMNS.map((c) => `"${c.name}"`).join(', ');

/** Result rows in the spec's column order, ordered by grain, period, dimension, group. */
export async function resultRows(gen: Generation, f: ResultFilter): Promise<Row[]> {
  const w = whereClause(f);
  return gen.query(`SELECT ${SELECT} FROM metric_results WHERE ${w.sql}
    ORDER BY CASE period_grain WHEN 'all' THEN 0 WHEN 'year' THEN 1 WHEN 'quarter' THEN 2 ELSE 3 END, period_start, dimension, group_value`, w.params);
}

/** Rows of several metrics at once (same filter otherwise). */
export async function resultRowsFor(gen: Generation, metrics: string[], f: Omit<ResultFilter, 'metric'>): Promise<Row[]> {
  if (!gen.hasTable('metric_results') || metrics.length === 0) return [];
  const parts = whereClause({ ...f, metric: metrics[0]! });
  const sql = parts.sql.replace('metric_id = ?', `metric_id IN (${metrics.map(() => '?').join(', ')})`);
  return gen.query(`SELECT ${SELECT} FROM metric_results WHERE ${sql} ORDER BY metric_id, period_grain, period_start, dimension, group_value`, [...metrics, ...parts.params.slice(1)]);
}

export interface Subset {
  dimension: string;
  group: string;
  /** Plain words for captions: "county 37119", "everyone". */
  label: string;
}

/**
 * The population a view is restricted to. Results are published for one-way cuts (and the
 * domain x county cut), so program, county and domain can be used one at a time, or domain
 * with county; other combinations do not exist in the results table.
 */
export function resolveSubset(f: { program?: string; county?: string; domain?: string }): Subset {
  const { program, county, domain } = f;
  if (program && (county || domain)) {
    throw badRequest(`parameters 'program' and '${county ? 'county' : 'domain'}' cannot be combined: results are published by attributed program alone (clear one of them)`, { parameter: 'program' });
  }
  if (program) return { dimension: 'program_id', group: program, label: `program ${program}` };
  if (domain && county) return { dimension: 'domain*county_fips', group: `${domain}*${county}`, label: `${groupLabel('domain', domain).toLowerCase()} needs in ${groupLabel('county_fips', county)} County` };
  if (county) return { dimension: 'county_fips', group: county, label: `${groupLabel('county_fips', county)} County` };
  if (domain) return { dimension: 'domain', group: domain, label: `${groupLabel('domain', domain).toLowerCase()} needs` };
  return { dimension: 'all', group: 'all', label: 'everyone' };
}

/** Check subset values against the groups that exist (400 naming the parameter). */
export async function checkSubset(gen: Generation, f: { program?: string; county?: string; domain?: string }): Promise<Subset> {
  const a = await availability(gen);
  if (f.program) oneOf('program', f.program, a.groups.get('program_id') ?? []);
  if (f.county) oneOf('county', f.county, a.groups.get('county_fips') ?? []);
  if (f.domain) oneOf('domain', f.domain, a.groups.get('domain') ?? []);
  return resolveSubset(f);
}

/**
 * The latest period of a grain whose figure is final for the metric (period_status), over
 * the `all` row; the latest at all for a generation published before period_status existed.
 */
export function latestFinalPeriod(gen: Generation, metric: string, grain: string): Promise<string | undefined> {
  return gen.memo(`latest-final:${metric}:${grain}`, () => queryLatestFinal(gen, metric, grain));
}

async function queryLatestFinal(gen: Generation, metric: string, grain: string): Promise<string | undefined> {
  if (!gen.hasTable('metric_results')) return undefined;
  const hasStatus = (await gen.query<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM information_schema.columns WHERE table_name = 'metric_results' AND column_name = 'period_status'`))[0]?.n;
  const r = await gen.query<{ p: string | null }>(`SELECT CAST(max(period_start) AS VARCHAR) AS p FROM metric_results
    WHERE metric_id = ? AND period_grain = ? AND dimension = 'all'${hasStatus ? ` AND period_status = 'final'` : ''}`, [metric, grain]);
  return r[0]?.p ?? undefined;
}

/** Calendar end of a period (a period_end earlier than this was cut short by the as-of date). */
export function calendarEnd(grain: string, start: string): string | null {
  const d = new Date(`${start}T00:00:00Z`);
  const months = grain === 'month' ? 1 : grain === 'quarter' ? 3 : grain === 'year' ? 12 : 0;
  if (!months) return null;
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 0)).toISOString().slice(0, 10);
}

/** "2026-Q3", "2026-07", "2026", or "whole span". */
export function periodLabel(grain: string, start: string): string {
  const [y, m] = start.split('-');
  if (grain === 'year') return y!;
  if (grain === 'quarter') return `${y} Q${Math.floor((Number(m) - 1) / 3) + 1}`;
  if (grain === 'month') return `${y}-${m}`;
  return 'whole span';
}
