// Result rows shaped for trends and headline figures: one point per period, the latest
// complete period, and the change from the period before.
import type { Row } from '../../models/duckdb.ts';
import type { TrendPoint } from '../../dashboards/specs/trend.ts';
import type { ValueKind } from '../../dashboards/specs/theme.ts';
import type { Metric } from './catalog.ts';
import { calendarEnd, periodLabel } from './results.ts';

export function valueKind(m: Metric): ValueKind {
  if (m.kind === 'rate' && m.unit.startsWith('USD')) return 'dollars';
  if (m.kind === 'incidence') return 'proportion';
  return m.kind;
}

/** Axis title with the unit: "Closed-loop rate (%)", "ED visits per 1,000 member-months". */
export function valueTitle(m: Metric): string {
  switch (m.kind) {
    case 'proportion':
    case 'incidence':
      return 'Share (%)';
    case 'duration':
      return 'Median days';
    case 'count':
      return `Count of ${m.unit}`;
    case 'mean':
      return `Mean change (${m.unit})`;
    case 'ratio':
      return 'Needs per capacity-month';
    case 'rate':
      return m.unit.startsWith('USD') ? 'USD per member-month' : `Rate ${m.unit}`;
  }
}

export function toPoint(r: Row, series: string): TrendPoint {
  return {
    period_start: String(r.period_start),
    period_label: periodLabel(String(r.period_grain), String(r.period_start)),
    series,
    value: (r.value as number | null) ?? null,
    ci_low: (r.ci_low as number | null) ?? null,
    ci_high: (r.ci_high as number | null) ?? null,
    suppressed: r.suppressed === true,
    numerator: (r.numerator as number | null) ?? null,
    denominator: (r.denominator as number | null) ?? null,
    partial: String(r.period_grain) !== 'all' && !isComplete(r),
  };
}

export const isComplete = (r: Row) => calendarEnd(String(r.period_grain), String(r.period_start)) === String(r.period_end);

export interface Headline {
  latest: Row | null;
  previous: Row | null;
  /** latest - previous, when both are shown */
  change: number | null;
  /** the latest period was cut short by the as-of date (a partial period) */
  partial: boolean;
}

/** The latest complete period (or the latest at all when none is complete) and the one before it. */
export function headline(rows: Row[]): Headline {
  const sorted = [...rows].sort((a, b) => String(a.period_start).localeCompare(String(b.period_start)));
  let i = sorted.length - 1;
  while (i >= 0 && !isComplete(sorted[i]!)) i -= 1;
  if (i < 0) i = sorted.length - 1;
  const latest = sorted[i] ?? null;
  const previous = i > 0 ? sorted[i - 1]! : null;
  const shown = (r: Row | null) => r && !r.suppressed && typeof r.value === 'number';
  return {
    latest,
    previous,
    change: shown(latest) && shown(previous) ? (latest!.value as number) - (previous!.value as number) : null,
    partial: latest ? !isComplete(latest) : false,
  };
}
