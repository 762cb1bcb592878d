// Result rows shaped for trends and headline figures: one point per period (with its
// maturity and reliability), the latest final period, and whether it changed significantly
// from the final period before.
import type { Row } from '../../models/duckdb.ts';
import { PENDING_REVISION } from '../../models/disclosure/audit.ts';
import type { TrendPoint } from '../../dashboards/specs/trend.ts';
import type { ValueKind } from '../../dashboards/specs/theme.ts';
import { periodChange, type ChangeVerdict } from '../../models/stats/periodChange.ts';
import type { PeriodStatus } from '../../models/results.ts';
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

/**
 * A period's maturity as published (period_status); for a generation published before the
 * column existed, a period cut short by the as-of date counts as provisional.
 */
export function periodStatus(r: Row): PeriodStatus {
  const s = r.period_status;
  if (s === 'final' || s === 'provisional' || s === 'partial') return s;
  return String(r.period_grain) === 'all' || isComplete(r) ? 'final' : 'provisional';
}

export function toPoint(r: Row, series: string): TrendPoint {
  const status = periodStatus(r);
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
    status,
    partial: status === 'partial',
    provisional: status === 'provisional',
    unreliable: r.unreliable === true,
    pending: r.note === PENDING_REVISION,
  };
}

export const isComplete = (r: Row) => calendarEnd(String(r.period_grain), String(r.period_start)) === String(r.period_end);

export interface Headline {
  /** the latest final period (never a provisional or partial one) */
  latest: Row | null;
  /** the final period just before it (a partial period is never compared as full) */
  previous: Row | null;
  change: HeadlineChange | null;
  /** periods after `latest` that are still provisional (drawn hollow, never headlined) */
  provisional: number;
}

export interface HeadlineChange {
  /** latest - previous, in the value's unit */
  difference: number;
  p: number | null;
  verdict: ChangeVerdict;
}

/**
 * The headline of a trend: its latest final period and the change from the final period
 * right before it. Provisional and partial periods are never headlined or compared (issue
 * 15). The change carries a direction only when a test says it is significant at 0.05
 * (periodChange); a withheld period, or a metric with no such test, gives no verdict.
 */
export function headline(rows: Row[], metric: Metric): Headline {
  const sorted = [...rows].sort((a, b) => String(a.period_start).localeCompare(String(b.period_start)));
  let i = sorted.length - 1;
  while (i >= 0 && periodStatus(sorted[i]!) !== 'final') i -= 1;
  const latest = i >= 0 ? sorted[i]! : null;
  const before = i > 0 ? sorted[i - 1]! : null;
  const previous = before && periodStatus(before) === 'final' && consecutive(before, latest!) ? before : null;
  return { latest, previous, change: latest && previous ? compare(previous, latest, metric) : null, provisional: sorted.length - 1 - i };
}

/** Whether `b` is the calendar period right after `a` (a gap would compare non-neighbours). */
function consecutive(a: Row, b: Row): boolean {
  const end = calendarEnd(String(a.period_grain), String(a.period_start));
  if (!end) return false;
  const next = new Date(`${end}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  return next.toISOString().slice(0, 10) === String(b.period_start);
}

function compare(previous: Row, latest: Row, m: Metric): HeadlineChange | null {
  const shown = (r: Row) => !r.suppressed && typeof r.value === 'number';
  if (!shown(previous) || !shown(latest)) return null;
  const difference = (latest.value as number) - (previous.value as number);
  const counts = (r: Row) => ({ x: r.numerator as number, n: r.denominator as number });
  const testable = (m.kind === 'proportion' || (m.kind === 'rate' && m.interval === 'poisson_exact'))
    && [previous, latest].every((r) => typeof r.numerator === 'number' && typeof r.denominator === 'number');
  if (!testable) return { difference, p: null, verdict: difference === 0 ? 'no_change' : 'not_tested' };
  const c = periodChange(m.kind as 'proportion' | 'rate', m.direction, counts(previous), counts(latest));
  if (!c) return null;
  return { difference: c.verdict === 'no_change' ? 0 : difference, p: c.p, verdict: c.verdict };
}
