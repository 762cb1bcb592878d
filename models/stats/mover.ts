/**
 * MOVER (method of variance estimates recovery; Newcombe 1998, Zou & Donner 2008): the
 * interval of a difference e1 - e2 from each estimate's own interval (l, u):
 * low = d - sqrt((e1 - l1)^2 + (u2 - e2)^2), high = d + sqrt((u1 - e1)^2 + (e2 - l2)^2).
 * Shared by the Newcombe proportion difference (Wilson intervals) and the rate difference
 * (exact Poisson intervals).
 */
export interface Estimate {
  estimate: number;
  low: number;
  high: number;
}

export function moverDifference(a: Estimate, b: Estimate): { difference: number; low: number; high: number } {
  const difference = a.estimate - b.estimate;
  return {
    difference,
    low: difference - Math.hypot(a.estimate - a.low, b.high - b.estimate),
    high: difference + Math.hypot(a.high - a.estimate, b.estimate - b.low),
  };
}
