// Forest plot of each group against the reference group: rate ratios on a log scale (or
// rate differences on a linear one) with 95% intervals. Flagged groups are vermillion
// diamonds: by default the adjusted flag (the AHRQ rule and q < 0.05, issue 15); on request
// the AHRQ rule alone. The reference group sits on the no-difference line; withheld groups
// say "n<11"; groups whose own figure is unreliable are hatched.
import type { TopLevelSpec } from 'vega-lite';
import { CONFIG, FLAG, MUTED, PRIMARY, SCHEMA, SUPPRESSED_NOTE, SUPPRESSED_TEXT, hatchLayer } from './theme.ts';

export interface ForestRow {
  /** The group's label (server/labels.ts), drawn on the axis. */
  group: string;
  /** Its code, as in the data (group_value). */
  group_value?: string;
  estimate: number | null;
  low: number | null;
  high: number | null;
  value: number | null;
  is_reference: boolean;
  suppressed: boolean;
  /** the flag drawn: disparity_flag, or disparity_flag_unadjusted when asked */
  flagged: boolean;
  /** the AHRQ rule alone (disparity_flag_unadjusted) */
  flagged_unadjusted: boolean;
  q_below_05: boolean;
  unreliable: boolean;
  p_value: number | null;
  q_value: number | null;
  /** 'reference', 'flagged: ...', 'n<11', '' */
  status: string;
}

export function forestSpec(rows: ForestRow[], o: { title: string; subtitle?: string; scale: 'ratio' | 'difference'; valueFormat: string; description: string; width?: number; flag?: 'adjusted' | 'unadjusted' }): TopLevelSpec {
  const ratio = o.scale === 'ratio';
  const groups = rows.map((r) => r.group);
  const finite = rows.flatMap((r) => [r.low, r.high, r.estimate]).filter((v): v is number => v !== null && Number.isFinite(v) && (!ratio || v > 0));
  const lo = Math.min(ratio ? 1 : 0, ...finite);
  const hi = Math.max(ratio ? 1 : 0, ...finite);
  const domain = ratio ? [Math.max(lo / 1.15, 1e-3), hi * 1.15] : [lo - (hi - lo) * 0.08 - 1e-9, hi + (hi - lo) * 0.08 + 1e-9];
  const nullValue = ratio ? 1 : 0;
  const y = { field: 'group', type: 'nominal' as const, title: null, sort: groups, axis: { labelLimit: 220 } };
  const x = {
    field: 'estimate',
    type: 'quantitative' as const,
    title: ratio ? 'Rate ratio vs reference (log scale)' : 'Difference vs reference',
    scale: ratio ? { type: 'log' as const, domain, nice: false } : { domain, nice: false, zero: false },
    axis: { format: ratio ? '.2~f' : o.valueFormat },
  };
  const color = { condition: { test: 'datum.flagged', value: FLAG }, value: PRIMARY };
  const subtitle = [
    o.subtitle,
    o.flag === 'unadjusted'
      ? 'Vermillion diamond: the AHRQ rule alone (p < 0.05 and at least 10% worse), without correcting for the many comparisons made: some of these are chance.'
      : 'Vermillion diamond: a disparity (at least 10% worse, p < 0.05, and q < 0.05 after Benjamini-Hochberg over the comparisons of the period).',
    rows.some((r) => r.suppressed) ? SUPPRESSED_NOTE : null,
  ].filter(Boolean) as string[];
  const tooltip = [
    { field: 'group', title: 'Group' },
    { field: 'value', type: 'quantitative' as const, title: 'Rate', format: o.valueFormat },
    { field: 'estimate', type: 'quantitative' as const, title: ratio ? 'Rate ratio' : 'Difference', format: ratio ? '.3f' : o.valueFormat },
    { field: 'low', type: 'quantitative' as const, title: '95% CI low', format: ratio ? '.3f' : o.valueFormat },
    { field: 'high', type: 'quantitative' as const, title: '95% CI high', format: ratio ? '.3f' : o.valueFormat },
    { field: 'p_value', type: 'quantitative' as const, title: 'p', format: '.3g' },
    { field: 'q_value', type: 'quantitative' as const, title: 'q (BH)', format: '.3g' },
    { field: 'status', title: 'Status' },
  ];
  return {
    $schema: SCHEMA,
    title: { text: o.title, subtitle },
    description: o.description,
    width: o.width ?? 'container',
    height: { step: 26 },
    datasets: { table: rows },
    data: { name: 'table' },
    layer: [
      { mark: { type: 'rule', color: MUTED, strokeDash: [4, 3] }, encoding: { x: { datum: nullValue, type: 'quantitative', scale: x.scale } } },
      {
        transform: [{ filter: 'isValid(datum.low) && isValid(datum.high)' }],
        mark: { type: 'rule', strokeWidth: 2 },
        encoding: { y, x: { field: 'low', type: 'quantitative', scale: x.scale, title: x.title, axis: x.axis }, x2: { field: 'high' }, color },
      },
      {
        transform: [{ filter: 'isValid(datum.estimate) && !datum.is_reference' }],
        mark: { type: 'point', filled: true, size: 80 },
        encoding: {
          y,
          x,
          color,
          shape: { condition: { test: 'datum.flagged', value: 'diamond' }, value: 'circle' },
          tooltip,
        },
      },
      ...hatchLayer(rows.filter((r) => r.estimate !== null && !r.is_reference), { y, x }, 150, [{ filter: 'isValid(datum.estimate) && !datum.is_reference' }]),
      {
        transform: [{ filter: 'datum.is_reference' }],
        mark: { type: 'point', shape: 'square', size: 70, filled: false, color: '#1f1f1f' },
        encoding: { y, x: { datum: nullValue, type: 'quantitative', scale: x.scale }, tooltip },
      },
      {
        transform: [{ filter: 'datum.is_reference || datum.suppressed || !isValid(datum.estimate)' }],
        mark: { type: 'text', align: 'right', dx: -8, fontSize: 10, color: SUPPRESSED_TEXT },
        encoding: { y, x: { value: 'width' }, text: { field: 'status' } },
      },
    ],
    resolve: { scale: { x: 'shared' } },
    config: CONFIG,
  } as TopLevelSpec;
}

