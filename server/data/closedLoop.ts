// Closed-loop views: the referral funnel, Kaplan-Meier curves (published at run time on a
// grid of days whose every step has 0 or >= 11 events and censored cases, survival only:
// models/disclosure/kmGrid.ts) and partner scorecards.
import type { Row } from '../../models/duckdb.ts';
import type { FunnelStage } from '../../dashboards/specs/funnel.ts';
import type { Generation } from '../generation.ts';
import { availability, findMetric } from './catalog.ts';
import { notAvailable, organizations } from './gaps.ts';
import { resultRowsFor, type Subset } from './results.ts';

/** The funnel's steps (issue 15): people, one cohort; each metric is a step's share of the step before. */
export const FUNNEL_METRICS = ['funnel_positive_share', 'funnel_referred_share', 'funnel_accepted_share', 'funnel_served_share', 'funnel_met_share'] as const;
const STAGE_NAMES = ['Screened', 'Screened positive', 'Referred within 30 days', 'Accepted by day 90', 'Served by day 90', 'Need met by day 90'];

/**
 * The funnel for one period (its latest FINAL period by default) and population: people
 * screened in it and each nested step after, with the step's share of the step before (the
 * published proportion, with its interval). A step whose row is withheld is withheld.
 */
export async function funnel(gen: Generation, q: { grain: string; period_start?: string; subset: Subset }): Promise<FunnelStage[]> {
  const rows = await resultRowsFor(gen, [...FUNNEL_METRICS], { grain: q.grain as never, period_start: q.period_start, dimension: q.subset.dimension, group: q.subset.group });
  const row = (metric: string): Row | undefined => rows.find((r) => r.metric_id === metric);
  const first = row(FUNNEL_METRICS[0]);
  return STAGE_NAMES.map((stage, i): FunnelStage => {
    const r = i === 0 ? first : row(FUNNEL_METRICS[i - 1]!);
    const v = i === 0 ? r?.denominator : r?.numerator;
    return {
      order: i + 1,
      stage,
      unit: 'people',
      count: typeof v === 'number' ? v : null,
      suppressed: r?.suppressed === true,
      share_of_previous: i === 0 ? null : ((r?.value as number | null) ?? null),
      share_ci_low: i === 0 ? null : ((r?.ci_low as number | null) ?? null),
      share_ci_high: i === 0 ? null : ((r?.ci_high as number | null) ?? null),
      unreliable: i > 0 && r?.unreliable === true,
      source: i === 0 ? `${FUNNEL_METRICS[0]} denominator` : `${FUNNEL_METRICS[i - 1]} numerator`,
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

/** Survival at the published grid days, with the cases behind each curve (its results row's denominator). */
export async function kmCurves(gen: Generation, q: KmQuery): Promise<Row[]> {
  if (!gen.hasTable('km_curves')) throw notAvailable('Kaplan-Meier curves');
  const where = ['k.metric_id = ?', 'k.dimension = ?', 'k.period_grain = ?'];
  const params: unknown[] = [q.metric, q.dimension, q.grain];
  if (q.group) {
    where.push('k.group_value = ?');
    params.push(q.group);
  }
  if (q.period_start) {
    where.push('k.period_start = CAST(? AS DATE)');
    params.push(q.period_start);
  } else {
    where.push(`k.period_start = (SELECT max(period_start) FROM km_curves WHERE metric_id = ? AND dimension = ? AND period_grain = ?)`);
    params.push(q.metric, q.dimension, q.grain);
  }
  return gen.query(`SELECT k.metric_id, k.period_grain, CAST(k.period_start AS VARCHAR) AS period_start, k.dimension, k.group_value,
      r.denominator AS cases, k.time, k.survival, k.lower, k.upper
    FROM km_curves k LEFT JOIN metric_results r ON r.metric_id = k.metric_id AND r.period_grain = k.period_grain
      AND r.period_start = k.period_start AND r.dimension = k.dimension AND r.group_value = k.group_value
    WHERE ${where.join(' AND ')} ORDER BY k.group_value, k.time`, params);
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
      unreliable: r.unreliable === true,
    })),
  };
}
