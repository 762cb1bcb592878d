// Trend of one metric over periods, one line per series (a group, or a program against
// everyone), with its 95% interval as a band. Suppressed periods break the line and are
// marked "n<11" along the bottom: never drawn as zero. Provisional periods are hollow and
// labelled, partial ones open squares, unreliable figures hatched (issue 15).
import type { TopLevelSpec } from 'vega-lite';
import {
  CONFIG, CATEGORY_COLORS, MUTED, PARTIAL_NOTE, PRIMARY, PROVISIONAL_NOTE, SCHEMA, SUPPRESSED_LABEL, SUPPRESSED_NOTE, SUPPRESSED_TEXT, hatchLayer, preciseFormat,
  valueFormat, type ValueKind,
} from './theme.ts';

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
  /** final | provisional | partial (results.period_status) */
  status?: 'final' | 'provisional' | 'partial';
  /** The period began before the metric's data did: drawn as an open square, never compared as full. */
  partial?: boolean;
  /** Some units' windows are still open: drawn hollow and labelled, never headlined. */
  provisional?: boolean;
  /** NCHS: relative standard error above 30% or fewer than 20 events (drawn hatched). */
  unreliable?: boolean;
  /** The previous publication's figures: the change since is held back (issue 14, consecutive publications). */
  pending?: boolean;
}

export interface TrendOptions {
  title: string;
  /** One line, or several (a coarsened trend's note is a line of its own). */
  subtitle?: string | string[];
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
  const shownWith = (f: (p: TrendPoint) => boolean | undefined) => points.some((p) => f(p) && !p.suppressed && p.value !== null);
  const subtitle = [
    ...[o.subtitle ?? []].flat(),
    shownWith((p) => p.provisional) ? PROVISIONAL_NOTE : null,
    shownWith((p) => p.partial) ? PARTIAL_NOTE : null,
    suppressed.length ? SUPPRESSED_NOTE : null,
  ].filter(Boolean) as string[];
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
    { field: 'status', type: 'nominal' as const, title: 'Period' },
    { field: 'unreliable', type: 'nominal' as const, title: 'Unreliable' },
  ];
  const y = { field: 'value', type: 'quantitative' as const };
  const shown = [{ filter: { field: 'suppressed', equal: false } }, { filter: 'isValid(datum.value)' }];
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
      transform: [...shown, { filter: 'datum.partial !== true && datum.provisional !== true' }],
      mark: { type: 'point', filled: true, size: 40 },
      encoding: { x, y, color, tooltip },
    },
    {
      transform: [...shown, { filter: 'datum.provisional === true' }],
      mark: { type: 'point', filled: false, size: 44, strokeWidth: 1.5, fill: '#ffffff', fillOpacity: 1 },
      encoding: { x, y, color, tooltip },
    },
    {
      transform: [...shown, { filter: 'datum.partial === true' }],
      mark: { type: 'point', shape: 'square', filled: false, size: 44, strokeWidth: 1.5, fill: '#ffffff', fillOpacity: 1 },
      encoding: { x, y, color, tooltip },
    },
    {
      // the words as well as the shape: one label per provisional or partial period, over the first series
      transform: [...shown, { filter: `(datum.provisional === true || datum.partial === true) && datum.series === ${JSON.stringify(series[0] ?? '')}` }],
      mark: { type: 'text', dy: -11, fontSize: 9, color: MUTED },
      encoding: { x, y, text: { condition: { test: 'datum.partial === true', value: 'partial' }, value: 'provisional' } },
    },
    ...hatchLayer(points.filter((p) => p.value !== null), { x, y }, 150, shown),
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

/** A small trend without axes for headline tiles: provisional periods hollow and labelled, partial ones open squares. */
export function sparklineSpec(points: TrendPoint[], o: { kind: ValueKind; description: string; width?: number; height?: number }): TopLevelSpec {
  const periods = [...new Map(points.map((p) => [p.period_start, p.period_label])).entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([, l]) => l);
  const x = { field: 'period_label', type: 'ordinal' as const, scale: { domain: periods }, axis: null };
  const y = { field: 'value', type: 'quantitative' as const };
  const shown = [{ filter: { field: 'suppressed', equal: false } }, { filter: 'isValid(datum.value)' }];
  const tooltip = [
    { field: 'period_label', title: 'Period' }, { field: 'value', type: 'quantitative', title: 'Value', format: preciseFormat(o.kind) },
    { field: 'status', title: 'Period' }, { field: 'unreliable', title: 'Unreliable' },
  ];
  const lastOpen = [...points].reverse().find((p) => (p.provisional || p.partial) && !p.suppressed && p.value !== null);
  return {
    $schema: SCHEMA,
    description: o.description,
    width: o.width ?? 'container',
    height: o.height ?? 48,
    padding: { left: 2, right: 2, top: 10, bottom: 2 },
    datasets: { table: points, label: lastOpen ? [{ ...lastOpen, label: lastOpen.partial ? 'partial' : 'prov.' }] : [] },
    data: { name: 'table' },
    layer: [
      {
        mark: { type: 'line', invalid: 'break-paths-show-domains', color: PRIMARY, strokeWidth: 1.5 },
        encoding: { x, y: { field: 'value', type: 'quantitative', axis: null, scale: { zero: false } } },
      },
      {
        transform: [...shown, { filter: 'datum.provisional !== true && datum.partial !== true' }],
        mark: { type: 'point', filled: true, size: 14, color: PRIMARY },
        encoding: { x, y, tooltip },
      },
      {
        transform: [...shown, { filter: 'datum.provisional === true || datum.partial === true' }],
        mark: { type: 'point', filled: false, size: 16, strokeWidth: 1.2, color: PRIMARY, fill: '#ffffff', fillOpacity: 1 },
        encoding: { x, y, tooltip, shape: { condition: { test: 'datum.partial === true', value: 'square' }, value: 'circle' } },
      },
      {
        data: { name: 'label' },
        mark: { type: 'text', dy: -8, fontSize: 8, color: MUTED, align: 'right' },
        encoding: { x, y, text: { field: 'label' } },
      },
    ],
    config: { ...CONFIG, view: { stroke: null } },
  } as TopLevelSpec;
}
