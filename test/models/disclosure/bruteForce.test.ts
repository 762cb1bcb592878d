// Issue 14: the attacker audit's intervals against brute force. Tiny count tables (two
// months x two groups, with the months' `all` rows, the quarter's groups and the quarter's
// `all`) under random withholding patterns (not the suppressor's: any pattern, leaky or
// not). Every whole-number table consistent with what is shown is enumerated (each base
// cell from 0 up to the largest total that could bound it); a withheld count is disclosed
// when all of them put it inside 1..10. The audit (no truth given: what an export's
// attacker has) must report exactly those counts, with the same minimum and maximum.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { auditResults, type AuditRow } from '../../../models/disclosure/index.ts';
import { testMetric } from './resultsTable.ts';

const T = 11;
const C = testMetric('c', 'count', { additive: true });
const MONTHS = ['2025-01-01', '2025-02-01'] as const;
const GROUPS = ['female', 'male'] as const;

interface Cell { grain: 'month' | 'quarter'; start: string; dimension: 'all' | 'sex'; group: string; of: (b: number[]) => number }

// base cells b[m * 2 + g]
const CELLS: Cell[] = [
  ...MONTHS.flatMap((start, m) => [
    ...GROUPS.map((group, g): Cell => ({ grain: 'month', start, dimension: 'sex', group, of: (b) => b[m * 2 + g]! })),
    { grain: 'month', start, dimension: 'all', group: 'all', of: (b) => b[m * 2]! + b[m * 2 + 1]! } as Cell,
  ]),
  ...GROUPS.map((group, g): Cell => ({ grain: 'quarter', start: '2025-01-01', dimension: 'sex', group, of: (b) => b[g]! + b[2 + g]! })),
  { grain: 'quarter', start: '2025-01-01', dimension: 'all', group: 'all', of: (b) => b[0]! + b[1]! + b[2]! + b[3]! },
];

/** The range of each withheld cell over every whole-number table that shows what is shown. */
function bruteForce(truth: number[], withheld: boolean[]): Array<{ min: number; max: number }> {
  const cap = truth.reduce((s, x) => s + x, 0) + T; // no shown total exceeds the sum; T more lets an unbounded cell reach T
  const shown = CELLS.map((c, i) => (withheld[i] ? null : c.of(truth)));
  const range = CELLS.map(() => ({ min: Infinity, max: -Infinity }));
  const b = [0, 0, 0, 0];
  // January's cells depend on b0 and b1 only: check them before going on
  const january = [0, 1, 2].filter((i) => shown[i] !== null);
  const rest = CELLS.map((_, i) => i).filter((i) => i > 2 && shown[i] !== null);
  for (b[0] = 0; b[0] <= cap; b[0]++) for (b[1] = 0; b[1] <= cap; b[1]++) {
    if (january.some((i) => CELLS[i]!.of(b) !== shown[i])) continue;
    for (b[2] = 0; b[2] <= cap; b[2]++) for (b[3] = 0; b[3] <= cap; b[3]++) {
      if (rest.some((i) => CELLS[i]!.of(b) !== shown[i])) continue;
      for (let i = 0; i < CELLS.length; i++) {
        if (!withheld[i]) continue;
        const v = CELLS[i]!.of(b);
        if (v < range[i]!.min) range[i]!.min = v;
        if (v > range[i]!.max) range[i]!.max = v;
      }
    }
  }
  return range;
}

const spec = fc.record({
  base: fc.array(fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 4, max: 14 })), { minLength: 4, maxLength: 4 }),
  withheld: fc.array(fc.boolean(), { minLength: CELLS.length, maxLength: CELLS.length }),
});

describe('the audit agrees with brute force on tiny tables', () => {
  test('the same disclosed counts with the same ranges, for random tables and withholding patterns', async () => {
    await fc.assert(
      fc.asyncProperty(spec, async ({ base, withheld }) => {
        const rows: AuditRow[] = CELLS.map((c, i) => {
          const v = c.of(base);
          return {
            metric_id: 'c', period_grain: c.grain, period_start: c.start, dimension: c.dimension, group_value: c.group,
            numerator: withheld[i] ? null : v, denominator: null, value: withheld[i] ? null : v, suppressed: withheld[i]!,
          };
        });
        const range = bruteForce(base, withheld);
        const expected = CELLS.flatMap((c, i) => (withheld[i] && range[i]!.min >= 1 && range[i]!.max <= T - 1
          ? [`${c.grain} ${c.start} ${c.group} ${range[i]!.min}..${range[i]!.max}`] : [])).sort();
        // a shown count in 1..10 is the audit's other finding (primary); only the withheld ones are compared
        const audit = await auditResults(rows, { metrics: [C], threshold: T });
        const found = audit.violations.filter((v) => v.relation === 'disclosure').map((v) => `${v.period_grain} ${v.period_start} ${v.group_value} ${v.low}..${v.high}`).sort();
        expect(found).toEqual(expected);
      }),
      { numRuns: 150 },
    );
  }, 120_000);

  test('a worked case: the months show their totals and one group each, the quarter hides everything', async () => {
    // January: female 3 of 20 shown as 20 - male 17; February: female 12 of 30. Brute force
    // and by hand: January female is exactly 3, the quarter's female 15 and male 35 exactly.
    const base = [3, 17, 12, 18];
    const withheld = [true, false, false, false, true, false, true, true, true];
    const range = bruteForce(base, withheld);
    expect(range[0]).toEqual({ min: 3, max: 3 });
    expect(range[6]).toEqual({ min: 15, max: 15 });
    const rows: AuditRow[] = CELLS.map((c, i) => ({
      metric_id: 'c', period_grain: c.grain, period_start: c.start, dimension: c.dimension, group_value: c.group,
      numerator: withheld[i] ? null : c.of(base), denominator: null, value: withheld[i] ? null : c.of(base), suppressed: withheld[i]!,
    }));
    const audit = await auditResults(rows, { metrics: [C], threshold: T });
    expect(audit.violations.map((v) => `${v.relation} ${v.period_grain} ${v.period_start} ${v.group_value} ${v.low}..${v.high}`)).toEqual([
      'disclosure month 2025-01-01 female 3..3',
    ]);
  });
});
