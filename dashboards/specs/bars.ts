// Plain horizontal bars for operational figures (rows quarantined per file, days since
// the latest event per extract), each labelled with its figure. These are admin/evaluator
// views of pipeline counts, not of people, so no suppression applies.
import type { TopLevelSpec } from 'vega-lite';
import { CATEGORY_COLORS, CONFIG, SCHEMA } from './theme.ts';

export interface BarRow {
  label: string;
  series: string;
  value: number;
  /** Text beside the bar (default: the value). */
  text?: string | null;
  note?: string | null;
  /** More fields for the tooltip (named in the spec's `tooltip` option). */
  extra?: Record<string, string | number | null>;
}

export function barSpec(rows: BarRow[], o: { title: string; subtitle?: string; xTitle: string; description: string; width?: number; format?: string; domainMax?: number; tooltip?: Array<{ field: string; title: string; format?: string }> }): TopLevelSpec {
  const labels = [...new Set(rows.map((r) => r.label))];
  const series = [...new Set(rows.map((r) => r.series))];
  const fmt = o.format ?? ',.0f';
  const share = fmt.includes('%');
  const data = rows.map(({ extra, ...r }) => ({ ...r, ...extra, text: r.text ?? Number(r.value).toLocaleString('en-US') }));
  const y = { field: 'label', type: 'nominal' as const, title: null, sort: labels, axis: { labelLimit: 220 } };
  return {
    $schema: SCHEMA,
    title: { text: o.title, subtitle: o.subtitle },
    description: o.description,
    width: o.width ?? 'container',
    height: { step: 24 },
    datasets: { table: data },
    data: { name: 'table' },
    layer: [
      {
        mark: { type: 'bar' },
        encoding: {
          y,
          x: { field: 'value', type: 'quantitative', title: o.xTitle, axis: share ? { format: fmt } : { format: fmt, tickMinStep: 1 }, ...(o.domainMax !== undefined ? { scale: { domain: [0, o.domainMax] } } : {}) },
          color: series.length > 1 ? { field: 'series', type: 'nominal', title: null, scale: { domain: series, range: CATEGORY_COLORS } } : { value: CATEGORY_COLORS[0] },
          tooltip: [
            { field: 'label', title: 'Item' },
            { field: 'series', title: 'Measure' },
            { field: 'value', type: 'quantitative', title: o.xTitle, format: fmt },
            ...(o.tooltip ?? []).map((t) => (t.format ? { ...t, type: 'quantitative' as const } : t)),
            { field: 'note', title: 'Note' },
          ],
        },
      },
      {
        mark: { type: 'text', align: 'left', dx: 4, fontSize: 11, color: '#333333' },
        encoding: { y, x: { field: 'value', type: 'quantitative' }, text: { field: 'text' } },
      },
    ],
    config: CONFIG,
  } as TopLevelSpec;
}
