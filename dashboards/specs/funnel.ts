// The referral funnel: screened -> positive -> referred -> accepted -> served -> need met,
// in one unit (people) on one matured cohort, so each step is a share of the step before
// (printed beside its bar, with its 95% interval in the tooltip). A withheld stage is a grey
// bar across the full width labelled "n<11", never a bar of length zero; an unreliable
// step share is hatched.
import type { TopLevelSpec } from 'vega-lite';
import { CONFIG, PRIMARY, SCHEMA, SUPPRESSED, SUPPRESSED_LABEL, SUPPRESSED_NOTE, SUPPRESSED_TEXT, hatchLayer } from './theme.ts';

export interface FunnelStage {
  order: number;
  stage: string;
  unit: string;
  count: number | null;
  suppressed: boolean;
  /** The step's share of the step before (null for the first), with its 95% interval. */
  share_of_previous: number | null;
  share_ci_low: number | null;
  share_ci_high: number | null;
  unreliable: boolean;
  /** The metric the figure comes from, for the tooltip. */
  source: string;
}

export function funnelSpec(stages: FunnelStage[], o: { title: string; subtitle?: string; description: string; width?: number }): TopLevelSpec {
  const pct = (v: number | null) => (v === null ? null : `${(v * 100).toFixed(1)}%`);
  const rows = stages.map((s) => {
    const share = s.suppressed ? null : pct(s.share_of_previous);
    const count = s.suppressed ? SUPPRESSED_LABEL : s.count === null ? 'not available' : s.count.toLocaleString('en-US');
    return { ...s, label: s.stage, shown: share ? `${count} · ${share} of the step before` : count, step: share ?? '' };
  });
  const max = Math.max(1, ...stages.map((s) => s.count ?? 0));
  const withheld = rows.filter((r) => r.suppressed || r.count === null).map((r) => ({ ...r, bar: max }));
  const subtitle = [o.subtitle, withheld.length ? SUPPRESSED_NOTE : null].filter(Boolean) as string[];
  const y = { field: 'label', type: 'nominal' as const, title: null, sort: rows.map((r) => r.label), axis: { labelLimit: 260 } };
  const tooltip = [
    { field: 'stage', type: 'nominal' as const, title: 'Stage' },
    { field: 'unit', type: 'nominal' as const, title: 'Counts' },
    { field: 'shown', type: 'nominal' as const, title: 'Count' },
    { field: 'share_ci_low', type: 'quantitative' as const, title: 'Step share 95% CI low', format: '.1%' },
    { field: 'share_ci_high', type: 'quantitative' as const, title: 'Step share 95% CI high', format: '.1%' },
    { field: 'source', type: 'nominal' as const, title: 'From metric' },
  ];
  return {
    $schema: SCHEMA,
    title: { text: o.title, subtitle: subtitle.length ? subtitle : undefined },
    description: o.description,
    width: o.width ?? 'container',
    height: { step: 34 },
    datasets: { table: rows, withheld },
    data: { name: 'table' },
    layer: [
      {
        data: { name: 'withheld' },
        mark: { type: 'bar', color: SUPPRESSED, opacity: 0.6 },
        encoding: { y, x: { field: 'bar', type: 'quantitative' }, tooltip },
      },
      {
        transform: [{ filter: { field: 'suppressed', equal: false } }, { filter: 'isValid(datum.count)' }],
        mark: { type: 'bar', color: PRIMARY },
        encoding: { y, x: { field: 'count', type: 'quantitative', title: 'Count', axis: { format: ',.0f' }, scale: { domain: [0, max] } }, tooltip },
      },
      {
        transform: [{ filter: `isValid(datum.count) && !datum.suppressed && datum.count >= ${max * 0.45}` }],
        mark: { type: 'text', align: 'right', dx: -6, color: '#ffffff', fontSize: 11, fontWeight: 600 },
        encoding: { y, x: { field: 'count', type: 'quantitative' }, text: { field: 'shown' } },
      },
      {
        transform: [{ filter: `isValid(datum.count) && !datum.suppressed && datum.count < ${max * 0.45}` }],
        mark: { type: 'text', align: 'left', dx: 6, color: '#1f1f1f', fontSize: 11 },
        encoding: { y, x: { field: 'count', type: 'quantitative' }, text: { field: 'shown' } },
      },
      {
        data: { name: 'withheld' },
        mark: { type: 'text', align: 'left', dx: 6, color: SUPPRESSED_TEXT, fontSize: 11 },
        encoding: { y, x: { value: 0 }, text: { field: 'shown' } },
      },
      ...hatchLayer(rows.filter((r) => r.count !== null), { y, x: { field: 'count', type: 'quantitative' } }, 260, [{ filter: 'isValid(datum.count)' }]),
    ],
    config: CONFIG,
  } as TopLevelSpec;
}
