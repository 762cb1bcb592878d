// R's binom.test pieces: the Clopper-Pearson interval and the two-sided p-value.
// poisson.test's two-sample comparison is built on both (see poisson.ts).
import { betaQuantile, binomialLogCdf, binomialLogPmf, binomialLogSf, logAddExp } from './distributions.ts';
import { LOG_RELATIVE_ERROR, firstAtOrBelow, lastAtOrBelow } from './exactTails.ts';

/**
 * Clopper-Pearson ("exact") interval for x successes in n trials, as binom.test:
 * lower = qbeta(a/2, x, n - x + 1) (0 when x = 0), upper = qbeta(1 - a/2, x + 1, n - x)
 * (1 when x = n). null when n = 0.
 * Hand check: x = 0, n = 10 gives upper = 1 - 0.025^(1/10) = 0.30850.
 */
export function clopperPearsonInterval(x: number, n: number, level = 0.95): { low: number; high: number } | null {
  if (!(n > 0) || x < 0 || x > n) return null;
  const alpha = (1 - level) / 2;
  const low = x === 0 ? 0 : betaQuantile(alpha, x, n - x + 1);
  const high = x === n ? 1 : betaQuantile(1 - alpha, x + 1, n - x);
  return { low, high };
}

/**
 * Two-sided exact binomial p-value with R's binom.test rule: the observed tail plus the
 * outcomes on the other side of the mean n*p whose probability is <= dbinom(x) * (1 + 1e-7),
 * capped at 1 (exactly 1 when x = n*p).
 * O(log n) pmf evaluations: the boundary on the far side is a binary search over the
 * unimodal pmf, and both tails are pbinom values (binomialLogCdf / binomialLogSf: one
 * accurate dbinom each, the other terms by ratio, stopping at 1e-17 of the sum), so counts
 * in the hundreds of thousands cost microseconds. (test/models/stats keeps the old
 * term-by-term lgamma sum as a reference.)
 * Hand check: x = 0, n = 5, p = 0.5: P(0) + P(5) = 2/32 = 0.0625.
 */
export function binomialTestP(x: number, n: number, p: number): number {
  if (p === 0) return x === 0 ? 1 : 0;
  if (p === 1) return x === n ? 1 : 0;
  const m = n * p;
  if (x === m) return 1;
  const logPmf = (i: number) => binomialLogPmf(i, n, p);
  const threshold = logPmf(x) + LOG_RELATIVE_ERROR;
  let logP: number;
  if (x < m) {
    // all of P(X <= x), plus the upper outcomes no more likely than x; the pmf falls
    // from ceiling(m) upwards, so those are one run [b, n]
    const b = firstAtOrBelow(logPmf, Math.ceil(m), n, threshold);
    logP = logAddExp(binomialLogCdf(x, n, p), b <= n ? binomialLogSf(b, n, p) : -Infinity);
  } else {
    const a = lastAtOrBelow(logPmf, 0, Math.floor(m), threshold);
    logP = logAddExp(binomialLogSf(x, n, p), a >= 0 ? binomialLogCdf(a, n, p) : -Infinity);
  }
  return Math.min(1, Math.exp(logP));
}
