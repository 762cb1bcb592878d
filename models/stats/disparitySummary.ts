// Summary measures of disparity across J groups (NCI HD*Calc, Healthy People 2030),
// over the groups shown (not suppressed). y = each group's rate, n = its denominator.

export interface DisparityGroup {
  value: number;
  denominator: number;
  /** sampling variance of value (e.g. y (1 - y) / n for a proportion); needed for the corrected between-group variance */
  variance?: number | null;
}

/**
 * Index of Disparity, in %: 100 * (sum over j != ref of |y_j - y_ref|) / (J - 1) / y_ref.
 * The average absolute deviation from the reference, relative to it. null when y_ref = 0
 * or J < 2 (or refIndex is out of range).
 * Hand check: y = 0.1 (ref), 0.15, 0.05: (0.05 + 0.05) / 2 / 0.1 = 0.5 -> 50%.
 */
export function indexOfDisparity(values: number[], refIndex: number): number | null {
  const J = values.length;
  const ref = values[refIndex];
  if (J < 2 || ref === undefined || ref === 0) return null;
  let sum = 0;
  values.forEach((y, j) => {
    if (j !== refIndex) sum += Math.abs(y - ref);
  });
  return (100 * sum) / (J - 1) / ref;
}

/**
 * Between-group variance: sum_j p_j (y_j - mu)^2 with p_j = n_j / sum n and
 * mu = sum_j p_j y_j (population-weighted, so large groups count more). null for no
 * groups or a zero total denominator.
 * Hand check: y = 0.1, 0.15, 0.05, n = 1000, 300, 300: p = 0.625, 0.1875, 0.1875, mu = 0.1,
 * BGV = 0.1875 * 0.05^2 * 2 = 0.0009375.
 */
export function betweenGroupVariance(values: number[], denominators: number[]): number | null {
  if (values.length === 0 || values.length !== denominators.length) return null;
  const total = denominators.reduce((s, n) => s + n, 0);
  if (!(total > 0)) return null;
  let mu = 0;
  values.forEach((y, j) => {
    mu += ((denominators[j] as number) / total) * y;
  });
  let bgv = 0;
  values.forEach((y, j) => {
    bgv += ((denominators[j] as number) / total) * (y - mu) * (y - mu);
  });
  return bgv;
}

/**
 * Between-group variance with the part that sampling noise alone contributes taken out:
 * with y_j = theta_j + e_j, Var e_j = v_j and mu estimated by sum p_j y_j,
 * E[sum p_j (y_j - mu)^2] = true BGV + sum p_j (1 - p_j) v_j, so the estimate is the raw
 * BGV minus sum p_j (1 - p_j) v_j, floored at 0 (a method-of-moments correction, as
 * DerSimonian-Laird's for meta-analysis). Without it, many small groups show "variance"
 * that is noise. null when the raw BGV is, or a variance is missing.
 * Hand check: y = 0.1, 0.15, 0.05, n = 1000, 300, 300, v = y (1 - y) / n:
 * 0.0009375 - (0.625 * 0.375 * 0.00009 + 0.1875 * 0.8125 * (0.000425 + 0.000158333)) = 0.000827539.
 */
export function betweenGroupVarianceCorrected(values: number[], denominators: number[], variances: Array<number | null | undefined>): number | null {
  const raw = betweenGroupVariance(values, denominators);
  if (raw === null || variances.length !== values.length || variances.some((v) => v === null || v === undefined || !Number.isFinite(v))) return null;
  const total = denominators.reduce((s, n) => s + n, 0);
  let noise = 0;
  variances.forEach((v, j) => {
    const p = (denominators[j] as number) / total;
    noise += p * (1 - p) * (v as number);
  });
  return Math.max(0, raw - noise);
}

/** Maximal rate difference: max y - min y. null for no groups. */
export function maxRateDifference(values: number[]): number | null {
  if (values.length === 0) return null;
  return maxOf(values) - minOf(values);
}

/** Maximal rate ratio: max y / min y. null for no groups or when min y = 0. */
export function maxRateRatio(values: number[]): number | null {
  if (values.length === 0) return null;
  const min = minOf(values);
  if (min === 0) return null;
  return maxOf(values) / min;
}

/**
 * All four summaries, on the adverse scale (Keppel & Pearcy 2005, Healthy People 2010
 * Statistical Notes 25): for a measure where higher is better (acceptance, remission) the
 * adverse rate 1 - y is summarised, so that the index of disparity and the maximal rate
 * ratio measure the same thing as the disparity flag, which is also judged on the adverse
 * scale (a favourable 0.8 vs 0.6 is an adverse 0.2 vs 0.4: ratio 2, not 1.33). The
 * between-group variance is the corrected one (betweenGroupVarianceCorrected); it and the
 * maximal difference are the same on either scale.
 */
export function disparitySummary(
  groups: DisparityGroup[],
  refIndex: number,
  opts: { adverse: boolean } = { adverse: false },
): {
  indexOfDisparity: number | null;
  betweenGroupVariance: number | null;
  maxRateDifference: number | null;
  maxRateRatio: number | null;
} {
  const values = groups.map((g) => (opts.adverse ? 1 - g.value : g.value));
  return {
    indexOfDisparity: indexOfDisparity(values, refIndex),
    betweenGroupVariance: betweenGroupVarianceCorrected(values, groups.map((g) => g.denominator), groups.map((g) => g.variance)),
    maxRateDifference: maxRateDifference(values),
    maxRateRatio: maxRateRatio(values),
  };
}

// (no spread: Math.max(...v) overflows the stack on very long arrays)
function maxOf(values: number[]): number {
  return values.reduce((m, v) => (v > m ? v : m), -Infinity);
}

function minOf(values: number[]): number {
  return values.reduce((m, v) => (v < m ? v : m), Infinity);
}
