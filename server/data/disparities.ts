// Disparities for one metric x dimension x period: each group against the reference
// group (published statistics, already withheld where the reference is suppressed), and
// the summary measures over the shown groups (published disparity_summary when the run
// has it; otherwise computed here from the shown rows with the same functions).
import type { Row } from '../../models/duckdb.ts';
import { disparitySummary } from '../../models/stats/disparitySummary.ts';
import type { ForestRow } from '../../dashboards/specs/forest.ts';
import type { Generation } from '../generation.ts';
import { SUPPRESSED_LABEL } from '../../dashboards/specs/theme.ts';
import { availability, findMetric } from './catalog.ts';
import { latestFinalPeriod, resultRows } from './results.ts';
import { orgNames } from './gaps.ts';
import { groupLabel } from '../labels.ts';
import { involvesOrg } from '../hooks.ts';

export interface DisparityQuery {
  metric: string;
  dimension: string;
  grain: string;
  period_start?: string;
}

export async function disparities(gen: Generation, q: DisparityQuery) {
  const a = await availability(gen);
  const starts = a.periods.get(q.metric)?.get(q.grain) ?? [];
  // the latest final period unless one is asked for (a provisional period is never "latest")
  const period = q.period_start ?? (q.grain === 'all' ? undefined : await latestFinalPeriod(gen, q.metric, q.grain)) ?? starts.at(-1);
  const rows = period ? await resultRows(gen, { metric: q.metric, dimension: q.dimension, grain: q.grain as never, period_start: period }) : [];
  const m = findMetric(q.metric)!;
  const reference = (rows.find((r) => r.reference_group !== null)?.reference_group as string | undefined) ?? null;
  let summary: Row | null = null;
  let summarySource: 'published' | 'computed' | null = null;
  if (gen.hasTable('disparity_summary') && period) {
    summary = (await gen.query(`SELECT * EXCLUDE (metric_id, period_grain, dimension) FROM disparity_summary
      WHERE metric_id = ? AND period_grain = ? AND dimension = ? AND period_start = CAST(? AS DATE)`, [q.metric, q.grain, q.dimension, period]))[0] ?? null;
    if (summary) summarySource = 'published';
  }
  if (!summary && reference) {
    // as the published summary: shown groups but unknown, on the adverse scale
    const shown = rows.filter((r) => !r.suppressed && typeof r.value === 'number' && !String(r.group_value).split('*').includes('unknown'));
    const refIndex = shown.findIndex((r) => r.group_value === reference);
    if (refIndex >= 0) {
      const variance = (r: Row) => {
        const y = r.value as number;
        const n = r.denominator as number;
        if (!(n > 0)) return null;
        if (m.kind === 'proportion') return (y * (1 - y)) / n;
        return m.interval === 'poisson_exact' ? ((r.numerator as number) / (n * n)) * m.scale * m.scale : null;
      };
      const s = disparitySummary(shown.map((r) => ({ value: r.value as number, denominator: (r.denominator as number) ?? 0, variance: variance(r) })), refIndex,
        { adverse: m.kind === 'proportion' && m.direction === 'higher_better' });
      summary = {
        reference_group: reference,
        groups_shown: shown.length,
        index_of_disparity: s.indexOfDisparity,
        between_group_variance: s.betweenGroupVariance,
        max_rate_difference: s.maxRateDifference,
        max_rate_ratio: s.maxRateRatio,
      };
      summarySource = 'computed';
    }
  }
  // labels beside the codes (server/labels.ts): group_value and reference_group stay codes
  const orgs = involvesOrg(q.dimension) ? await orgNames(gen) : undefined;
  const label = (v: string) => groupLabel(q.dimension, v, orgs);
  return {
    metric: q.metric,
    title: m.title,
    direction: m.direction,
    dimension: q.dimension,
    grain: q.grain,
    period_start: period ?? null,
    periods: starts,
    reference_group: reference,
    reference_label: reference === null ? null : label(reference),
    has_statistics: rows.some((r) => r.rate_ratio !== null || r.rate_difference !== null),
    rows: rows.map((r) => ({ ...r, group_label: label(String(r.group_value)) })),
    summary,
    summary_source: summarySource,
  };
}

/**
 * Rows of the forest plot, in the order the groups are listed (reference first). `flag`
 * picks the flag drawn: the adjusted one (default) or the AHRQ rule alone.
 */
export function forestRows(rows: Row[], scale: 'ratio' | 'difference', flag: 'adjusted' | 'unadjusted' = 'adjusted'): ForestRow[] {
  const ref = rows.find((r) => r.reference_group !== null)?.reference_group;
  const ordered = [...rows].sort((x, y) => Number(y.group_value === ref) - Number(x.group_value === ref) || String(x.group_value).localeCompare(String(y.group_value)));
  return ordered.map((r) => {
    const isRef = r.group_value === ref;
    const est = (scale === 'ratio' ? r.rate_ratio : r.rate_difference) as number | null;
    const adjusted = r.disparity_flag === true;
    const unadjusted = r.disparity_flag_unadjusted === true;
    const flagged = flag === 'unadjusted' ? unadjusted : adjusted;
    const q = r.q_value as number | null;
    const status = isRef
      ? 'reference'
      : r.suppressed
        ? `${SUPPRESSED_LABEL} (withheld)`
        : est === null
          ? 'no comparison'
          : adjusted
            ? 'disparity (q < 0.05)'
            : unadjusted
              ? 'AHRQ rule only (q >= 0.05: may be chance)'
              : '';
    return {
      group: typeof r.group_label === 'string' ? r.group_label : String(r.group_value),
      group_value: String(r.group_value),
      estimate: isRef ? null : est,
      low: isRef ? null : ((scale === 'ratio' ? r.rr_ci_low : r.rd_ci_low) as number | null),
      high: isRef ? null : ((scale === 'ratio' ? r.rr_ci_high : r.rd_ci_high) as number | null),
      value: (r.value as number | null) ?? null,
      is_reference: isRef,
      suppressed: r.suppressed === true,
      flagged,
      flagged_unadjusted: unadjusted,
      q_below_05: q !== null && q < 0.05,
      unreliable: r.unreliable === true,
      p_value: (r.p_value as number | null) ?? null,
      q_value: q,
      status,
    };
  });
}
