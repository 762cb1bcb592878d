// Bounds every solution of a system of equations keeps, by propagation (as a MIP solver's
// presolve tightens bounds): each equation sum c_j x_j = rhs bounds each of its variables
// by the others' bounds, pass after pass until nothing tightens. Valid for every solution of
// the LP relaxation, so for every whole-number one too; often looser than an LP optimum but
// a pass over the equations instead of an LP per question (ranges.ts, switchBounds).
import type { SparseEquation } from './nullspace.ts';

/** Relative slack added to every tightened bound, so that rounding never cuts off a solution. */
const SLACK = 1e-9;

export function propagateBounds(eqs: readonly SparseEquation[], lower: ArrayLike<number>, upper: ArrayLike<number>, maxPasses = 20): { lower: Float64Array; upper: Float64Array } {
  const lo = Float64Array.from(lower);
  const hi = Float64Array.from(upper);
  for (let pass = 0; pass < maxPasses; pass++) {
    let tightened = false;
    for (const e of eqs) {
      // the sum's least and greatest value over the bounds, counting infinite terms apart
      let least = 0;
      let most = 0;
      let leastInf = 0;
      let mostInf = 0;
      const n = e.vars.length;
      for (let j = 0; j < n; j++) {
        const a = e.coefs[j] as number;
        const v = e.vars[j] as number;
        const l = a > 0 ? a * (lo[v] as number) : a * (hi[v] as number);
        const u = a > 0 ? a * (hi[v] as number) : a * (lo[v] as number);
        if (Number.isFinite(l)) least += l;
        else leastInf++;
        if (Number.isFinite(u)) most += u;
        else mostInf++;
      }
      for (let j = 0; j < n; j++) {
        const a = e.coefs[j] as number;
        if (a === 0) continue;
        const v = e.vars[j] as number;
        const l = a > 0 ? a * (lo[v] as number) : a * (hi[v] as number);
        const u = a > 0 ? a * (hi[v] as number) : a * (lo[v] as number);
        // the other terms' least and greatest sum
        const othersLeast = leastInf - (Number.isFinite(l) ? 0 : 1) > 0 ? -Infinity : least - (Number.isFinite(l) ? l : 0);
        const othersMost = mostInf - (Number.isFinite(u) ? 0 : 1) > 0 ? Infinity : most - (Number.isFinite(u) ? u : 0);
        // a x_v = rhs - others
        const fromLeast = (e.rhs - othersLeast) / a;
        const fromMost = (e.rhs - othersMost) / a;
        const newHi = a > 0 ? fromLeast : fromMost;
        const newLo = a > 0 ? fromMost : fromLeast;
        // rounding in the sums grows with their size, not only with the bound's
        const pad = (x: number) => SLACK * Math.max(1, Math.abs(x), Number.isFinite(least) ? Math.abs(least) : 0, Number.isFinite(most) ? Math.abs(most) : 0);
        if (Number.isFinite(newHi) && newHi + pad(newHi) < (hi[v] as number) - 1e-7) {
          hi[v] = newHi + pad(newHi);
          tightened = true;
        }
        if (Number.isFinite(newLo) && newLo - pad(newLo) > (lo[v] as number) + 1e-7) {
          lo[v] = newLo - pad(newLo);
          tightened = true;
        }
      }
    }
    if (!tightened) break;
  }
  return { lower: lo, upper: hi };
}
