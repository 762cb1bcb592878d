// Point estimates with 95% intervals, one row per label and a dodged point per series:
// PHQ-9 outcomes by group, utilization before and after the first referral. Withheld
// estimates are named "n<11" in grey at the row's start; unreliable ones are hatched.
import type { TopLevelSpec } from 'vega-lite';
import { CATEGORY_COLORS, CONFIG, SCHEMA, SUPPRESSED_LABEL, SUPPRESSED_NOTE, SUPPRESSED_TEXT, hatchLayer, preciseFormat, valueFormat, type ValueKind } from './theme.ts';

export interface IntervalRow {
  label: string;
  series: string;
  value: number | null;
  ci_low: number | null;
  ci_high: number | null;
  suppressed: boolean;
  /** Optional extra text shown in the tooltip (e.g. the post/pre rate ratio). */
  note?: string | null;
  denominator?: number | null;
  unreliable?: boolean;
}

export function intervalSpec(rows: IntervalRow[], o: { title: string; subtitle?: string | string[]; xTitle: string; kind: ValueKind; description: string; width?: number; labelTitle?: string; seriesTitle?: string; /** Keep 0 on the axis (default: proportions only). */ zero?: boolean }): TopLevelSpec {
  const labels = [...new Set(rows.map((r) => r.label))];
  const series = [...new Set(rows.map((r) => r.series))];
  const subtitle = [...[o.subtitle ?? []].flat(), rows.some((r) => r.suppressed) ? SUPPRESSED_NOTE : null].filter(Boolean) as string[];
  const y = { field: 'label', type: 'nominal' as const, title: null, sort: labels, axis: { labelLimit: 220 } };
  const yOffset = { field: 'series', type: 'nominal' as const, sort: series };
  const color = { field: 'series', type: 'nominal' as const, title: o.seriesTitle ?? null, scale: { domain: series, range: CATEGORY_COLORS } };
  const fmt = preciseFormat(o.kind);
  return {
    $schema: SCHEMA,
    title: { text: o.title, subtitle: subtitle.length ? subtitle : undefined },
    description: o.description,
    width: o.width ?? 'container',
    height: { step: series.length > 1 ? 16 * series.length + 8 : 28 },
    datasets: { table: rows },
    data: { name: 'table' },
    layer: [
      {
        transform: [{ filter: 'isValid(datum.ci_low) && isValid(datum.ci_high)' }],
        mark: { type: 'rule', strokeWidth: 2, opacity: 0.7 },
        encoding: { y, yOffset, x: { field: 'ci_low', type: 'quantitative' }, x2: { field: 'ci_high' }, color },
      },
      {
        transform: [{ filter: 'isValid(datum.value)' }],
        mark: { type: 'point', filled: true, size: 70 },
        encoding: {
          y,
          yOffset,
          x: { field: 'value', type: 'quantitative', title: o.xTitle, axis: { format: valueFormat(o.kind), tickCount: 8 }, scale: { zero: o.zero ?? o.kind === 'proportion' } },
          color,
          tooltip: [
            { field: 'label', title: o.labelTitle ?? 'Group' },
            { field: 'series', title: o.seriesTitle ?? 'Series' },
            { field: 'value', type: 'quantitative', title: o.xTitle, format: fmt },
            { field: 'ci_low', type: 'quantitative', title: '95% CI low', format: fmt },
            { field: 'ci_high', type: 'quantitative', title: '95% CI high', format: fmt },
            { field: 'denominator', type: 'quantitative', title: 'Denominator', format: ',.0f' },
            { field: 'note', title: 'Note' },
          ],
        },
      },
      {
        transform: [{ filter: { field: 'suppressed', equal: true } }],
        mark: { type: 'text', align: 'left', fontSize: 9, color: SUPPRESSED_TEXT },
        encoding: { y, yOffset, x: { value: 2 }, text: { value: SUPPRESSED_LABEL } },
      },
      ...hatchLayer(rows.filter((r) => r.value !== null), { y, yOffset, x: { field: 'value', type: 'quantitative' } }, 130, [{ filter: 'isValid(datum.value)' }]),
    ],
    config: CONFIG,
  } as TopLevelSpec;
}

/**
 * One panel per label, each with its own x axis (issue 16): measures of different magnitude
 * (about 68 emergency visits against about 5 admissions per 1,000 member-months) no longer
 * share one axis that flattens the smaller.
 */
export function intervalPanels(rows: IntervalRow[], o: Parameters<typeof intervalSpec>[1] & { panelWidth?: number }): TopLevelSpec {
  const labels = [...new Set(rows.map((r) => r.label))];
  if (labels.length < 2) return intervalSpec(rows, o);
  const whole = intervalSpec(rows, o) as unknown as { title: unknown };
  const panels = labels.map((label) => {
    const { $schema: _s, config: _c, datasets: _d, data: _data, title: _t, description: _desc, width: _w, ...view } = intervalSpec(rows.filter((r) => r.label === label), { ...o, subtitle: undefined }) as unknown as Record<string, unknown>;
    return { ...view, title: { text: label, fontSize: 12, anchor: 'start' }, width: o.panelWidth ?? 600, transform: [{ filter: { field: 'label', equal: label } }] };
  });
  return {
    $schema: SCHEMA,
    title: whole.title,
    description: o.description,
    datasets: { table: rows },
    data: { name: 'table' },
    vconcat: panels,
    resolve: { scale: { x: 'independent', color: 'shared' } },
    config: CONFIG,
  } as unknown as TopLevelSpec;
}
