// Wilson score interval for a proportion, exactly as R's prop.test(x, n, correct = FALSE).
// Chosen over the Wald interval because it stays inside [0, 1] and keeps its coverage
// for small n and for proportions near 0 or 1.
import { normalQuantile } from './distributions.ts';

/**
 * Wilson score interval for x successes out of n. null when n = 0.
 * Like prop.test, the lower limit is exactly 0 at x = 0 and the upper exactly 1 at x = n.
 *
 * Hand check (Newcombe 1998): 81/263, z = 1.959964, z^2/(2n) = 0.0073030;
 * centre = (0.307985 + 0.0073030) / 1.0146060 = 0.310749,
 * half-width = 1.959964 * sqrt(0.307985 * 0.692015 / 263 + 0.0073030 / 526) / 1.0146060 = 0.055460,
 * so 0.2553 to 0.3662.
 */
export function wilsonInterval(x: number, n: number, level = 0.95): { low: number; high: number } | null {
  if (!(n > 0) || !(x >= 0) || x > n) return null;
  const z = normalQuantile((1 + level) / 2);
  const p = x / n;
  const z22n = (z * z) / (2 * n);
  const centre = p + z22n;
  const spread = z * Math.sqrt((p * (1 - p)) / n + z22n / (2 * n));
  const denominator = 1 + 2 * z22n;
  // prop.test's own special cases, which also keep the limits exact at the edges
  const high = p >= 1 ? 1 : (centre + spread) / denominator;
  const low = p <= 0 ? 0 : (centre - spread) / denominator;
  return { low: clamp01(low), high: clamp01(high) };
}

function clamp01(v: number): number {
  return Math.min(1, Math.max(0, v));
}
