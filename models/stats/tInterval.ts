// Student t confidence interval for a mean, as R's t.test(values)$conf.int:
// mean +- qt(1 - a/2, n - 1) * sd / sqrt(n).
import { tQuantile } from './distributions.ts';

export interface TIntervalResult {
  mean: number;
  /** null when n = 1: one value says nothing about spread */
  low: number | null;
  high: number | null;
  n: number;
}

/**
 * t interval from raw values. null for no values.
 * Hand check: -3, -5, 0, -8, -2, -6: mean -4, squared deviations 1+1+16+16+4+4 = 42,
 * sd = sqrt(42/5) = 2.898275, se = 1.183216, qt(0.975, 5) = 2.570582,
 * so -4 -+ 3.041553 = (-7.041553, -0.958447).
 */
export function tInterval(values: number[], level = 0.95): TIntervalResult | null {
  const n = values.length;
  if (n === 0) return null;
  // two passes (and R's mean() correction pass): no catastrophic cancellation
  let sum = 0;
  for (const v of values) sum += v;
  let mean = sum / n;
  let correction = 0;
  for (const v of values) correction += v - mean;
  mean += correction / n;
  if (n === 1) return { mean, low: null, high: null, n };
  let squares = 0;
  for (const v of values) squares += (v - mean) * (v - mean);
  return withVariance(mean, squares / (n - 1), n, level);
}

/**
 * The same interval from SQL-side aggregates (count, sum, sum of squares). The variance
 * (sumSquares - sum^2/n) / (n - 1) can come out slightly negative from rounding when all
 * values are (nearly) equal, so it is clamped at 0.
 */
export function tIntervalFromMoments(
  n: number,
  sum: number,
  sumSquares: number,
  level = 0.95,
): TIntervalResult | null {
  if (!(n >= 1)) return null;
  const mean = sum / n;
  if (n === 1) return { mean, low: null, high: null, n };
  const variance = Math.max(0, (sumSquares - (sum * sum) / n) / (n - 1));
  return withVariance(mean, variance, n, level);
}

function withVariance(mean: number, variance: number, n: number, level: number): TIntervalResult {
  // R's t.test stops on constant data; here a zero variance gives the point interval.
  const halfWidth = tQuantile(1 - (1 - level) / 2, n - 1) * Math.sqrt(variance / n);
  return { mean, low: mean - halfWidth, high: mean + halfWidth, n };
}
