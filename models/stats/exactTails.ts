// Sums of tails of unimodal discrete distributions (binomial, hypergeometric) in log
// space. R's exact tests add up probabilities of whole tails; here a tail is walked
// from its largest term outwards and the walk stops once terms fall below e^-800 of
// that largest term (they cannot change a double), so counts in the hundreds of
// thousands cost only the terms that matter and nothing overflows or underflows.

export type LogPmf = (i: number) => number;

/** log of sum over i from `start` to `end` (inclusive, either direction) of exp(logPmf(i)),
 * for terms that do not increase along the walk. -Infinity for an empty range. */
export function logSumTail(logPmf: LogPmf, start: number, end: number): number {
  const step = end >= start ? 1 : -1;
  const first = logPmf(start);
  if (first === -Infinity) return -Infinity;
  let sum = 0;
  for (let i = start; step > 0 ? i <= end : i >= end; i += step) {
    const term = logPmf(i);
    if (term < first - 800) break;
    sum += Math.exp(term - first);
  }
  return first + Math.log(sum);
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
