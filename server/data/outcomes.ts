// Outcomes views: PHQ-9 follow-up, response and remission side by side, and utilization
// before and after the first referral (rates from the results table, post/pre rate ratio
// with its interval from the published pre/post summary when the run has it; no p-value:
// without a comparison group it would invite a causal reading).
import type { Row } from '../../models/duckdb.ts';
import type { IntervalRow } from '../../dashboards/specs/intervals.ts';
import type { Generation } from '../generation.ts';
import { resultRowsFor } from './results.ts';

export const PHQ9_METRICS = ['phq9_follow_up_rate', 'phq9_response_rate', 'phq9_remission_rate'] as const;
const PHQ9_LABEL: Record<string, string> = { phq9_follow_up_rate: 'Follow-up', phq9_response_rate: 'Response', phq9_remission_rate: 'Remission' };

/** Latest period of the grain (or the given one), one row per metric x group. */
export async function phq9Outcomes(gen: Generation, q: { dimension: string; grain: string; period_start?: string }): Promise<IntervalRow[]> {
  const rows = await resultRowsFor(gen, [...PHQ9_METRICS], { dimension: q.dimension, grain: q.grain as never, period_start: q.period_start });
  const latest = rows.reduce((mx, r) => (String(r.period_start) > mx ? String(r.period_start) : mx), '');
  return rows
    .filter((r) => String(r.period_start) === latest)
    .map((r) => ({
      label: PHQ9_LABEL[String(r.metric_id)]!,
      series: q.dimension === 'all' ? 'Everyone' : String(r.group_value),
      value: (r.value as number | null) ?? null,
      ci_low: (r.ci_low as number | null) ?? null,
      ci_high: (r.ci_high as number | null) ?? null,
      suppressed: r.suppressed === true,
      denominator: (r.denominator as number | null) ?? null,
      unreliable: r.unreliable === true,
    }))
    .sort((a, b) => Object.values(PHQ9_LABEL).indexOf(a.label) - Object.values(PHQ9_LABEL).indexOf(b.label));
}

const PREPOST = [
  { measure: 'ed_visits', label: 'ED visits', pre: 'ed_visits_pre_referral_per_1000_mm', post: 'ed_visits_post_referral_per_1000_mm' },
  { measure: 'inpatient_admits', label: 'Inpatient admissions', pre: 'inpatient_pre_referral_per_1000_mm', post: 'inpatient_post_referral_per_1000_mm' },
] as const;

export interface PrePostResult {
  rows: IntervalRow[];
  ratios: Row[];
}

/** Pre/post rates per group (whole span) with the post/pre rate ratio where published. */
export async function prePost(gen: Generation, q: { dimension: string }): Promise<PrePostResult> {
  const metrics = PREPOST.flatMap((p) => [p.pre, p.post]);
  const rates = await resultRowsFor(gen, metrics, { dimension: q.dimension, grain: 'all' });
  let ratios: Row[] = [];
  if (gen.hasTable('prepost_summary')) {
    ratios = await gen.query(`SELECT * FROM prepost_summary WHERE dimension = ? ORDER BY measure, group_value`, [q.dimension]);
  }
  const rows: IntervalRow[] = [];
  for (const p of PREPOST) {
    for (const r of rates.filter((x) => x.metric_id === p.pre || x.metric_id === p.post)) {
      const ratio = ratios.find((x) => x.measure === p.measure && x.group_value === r.group_value);
      const rr = ratio && !ratio.suppressed && typeof ratio.rate_ratio === 'number'
        ? `post/pre ${(ratio.rate_ratio as number).toFixed(2)} (95% CI ${(ratio.rr_ci_low as number)?.toFixed(2)}-${(ratio.rr_ci_high as number)?.toFixed(2)})`
        : null;
      rows.push({
        label: q.dimension === 'all' ? p.label : `${p.label}: ${r.group_value}`,
        series: r.metric_id === p.pre ? '180 days before first referral' : '180 days after first referral',
        value: (r.value as number | null) ?? null,
        ci_low: (r.ci_low as number | null) ?? null,
        ci_high: (r.ci_high as number | null) ?? null,
        suppressed: r.suppressed === true,
        denominator: (r.denominator as number | null) ?? null,
        unreliable: r.unreliable === true,
        note: rr,
      });
    }
  }
  rows.sort((a, b) => a.label.localeCompare(b.label) || b.series.localeCompare(a.series));
  return { rows, ratios };
}
