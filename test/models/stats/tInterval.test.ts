import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tInterval, tIntervalFromMoments } from '../../../models/stats/tInterval.ts';

describe('tInterval', () => {
  it('hand check: -3, -5, 0, -8, -2, -6', () => {
    // mean -4; squared deviations sum to 42, sd = sqrt(8.4), se = 1.183216;
    // qt(0.975, 5) = 2.570582 -> half-width 3.041553
    const r = tInterval([-3, -5, 0, -8, -2, -6]);
    expect(r?.mean).toBe(-4);
    expect(r?.low).toBeCloseTo(-7.041553, 6);
    expect(r?.high).toBeCloseTo(-0.958447, 6);
    expect(r?.n).toBe(6);
  });

  it('null for no values; no bounds for one value; a point interval for constant values', () => {
    expect(tInterval([])).toBeNull();
    expect(tInterval([7])).toEqual({ mean: 7, low: null, high: null, n: 1 });
    expect(tInterval([2, 2, 2])).toEqual({ mean: 2, low: 2, high: 2, n: 3 });
    expect(tIntervalFromMoments(0, 0, 0)).toBeNull();
    expect(tIntervalFromMoments(1, 7, 49)).toEqual({ mean: 7, low: null, high: null, n: 1 });
  });

  it('moments: rounding that makes the variance negative is clamped to 0', () => {
    // three values of 0.1: sumSquares - sum^2/n = 0.03 - 0.09/3 rounds below zero
    const r = tIntervalFromMoments(3, 0.1 + 0.1 + 0.1, 0.1 * 0.1 * 3);
    expect(r?.low).toBeCloseTo(0.1, 12);
    expect(r?.high).toBeCloseTo(0.1, 12);
    expect(Number.isNaN(r?.low)).toBe(false);
  });

  it('property: values and moments give the same interval, containing the mean', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -27, max: 27 }), { minLength: 2, maxLength: 500 }), (values) => {
        const a = tInterval(values);
        const b = tIntervalFromMoments(
          values.length,
          values.reduce((s, v) => s + v, 0),
          values.reduce((s, v) => s + v * v, 0),
        );
        if (a === null || b === null || a.low === null || a.high === null || b.low === null || b.high === null) return false;
        const scale = 1 + Math.abs(a.mean);
        return (
          a.low <= a.mean &&
          a.mean <= a.high &&
          Math.abs(a.low - b.low) <= 1e-9 * scale &&
          Math.abs(a.high - b.high) <= 1e-9 * scale
        );
      }),
    );
  });
});
