// Whether a figure changed from one period to the next by more than chance: the label a
// headline tile may carry. A direction ("better", "worse") only when the change is
// statistically significant at 0.05; never a direction on a zero change.
import { comparisonP } from './proportionComparison.ts';
import { poissonRateRatio } from './poisson.ts';

export type ChangeVerdict = 'better' | 'worse' | 'no_significant_change' | 'no_change' | 'not_tested';

export interface PeriodCounts {
  /** events or numerator */
  x: number;
  /** units or person-time */
  n: number;
}

export interface PeriodChange {
  /** latest - previous, per unit (a proportion, or events per unit of person-time) */
  difference: number;
  /** two-sided p of the test; null when not tested */
  p: number | null;
  verdict: ChangeVerdict;
}

/**
 * Latest against previous: for proportions the product's two-proportion test (pooled z,
 * or Fisher's exact test when an expected cell is below 5, as for disparities); for rates
 * the exact conditional test of the rate ratio (R's two-sample poisson.test). Equal rates
 * (compared as cross-products, so 41/100 and 82/200 are equal) are "no change" whatever
 * the test says.
 */
export function periodChange(
  kind: 'proportion' | 'rate',
  direction: 'higher_better' | 'lower_better',
  previous: PeriodCounts,
  latest: PeriodCounts,
  alpha = 0.05,
): PeriodChange | null {
  if (!(previous.n > 0) || !(latest.n > 0)) return null;
  const difference = latest.x / latest.n - previous.x / previous.n;
  if (latest.x * previous.n === previous.x * latest.n) return { difference: 0, p: null, verdict: 'no_change' };
  const p = kind === 'proportion'
    ? comparisonP(latest.x, latest.n, previous.x, previous.n)
    : poissonRateRatio(latest.x, latest.n, previous.x, previous.n)?.p ?? null;
  if (p === null) return { difference, p: null, verdict: 'not_tested' };
  if (!(p < alpha)) return { difference, p, verdict: 'no_significant_change' };
  const up = difference > 0;
  return { difference, p, verdict: up === (direction === 'higher_better') ? 'better' : 'worse' };
}
