// The overview's story (issue 16): where the loop closes and where it does not, the largest
// disparity flagged after adjustment, and the biggest service gap, each with its n in the
// unit of its denominator (people, referrals, positive needs: never member-months) and the
// page that shows the evidence. Whole span, published figures only: withheld, unreliable
// and "unknown" groups are never picked; comparisons between organizations are left out
// (the story is about groups of people).
import type { Generation } from '../generation.ts';
import { findMetric } from './catalog.ts';
import { countyName } from '../geo.ts';
import { dimensionLabel, groupLabel } from '../labels.ts';

/** The population dimensions a story compares (one-way; organizations and ZIP3 left out). */
const STORY_DIMENSIONS = ['race_ethnicity', 'preferred_language', 'limited_english', 'sex', 'age_band', 'payer', 'rurality', 'county_fips', 'program_id'];

/** "referrals" from "proportion of referrals (0-1)". */
export function denominatorUnit(unit: string): string {
  return /^proportion of (.*) \(0-1\)$/.exec(unit)?.[1] ?? unit;
}

interface GroupFigure { group: string; label: string; value: number; n: number }

const params = (o: Record<string, string>) => `?${new URLSearchParams(o)}`;

export async function story(gen: Generation) {
  const out: { loop: unknown; disparity: unknown; gap: unknown } = { loop: null, disparity: null, gap: null };
  if (gen.hasTable('metric_results')) {
    const m = findMetric('closed_loop_rate')!;
    const dims = STORY_DIMENSIONS.map(() => '?').join(', ');
    // The dimension whose groups differ most in loop closure, and its two ends.
    const rows = await gen.query<{ dimension: string; group_value: string; value: number; denominator: number }>(`
      SELECT dimension, group_value, value, denominator FROM metric_results
      WHERE metric_id = 'closed_loop_rate' AND period_grain = 'all' AND dimension IN (${dims})
        AND NOT coalesce(suppressed, false) AND NOT coalesce(unreliable, false) AND value IS NOT NULL AND denominator > 0 AND group_value <> 'unknown'`, STORY_DIMENSIONS);
    const everyone = (await gen.query<{ value: number; denominator: number }>(`SELECT value, denominator FROM metric_results
      WHERE metric_id = 'closed_loop_rate' AND period_grain = 'all' AND dimension = 'all' AND NOT coalesce(suppressed, false)`))[0];
    let best: { dimension: string; high: GroupFigure; low: GroupFigure } | null = null;
    for (const d of STORY_DIMENSIONS) {
      const g = rows.filter((r) => r.dimension === d).map((r) => ({ group: r.group_value, label: groupLabel(d, r.group_value), value: r.value, n: r.denominator }));
      if (g.length < 2) continue;
      const high = g.reduce((a, b) => (b.value > a.value ? b : a));
      const low = g.reduce((a, b) => (b.value < a.value ? b : a));
      if (!best || high.value - low.value > best.high.value - best.low.value) best = { dimension: d, high, low };
    }
    out.loop = {
      metric: m.id,
      title: m.title,
      unit: denominatorUnit(m.unit),
      everyone: everyone ? { value: everyone.value, n: everyone.denominator } : null,
      dimension: best?.dimension ?? null,
      dimension_label: best ? dimensionLabel(best.dimension) : null,
      highest: best?.high ?? null,
      lowest: best?.low ?? null,
      link: best ? `/disparities${params({ metric: m.id, dimension: best.dimension })}` : '/closed-loop',
    };
    // The largest disparity flagged after adjustment (AHRQ rule and q < 0.05), over the
    // proportions (whose denominators count people, referrals or needs), by the distance of
    // its rate ratio from 1 on the log scale.
    const flagged = await gen.query<{ metric_id: string; dimension: string; group_value: string; reference_group: string; value: number; denominator: number; rate_ratio: number }>(`
      SELECT metric_id, dimension, group_value, reference_group, value, denominator, rate_ratio FROM metric_results
      WHERE period_grain = 'all' AND disparity_flag = true AND rate_ratio > 0 AND dimension IN (${dims})
        AND NOT coalesce(suppressed, false) AND group_value <> 'unknown'
      ORDER BY abs(ln(rate_ratio)) DESC, metric_id, dimension, group_value`, STORY_DIMENSIONS);
    const top = flagged.find((r) => findMetric(r.metric_id)?.kind === 'proportion');
    if (top) {
      const fm = findMetric(top.metric_id)!;
      const ref = (await gen.query<{ value: number; denominator: number }>(`SELECT value, denominator FROM metric_results
        WHERE metric_id = ? AND period_grain = 'all' AND dimension = ? AND group_value = ? AND NOT coalesce(suppressed, false)`, [top.metric_id, top.dimension, top.reference_group]))[0];
      out.disparity = {
        metric: fm.id,
        title: fm.title,
        direction: fm.direction,
        unit: denominatorUnit(fm.unit),
        dimension: top.dimension,
        dimension_label: dimensionLabel(top.dimension),
        group: { group: top.group_value, label: groupLabel(top.dimension, top.group_value), value: top.value, n: top.denominator },
        reference: ref ? { group: top.reference_group, label: groupLabel(top.dimension, top.reference_group), value: ref.value, n: ref.denominator } : null,
        rate_ratio: top.rate_ratio,
        link: `/disparities${params({ metric: fm.id, dimension: top.dimension })}`,
      };
    }
  }
  if (gen.hasTable('gap_table') && gen.hasColumns('gap_table', 'unmet_needs', 'positive_needs')) {
    const gap = (await gen.query<{ domain: string; county_fips: string; unmet_needs: number; positive_needs: number; unmet_need_rate: number | null }>(`
      SELECT domain, county_fips, unmet_needs, positive_needs, unmet_need_rate FROM gap_table
      WHERE unmet_needs IS NOT NULL AND county_fips <> 'unknown' ORDER BY unmet_needs DESC, unmet_need_rate DESC NULLS LAST, domain, county_fips LIMIT 1`))[0];
    if (gap) {
      out.gap = {
        domain: gap.domain,
        domain_label: groupLabel('domain', gap.domain),
        county_fips: gap.county_fips,
        county: countyName(gap.county_fips),
        unmet_needs: gap.unmet_needs,
        positive_needs: gap.positive_needs,
        unmet_need_rate: gap.unmet_need_rate,
        unit: 'positive needs',
        link: `/service-gaps${params({ domain: gap.domain, county: gap.county_fips })}`,
      };
    }
  }
  return { run_id: gen.runId, as_of: gen.asOf, ...out };
}
