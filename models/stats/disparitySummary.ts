// Summary measures of disparity across J groups (NCI HD*Calc, Healthy People 2030),
// over the groups shown (not suppressed). y = each group's rate, n = its denominator.

export interface DisparityGroup {
  value: number;
  denominator: number;
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

/** All four summaries for groups given as { value, denominator }. */
export function disparitySummary(
  groups: DisparityGroup[],
  refIndex: number,
): {
  indexOfDisparity: number | null;
  betweenGroupVariance: number | null;
  maxRateDifference: number | null;
  maxRateRatio: number | null;
} {
  const values = groups.map((g) => g.value);
  return {
    indexOfDisparity: indexOfDisparity(values, refIndex),
    betweenGroupVariance: betweenGroupVariance(
      values,
      groups.map((g) => g.denominator),
    ),
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
