// Comparing a group's proportion x1/n1 with a reference group's x2/n2: the difference
// and ratio with their intervals, and the two-sided p-value the disparity flag uses.
import { hypergeometricLogPmf, logAddExp, normalCdf, normalQuantile } from './distributions.ts';
import { LOG_RELATIVE_ERROR, findMode, firstAtOrBelow, lastAtOrBelow, logSumRun } from './exactTails.ts';
import { moverDifference } from './mover.ts';
import { wilsonInterval } from './wilson.ts';

/**
 * p1 - p2 with Newcombe's hybrid score interval (Newcombe 1998, method 10, no continuity
 * correction): combine the two Wilson intervals (l, u) as
 * low = d - sqrt((p1 - l1)^2 + (u2 - p2)^2), high = d + sqrt((u1 - p1)^2 + (p2 - l2)^2).
 * Good coverage at small n and at 0 events, unlike the Wald difference. null when n1 or n2 is 0.
 * Hand check (Newcombe 1998): 56/70 - 48/80 = 0.2; Wilson 56/70 = (0.6918, 0.8770),
 * 48/80 = (0.4905, 0.7004); low = 0.2 - sqrt(0.1082^2 + 0.1004^2) = 0.0524,
 * high = 0.2 + sqrt(0.0770^2 + 0.1095^2) = 0.3339.
 */
export function newcombeDifference(
  x1: number,
  n1: number,
  x2: number,
  n2: number,
  level = 0.95,
): { difference: number; low: number; high: number } | null {
  const w1 = wilsonInterval(x1, n1, level);
  const w2 = wilsonInterval(x2, n2, level);
  if (w1 === null || w2 === null) return null;
  return moverDifference({ estimate: x1 / n1, low: w1.low, high: w1.high }, { estimate: x2 / n2, low: w2.low, high: w2.high });
}

/**
 * Risk ratio p1 / p2 with the Katz log interval: exp(log RR -+ z SE),
 * SE = sqrt(1/x1 - 1/n1 + 1/x2 - 1/n2). The ratio is null when p2 = 0 (undefined), and
 * the interval is null when x1 or x2 is 0 (the log SE is infinite).
 * Hand check: 9/10 vs 3/10: RR = 3, SE = sqrt(1/9 - 1/10 + 1/3 - 1/10) = 0.4944,
 * exp(log 3 -+ 1.96 * 0.4944) = (1.138, 7.906).
 */
export function katzRatio(
  x1: number,
  n1: number,
  x2: number,
  n2: number,
  level = 0.95,
): { ratio: number | null; low: number | null; high: number | null } {
  if (!(n1 > 0) || !(n2 > 0) || x2 === 0) return { ratio: null, low: null, high: null };
  const ratio = x1 / n1 / (x2 / n2);
  if (x1 === 0) return { ratio, low: null, high: null };
  const z = normalQuantile(1 - (1 - level) / 2);
  const se = Math.sqrt(Math.max(0, 1 / x1 - 1 / n1 + 1 / x2 - 1 / n2));
  const logRatio = Math.log(ratio);
  return { ratio, low: Math.exp(logRatio - z * se), high: Math.exp(logRatio + z * se) };
}

/**
 * Two-sided Fisher exact test of the 2x2 table [[x1, n1-x1], [x2, n2-x2]] with R's
 * fisher.test rule: sum the hypergeometric probabilities of all tables (same margins) that
 * are no more likely than the observed one, with relative tolerance 1e-7.
 * In log space, walking only the terms that matter, so n in the hundreds of thousands
 * neither overflows nor underflows: lgamma-based pmf values only for the binary searches
 * and each run's first term, the other terms by the hypergeometric term ratio, and each
 * run stops once its remainder is below 1e-17 of its sum (exactTails.ts). The sum is
 * normalised by the computed total, as R's is. Returns 1 for a table whose margins allow
 * only one table.
 * Hand check: 2/4 vs 5/6: margins 7 successes of 10, 4 drawn; P(x1 = 1..4) =
 * 7/210, 63/210, 105/210, 35/210; observed 63/210 -> tables with P <= 63/210 are
 * x1 = 1, 2, 4 (7 + 63 + 35 = 105) -> p = 0.5.
 */
export function fisherExactP(x1: number, n1: number, x2: number, n2: number): number {
  const successes = x1 + x2;
  const failures = n1 + n2 - successes;
  const lo = Math.max(0, n1 - failures);
  const hi = Math.min(n1, successes);
  if (hi <= lo) return 1;
  const logPmf = (i: number) => hypergeometricLogPmf(i, successes, failures, n1);
  // P(i + 1) / P(i) and P(i - 1) / P(i) for C(successes, i) C(failures, n1 - i)
  const up = (i: number) => ((successes - i) * (n1 - i)) / ((i + 1) * (failures - n1 + i + 1));
  const down = (i: number) => (i * (failures - n1 + i)) / ((successes - i + 1) * (n1 - i + 1));
  const mode = findMode(logPmf, lo, hi, ((n1 + 1) * (successes + 1)) / (n1 + n2 + 2));
  const threshold = logPmf(x1) + LOG_RELATIVE_ERROR;
  // the pmf rises on [lo, mode] and falls on [mode, hi]: the tables no more likely than
  // the observed one are a left run [lo, a] and a right run [b, hi]
  const a = lastAtOrBelow(logPmf, lo, mode, threshold);
  const b = firstAtOrBelow(logPmf, mode + 1, hi, threshold);
  const logSelected = logAddExp(
    a >= lo ? logSumRun(logPmf(a), a, lo, down) : -Infinity,
    b <= hi ? logSumRun(logPmf(b), b, hi, up) : -Infinity,
  );
  const logTotal = logAddExp(
    logSumRun(logPmf(mode), mode, lo, down),
    mode < hi ? logSumRun(logPmf(mode + 1), mode + 1, hi, up) : -Infinity,
  );
  return Math.min(1, Math.exp(logSelected - logTotal));
}

/**
 * Pooled two-proportion z test, two-sided: z = (p1 - p2) / sqrt(p(1-p)(1/n1 + 1/n2)) with
 * p = (x1 + x2)/(n1 + n2); the same p-value as prop.test(correct = FALSE)'s chi-square.
 * null when p is 0 or 1 (no variance) or a group is empty.
 * Hand check: 9/10 vs 3/10: p = 0.6, z = 0.6 / sqrt(0.24 * 0.2) = 2.7386, 2 Phi(-z) = 0.00617.
 */
export function pooledZP(x1: number, n1: number, x2: number, n2: number): number | null {
  if (!(n1 > 0) || !(n2 > 0)) return null;
  const pooled = (x1 + x2) / (n1 + n2);
  if (pooled <= 0 || pooled >= 1) return null;
  const z = (x1 / n1 - x2 / n2) / Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  return Math.min(1, 2 * normalCdf(-Math.abs(z)));
}

/**
 * The product's p-value rule: Fisher's exact test when any of the four expected cells of
 * the group-vs-reference 2x2 table is below 5 (where the z approximation is poor),
 * otherwise the pooled z test. null when a group is empty.
 */
export function comparisonP(x1: number, n1: number, x2: number, n2: number): number | null {
  if (!(n1 > 0) || !(n2 > 0)) return null;
  const total = n1 + n2;
  const successes = x1 + x2;
  const failures = total - successes;
  const smallestExpected = (Math.min(n1, n2) * Math.min(successes, failures)) / total;
  if (smallestExpected < 5) return fisherExactP(x1, n1, x2, n2);
  return pooledZP(x1, n1, x2, n2);
}
