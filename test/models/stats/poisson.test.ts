import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { moverRateDifference, poissonExactInterval, poissonRateRatio } from '../../../models/stats/poisson.ts';

describe('poissonExactInterval', () => {
  it('hand checks: x = 0 and x = 1 have closed forms', () => {
    // x = 0: high = qchisq(0.975, 2) / 2 / T = -log(0.025) / T
    const zero = poissonExactInterval(0, 10);
    expect(zero).toEqual({ rate: 0, low: 0, high: expect.closeTo(-Math.log(0.025) / 10, 14) });
    // x = 1: low = qchisq(0.025, 2) / 2 / T = -log(0.975) / T
    expect(poissonExactInterval(1, 2.5)?.low).toBeCloseTo(-Math.log(0.975) / 2.5, 14);
  });

  it('is null when time <= 0', () => {
    expect(poissonExactInterval(3, 0)).toBeNull();
    expect(poissonExactInterval(3, -1)).toBeNull();
  });

  it('property: low <= rate <= high, and the interval scales with 1/time', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200_000 }), fc.double({ min: 0.01, max: 1e7, noNaN: true }), (x, t) => {
        const r = poissonExactInterval(x, t);
        if (r === null) return false;
        const unit = poissonExactInterval(x, 1) as { low: number; high: number };
        return (
          0 <= r.low &&
          r.low <= r.rate &&
          r.rate < r.high &&
          Math.abs(r.high - unit.high / t) <= 1e-12 * r.high &&
          Math.abs(r.low - unit.low / t) <= 1e-12 * r.high
        );
      }),
    );
  });
});

describe('poissonRateRatio (R two-sample poisson.test)', () => {
  it('hand check: 0 vs 5 events (see the comment in poisson.ts) gives p = 0.06762', () => {
    const r = poissonRateRatio(0, 50, 5, 60);
    expect(r?.p).toBeCloseTo((6 / 11) ** 5 + (5 / 11) ** 5, 14);
    expect(r?.ratio).toBe(0);
    expect(r?.low).toBe(0);
  });

  it('matches a 50-digit evaluation of binom.test at larger counts', () => {
    // p from mpmath (dps = 50) applying binom.test's rule to 400 of 880, p0 = 10000/20500;
    // interval from scipy's beta quantiles mapped by p/(1-p) * t2/t1
    const r = poissonRateRatio(400, 10000, 480, 10500);
    expect(r?.ratio).toBeCloseTo(0.875, 14);
    expect(Math.abs((r?.p as number) / 0.05045882871129419 - 1)).toBeLessThan(1e-9);
    expect(Math.abs((r?.low as number) / 0.7643438708986926 - 1)).toBeLessThan(1e-12);
    expect(Math.abs((r?.high as number) / 1.001253196820007 - 1)).toBeLessThan(1e-12);
  });

  it('null without events; Infinity ratio when the reference has none (R gives Inf)', () => {
    expect(poissonRateRatio(0, 10, 0, 10)).toBeNull();
    const r = poissonRateRatio(4, 10, 0, 10);
    expect(r?.ratio).toBe(Infinity);
    expect(r?.high).toBe(Infinity);
    expect(r?.low).toBeGreaterThan(0);
  });

  it('property: the interval contains the ratio and p is in [0, 1] (0 only by underflow)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 1, max: 5000 }),
        fc.double({ min: 1, max: 1e6, noNaN: true }),
        fc.double({ min: 1, max: 1e6, noNaN: true }),
        (e1, e2, t1, t2) => {
          const r = poissonRateRatio(e1, t1, e2, t2);
          return r !== null && r.low <= r.ratio * (1 + 1e-12) && r.ratio <= r.high * (1 + 1e-12) && r.p >= 0 && r.p <= 1;
        },
      ),
    );
  });
});

describe('moverRateDifference', () => {
  it('hand check from the two exact intervals', () => {
    // 0 events in 50 vs 5 in 60: r1 = 0, u1 = -log(0.025)/50 = 0.073778; r2 = 0.083333,
    // l2 = qgamma(0.025, 5)/60; high = d + sqrt(u1^2 + (r2 - l2)^2)
    const a = poissonExactInterval(0, 50) as { rate: number; low: number; high: number };
    const b = poissonExactInterval(5, 60) as { rate: number; low: number; high: number };
    const r = moverRateDifference(0, 50, 5, 60);
    expect(r?.difference).toBeCloseTo(-5 / 60, 15);
    expect(r?.high).toBeCloseTo(-5 / 60 + Math.sqrt(a.high ** 2 + (b.rate - b.low) ** 2), 15);
    expect(r?.low).toBeCloseTo(-5 / 60 - Math.sqrt(0 + (b.high - b.rate) ** 2), 15);
    expect(moverRateDifference(1, 0, 1, 1)).toBeNull();
  });

  it('property: contains the difference', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.double({ min: 1, max: 1e6, noNaN: true }),
        fc.double({ min: 1, max: 1e6, noNaN: true }),
        (e1, e2, t1, t2) => {
          const r = moverRateDifference(e1, t1, e2, t2);
          return r !== null && r.low < r.difference && r.difference < r.high;
        },
      ),
    );
  });
});
