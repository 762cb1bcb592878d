import { describe, expect, it } from 'vitest';
import {
  betweenGroupVariance,
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

  it('disparitySummary bundles the four from { value, denominator } groups', () => {
    const groups = [
      { value: 0.8, denominator: 500 },
      { value: 0.7, denominator: 200 },
      { value: 0.6, denominator: 100 },
      { value: 0.75, denominator: 50 },
    ];
    const s = disparitySummary(groups, 0);
    // (0.1 + 0.2 + 0.05) / 3 / 0.8 * 100 = 14.583
    expect(s.indexOfDisparity).toBeCloseTo(14.5833333333, 9);
    expect(s.betweenGroupVariance).toBeCloseTo(0.00470588235294118, 15);
    expect(s.maxRateDifference).toBeCloseTo(0.2, 15);
    expect(s.maxRateRatio).toBeCloseTo(4 / 3, 14);
  });
});
