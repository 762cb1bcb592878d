import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  betaCdf,
  betaQuantile,
  binomialLogPmf,
  chiSquareQuantile,
  gammaQuantile,
  hypergeometricLogPmf,
  logBeta,
  logChoose,
  logGamma,
  normalCdf,
  normalQuantile,
  regularizedGammaP,
  tCdf,
  tQuantile,
} from '../../../models/stats/distributions.ts';

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe('distributions (values as printed by R with digits = 17)', () => {
  it('normal quantile and far-tail CDF', () => {
    expect(rel(normalQuantile(0.975), 1.959963984540054)).toBeLessThan(1e-15);
    expect(rel(normalQuantile(0.025), -1.959963984540054)).toBeLessThan(1e-15);
    expect(normalQuantile(0.5)).toBe(0);
    // pnorm(-12.2) = 1.5541197863895686e-34: jStat.normal.cdf returns 0 here, and the
    // pooled z p-value of 460/1000 vs 730/1000 (9.19e-35) depends on it
    expect(rel(normalCdf(-12.2), 1.5541197863895686e-34)).toBeLessThan(1e-12);
    expect(rel(normalCdf(-8), 6.2209605742717841e-16)).toBeLessThan(1e-12);
    expect(normalCdf(-40)).toBe(0); // 3.7e-350 is below the smallest double, as in R
    expect(normalCdf(0)).toBe(0.5);
  });

  it('chi-square quantiles, including the df = 2 lower tail (closed form -2 log(1 - p))', () => {
    expect(rel(chiSquareQuantile(0.025, 2), -2 * Math.log(0.975))).toBeLessThan(1e-14);
    expect(rel(chiSquareQuantile(0.975, 2), -2 * Math.log(0.025))).toBeLessThan(1e-14);
    // qchisq(0.975, 1) = qnorm(0.9875)^2
    expect(rel(chiSquareQuantile(0.975, 1), normalQuantile(0.9875) ** 2)).toBeLessThan(1e-13);
    // qgamma(0.025, 1) = -log(0.975)
    expect(rel(gammaQuantile(0.025, 1), -Math.log(0.975))).toBeLessThan(1e-14);
  });

  it('beta quantiles near 0 and 1 (closed forms for a = 1 or b = 1)', () => {
    // qbeta(p, 1, b) = 1 - (1 - p)^(1/b); qbeta(p, a, 1) = p^(1/a)
    expect(rel(betaQuantile(0.025, 1, 100000), -Math.expm1(Math.log1p(-0.025) / 100000))).toBeLessThan(1e-12);
    expect(rel(betaQuantile(1e-10, 1, 10), -Math.expm1(Math.log1p(-1e-10) / 10))).toBeLessThan(1e-12);
    expect(rel(betaQuantile(0.975, 10, 1), 0.975 ** (1 / 10))).toBeLessThan(1e-14);
    expect(rel(betaQuantile(0.999999, 3000, 1), Math.exp(Math.log(0.999999) / 3000))).toBeLessThan(1e-15);
    expect(betaQuantile(0, 2, 3)).toBe(0);
    expect(betaQuantile(1, 2, 3)).toBe(1);
  });

  it('t quantiles (qt(0.975, df))', () => {
    expect(rel(tQuantile(0.975, 5), 2.570581835636314)).toBeLessThan(1e-14);
    expect(rel(tQuantile(0.975, 8), 2.3060041352041662)).toBeLessThan(1e-14);
    // df = 1 is Cauchy: tan(pi (p - 1/2)); df = 2 has qt = (2p - 1) sqrt(2 / (4 p (1 - p)))
    expect(rel(tQuantile(0.975, 1), Math.tan(Math.PI * 0.475))).toBeLessThan(1e-13);
    const p = 0.9;
    expect(rel(tQuantile(p, 2), (2 * p - 1) * Math.sqrt(2 / (4 * p * (1 - p))))).toBeLessThan(1e-13);
    expect(tCdf(0, 3)).toBe(0.5);
  });

  it('log gamma matches log factorials, and lbeta / lchoose at large n', () => {
    let logFactorial = 0;
    for (let n = 1; n <= 170; n++) {
      logFactorial += Math.log(n);
      expect(Math.abs(logGamma(n + 1) - logFactorial)).toBeLessThan(1e-12 * Math.max(1, logFactorial));
    }
    expect(Math.abs(logGamma(0.5) - 0.5 * Math.log(Math.PI))).toBeLessThan(1e-15);
    // lbeta(1, b) = -log(b) exactly: no cancellation of lgamma(1e5) ~ 1e6
    expect(rel(logBeta(1, 100000), -Math.log(100000))).toBeLessThan(1e-15);
    expect(logChoose(10, 3)).toBeCloseTo(Math.log(120), 14);
    expect(logChoose(10, 11)).toBe(-Infinity);
  });

  it('binomial and hypergeometric pmfs sum to 1 (no overflow at n = 300000)', () => {
    let total = 0;
    for (let k = 0; k <= 300000; k++) total += Math.exp(binomialLogPmf(k, 300000, 0.3));
    expect(Math.abs(total - 1)).toBeLessThan(1e-10);
    let hyper = 0;
    for (let k = 0; k <= 2000; k++) hyper += Math.exp(hypergeometricLogPmf(k, 2000, 500000, 100000));
    expect(Math.abs(hyper - 1)).toBeLessThan(1e-10);
    expect(binomialLogPmf(0, 10, 0)).toBe(0);
    expect(binomialLogPmf(10, 10, 1)).toBe(0);
  });

  it('property: quantiles invert their CDFs', () => {
    // The quantile is right when cdf(x) = p to ~1e-9, or, where the CDF is so steep that
    // one ulp of x moves it more than that (U-shaped betas near 0 or 1), when p lies
    // between the CDF a few ulps either side of x.
    const inverts = (cdf: (x: number) => number, x: number, p: number) => {
      if (Math.abs(cdf(x) - p) <= 1e-9 * Math.max(p, 1e-6)) return true;
      const h = 8 * Number.EPSILON * Math.max(Math.abs(x), 1e-300);
      return cdf(x - h) <= p * (1 + 1e-12) && cdf(x + h) >= p * (1 - 1e-12);
    };
    const prob = fc.double({ min: 1e-8, max: 1 - 1e-8, noNaN: true });
    const shape = fc.double({ min: 0.05, max: 5000, noNaN: true });
    fc.assert(
      fc.property(prob, shape, shape, (p, a, b) => {
        const x = betaQuantile(p, a, b);
        return x >= 0 && x <= 1 && inverts((v) => betaCdf(Math.min(1, Math.max(0, v)), a, b), x, p);
      }),
    );
    fc.assert(
      fc.property(prob, shape, (p, a) => {
        const x = gammaQuantile(p, a);
        return x > 0 && inverts((v) => regularizedGammaP(a, v), x, p);
      }),
    );
    fc.assert(
      fc.property(prob, fc.double({ min: 0.5, max: 1e5, noNaN: true }), (p, df) => {
        const t = tQuantile(p, df);
        return inverts((v) => tCdf(v, df), t, p);
      }),
    );
  });
});
