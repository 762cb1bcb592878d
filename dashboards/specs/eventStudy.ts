// The event study (issue 22): the difference between referred and comparison people by
// month relative to the first referral, with 95% intervals. The baseline months (-6..-2)
// are the pre-period the estimates are measured against; month -1 (the crisis before a
// referral) and month 0 (the month of the referral) are drawn apart from the months after.
import type { TopLevelSpec } from 'vega-lite';
import { CATEGORY_COLORS, CONFIG, SCHEMA } from './theme.ts';

export interface EventStudyRow {
  rel_month: number;
  estimate: number;
  ci_low: number;
  ci_high: number;
  /** baseline | anticipation | referral | after */
  period: string;
}

export const EVENT_PERIOD_LABELS: Record<string, string> = {
  baseline: 'Baseline (months -6..-2)',
  anticipation: 'Month before referral',
  referral: 'Month of referral',
  after: 'After referral',
};

export function eventStudySpec(rows: EventStudyRow[], o: { title: string; subtitle?: string[]; yTitle: string; description: string }): TopLevelSpec {
  const data = rows.map((r) => ({ ...r, period_label: EVENT_PERIOD_LABELS[r.period] ?? r.period }));
  const domain = Object.values(EVENT_PERIOD_LABELS);
  const x = { field: 'rel_month', type: 'quantitative' as const, title: 'Months from the first referral', axis: { tickMinStep: 1, format: 'd' }, scale: { domain: [-6.5, 12.5], nice: false } };
  const color = { field: 'period_label', type: 'nominal' as const, title: null, scale: { domain, range: [CATEGORY_COLORS[6]!, CATEGORY_COLORS[1]!, CATEGORY_COLORS[3]!, CATEGORY_COLORS[0]!] } };
  return {
    $schema: SCHEMA,
    title: { text: o.title, subtitle: o.subtitle },
    description: o.description,
    width: 'container',
    height: 260,
    datasets: { table: data },
    layer: [
      { data: { values: [{ y: 0 }] }, mark: { type: 'rule', color: '#666666' }, encoding: { y: { field: 'y', type: 'quantitative' } } },
      { data: { values: [{ x: -0.5 }] }, mark: { type: 'rule', strokeDash: [4, 4], color: '#666666' }, encoding: { x: { field: 'x', type: 'quantitative' } } },
      { data: { name: 'table' }, mark: { type: 'rule', strokeWidth: 2, opacity: 0.7 }, encoding: { x, y: { field: 'ci_low', type: 'quantitative' }, y2: { field: 'ci_high' }, color } },
      {
        data: { name: 'table' },
        mark: { type: 'point', filled: true, size: 60 },
        encoding: {
          x,
          y: { field: 'estimate', type: 'quantitative', title: o.yTitle },
          color,
          tooltip: [
            { field: 'rel_month', title: 'Month from referral' },
            { field: 'period_label', title: 'Period' },
            { field: 'estimate', type: 'quantitative', title: 'Difference per 1,000 member-months', format: '.1f' },
            { field: 'ci_low', type: 'quantitative', title: '95% CI low', format: '.1f' },
            { field: 'ci_high', type: 'quantitative', title: '95% CI high', format: '.1f' },
          ],
        },
      },
    ],
    config: CONFIG,
  } as TopLevelSpec;
}
