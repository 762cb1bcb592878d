// Tails of unimodal discrete distributions (binomial, hypergeometric) for R's exact
// tests. R adds up probabilities of whole tails; here a tail is walked from its largest
// term outwards by term ratios and the walk stops once the rest cannot reach 1e-17 of the
// sum, so counts in the hundreds of thousands cost only the terms that matter and
// nothing overflows or underflows. Boundaries of "no more likely than observed" runs
// are binary searches over the unimodal pmf.

export type LogPmf = (i: number) => number;

/**
 * log of sum over i from `start` to `end` (inclusive, either direction) of exp(logPmf(i)),
 * for a log-concave pmf whose terms do not increase along the walk (walking away from the
 * mode). Only the first term is evaluated in log space (`logFirst` = logPmf(start)); the
 * rest follow by the term ratio `ratio(i)` = pmf(i + step) / pmf(i), a few flops each.
 * The walk stops once the remainder is provably below 1e-17 of the sum: by
 * log-concavity the later ratios are no larger than the current one r < 1, so the rest
 * is at most term * r / (1 - r). -Infinity for an empty range or a zero first term.
 */
export function logSumRun(
  logFirst: number,
  start: number,
  end: number,
  ratio: (i: number) => number,
): number {
  if (logFirst === -Infinity) return -Infinity;
  const step = end >= start ? 1 : -1;
  let sum = 1;
  let term = 1;
  for (let i = start; i !== end; i += step) {
    const r = ratio(i);
    term *= r;
    sum += term;
    if (r < 1 && term * r <= 1e-17 * (1 - r) * sum) break;
  }
  return logFirst + Math.log(sum);
}

/** The index of the largest term in [lo, hi], climbing from `guess` (unimodal pmf). */
export function findMode(logPmf: LogPmf, lo: number, hi: number, guess: number): number {
  let i = Math.min(hi, Math.max(lo, Math.round(guess)));
  while (i < hi && logPmf(i + 1) > logPmf(i)) i++;
  while (i > lo && logPmf(i - 1) > logPmf(i)) i--;
  return i;
}

/** Largest i in [lo, hi] with logPmf(i) <= threshold, where logPmf is non-decreasing on
 * [lo, hi]; lo - 1 when there is none. Binary search. */
export function lastAtOrBelow(logPmf: LogPmf, lo: number, hi: number, threshold: number): number {
  if (hi < lo || logPmf(lo) > threshold) return lo - 1;
  let good = lo;
  let bad = hi + 1;
  while (bad - good > 1) {
    const mid = Math.floor((good + bad) / 2);
    if (logPmf(mid) <= threshold) good = mid;
    else bad = mid;
  }
  return good;
}

/** Smallest i in [lo, hi] with logPmf(i) <= threshold, where logPmf is non-increasing on
 * [lo, hi]; hi + 1 when there is none. */
export function firstAtOrBelow(logPmf: LogPmf, lo: number, hi: number, threshold: number): number {
  if (hi < lo || logPmf(hi) > threshold) return hi + 1;
  let bad = lo - 1;
  let good = hi;
  while (good - bad > 1) {
    const mid = Math.floor((good + bad) / 2);
    if (logPmf(mid) <= threshold) good = mid;
    else bad = mid;
  }
  return good;
}

/** R's tolerance for "as or less likely than observed" in binom.test and fisher.test:
 * d <= d_obs * (1 + 1e-7), i.e. log d <= log d_obs + log1p(1e-7). */
export const LOG_RELATIVE_ERROR = Math.log1p(1e-7);
