// The fast paths against the term-by-term implementations they replaced (slowReference.ts)
// and against direct summation / closed forms, on random inputs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { binomialTestP } from '../../../models/stats/binomialTest.ts';
import {
  binomialLogCdf,
  binomialLogPmf,
  binomialLogSf,
  gammaQuantile,
  hypergeometricLogPmf,
  logChoose,
  normalQuantile,
  regularizedGammaP,
  regularizedGammaQ,
  tCdf,
  tQuantile,
} from '../../../models/stats/distributions.ts';
import { fisherExactP } from '../../../models/stats/proportionComparison.ts';
import { slowBinomialTestP, slowFisherExactP } from './slowReference.ts';

const relErr = (a: number, b: number) => (a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b)));
const probability = fc.double({ min: 0.001, max: 0.999, noNaN: true });
/**
 * How far the term-by-term reference itself can be off: each of its terms is
 * exp(lgamma(n + 1) - lgamma(x + 1) - ...), and lgamma(n + 1) ~ n ln n carries a rounding
 * error of about n ln n x 1.1e-16 in the exponent (about 2e-11 at n = 18,518, where a fixed
 * 1e-12 failed on a counterexample: 18,502 of 18,518 at p = 0.999, off by 1.0e-12).
 */
const binomialTolerance = (n: number) => 1e-12 + 1e-15 * n * Math.log(n + 1);
const xn = (maxN: number) =>
  fc.integer({ min: 1, max: maxN }).chain((n) => fc.tuple(fc.integer({ min: 0, max: n }), fc.constant(n)));

describe('binomial pmf and tails', () => {
  it('pmf sums to 1 and tails match direct summation (small n)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), probability, (n, p) => {
        const pmf = Array.from({ length: n + 1 }, (_, k) => Math.exp(binomialLogPmf(k, n, p)));
        let total = 0;
        for (const v of pmf) total += v;
        if (Math.abs(total - 1) > 1e-13) return false;
        let cdf = 0;
        for (let k = 0; k <= n; k++) {
          cdf += pmf[k] as number;
          let sf = 0;
          for (let j = n; j >= k; j--) sf += pmf[j] as number;
          // sums of positive terms: good to ~1e-15 of the sum (subnormal sums are not)
          if (cdf > 1e-290 && relErr(Math.exp(binomialLogCdf(k, n, p)), cdf) > 1e-12) return false;
          if (sf > 1e-290 && relErr(Math.exp(binomialLogSf(k, n, p)), sf) > 1e-12) return false;
        }
        return true;
      }),
      { numRuns: 60 },
    );
  });

  it('extreme lower tail keeps its relative precision: P(X <= 0), n = 1000, p = 1/2 is 2^-1000', () => {
    expect(relErr(binomialLogCdf(0, 1000, 0.5), -1000 * Math.LN2)).toBeLessThan(1e-14);
    expect(relErr(binomialLogSf(1000, 1000, 0.5), -1000 * Math.LN2)).toBeLessThan(1e-14);
  });
});

describe('binomialTestP fast path vs the term-by-term sum', () => {
  it('small and moderate n', () => {
    fc.assert(
      fc.property(xn(3000), probability, ([x, n], p) => relErr(binomialTestP(x, n, p), slowBinomialTestP(x, n, p)) <= binomialTolerance(n)),
      { numRuns: 2000 },
    );
  });

  it('counts up to 200,000', () => {
    fc.assert(
      fc.property(xn(200_000), probability, ([x, n], p) => relErr(binomialTestP(x, n, p), slowBinomialTestP(x, n, p)) <= binomialTolerance(n)),
      { numRuns: 150 },
    );
  });

  it('observed near the mean (p-values near 1, the slow fraction case)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 10, max: 200_000 }), probability, fc.integer({ min: -3, max: 3 }), (n, p, offset) => {
        const x = Math.min(n, Math.max(0, Math.round(n * p) + offset));
        return relErr(binomialTestP(x, n, p), slowBinomialTestP(x, n, p)) <= binomialTolerance(n);
      }),
      { numRuns: 150 },
    );
  });

  it('the counterexample of a flaky run is the reference\'s error, not the fast path\'s: 18,502 of 18,518 at p = 0.999', () => {
    // mpmath at 40 digits (binom.test's rule summed term by term): 0.64219588473136763599
    const exact = 0.64219588473136763599;
    expect(relErr(binomialTestP(18_502, 18_518, 0.9989999999999999), exact)).toBeLessThan(1e-13);
    expect(relErr(slowBinomialTestP(18_502, 18_518, 0.9989999999999999), exact)).toBeGreaterThan(1e-13); // the lgamma sum: 1.0e-12 off
  });

  it('extreme tails down to ~1e-300', () => {
    // 0 of 1000 at 1/2: P(0) + P(1000) = 2^-999
    expect(relErr(binomialTestP(0, 1000, 0.5), 2 ** -999)).toBeLessThan(1e-13);
    expect(relErr(binomialTestP(1000, 1000, 0.5), 2 ** -999)).toBeLessThan(1e-13);
    fc.assert(
      fc.property(fc.integer({ min: 900, max: 1020 }), fc.integer({ min: 0, max: 5 }), fc.boolean(), (n, k, upper) => {
        const x = upper ? n - k : k;
        const fast = binomialTestP(x, n, 0.5);
        return fast > 0 && relErr(fast, slowBinomialTestP(x, n, 0.5)) <= 1e-12;
      }),
    );
    // rare events far in the upper tail
    for (const [x, n, p] of [
      [300, 200_000, 0.0001],
      [0, 200_000, 0.003],
      [199_500, 200_000, 0.996],
      [5, 7, 0.01],
    ] as const) {
      const fast = binomialTestP(x, n, p);
      expect(fast).toBeGreaterThan(0);
      expect(relErr(fast, slowBinomialTestP(x, n, p))).toBeLessThan(1e-12);
    }
  });
});

describe('fisherExactP fast path vs the term-by-term sum', () => {
  const table = (maxN: number) => fc.tuple(xn(maxN), xn(maxN)).map(([[x1, n1], [x2, n2]]) => [x1, n1, x2, n2] as const);

  it('hypergeometric pmf sums to 1 (small margins)', () => {
    fc.assert(
      fc.property(table(80), ([x1, n1, x2, n2]) => {
        const successes = x1 + x2;
        const failures = n1 + n2 - successes;
        let total = 0;
        for (let i = 0; i <= n1; i++) total += Math.exp(hypergeometricLogPmf(i, successes, failures, n1));
        return Math.abs(total - 1) < 1e-13;
      }),
    );
  });

  it('small tables', () => {
    fc.assert(
      fc.property(table(300), ([x1, n1, x2, n2]) => relErr(fisherExactP(x1, n1, x2, n2), slowFisherExactP(x1, n1, x2, n2)) <= 1e-12),
      { numRuns: 2000 },
    );
  });

  // The term-by-term reference is itself only good to about 1e-11 relative at n ~ 1e5 (and the
  // fast path to ~2e-12 where the drawn fraction is within 1e-5 of 1), so agreement between the
  // two is checked to 1e-10 here; accuracy against exact arithmetic is checked on fixed cases.
  it('large tables, including rare outcomes (where the product uses Fisher)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200_000 }),
        fc.integer({ min: 1, max: 200_000 }),
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: 0, max: 12 }),
        (n1, n2, a, b) => {
          const x1 = Math.min(a, n1);
          const x2 = Math.min(b, n2);
          return relErr(fisherExactP(x1, n1, x2, n2), slowFisherExactP(x1, n1, x2, n2)) <= 1e-10;
        },
      ),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(table(200_000), ([x1, n1, x2, n2]) => relErr(fisherExactP(x1, n1, x2, n2), slowFisherExactP(x1, n1, x2, n2)) <= 1e-10),
      { numRuns: 60 },
    );
  });

  it('extreme tail near 1e-300: 0/500 vs 500/500 is 2 / C(1000, 500)', () => {
    const expected = Math.exp(Math.log(2) - logChoose(1000, 500));
    expect(expected).toBeLessThan(1e-298);
    expect(relErr(fisherExactP(0, 500, 500, 500), expected)).toBeLessThan(1e-12);
    expect(relErr(fisherExactP(0, 500, 500, 500), slowFisherExactP(0, 500, 500, 500))).toBeLessThan(1e-12);
  });
});

describe('quantiles (memoised; Wilson-Hilferty start for qgamma)', () => {
  it('repeated calls return the identical value', () => {
    const z = normalQuantile(0.975);
    expect(z).toBeCloseTo(1.959963984540054, 15);
    expect(normalQuantile(0.975)).toBe(z);
    expect(gammaQuantile(0.025, 12345)).toBe(gammaQuantile(0.025, 12345));
    expect(tQuantile(0.975, 5)).toBeCloseTo(2.570581835636314, 14);
  });

  it('qgamma inverts pgamma for shapes up to 200,000', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200_001 }), fc.constantFrom(0.025, 0.975, 0.005, 0.995, 0.05, 0.95), (shape, p) => {
        // the tail probability at the quantile is the requested one to the CDF's own
        // precision (its front factor is good to ~1e-13 at shape 2e5)
        const q = gammaQuantile(p, shape);
        const tail = p < 0.5 ? regularizedGammaP(shape, q) : regularizedGammaQ(shape, q);
        return relErr(tail, p < 0.5 ? p : 1 - p) < 1e-11;
      }),
      { numRuns: 300 },
    );
  });

  it('qt inverts pt', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100_000 }), (df) => Math.abs(tCdf(tQuantile(0.975, df), df) - 0.975) < 1e-12),
      { numRuns: 100 },
    );
  });
});
