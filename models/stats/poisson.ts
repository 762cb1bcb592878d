// Rates per unit of person-time: R's poisson.test (one and two samples) and the MOVER
// difference of two rates. Rates are per one unit of `time`; callers scale (e.g. x1000).
import { gammaQuantile } from './distributions.ts';
import { binomialTestP, clopperPearsonInterval } from './binomialTest.ts';
import { moverDifference } from './mover.ts';

/**
 * Exact (Garwood) interval for a Poisson rate, as poisson.test(events, time):
 * low = qgamma(a/2, x) / T (0 when x = 0), high = qgamma(1 - a/2, x + 1) / T,
 * i.e. qchisq(a/2, 2x)/2/T and qchisq(1 - a/2, 2x + 2)/2/T. null when time <= 0.
 * Hand check: x = 0, T = 10: high = -log(0.025) / 10 = 0.368888.
 */
export function poissonExactInterval(
  events: number,
  time: number,
  level = 0.95,
): { rate: number; low: number; high: number } | null {
  if (!(time > 0) || !(events >= 0) || !Number.isFinite(events)) return null;
  const alpha = (1 - level) / 2;
  const low = events === 0 ? 0 : gammaQuantile(alpha, events) / time;
  const high = gammaQuantile(1 - alpha, events + 1) / time;
  return { rate: events / time, low, high };
}

/**
 * Ratio of two Poisson rates (e1/t1) / (e2/t2), as R's poisson.test(c(e1, e2), c(t1, t2)):
 * given e1 + e2 events, e1 is Binomial(e1 + e2, t1 / (t1 + t2)) under equal rates, so the
 * p-value is binom.test's and the interval is the Clopper-Pearson interval (pL, pU) mapped
 * by p / (1 - p) * t2 / t1. null when e1 + e2 = 0 (or a time is not positive).
 * When e2 = 0 the ratio and upper limit are Infinity, as R reports Inf.
 * Hand check: e = (0, 5), t = (50, 60): p0 = 50/110 = 5/11, n = 5, mean n*p0 = 2.27.
 * Observed tail P(X <= 0) = (6/11)^5 = 0.04826; upper outcomes no more likely than that:
 * P(5) = (5/11)^5 = 0.01936 (P(4) = 0.1164 is more likely), so p = 0.06762.
 */
export function poissonRateRatio(
  e1: number,
  t1: number,
  e2: number,
  t2: number,
  level = 0.95,
): { ratio: number; low: number; high: number; p: number } | null {
  const n = e1 + e2;
  if (!(n > 0) || !(t1 > 0) || !(t2 > 0) || e1 < 0 || e2 < 0) return null;
  const p0 = t1 / (t1 + t2);
  const ci = clopperPearsonInterval(e1, n, level);
  if (ci === null) return null;
  const toRatio = (p: number) => (p >= 1 ? Infinity : (p / (1 - p)) * (t2 / t1));
  return {
    ratio: e2 === 0 ? Infinity : e1 / t1 / (e2 / t2),
    low: toRatio(ci.low),
    high: toRatio(ci.high),
    p: binomialTestP(e1, n, p0),
  };
}

/**
 * Difference of two rates r1 - r2 with the MOVER interval (Newcombe; Zou & Donner 2008)
 * built from the two exact Poisson intervals (l, u):
 * low = d - sqrt((r1 - l1)^2 + (u2 - r2)^2), high = d + sqrt((u1 - r1)^2 + (r2 - l2)^2).
 * Unlike a Wald interval it respects the skewness of each rate's interval (it stays
 * sensible at zero events). null when a time is not positive.
 */
export function moverRateDifference(
  e1: number,
  t1: number,
  e2: number,
  t2: number,
  level = 0.95,
): { difference: number; low: number; high: number } | null {
  const a = poissonExactInterval(e1, t1, level);
  const b = poissonExactInterval(e2, t2, level);
  if (a === null || b === null) return null;
  return moverDifference({ estimate: a.rate, low: a.low, high: a.high }, { estimate: b.rate, low: b.low, high: b.high });
}
