// One group compared with its dimension's reference group (metrics.md, "Disparities"):
// the statistics that go into the results table's comparison columns. Pure; the
// statistics themselves are models/stats (checked against R).
import {
  comparisonP,
  katzRatio,
  moverRateDifference,
  newcombeDifference,
  poissonRateRatio,
} from '../stats/index.ts';
import type { Direction } from '../disclosure/metricMeta.ts';

/** How a metric is compared: proportions, rates of events, or a dollar rate (paid_pmpm). */
export type ComparisonKind = 'proportion' | 'rate' | 'dollar_rate';

export interface ComparisonInput {
  kind: ComparisonKind;
  direction: Direction;
  /** group: numerator (events / dollars) and denominator (people / member-months) */
  x1: number;
  n1: number;
  /** reference group */
  x2: number;
  n2: number;
}

export interface ComparisonStats {
  rate_difference: number | null;
  rd_ci_low: number | null;
  rd_ci_high: number | null;
  rate_ratio: number | null;
  rr_ci_low: number | null;
  rr_ci_high: number | null;
  p_value: number | null;
  /** null where the metric carries no flag (paid_pmpm) */
  disparity_flag: boolean | null;
}

/** Rates are published per 1000 member-months (value = events / member-months x 1000). */
export const RATE_SCALE = 1000;

const finite = (v: number | null | undefined): number | null => (v === null || v === undefined || !Number.isFinite(v) ? null : v);

export function compareGroups(c: ComparisonInput): ComparisonStats {
  const { x1, n1, x2, n2 } = c;
  if (c.kind === 'proportion') {
    const rd = newcombeDifference(x1, n1, x2, n2);
    const rr = katzRatio(x1, n1, x2, n2);
    const p = comparisonP(x1, n1, x2, n2);
    return {
      rate_difference: finite(rd?.difference),
      rd_ci_low: finite(rd?.low),
      rd_ci_high: finite(rd?.high),
      rate_ratio: finite(rr.ratio),
      rr_ci_low: finite(rr.low),
      rr_ci_high: finite(rr.high),
      p_value: finite(p),
      disparity_flag: ahrqFlag(c, p),
    };
  }
  if (c.kind === 'rate') {
    // poissonRateRatio gives Infinity for the ratio and its upper limit when the reference
    // has no events: published as empty, the finite lower limit stays.
    const rr = poissonRateRatio(x1, n1, x2, n2);
    const rd = moverRateDifference(x1, n1, x2, n2);
    return {
      rate_difference: scaled(rd?.difference),
      rd_ci_low: scaled(rd?.low),
      rd_ci_high: scaled(rd?.high),
      rate_ratio: finite(rr?.ratio),
      rr_ci_low: finite(rr?.low),
      rr_ci_high: finite(rr?.high),
      p_value: finite(rr?.p),
      disparity_flag: ahrqFlag(c, rr?.p ?? null),
    };
  }
  // Dollars per member-month: a plain difference (in the value's unit) and ratio only.
  const r1 = n1 > 0 ? x1 / n1 : null;
  const r2 = n2 > 0 ? x2 / n2 : null;
  return {
    rate_difference: r1 !== null && r2 !== null ? finite(r1 - r2) : null,
    rd_ci_low: null,
    rd_ci_high: null,
    rate_ratio: r1 !== null && r2 !== null && r2 !== 0 ? finite(r1 / r2) : null,
    rr_ci_low: null,
    rr_ci_high: null,
    p_value: null,
    disparity_flag: null,
  };
}

function scaled(v: number | undefined): number | null {
  return v === undefined || !Number.isFinite(v) ? null : v * RATE_SCALE;
}

/**
 * The AHRQ rule (National Healthcare Quality and Disparities Report): p < 0.05 and, on the
 * adverse scale, the group is at least 10% worse than the reference:
 * (adverse_group - adverse_ref) / adverse_ref >= 0.10, infinite when adverse_ref = 0 <
 * adverse_group. Adverse rate = 1 - rate for a higher-is-better proportion, the rate
 * itself for a lower-is-better one.
 *
 * Evaluated on cross-multiplied counts, A_g * n_ref * 10 >= A_ref * n_g * 11, so a group
 * exactly 10% worse is flagged (0.11 - 0.10 is 0.00999... in floating point) and no
 * division by zero arises; "worse" (A_g * n_ref > A_ref * n_g) keeps 0 vs 0 unflagged.
 *
 * Choice: for a higher-is-better *rate* (none in the catalog: every rate is utilization,
 * lower is better) 1 - rate means nothing, so the mirror rule is used: flagged when the
 * group's rate is at least 10% below the reference's.
 */
export function ahrqFlag(c: ComparisonInput, p: number | null): boolean | null {
  if (c.kind === 'dollar_rate') return null;
  if (p === null || !(p < 0.05)) return false;
  const { x1, n1, x2, n2 } = c;
  if (c.kind === 'proportion' && c.direction === 'higher_better') {
    const a1 = n1 - x1;
    const a2 = n2 - x2;
    return a1 * n2 > a2 * n1 && 10 * a1 * n2 >= 11 * a2 * n1;
  }
  if (c.kind === 'rate' && c.direction === 'higher_better') {
    // (r_ref - r_g) / r_ref >= 0.10  <=>  9 r_ref >= 10 r_g, with r = events / time
    return x1 * n2 < x2 * n1 && 9 * x2 * n1 >= 10 * x1 * n2;
  }
  return x1 * n2 > x2 * n1 && 10 * x1 * n2 >= 11 * x2 * n1;
}
