import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { wilsonInterval } from '../../../models/stats/wilson.ts';

describe('wilsonInterval', () => {
  it('hand check, Newcombe (1998): 81/263 -> 0.2553 to 0.3662', () => {
    // z = 1.959964, z^2/(2n) = 0.0073030, centre 0.310749, half-width 0.055460
    const ci = wilsonInterval(81, 263);
    expect(ci?.low).toBeCloseTo(0.2553, 4);
    expect(ci?.high).toBeCloseTo(0.3662, 4);
  });

  it('is exact at the edges and null for n = 0', () => {
    expect(wilsonInterval(0, 10)?.low).toBe(0);
    expect(wilsonInterval(10, 10)?.high).toBe(1);
    // x = 0: upper = z^2 / (n + z^2) = 3.8415 / 13.8415 = 0.27753
    expect(wilsonInterval(0, 10)?.high).toBeCloseTo(3.841458820694124 / 13.841458820694124, 14);
    expect(wilsonInterval(0, 0)).toBeNull();
    expect(wilsonInterval(3, 2)).toBeNull();
  });

  it('is symmetric: the interval for n - x mirrors the one for x', () => {
    const a = wilsonInterval(3, 11) as { low: number; high: number };
    const b = wilsonInterval(8, 11) as { low: number; high: number };
    expect(a.low).toBeCloseTo(1 - b.high, 14);
    expect(a.high).toBeCloseTo(1 - b.low, 14);
  });

  it('narrows as the level drops', () => {
    const w95 = wilsonInterval(15, 148) as { low: number; high: number };
    const w90 = wilsonInterval(15, 148, 0.9) as { low: number; high: number };
    expect(w90.low).toBeGreaterThan(w95.low);
    expect(w90.high).toBeLessThan(w95.high);
  });

  it('property: contains x/n and lies in [0, 1]', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }).chain((n) => fc.tuple(fc.integer({ min: 0, max: n }), fc.constant(n))),
        fc.double({ min: 0.5, max: 0.999, noNaN: true }),
        ([x, n], level) => {
          const ci = wilsonInterval(x, n, level);
          if (ci === null) return false;
          const p = x / n;
          return 0 <= ci.low && ci.low <= p && p <= ci.high && ci.high <= 1 && (x > 0 || ci.low === 0) && (x < n || ci.high === 1);
        },
      ),
    );
  });
});
