// Trend of one metric over periods, one line per series (a group, or a program against
// everyone), with its 95% interval as a band. Suppressed periods break the line and are
// marked "n<11" along the bottom: never drawn as zero.
import type { TopLevelSpec } from 'vega-lite';
import { CONFIG, CATEGORY_COLORS, PRIMARY, SCHEMA, SUPPRESSED_LABEL, SUPPRESSED_NOTE, SUPPRESSED_TEXT, preciseFormat, valueFormat, type ValueKind } from './theme.ts';

export interface TrendPoint {
  period_start: string;
  period_label: string;
  series: string;
  value: number | null;
  ci_low: number | null;
  ci_high: number | null;
  suppressed: boolean;
  numerator?: number | null;
  denominator?: number | null;
  /** The period was cut short by the as-of date (drawn hollow). */
  partial?: boolean;
}

export interface TrendOptions {
  title: string;
  subtitle?: string;
  kind: ValueKind;
  yTitle: string;
  seriesTitle?: string;
  width?: number;
  height?: number;
  /** Plain-language summary for screen readers. */
  description: string;
}

export function trendSpec(points: TrendPoint[], o: TrendOptions): TopLevelSpec {
  const height = o.height ?? 240;
  const periods = [...new Map(points.map((p) => [p.period_start, p.period_label])).entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([, l]) => l);
  const series = [...new Set(points.map((p) => p.series))];
  const withheld = new Map<string, string[]>();
  for (const p of points) if (p.suppressed) withheld.set(p.period_label, [...(withheld.get(p.period_label) ?? []), p.series]);
  const suppressed = [...withheld].map(([period_label, s]) => ({ period_label, series: s.join(', ') }));
  const partial = points.some((p) => p.partial && !p.suppressed);
  const subtitle = [o.subtitle, partial ? 'Hollow point: a period cut short by the as-of date.' : null, suppressed.length ? SUPPRESSED_NOTE : null].filter(Boolean) as string[];
  const x = { field: 'period_label', type: 'ordinal' as const, title: null, scale: { domain: periods }, axis: { labelAngle: periods.length > 12 ? -45 : 0, labelOverlap: true } };
  const color = series.length > 1
    ? { field: 'series', type: 'nominal' as const, title: o.seriesTitle ?? null, scale: { domain: series, range: CATEGORY_COLORS }, legend: { orient: 'bottom' as const } }
    : { value: PRIMARY };
  const fmt = preciseFormat(o.kind);
  const tooltip = [
    { field: 'series', type: 'nominal' as const, title: o.seriesTitle ?? 'Series' },
    { field: 'period_label', type: 'ordinal' as const, title: 'Period' },
    { field: 'value', type: 'quantitative' as const, title: o.yTitle, format: fmt },
    { field: 'ci_low', type: 'quantitative' as const, title: '95% CI low', format: fmt },
    { field: 'ci_high', type: 'quantitative' as const, title: '95% CI high', format: fmt },
    { field: 'numerator', type: 'quantitative' as const, title: 'Numerator', format: ',.0f' },
    { field: 'denominator', type: 'quantitative' as const, title: 'Denominator', format: ',.0f' },
  ];
  const layers: NonNullable<Extract<TopLevelSpec, { layer: unknown }>['layer']> = [
    {
      transform: [{ filter: { field: 'suppressed', equal: false } }, { filter: 'isValid(datum.ci_low) && isValid(datum.ci_high)' }],
      mark: { type: 'area', opacity: 0.14 },
      encoding: { x, y: { field: 'ci_low', type: 'quantitative' }, y2: { field: 'ci_high' }, color },
    },
    {
      mark: { type: 'line', invalid: 'break-paths-show-domains' },
      encoding: { x, y: { field: 'value', type: 'quantitative', title: o.yTitle, axis: { format: valueFormat(o.kind) }, scale: { zero: o.kind === 'proportion' || o.kind === 'count' } }, color },
    },
    {
      transform: [{ filter: { field: 'suppressed', equal: false } }, { filter: 'datum.partial !== true' }],
      mark: { type: 'point', filled: true, size: 40 },
      encoding: { x, y: { field: 'value', type: 'quantitative' }, color, tooltip },
    },
    {
      transform: [{ filter: { field: 'suppressed', equal: false } }, { filter: 'datum.partial === true' }],
      mark: { type: 'point', filled: false, size: 44, strokeWidth: 1.5, fill: '#ffffff', fillOpacity: 1 },
      encoding: { x, y: { field: 'value', type: 'quantitative' }, color, tooltip: [...tooltip, { field: 'partial', type: 'nominal' as const, title: 'Partial period' }] },
    },
  ];
  if (suppressed.length) {
    layers.push({
      data: { name: 'suppressed' },
      mark: { type: 'text', fontSize: 9, color: SUPPRESSED_TEXT, baseline: 'bottom' },
      encoding: {
        x,
        y: { value: height - 2 },
        text: { value: SUPPRESSED_LABEL },
        tooltip: [{ field: 'period_label', type: 'ordinal', title: 'Period' }, { field: 'series', type: 'nominal', title: 'Withheld for' }],
      },
    });
  }
  return {
    $schema: SCHEMA,
    title: { text: o.title, subtitle: subtitle.length ? subtitle : undefined },
    description: o.description,
    width: o.width ?? 'container',
    height,
    datasets: { table: points, suppressed },
    data: { name: 'table' },
    layer: layers,
    config: CONFIG,
  } as TopLevelSpec;
}

/** A small trend without axes for headline tiles. */
export function sparklineSpec(points: TrendPoint[], o: { kind: ValueKind; description: string; width?: number; height?: number }): TopLevelSpec {
  const periods = [...new Map(points.map((p) => [p.period_start, p.period_label])).entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([, l]) => l);
  const x = { field: 'period_label', type: 'ordinal' as const, scale: { domain: periods }, axis: null };
  return {
    $schema: SCHEMA,
    description: o.description,
    width: o.width ?? 'container',
    height: o.height ?? 48,
    padding: 2,
    datasets: { table: points },
    data: { name: 'table' },
    layer: [
      {
        mark: { type: 'line', invalid: 'break-paths-show-domains', color: PRIMARY, strokeWidth: 1.5 },
        encoding: { x, y: { field: 'value', type: 'quantitative', axis: null, scale: { zero: false } } },
      },
      {
        transform: [{ filter: { field: 'suppressed', equal: false } }],
        mark: { type: 'point', filled: true, size: 14, color: PRIMARY },
        encoding: {
          x,
          y: { field: 'value', type: 'quantitative' },
          tooltip: [{ field: 'period_label', title: 'Period' }, { field: 'value', type: 'quantitative', title: 'Value', format: preciseFormat(o.kind) }],
        },
      },
    ],
    config: { ...CONFIG, view: { stroke: null } },
  } as TopLevelSpec;
}
