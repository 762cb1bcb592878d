import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  comparisonP,
  fisherExactP,
  katzRatio,
  newcombeDifference,
  pooledZP,
} from '../../../models/stats/proportionComparison.ts';
import { hypergeometricLogPmf } from '../../../models/stats/distributions.ts';

const table = fc
  .tuple(fc.integer({ min: 1, max: 400 }), fc.integer({ min: 1, max: 400 }))
  .chain(([n1, n2]) => fc.tuple(fc.integer({ min: 0, max: n1 }), fc.constant(n1), fc.integer({ min: 0, max: n2 }), fc.constant(n2)));

describe('newcombeDifference', () => {
  it('hand check, Newcombe (1998): 56/70 - 48/80 = 0.2 (0.0524, 0.3339)', () => {
    const r = newcombeDifference(56, 70, 48, 80);
    expect(r?.difference).toBeCloseTo(0.2, 14);
    expect(r?.low).toBeCloseTo(0.0524, 4);
    expect(r?.high).toBeCloseTo(0.3339, 4);
  });

  it('null for an empty group', () => {
    expect(newcombeDifference(0, 0, 1, 2)).toBeNull();
    expect(newcombeDifference(1, 2, 0, 0)).toBeNull();
  });

  it('property: contains the difference and lies in [-1, 1]', () => {
    fc.assert(
      fc.property(table, ([x1, n1, x2, n2]) => {
        const r = newcombeDifference(x1, n1, x2, n2);
        return r !== null && -1 <= r.low && r.low <= r.difference && r.difference <= r.high && r.high <= 1;
      }),
    );
  });
});

describe('katzRatio', () => {
  it('hand check: 9/10 vs 3/10', () => {
    // RR = 3; SE = sqrt(1/9 - 1/10 + 1/3 - 1/10) = 0.49441; exp(log 3 -+ 1.959964 SE)
    const r = katzRatio(9, 10, 3, 10);
    const se = Math.sqrt(1 / 9 - 1 / 10 + 1 / 3 - 1 / 10);
    expect(r.ratio).toBeCloseTo(3, 14);
    expect(r.low).toBeCloseTo(3 * Math.exp(-1.959963984540054 * se), 13);
    expect(r.high).toBeCloseTo(3 * Math.exp(1.959963984540054 * se), 13);
  });

  it('ratio null when p2 = 0; interval null when either numerator is 0', () => {
    expect(katzRatio(5, 56, 0, 29)).toEqual({ ratio: null, low: null, high: null });
    expect(katzRatio(0, 56, 3, 29)).toEqual({ ratio: 0, low: null, high: null });
    expect(katzRatio(1, 0, 3, 29)).toEqual({ ratio: null, low: null, high: null });
  });
});

describe('fisherExactP', () => {
  it('hand check: 2/4 vs 5/6 -> 0.5', () => {
    // 7 successes of 10, 4 drawn: P(x1 = 1..4) = 7, 63, 105, 35 (/210); observed 63;
    // tables no more likely: 7 + 63 + 35 = 105 -> 0.5
    expect(fisherExactP(2, 4, 5, 6)).toBeCloseTo(0.5, 14);
    // 3/3 vs 0/3: only the two extreme tables, each 1/20 -> 0.1
    expect(fisherExactP(3, 3, 0, 3)).toBeCloseTo(0.1, 14);
  });

  it('single possible table -> 1', () => {
    expect(fisherExactP(0, 10, 0, 20)).toBe(1);
    expect(fisherExactP(0, 0, 0, 0)).toBe(1);
    expect(fisherExactP(5, 5, 7, 7)).toBe(1);
  });

  it('n in the hundreds of thousands: matches a 50-digit evaluation of the same rule', () => {
    // mpmath (dps = 50) summing exp(log C(K, i) + log C(N - K, n1 - i)) over the support
    const cases: Array<[number, number, number, number, number]> = [
      [30, 200000, 55, 180000, 0.0015204305307164118],
      [3, 250000, 12, 260000, 0.035666517254233111],
      [1200, 300000, 1050, 310000, 8.4570055795055094e-5],
    ];
    for (const [x1, n1, x2, n2, expected] of cases) {
      expect(Math.abs(fisherExactP(x1, n1, x2, n2) / expected - 1)).toBeLessThan(1e-9);
    }
  });

  it('property: p in (0, 1], symmetric in the groups, at least P(observed table)', () => {
    fc.assert(
      fc.property(table, ([x1, n1, x2, n2]) => {
        const p = fisherExactP(x1, n1, x2, n2);
        const swapped = fisherExactP(x2, n2, x1, n1);
        const observed = Math.exp(hypergeometricLogPmf(x1, x1 + x2, n1 + n2 - x1 - x2, n1));
        return p > 0 && p <= 1 && Math.abs(p - swapped) <= 1e-12 * p && p >= observed * (1 - 1e-12);
      }),
    );
  });
});

describe('pooledZP', () => {
  it('hand check: 9/10 vs 3/10 -> z = 2.7386, p = 0.00617', () => {
    // pooled p = 0.6, se = sqrt(0.24 * 0.2) = 0.21909, z = 0.6 / se
    expect(pooledZP(9, 10, 3, 10)).toBeCloseTo(0.00616989932054415, 14);
  });

  it('null when pooled p is 0 or 1 or a group is empty; 1 when the proportions are equal', () => {
    expect(pooledZP(0, 10, 0, 20)).toBeNull();
    expect(pooledZP(10, 10, 20, 20)).toBeNull();
    expect(pooledZP(1, 0, 1, 2)).toBeNull();
    expect(pooledZP(5, 10, 10, 20)).toBe(1);
  });
});

describe('comparisonP', () => {
  it('uses Fisher when an expected cell is below 5, else the pooled z test', () => {
    // 9/10 vs 3/10: expected cells 6, 4, 6, 4 -> Fisher
    expect(comparisonP(9, 10, 3, 10)).toBe(fisherExactP(9, 10, 3, 10));
    // 40/100 vs 60/100: expected cells all 50 -> z
    expect(comparisonP(40, 100, 60, 100)).toBe(pooledZP(40, 100, 60, 100));
    // 10/10 vs 0/20 (pooled z would be defined, but expected cells 3.3 < 5)
    expect(comparisonP(10, 10, 0, 20)).toBe(fisherExactP(10, 10, 0, 20));
    // exactly 5 expected is not "below 5": 10/20 vs 0/20 has expected 5, 15, 5, 15
    expect(comparisonP(10, 20, 0, 20)).toBe(pooledZP(10, 20, 0, 20));
    expect(comparisonP(0, 0, 1, 5)).toBeNull();
  });

  it('property: always a p-value in (0, 1] for non-empty groups', () => {
    fc.assert(
      fc.property(table, ([x1, n1, x2, n2]) => {
        const p = comparisonP(x1, n1, x2, n2);
        return p !== null && p > 0 && p <= 1;
      }),
    );
  });
});
