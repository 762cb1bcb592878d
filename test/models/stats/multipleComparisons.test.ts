import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { benjaminiHochberg } from '../../../models/stats/multipleComparisons.ts';

describe('benjaminiHochberg (R p.adjust "BH")', () => {
  it('hand check', () => {
    // sorted 0.01, 0.03, 0.04 (m = 3): 0.03, 0.045, 0.04 -> running min from the top
    // 0.03, 0.04, 0.04 -> input order
    const q = benjaminiHochberg([0.01, 0.04, 0.03]);
    expect(q[0]).toBeCloseTo(0.03, 15);
    expect(q[1]).toBeCloseTo(0.04, 15);
    expect(q[2]).toBeCloseTo(0.04, 15);
  });

  it('keeps nulls in place and does not count them in m', () => {
    const q = benjaminiHochberg([null, 0.01, null, 0.04, 0.03]);
    expect(q[0]).toBeNull();
    expect(q[2]).toBeNull();
    expect(q[1]).toBeCloseTo(0.03, 15);
    expect(q[3]).toBeCloseTo(0.04, 15);
    expect(benjaminiHochberg([])).toEqual([]);
    expect(benjaminiHochberg([null])).toEqual([null]);
  });

  it('caps at 1 and gives ties the same q', () => {
    expect(benjaminiHochberg([0.9, 0.8])).toEqual([0.9, 0.9]);
    const q = benjaminiHochberg([0.02, 0.02, 0.5]);
    expect(q[0]).toBe(q[1]);
    expect(q[0]).toBeCloseTo(0.03, 15);
    expect(benjaminiHochberg([1, 1])).toEqual([1, 1]);
  });

  it('property: q >= p, q <= 1, and q is monotone in p', () => {
    const p = fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constant(null));
    fc.assert(
      fc.property(fc.array(p, { maxLength: 200 }), (ps) => {
        const q = benjaminiHochberg(ps);
        if (q.length !== ps.length) return false;
        for (let i = 0; i < ps.length; i++) {
          const pi = ps[i];
          const qi = q[i];
          if (pi === null || pi === undefined) {
            if (qi !== null) return false;
            continue;
          }
          if (qi === null || qi === undefined || qi < pi || qi > 1) return false;
          for (let j = 0; j < ps.length; j++) {
            const pj = ps[j];
            const qj = q[j];
            if (pj !== null && pj !== undefined && pi <= pj && !(qi <= (qj as number))) return false;
          }
        }
        return true;
      }),
    );
  });
});
