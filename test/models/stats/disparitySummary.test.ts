import { describe, expect, it } from 'vitest';
import {
  betweenGroupVariance,
  betweenGroupVarianceCorrected,
  disparitySummary,
  indexOfDisparity,
  maxRateDifference,
  maxRateRatio,
} from '../../../models/stats/disparitySummary.ts';

describe('disparity summaries', () => {
  it('hand check: y = 0.1 (reference), 0.15, 0.05; n = 1000, 300, 300', () => {
    // IDisp = 100 * (0.05 + 0.05) / 2 / 0.1 = 50
    expect(indexOfDisparity([0.1, 0.15, 0.05], 0)).toBeCloseTo(50, 12);
    // p = 0.625, 0.1875, 0.1875; mu = 0.1; BGV = 2 * 0.1875 * 0.05^2 = 0.0009375
    expect(betweenGroupVariance([0.1, 0.15, 0.05], [1000, 300, 300])).toBeCloseTo(0.0009375, 15);
    expect(maxRateDifference([0.1, 0.15, 0.05])).toBeCloseTo(0.1, 15);
    expect(maxRateRatio([0.1, 0.15, 0.05])).toBeCloseTo(3, 14);
  });

  it('the reference need not be first', () => {
    expect(indexOfDisparity([0.15, 0.1, 0.05], 1)).toBeCloseTo(50, 12);
  });

  it('nulls: y_ref = 0, J < 2, min y = 0, no groups, zero denominators', () => {
    expect(indexOfDisparity([0, 0.2], 0)).toBeNull();
    expect(indexOfDisparity([0.2], 0)).toBeNull();
    expect(indexOfDisparity([0.2, 0.3], 5)).toBeNull();
    expect(maxRateRatio([0, 0.2])).toBeNull();
    expect(maxRateRatio([])).toBeNull();
    expect(maxRateDifference([])).toBeNull();
    expect(betweenGroupVariance([], [])).toBeNull();
    expect(betweenGroupVariance([0.1, 0.2], [0, 0])).toBeNull();
  });

  it('disparitySummary: the four on the adverse scale for a higher-is-better measure (Keppel & Pearcy)', () => {
    const v = (y: number, n: number) => (y * (1 - y)) / n;
    const groups = [
      { value: 0.8, denominator: 500, variance: v(0.8, 500) },
      { value: 0.7, denominator: 200, variance: v(0.7, 200) },
      { value: 0.6, denominator: 100, variance: v(0.6, 100) },
      { value: 0.75, denominator: 50, variance: v(0.75, 50) },
    ];
    const s = disparitySummary(groups, 0, { adverse: true });
    // adverse a = 0.2 (reference), 0.3, 0.4, 0.25: IDisp = (0.1 + 0.2 + 0.05) / 3 / 0.2 * 100 = 58.333
    // (on the favourable scale it would be (0.1 + 0.2 + 0.05) / 3 / 0.8 * 100 = 14.583)
    expect(s.indexOfDisparity).toBeCloseTo(58.3333333333, 9);
    expect(disparitySummary(groups, 0).indexOfDisparity).toBeCloseTo(14.5833333333, 9);
    // max ratio 0.4 / 0.2 = 2 (favourable: 0.8 / 0.6 = 1.333); max difference 0.2 on both scales
    expect(s.maxRateRatio).toBeCloseTo(2, 14);
    expect(s.maxRateDifference).toBeCloseTo(0.2, 14);
    // raw BGV 0.00470588 (same on both scales) less the noise part:
    // p = 500/850, 200/850, 100/850, 50/850, v = 0.00032, 0.00105, 0.0024, 0.00375:
    // sum p (1 - p) v = 0.0000775 + 0.0001889 + 0.0002491 + 0.0002076 = 0.000723183
    const p = [500, 200, 100, 50].map((n) => n / 850);
    const noise = groups.reduce((t, g, j) => t + p[j]! * (1 - p[j]!) * g.variance, 0);
    expect(noise).toBeCloseTo(0.000723183, 8);
    expect(s.betweenGroupVariance).toBeCloseTo(0.00470588235294118 - noise, 14);
  });

  it('corrected between-group variance: hand check, missing variances, floor at 0', () => {
    const y = [0.1, 0.15, 0.05];
    const n = [1000, 300, 300];
    const v = y.map((yi, j) => (yi * (1 - yi)) / n[j]!);
    expect(betweenGroupVarianceCorrected(y, n, v)).toBeCloseTo(0.000827539, 9);
    expect(betweenGroupVarianceCorrected(y, n, [v[0]!, null, v[2]!])).toBeNull();
    // equal rates: the raw BGV is 0, the correction cannot make it negative
    expect(betweenGroupVarianceCorrected([0.2, 0.2], [10, 10], [0.016, 0.016])).toBe(0);
  });

  it('issue 15: with no real difference the raw between-group variance is pure noise, of the size the correction takes out', () => {
    // 6 groups with the same true rate 0.3 and sizes 40..2000; 4,000 simulated draws (seeded).
    let seed = 12345;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const sizes = [40, 80, 150, 300, 900, 2000];
    let raw = 0;
    const reps = 4000;
    for (let r = 0; r < reps; r++) {
      const y = sizes.map((m) => {
        let x = 0;
        for (let i = 0; i < m; i++) if (rand() < 0.3) x++;
        return x / m;
      });
      raw += betweenGroupVariance(y, sizes)!;
    }
    // expected raw BGV under no difference: sum p (1 - p) 0.3 * 0.7 / n_j = 0.000198
    const total = sizes.reduce((a, b) => a + b, 0);
    const expected = sizes.reduce((t, m) => t + (m / total) * (1 - m / total) * 0.21 / m, 0);
    expect(raw / reps).toBeGreaterThan(0.9 * expected);
    expect(raw / reps).toBeLessThan(1.1 * expected);
  });
});
