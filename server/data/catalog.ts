// The metric catalog as the API and pages see it, and what the current generation
// actually holds for each metric (grains, periods, dimensions, groups), which is what
// parameters are validated against.
import { METRICS, METRIC_GROUPS, type Metric } from '../../models/metrics/catalog.ts';
import type { Generation } from '../generation.ts';

export const GROUP_TITLES: Record<(typeof METRIC_GROUPS)[number], string> = {
  access: 'Access',
  closed_loop: 'Closed loop',
  service_gaps: 'Service gaps',
  outcomes: 'Outcomes',
};

export { METRICS, METRIC_GROUPS, type Metric };

export const metricIds = () => METRICS.map((m) => m.id);
export const findMetric = (id: string): Metric | undefined => METRICS.find((m) => m.id === id);

/** The public face of a catalog entry (no SQL). */
export function publicMetric(m: Metric) {
  return {
    id: m.id,
    group: m.group,
    group_title: GROUP_TITLES[m.group],
    title: m.title,
    definition: m.definition,
    numerator: m.numerator,
    denominator: m.denominator,
    kind: m.kind,
    unit: m.unit,
    direction: m.direction,
    anchor: m.anchor,
    windows: m.windows,
    maturity_days: m.maturityDays,
    disparities: m.disparities,
    dimensions: m.dimensions,
    snapshot: m.snapshot,
    mirrors: m.mirrors ?? null,
    fidelity: m.fidelity ?? null,
    scale: m.scale,
    interval: m.interval,
  };
}

// Dimension and group labels live in the one labels table (server/labels.ts).
export { DIMENSION_LABELS, dimensionLabel } from '../labels.ts';

export interface Availability {
  /** metric -> grain -> sorted period starts */
  periods: Map<string, Map<string, string[]>>;
  /** metric -> dimensions present */
  dimensions: Map<string, Set<string>>;
  /** one-way dimension -> groups present (any metric) */
  groups: Map<string, string[]>;
  metrics: Set<string>;
  /** every period start per grain (any metric), sorted */
  allPeriods: Map<string, string[]>;
}

/** What metric_results holds in this generation (cached for its life). */
export function availability(gen: Generation): Promise<Availability> {
  return gen.memo('availability', async () => {
    const a: Availability = { periods: new Map(), dimensions: new Map(), groups: new Map(), metrics: new Set(), allPeriods: new Map() };
    if (!gen.hasTable('metric_results')) return a;
    const pr = await gen.query<{ m: string; g: string; p: string }>(
      `SELECT DISTINCT metric_id AS m, period_grain AS g, CAST(period_start AS VARCHAR) AS p FROM metric_results ORDER BY 1, 2, 3`);
    for (const { m, g, p } of pr) {
      a.metrics.add(m);
      if (!a.periods.has(m)) a.periods.set(m, new Map());
      const byGrain = a.periods.get(m)!;
      if (!byGrain.has(g)) byGrain.set(g, []);
      byGrain.get(g)!.push(p);
      if (!a.allPeriods.has(g)) a.allPeriods.set(g, []);
      a.allPeriods.get(g)!.push(p);
    }
    for (const [g, ps] of a.allPeriods) a.allPeriods.set(g, [...new Set(ps)].sort());
    const dr = await gen.query<{ m: string; d: string }>(`SELECT DISTINCT metric_id AS m, dimension AS d FROM metric_results`);
    for (const { m, d } of dr) {
      if (!a.dimensions.has(m)) a.dimensions.set(m, new Set());
      a.dimensions.get(m)!.add(d);
    }
    const gr = await gen.query<{ d: string; v: string }>(
      `SELECT DISTINCT dimension AS d, group_value AS v FROM metric_results WHERE dimension <> 'all' AND dimension NOT LIKE '%*%' ORDER BY 1, 2`);
    for (const { d, v } of gr) {
      if (!a.groups.has(d)) a.groups.set(d, []);
      a.groups.get(d)!.push(v);
    }
    return a;
  });
}
