// Kaplan-Meier survival curve with log-log (Greenwood) pointwise bands, and its median
// with the Brookmeyer-Crowley interval, matching R's survival::survfit(conf.type =
// "log-log") and quantile.survfit. Durations with open cases need this: a plain median
// of the finished cases would be biased towards short durations.
import { normalQuantile } from './distributions.ts';

/** Cases ending at `time`: `events` finished, `censored` still open (censored there). */
export interface SurvivalRow {
  time: number;
  events: number;
  censored: number;
}

export interface KaplanMeierPoint {
  time: number;
  atRisk: number;
  events: number;
  censored: number;
  survival: number;
  /** null where R gives NA: survival exactly 1 (no event yet) or 0 */
  lower: number | null;
  upper: number | null;
}

/** R's quantile.survfit tolerance, sqrt(.Machine$double.eps): survival within this of 0.5
 * counts as exactly 0.5 (products like 1/2 * 2/3 * 3/2... are not exact in floating point). */
const TOLERANCE = Math.sqrt(2.220446049250313e-16);

/**
 * The curve at every distinct time (event or censoring), as survfit. Rows sharing a time
 * are added together; input order does not matter. At a time with both events and
 * censoring the events come first: the censored cases are still at risk then.
 *
 * Bands (survfit's log-log): with se = sqrt(sum d / (n (n - d))) (Greenwood, the se of
 * log S) and c = z * se / log S, lower = S^exp(-c), upper = S^exp(c).
 * Hand check: 6-MP arm, first event time 6: n = 21, d = 3, S = 18/21 = 0.857143,
 * se = sqrt(3 / (21 * 18)) = 0.089087, c = 1.959964 * 0.089087 / log(0.857143) = -1.132747,
 * lower = 0.857143^exp(1.132747) = 0.620; upper = 0.857143^exp(-1.132747) = 0.952.
 */
export function kaplanMeierCurve(rows: SurvivalRow[], level = 0.95): KaplanMeierPoint[] {
  const byTime = new Map<number, { events: number; censored: number }>();
  let cases = 0;
  for (const row of rows) {
    if (!(row.events + row.censored > 0)) continue;
    const entry = byTime.get(row.time) ?? { events: 0, censored: 0 };
    entry.events += row.events;
    entry.censored += row.censored;
    byTime.set(row.time, entry);
    cases += row.events + row.censored;
  }
  const times = [...byTime.keys()].sort((a, b) => a - b);
  const z = normalQuantile(1 - (1 - level) / 2);
  const curve: KaplanMeierPoint[] = [];
  let atRisk = cases;
  let survival = 1;
  let greenwood = 0;
  for (const time of times) {
    const { events, censored } = byTime.get(time) as { events: number; censored: number };
    if (events > 0) {
      survival *= (atRisk - events) / atRisk;
      // Infinity when everyone at risk has the event; S is then 0 and has no band
      greenwood += events / (atRisk * (atRisk - events));
    }
    const band = logLogBand(survival, Math.sqrt(greenwood), z);
    curve.push({ time, atRisk, events, censored, survival, lower: band.lower, upper: band.upper });
    atRisk -= events + censored;
  }
  return curve;
}

function logLogBand(survival: number, se: number, z: number): { lower: number | null; upper: number | null } {
  if (survival <= 0 || survival >= 1) return { lower: null, upper: null };
  const logS = Math.log(survival);
  const c = (z * se) / logS; // negative
  const logMinusLogS = Math.log(-logS);
  return {
    lower: Math.exp(-Math.exp(logMinusLogS - c)),
    upper: Math.exp(-Math.exp(logMinusLogS + c)),
  };
}

/**
 * Median duration and its interval, with R's rules (quantile.survfit):
 * median = first time the curve is <= 0.5; where it is exactly 0.5 (within 1.5e-8) over a
 * stretch, the midpoint of that stretch's start and the next event time (or the last
 * follow-up time when the curve ends at 0.5). Interval: the same rule applied to the
 * lower and upper bands (Brookmeyer-Crowley); null where a curve never reaches 0.5.
 * Hand check: times 2, 4, 6, 8 (no censoring): S = 0.75, 0.5, 0.25, 0; S is exactly 0.5
 * from 4 to 6, so the median is 5.
 */
export function kaplanMeierMedian(
  rows: SurvivalRow[],
  level = 0.95,
): { median: number | null; low: number | null; high: number | null; events: number; cases: number } {
  const curve = kaplanMeierCurve(rows, level);
  let events = 0;
  let cases = 0;
  for (const point of curve) {
    events += point.events;
    cases += point.events + point.censored;
  }
  // survfit's quantiles work on the distribution 1 - S, starting at (0, 0)
  const x = [0, ...curve.map((p) => p.time)];
  const cdf = (s: number | null) => (s === null ? null : 1 - s);
  return {
    median: findQuantile(x, [0, ...curve.map((p) => cdf(p.survival))], 0.5),
    // the lower survival band crosses 0.5 first, so it gives the lower time limit
    low: findQuantile(x, [0, ...curve.map((p) => cdf(p.lower))], 0.5),
    high: findQuantile(x, [0, ...curve.map((p) => cdf(p.upper))], 0.5),
    events,
    cases,
  };
}

/**
 * A port of survival's internal findq(x, y, p, tol): where a horizontal line at p meets
 * the step function y(x) (y = 1 - S, null = NA), using the midpoint rule for flats at p.
 */
function findQuantile(x: number[], y: Array<number | null>, p: number): number | null {
  const present = y.filter((v): v is number => v !== null);
  if (present.length === 0 || present.reduce((m, v) => Math.max(m, v), -Infinity) < p) return null;
  const xmax = x[x.length - 1] as number;
  // drop repeated y values (censoring times; NA repeats NA), keeping the first
  const seen = new Set<number | null>();
  const xs: number[] = [];
  const ys: Array<number | null> = [];
  y.forEach((v, i) => {
    if (seen.has(v)) return;
    seen.add(v);
    xs.push(x[i] as number);
    ys.push(v);
  });
  const index1 = stepIndex(ys.map((v) => (v === null ? null : v + TOLERANCE)), p);
  const index2 = stepIndex(ys.map((v) => (v === null ? null : v - TOLERANCE)), p);
  let quantile = index1 === null || index2 === null ? null : ((xs[index1] as number) + (xs[index2] as number)) / 2;
  if (p === 0) quantile = xs[0] as number;
  const last = ys[ys.length - 1];
  if (last !== null && last !== undefined && Math.abs(p - last) < TOLERANCE) {
    // the curve ends flat at p: midpoint of where it got there and the last follow-up
    quantile = index1 === null ? null : ((xs[index1] as number) + xmax) / 2;
  }
  return quantile;
}

/**
 * R's approx(knots, 0:(n-1), v, method = "constant", f = 1)$y with its defaults
 * (rule = 1: null outside the knots; NA knots dropped; knots sorted, tied knots give the
 * mean index): the index of the first knot >= v, for increasing knots.
 */
function stepIndex(knots: Array<number | null>, v: number): number | null {
  const pairs = knots
    .map((k, i) => ({ k, i }))
    .filter((pair): pair is { k: number; i: number } => pair.k !== null)
    .sort((a, b) => a.k - b.k);
  const kx: number[] = [];
  const ky: number[] = [];
  for (let s = 0; s < pairs.length; ) {
    let e = s;
    let sum = 0;
    while (e < pairs.length && (pairs[e] as { k: number }).k === (pairs[s] as { k: number }).k) {
      sum += (pairs[e] as { i: number }).i;
      e++;
    }
    kx.push((pairs[s] as { k: number }).k);
    ky.push(sum / (e - s));
    s = e;
  }
  const n = kx.length;
  if (n === 0 || v < (kx[0] as number) || v > (kx[n - 1] as number)) return null;
  let i = 0;
  let j = n - 1;
  while (i < j - 1) {
    const mid = Math.floor((i + j) / 2);
    if (v < (kx[mid] as number)) j = mid;
    else i = mid;
  }
  const index = v === kx[j] ? ky[j] : v === kx[i] ? ky[i] : ky[j];
  // R subsets with a fractional (tie-averaged) index by truncation
  return Math.floor(index as number);
}
