// Statistical process control for proportions and rates over time: Laney's p' and u'
// charts (Laney 2002, Quality Engineering 14:531-537; Mohammed, Panesar, Laney and Wilson
// 2013, BMJ Quality & Safety 22:362-368). A p or u chart assumes binomial or Poisson
// variation only, so with large denominators its limits are too narrow and nearly every
// point "signals"; Laney's sigma_z widens (or narrows) them by the month-to-month
// variation actually seen.

export interface SpcInput {
  /** events (numerator) and units (denominator) of one period */
  x: number;
  n: number;
}

export interface SpcPoint {
  value: number;
  /** 3-sigma limits; lower floored at 0, upper capped at 1 for proportions */
  lower: number;
  upper: number;
  beyondLimits: boolean;
  /** part of a run of `runLength` or more consecutive points on one side of the centre line */
  inRun: boolean;
}

export interface SpcChart {
  kind: 'p' | 'u';
  centre: number;
  /** Laney's between-period dispersion factor (1 = no over- or under-dispersion) */
  sigmaZ: number;
  points: SpcPoint[];
}

/** d2 for moving ranges of two points: mean |x_i - x_{i-1}| / d2 estimates sigma. */
const D2 = 1.128;
/** Shewhart limits at 3 sigma. */
const K = 3;
/** NHS "Making Data Count" uses 7; closeloop uses 8 (Western Electric / Nelson rule 2). */
export const RUN_LENGTH = 8;

/**
 * A Laney p' (proportions) or u' (rates) chart. Centre = sum x / sum n; per period the
 * binomial or Poisson sigma_i = sqrt(c (1 - c) / n_i) or sqrt(c / n_i); z_i = (y_i - c) /
 * sigma_i; sigma_z = mean |z_i - z_{i-1}| / 1.128; limits c +/- 3 sigma_z sigma_i. Values
 * and limits are per unit (multiply by 1000 for "per 1,000"). Needs two periods or more
 * with n > 0; null otherwise.
 */
export function laneyChart(kind: 'p' | 'u', data: readonly SpcInput[], runLength = RUN_LENGTH): SpcChart | null {
  if (data.length < 2 || data.some((d) => !(d.n > 0) || !(d.x >= 0))) return null;
  const total = data.reduce((s, d) => s + d.x, 0);
  const units = data.reduce((s, d) => s + d.n, 0);
  const c = total / units;
  const sigma = data.map((d) => Math.sqrt(kind === 'p' ? (c * (1 - c)) / d.n : c / d.n));
  const values = data.map((d) => d.x / d.n);
  // every period equal to the centre with zero binomial spread (c = 0 or 1): no variation at all
  const z = values.map((y, i) => ((sigma[i] as number) > 0 ? (y - c) / (sigma[i] as number) : 0));
  let mr = 0;
  for (let i = 1; i < z.length; i++) mr += Math.abs((z[i] as number) - (z[i - 1] as number));
  const sigmaZ = mr / (z.length - 1) / D2;
  const points: SpcPoint[] = values.map((value, i) => {
    const half = K * sigmaZ * (sigma[i] as number);
    const lower = Math.max(0, c - half);
    const upper = kind === 'p' ? Math.min(1, c + half) : c + half;
    return { value, lower, upper, beyondLimits: value > upper || value < lower, inRun: false };
  });
  markRuns(points, c, runLength);
  return { kind, centre: c, sigmaZ, points };
}

/** Marks every point of a run of `length` or more on one side of the centre (a point on it ends a run). */
export function markRuns(points: Array<{ value: number; inRun: boolean }>, centre: number, length = RUN_LENGTH): void {
  let start = 0;
  let side = 0;
  const close = (end: number) => {
    if (side !== 0 && end - start >= length) for (let j = start; j < end; j++) (points[j] as { inRun: boolean }).inRun = true;
  };
  points.forEach((p, i) => {
    const s = Math.sign(p.value - centre);
    if (s !== side || s === 0) {
      close(i);
      start = i;
      side = s;
    }
  });
  close(points.length);
}
