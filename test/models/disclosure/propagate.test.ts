// Bound propagation (models/disclosure/attacker/propagate.ts), used for the big-M of the
// export audit's disjunctions: a bound it gives must hold for every solution (a bound too
// tight would let the relaxed row cut off a table the attacker must consider).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { propagateBounds } from '../../../models/disclosure/attacker/propagate.ts';

const eq = (vars: number[], coefs: number[], rhs: number) => ({ vars, coefs, rhs });
const near = (a: ArrayLike<number>, b: number[]) => Array.from(a).forEach((x, i) => expect(x).toBeCloseTo(b[i]!, 6));

describe('bound propagation', () => {
  it('bounds the parts of a shown total by the total, and a difference by the other part (worked by hand)', () => {
    // x + y = 10, x - z = 2, z <= 5, all >= 0: x <= 7 (z <= 5), x >= 2 (z >= 0), so y in 3..8, z <= 5
    const { lower, upper } = propagateBounds([eq([0, 1], [1, 1], 10), eq([0, 2], [1, -1], 2)], [0, 0, 0], [Infinity, Infinity, 5]);
    near(upper, [7, 8, 5]);
    near(lower, [2, 3, 0]);
  });

  it('leaves a variable no equation bounds at its own bounds', () => {
    // x - y = 0 with both unbounded above: nothing tightens
    const { lower, upper } = propagateBounds([eq([0, 1], [1, -1], 0)], [0, 0], [Infinity, Infinity]);
    expect(Array.from(upper)).toEqual([Infinity, Infinity]);
    expect(Array.from(lower)).toEqual([0, 0]);
  });

  it('never cuts off a solution: every whole-number solution of random small systems lies within the bounds (enumerated)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 2, max: 4 }).chain((n) => fc.record({
        n: fc.constant(n),
        truth: fc.array(fc.integer({ min: 0, max: 6 }), { minLength: n, maxLength: n }),
        rows: fc.array(fc.array(fc.integer({ min: -2, max: 2 }), { minLength: n, maxLength: n }), { minLength: 1, maxLength: 3 }),
        caps: fc.array(fc.option(fc.integer({ min: 6, max: 8 }), { nil: undefined }), { minLength: n, maxLength: n }),
      })),
      ({ n, truth, rows, caps }) => {
        const eqs = rows.map((c) => eq(c.map((_, i) => i), c, c.reduce((s, a, i) => s + a * truth[i]!, 0)));
        const upperIn = caps.map((c) => c ?? Infinity);
        const { lower, upper } = propagateBounds(eqs, new Array(n).fill(0), upperIn);
        // every point of 0..8 in each coordinate (within the caps) solving every row
        const point = new Array(n).fill(0);
        const walk = (i: number) => {
          if (i === n) {
            if (eqs.every((e) => e.coefs.reduce((s, a, k) => s + a * point[k], 0) === e.rhs)) {
              point.forEach((x, k) => {
                expect(x).toBeGreaterThanOrEqual(lower[k]! - 1e-9);
                expect(x).toBeLessThanOrEqual(upper[k]! + 1e-9);
              });
            }
            return;
          }
          for (let x = 0; x <= Math.min(8, upperIn[i]!); x++) {
            point[i] = x;
            walk(i + 1);
          }
        };
        walk(0);
      },
    ), { numRuns: 300, seed: 14 });
  });
});
