// Test-only references: the term-by-term implementations that binomialTestP and
// fisherExactP replaced (each term from lgamma, tails walked until terms fall below e^-800
// of the largest), kept verbatim so the fast paths can be checked against them.
import { binomialLogPmf, hypergeometricLogPmf, logAddExp } from '../../../models/stats/distributions.ts';
import {
  LOG_RELATIVE_ERROR,
  findMode,
  firstAtOrBelow,
  lastAtOrBelow,
  type LogPmf,
} from '../../../models/stats/exactTails.ts';

/** log of sum over i from `start` to `end` (inclusive, either direction) of exp(logPmf(i)),
 * for terms that do not increase along the walk. -Infinity for an empty range. */
export function slowLogSumTail(logPmf: LogPmf, start: number, end: number): number {
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

export function slowBinomialTestP(x: number, n: number, p: number): number {
  if (p === 0) return x === 0 ? 1 : 0;
  if (p === 1) return x === n ? 1 : 0;
  const m = n * p;
  if (x === m) return 1;
  const logPmf = (i: number) => binomialLogPmf(i, n, p);
  const threshold = logPmf(x) + LOG_RELATIVE_ERROR;
  let logP: number;
  if (x < m) {
    const b = firstAtOrBelow(logPmf, Math.ceil(m), n, threshold);
    logP = logAddExp(slowLogSumTail(logPmf, x, 0), b <= n ? slowLogSumTail(logPmf, b, n) : -Infinity);
  } else {
    const a = lastAtOrBelow(logPmf, 0, Math.floor(m), threshold);
    logP = logAddExp(slowLogSumTail(logPmf, x, n), a >= 0 ? slowLogSumTail(logPmf, a, 0) : -Infinity);
  }
  return Math.min(1, Math.exp(logP));
}

export function slowFisherExactP(x1: number, n1: number, x2: number, n2: number): number {
  const successes = x1 + x2;
  const failures = n1 + n2 - successes;
  const lo = Math.max(0, n1 - failures);
  const hi = Math.min(n1, successes);
  if (hi <= lo) return 1;
  const logPmf = (i: number) => hypergeometricLogPmf(i, successes, failures, n1);
  const mode = findMode(logPmf, lo, hi, ((n1 + 1) * (successes + 1)) / (n1 + n2 + 2));
  const threshold = logPmf(x1) + LOG_RELATIVE_ERROR;
  const a = lastAtOrBelow(logPmf, lo, mode, threshold);
  const b = firstAtOrBelow(logPmf, mode + 1, hi, threshold);
  const logSelected = logAddExp(
    a >= lo ? slowLogSumTail(logPmf, a, lo) : -Infinity,
    b <= hi ? slowLogSumTail(logPmf, b, hi) : -Infinity,
  );
  const logTotal = logAddExp(
    slowLogSumTail(logPmf, mode, lo),
    mode < hi ? slowLogSumTail(logPmf, mode + 1, hi) : -Infinity,
  );
  return Math.min(1, Math.exp(logSelected - logTotal));
}
