// Significance-aware change labels. p-values from R 4.2: prop.test(correct = FALSE) and poisson.test.
import { describe, expect, it } from 'vitest';
import { periodChange } from '../../../models/stats/periodChange.ts';

describe('periodChange', () => {
  it('issue 15: a fall from 0.49 to 0.41 on 100 referrals each is not labelled worse', () => {
    // R: prop.test(c(41, 49), c(100, 100), correct = FALSE)$p.value = 0.255508820294029
    const c = periodChange('proportion', 'higher_better', { x: 49, n: 100 }, { x: 41, n: 100 })!;
    expect(c.difference).toBeCloseTo(-0.08, 12);
    expect(c.p).toBeCloseTo(0.255508820294029, 10);
    expect(c.verdict).toBe('no_significant_change');
  });

  it('the same fall on 1,000 each is significant: worse when higher is better, better when lower is better', () => {
    // R: prop.test(c(410, 490), c(1000, 1000), correct = FALSE)$p.value = 0.000323479946725846
    const worse = periodChange('proportion', 'higher_better', { x: 490, n: 1000 }, { x: 410, n: 1000 })!;
    expect(worse.p).toBeCloseTo(0.000323479946725846, 12);
    expect(worse.verdict).toBe('worse');
    expect(periodChange('proportion', 'lower_better', { x: 490, n: 1000 }, { x: 410, n: 1000 })!.verdict).toBe('better');
  });

  it('rates: the exact conditional test of the rate ratio', () => {
    // R: poisson.test(c(30, 50), c(1000, 1000))$p.value = 0.0329926184264761 (ED visits fell: better)
    const c = periodChange('rate', 'lower_better', { x: 50, n: 1000 }, { x: 30, n: 1000 })!;
    expect(c.p).toBeCloseTo(0.0329926184264761, 12);
    expect(c.verdict).toBe('better');
    // R: poisson.test(c(48, 50), c(1000, 1000))$p.value = 0.919606830922042
    expect(periodChange('rate', 'lower_better', { x: 50, n: 1000 }, { x: 48, n: 1000 })!.verdict).toBe('no_significant_change');
  });

  it('issue 15: never a direction on a zero change (41/100 then 82/200)', () => {
    expect(periodChange('proportion', 'higher_better', { x: 41, n: 100 }, { x: 82, n: 200 })).toEqual({ difference: 0, p: null, verdict: 'no_change' });
    expect(periodChange('rate', 'lower_better', { x: 0, n: 100 }, { x: 0, n: 300 })!.verdict).toBe('no_change');
  });

  it('nothing to compare without units', () => {
    expect(periodChange('proportion', 'higher_better', { x: 0, n: 0 }, { x: 1, n: 2 })).toBeNull();
  });
});
