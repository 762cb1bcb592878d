// The overview in one response: for each headline metric, its whole-span figure, the
// latest final period with its change from the final period before (labelled better or
// worse only when significant), and the trend.
import type { Generation } from '../generation.ts';
import { availability, findMetric, publicMetric } from './catalog.ts';
import { resultRowsFor, type Subset } from './results.ts';
import { headline, toPoint } from './series.ts';

export const HEADLINE_METRICS = [
  'screening_rate',
  'connected_60d_rate',
  'closed_loop_rate',
  'need_met_rate',
  'phq9_remission_rate',
  'ed_visits_per_1000_mm',
] as const;

export interface OverviewQuery {
  grain: 'year' | 'quarter' | 'month';
  from?: string;
  to?: string;
  subset: Subset;
}

export async function overview(gen: Generation, q: OverviewQuery) {
  const a = await availability(gen);
  const metrics = HEADLINE_METRICS.filter((id) => a.metrics.has(id));
  const base = { dimension: q.subset.dimension, group: q.subset.group };
  const [periodRows, spanRows] = await Promise.all([
    resultRowsFor(gen, metrics, { ...base, grain: q.grain, from: q.from, to: q.to }),
    resultRowsFor(gen, metrics, { ...base, grain: 'all' }),
  ]);
  return {
    run: gen.runInfo,
    grain: q.grain,
    from: q.from ?? null,
    to: q.to ?? null,
    subset: q.subset,
    headlines: HEADLINE_METRICS.map((id) => {
      const m = findMetric(id)!;
      const rows = periodRows.filter((r) => r.metric_id === id);
      const h = headline(rows, m);
      return {
        metric: publicMetric(m),
        available: a.metrics.has(id),
        whole_span: spanRows.find((r) => r.metric_id === id) ?? null,
        latest: h.latest,
        previous: h.previous,
        change: h.change,
        provisional_periods: h.provisional,
        trend: rows.map((r) => toPoint(r, q.subset.label)),
      };
    }),
  };
}
