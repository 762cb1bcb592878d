// Kaplan-Meier curves (share of cases still waiting, by day) with their 95% bands, as
// published: the survival at grid days only (models/disclosure/kmGrid.ts), held from one
// grid day to the next (step-after), with no number at risk.
import type { TopLevelSpec } from 'vega-lite';
import { CATEGORY_COLORS, CONFIG, PRIMARY, SCHEMA } from './theme.ts';

export interface KmPoint {
  series: string;
  time: number;
  /** the cases behind the curve (its results row's denominator) */
  cases: number | null;
  survival: number;
  lower: number | null;
  upper: number | null;
}

export function kmSpec(points: KmPoint[], o: { title: string; subtitle?: string; xTitle: string; yTitle: string; description: string; width?: number; height?: number }): TopLevelSpec {
  const series = [...new Set(points.map((p) => p.series))];
  const color = series.length > 1
    ? { field: 'series', type: 'nominal' as const, title: null, scale: { domain: series, range: CATEGORY_COLORS } }
    : { value: PRIMARY };
  const x = { field: 'time', type: 'quantitative' as const, title: o.xTitle, scale: { zero: true } };
  const subtitle = [o.subtitle, `Survival at the published days, held to the next (each step holds 0 or at least 11 events and censored cases).${series.length > 1 ? ' Bands omitted for several curves: see the table for the intervals.' : ''}`].filter(Boolean) as string[];
  return {
    $schema: SCHEMA,
    title: { text: o.title, subtitle },
    description: o.description,
    width: o.width ?? 'container',
    height: o.height ?? 260,
    datasets: { table: points },
    data: { name: 'table' },
    layer: [
      ...(series.length > 1
        ? []
        : [{
            transform: [{ filter: 'isValid(datum.lower) && isValid(datum.upper)' }],
            mark: { type: 'area', interpolate: 'step-after', opacity: 0.12 },
            encoding: { x, y: { field: 'lower', type: 'quantitative' }, y2: { field: 'upper' }, color, detail: { field: 'series' } },
          }]),
      {
        mark: { type: 'line', interpolate: 'step-after' },
        encoding: {
          x,
          y: { field: 'survival', type: 'quantitative', title: o.yTitle, axis: { format: '.0%' }, scale: { domain: [0, 1] } },
          color,
          detail: { field: 'series' },
        },
      },
      {
        mark: { type: 'point', opacity: 0, size: 60 },
        encoding: {
          x,
          y: { field: 'survival', type: 'quantitative' },
          tooltip: [
            { field: 'series', title: 'Group' },
            { field: 'time', type: 'quantitative', title: 'Day' },
            { field: 'survival', type: 'quantitative', title: 'Still waiting', format: '.1%' },
            { field: 'lower', type: 'quantitative', title: '95% CI low', format: '.1%' },
            { field: 'upper', type: 'quantitative', title: '95% CI high', format: '.1%' },
            { field: 'cases', type: 'quantitative', title: 'Cases', format: ',.0f' },
          ],
        },
      },
      { mark: { type: 'rule', strokeDash: [4, 4], color: '#888888' }, encoding: { y: { datum: 0.5 } } },
    ],
    config: CONFIG,
  } as TopLevelSpec;
}
