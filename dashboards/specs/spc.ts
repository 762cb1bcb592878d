// Statistical process control chart of one metric by month (Laney p' for proportions, u'
// for rates): the monthly values, the centre line, the 3-sigma limits (a step per month,
// since the limits depend on each month's denominator) and the special-cause signals. Months
// that are provisional or partial are drawn (hollow, or as open squares) but neither set the
// limits nor are tested; withheld months are left out and listed.
import type { TopLevelSpec } from 'vega-lite';
import {
  CONFIG, FLAG, MUTED, PARTIAL_NOTE, PRIMARY, PROVISIONAL_NOTE, SCHEMA, SUPPRESSED_NOTE, hatchLayer, preciseFormat, valueFormat, type ValueKind,
} from './theme.ts';

export const SIGNALS = ['common cause', 'beyond the 3-sigma limits', 'run of 8 on one side of the centre'] as const;

export interface SpcPointRow {
  period_start: string;
  period_label: string;
  value: number | null;
  centre: number | null;
  lower: number | null;
  upper: number | null;
  /** one of SIGNALS for a tested month; null for a month that is not tested */
  signal: (typeof SIGNALS)[number] | null;
  status: 'final' | 'provisional' | 'partial';
  provisional: boolean;
  partial: boolean;
  suppressed: boolean;
  unreliable: boolean;
  numerator: number | null;
  denominator: number | null;
}

export function spcSpec(points: SpcPointRow[], o: { title: string; subtitle?: string; kind: ValueKind; yTitle: string; description: string; width?: number; height?: number }): TopLevelSpec {
  const periods = points.map((p) => p.period_label);
  const x = { field: 'period_label', type: 'ordinal' as const, title: null, scale: { domain: periods }, axis: { labelAngle: periods.length > 12 ? -45 : 0, labelOverlap: true } };
  const fmt = preciseFormat(o.kind);
  const y = { field: 'value', type: 'quantitative' as const };
  const drawn = points.filter((p) => !p.suppressed && p.value !== null);
  const subtitle = [
    o.subtitle,
    drawn.some((p) => p.provisional) ? PROVISIONAL_NOTE : null,
    drawn.some((p) => p.partial) ? PARTIAL_NOTE : null,
    points.some((p) => p.suppressed) ? SUPPRESSED_NOTE : null,
  ].filter(Boolean) as string[];
  const tooltip = [
    { field: 'period_label', type: 'ordinal' as const, title: 'Month' },
    { field: 'value', type: 'quantitative' as const, title: o.yTitle, format: fmt },
    { field: 'lower', type: 'quantitative' as const, title: 'Lower limit', format: fmt },
    { field: 'upper', type: 'quantitative' as const, title: 'Upper limit', format: fmt },
    { field: 'signal', type: 'nominal' as const, title: 'Signal' },
    { field: 'status', type: 'nominal' as const, title: 'Period' },
  ];
  const shown = [{ filter: { field: 'suppressed', equal: false } }, { filter: 'isValid(datum.value)' }];
  return {
    $schema: SCHEMA,
    title: { text: o.title, subtitle: subtitle.length ? subtitle : undefined },
    description: o.description,
    width: o.width ?? 'container',
    height: o.height ?? 240,
    datasets: { table: points },
    data: { name: 'table' },
    layer: [
      {
        transform: [{ filter: 'isValid(datum.lower) && isValid(datum.upper)' }],
        mark: { type: 'line', interpolate: 'step', color: MUTED, strokeDash: [4, 3], strokeWidth: 1 },
        encoding: { x, y: { field: 'upper', type: 'quantitative', title: o.yTitle, axis: { format: valueFormat(o.kind) }, scale: { zero: false } } },
      },
      {
        transform: [{ filter: 'isValid(datum.lower) && isValid(datum.upper)' }],
        mark: { type: 'line', interpolate: 'step', color: MUTED, strokeDash: [4, 3], strokeWidth: 1 },
        encoding: { x, y: { field: 'lower', type: 'quantitative' } },
      },
      {
        transform: [{ filter: 'isValid(datum.centre)' }],
        mark: { type: 'line', color: MUTED, strokeWidth: 1.2 },
        encoding: { x, y: { field: 'centre', type: 'quantitative' } },
      },
      { mark: { type: 'line', color: PRIMARY, strokeWidth: 1.2, opacity: 0.6, invalid: 'break-paths-show-domains' }, encoding: { x, y } },
      {
        transform: [...shown, { filter: 'datum.signal !== null' }],
        mark: { type: 'point', filled: true, size: 46 },
        encoding: {
          x, y, tooltip,
          color: { field: 'signal', type: 'nominal', title: null, scale: { domain: [...SIGNALS], range: [PRIMARY, FLAG, '#E69F00'] }, legend: { orient: 'bottom', title: null, labelLimit: 320 } },
        },
      },
      {
        transform: [...shown, { filter: 'datum.signal === null' }],
        mark: { type: 'point', filled: false, size: 46, strokeWidth: 1.5, color: PRIMARY, fill: '#ffffff', fillOpacity: 1 },
        encoding: { x, y, tooltip, shape: { condition: { test: 'datum.partial === true', value: 'square' }, value: 'circle' } },
      },
      {
        transform: [...shown, { filter: 'datum.signal === null' }],
        mark: { type: 'text', dy: -11, fontSize: 9, color: MUTED },
        encoding: { x, y, text: { condition: { test: 'datum.partial === true', value: 'partial' }, value: 'provisional' } },
      },
      ...hatchLayer(drawn, { x, y }, 150, shown),
    ],
    config: CONFIG,
  } as TopLevelSpec;
}
