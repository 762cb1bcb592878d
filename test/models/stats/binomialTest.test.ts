import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { binomialTestP, clopperPearsonInterval } from '../../../models/stats/binomialTest.ts';

describe('clopperPearsonInterval', () => {
  it('hand checks: 0/10 and 10/10 have closed forms', () => {
    // x = 0: upper solves (1 - u)^n = a/2 -> u = 1 - 0.025^(1/10) = 0.30850
    const zero = clopperPearsonInterval(0, 10);
    expect(zero?.low).toBe(0);
    expect(zero?.high).toBeCloseTo(1 - 0.025 ** (1 / 10), 14);
    const all = clopperPearsonInterval(10, 10);
    expect(all?.high).toBe(1);
    expect(all?.low).toBeCloseTo(0.025 ** (1 / 10), 14);
    expect(clopperPearsonInterval(0, 0)).toBeNull();
  });

  it('property: contains x/n', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000 }).chain((n) => fc.tuple(fc.integer({ min: 0, max: n }), fc.constant(n))),
        ([x, n]) => {
          const ci = clopperPearsonInterval(x, n);
          return ci !== null && 0 <= ci.low && ci.low <= x / n && x / n <= ci.high && ci.high <= 1;
        },
      ),
    );
  });
});

describe('binomialTestP (R binom.test, two-sided)', () => {
  it('hand checks', () => {
    // 0 of 5 at p = 1/2: P(0) + P(5) = 2/32
    expect(binomialTestP(0, 5, 0.5)).toBeCloseTo(0.0625, 15);
    // 1 of 5 at 1/2: P(0) + P(1) + P(4) + P(5) = 12/32
    expect(binomialTestP(1, 5, 0.5)).toBeCloseTo(12 / 32, 13);
    // observed at the mean: exactly 1
    expect(binomialTestP(5, 10, 0.5)).toBe(1);
    expect(binomialTestP(0, 10, 0)).toBe(1);
    expect(binomialTestP(1, 10, 0)).toBe(0);
  });

  it('property: in (0, 1] and the same for x and n - x when p = 1/2', () => {
    // (n <= 1000 keeps 2^-n above the smallest double)
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }).chain((n) => fc.tuple(fc.integer({ min: 0, max: n }), fc.constant(n))),
        ([x, n]) => {
          const p = binomialTestP(x, n, 0.5);
          return p > 0 && p <= 1 && Math.abs(p - binomialTestP(n - x, n, 0.5)) <= 1e-12 * p;
        },
      ),
    );
  });
});
