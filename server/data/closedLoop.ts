// Closed-loop views: the referral funnel, Kaplan-Meier curves (published at run time,
// drawn only while at least 11 cases remain at risk) and partner scorecards.
import type { Row } from '../../models/duckdb.ts';
import type { FunnelStage } from '../../dashboards/specs/funnel.ts';
import type { Generation } from '../generation.ts';
import { availability, findMetric } from './catalog.ts';
import { notAvailable, organizations } from './gaps.ts';
import { resultRowsFor, type Subset } from './results.ts';

/** Fewer cases than this at risk and the curve is not drawn (metrics.md, Disclosure control). */
export const KM_MIN_AT_RISK = 11;

const STAGES: Array<{ stage: string; unit: string; metric: string; field: 'numerator' | 'denominator' }> = [
  { stage: 'Screened', unit: 'people', metric: 'screen_positive_rate', field: 'denominator' },
  { stage: 'Screened positive', unit: 'people', metric: 'screen_positive_rate', field: 'numerator' },
  { stage: 'Referred', unit: 'referrals', metric: 'referral_acceptance_rate', field: 'denominator' },
  { stage: 'Accepted', unit: 'referrals', metric: 'referral_acceptance_rate', field: 'numerator' },
  { stage: 'Served', unit: 'referrals', metric: 'days_to_service', field: 'numerator' },
  { stage: 'Need met', unit: 'referrals', metric: 'need_met_rate', field: 'numerator' },
];

export async function funnel(gen: Generation, q: { grain: string; period_start?: string; subset: Subset }): Promise<FunnelStage[]> {
  const metrics = [...new Set(STAGES.map((s) => s.metric))];
  const rows = await resultRowsFor(gen, metrics, { grain: q.grain as never, period_start: q.period_start, dimension: q.subset.dimension, group: q.subset.group });
  const pick = (metric: string): Row | undefined => rows.filter((r) => r.metric_id === metric).sort((a, b) => String(b.period_start).localeCompare(String(a.period_start)))[0];
  return STAGES.map((s, i) => {
    const r = pick(s.metric);
    const v = r?.[s.field];
    return {
      order: i + 1,
      stage: s.stage,
      unit: s.unit,
      count: typeof v === 'number' ? v : null,
      suppressed: r?.suppressed === true,
      source: `${s.metric} ${s.field}`,
    };
  });
}

export interface KmQuery {
  metric: string;
  dimension: string;
  group?: string;
  grain: string;
  period_start?: string;
}

export async function kmCurves(gen: Generation, q: KmQuery): Promise<Row[]> {
  if (!gen.hasTable('km_curves')) throw notAvailable('Kaplan-Meier curves');
  const where = ['metric_id = ?', 'dimension = ?', 'period_grain = ?', 'at_risk >= ?'];
  const params: unknown[] = [q.metric, q.dimension, q.grain, KM_MIN_AT_RISK];
  if (q.group) {
    where.push('group_value = ?');
    params.push(q.group);
  }
  if (q.period_start) {
    where.push('period_start = CAST(? AS DATE)');
    params.push(q.period_start);
  } else {
    where.push(`period_start = (SELECT max(period_start) FROM km_curves WHERE metric_id = ? AND dimension = ? AND period_grain = ?)`);
    params.push(q.metric, q.dimension, q.grain);
  }
  return gen.query(`SELECT metric_id, period_grain, CAST(period_start AS VARCHAR) AS period_start, dimension, group_value, time, at_risk, survival, lower, upper
    FROM km_curves WHERE ${where.join(' AND ')} ORDER BY group_value, time`, params);
}

export const SCORECARD_MEASURES = ['referral_acceptance_rate', 'closed_loop_rate', 'days_to_close', 'stale_open_referrals'] as const;

/** Every partner's scorecard (evaluators and staff): one cell per organization x measure. */
export async function scorecards(gen: Generation, q: { grain: string; period_start?: string }) {
  const a = await availability(gen);
  const metrics = SCORECARD_MEASURES.filter((m) => a.metrics.has(m));
  const orgs = await organizations(gen);
  const name = new Map(orgs.map((o) => [o.org_id, o.org_name]));
  const periodRows = await resultRowsFor(gen, metrics.filter((m) => !findMetric(m)!.snapshot), { grain: q.grain as never, period_start: q.period_start, dimension: 'target_org_id' });
  const snapshotRows = await resultRowsFor(gen, metrics.filter((m) => findMetric(m)!.snapshot), { grain: 'all', dimension: 'target_org_id' });
  const area = await resultRowsFor(gen, metrics, { dimension: 'all', grain: q.grain as never, period_start: q.period_start });
  const areaSnap = await resultRowsFor(gen, metrics.filter((m) => findMetric(m)!.snapshot), { dimension: 'all', grain: 'all' });
  const latestStart = periodRows.reduce((mx, r) => (String(r.period_start) > mx ? String(r.period_start) : mx), '');
  const rows = [...periodRows.filter((r) => String(r.period_start) === latestStart), ...snapshotRows];
  const areaRows = [...area.filter((r) => String(r.period_start) === latestStart || findMetric(String(r.metric_id))!.snapshot), ...areaSnap];
  return {
    period_start: latestStart || null,
    measures: metrics.map((id) => {
      const m = findMetric(id)!;
      const ar = areaRows.find((r) => r.metric_id === id);
      return { id, title: m.title, kind: m.kind, area: ar && !ar.suppressed ? ((ar.value as number | null) ?? null) : null };
    }),
    cells: rows.filter((r) => r.group_value !== 'unknown').map((r) => ({
      org_id: String(r.group_value),
      org: `${name.get(String(r.group_value)) ?? r.group_value}`,
      measure: String(r.metric_id),
      value: (r.value as number | null) ?? null,
      ci_low: (r.ci_low as number | null) ?? null,
      ci_high: (r.ci_high as number | null) ?? null,
      denominator: (r.denominator as number | null) ?? null,
      suppressed: r.suppressed === true,
    })),
  };
}
