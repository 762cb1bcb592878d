// Issue 19: the audit decides large components on a second thread (attacker/ranges.ts,
// solveAll). Each component is solved alone either way and the decisions are merged in
// component order, so the report must be the same, decision for decision and in the same
// order, whichever thread solved what. Checked here against the one-thread audit on random
// count tables (six metrics, each one or more components: months and quarters by six groups, about
// half the cells withheld).
import { describe, expect, it } from 'vitest';
import type { MetricMeta } from '../../../models/disclosure/metricMeta.ts';
import { findDisclosures } from '../../../models/disclosure/attacker/ranges.ts';
import { buildSystem, type AuditCell } from '../../../models/disclosure/attacker/system.ts';

const count = (id: string): MetricMeta => ({ id, kind: 'count', direction: 'lower_better', dollarNumerator: false, additiveOverTime: () => true, groupsSumToAll: () => true });
const METRICS = ['a', 'b', 'c', 'd', 'e', 'f'];
const GROUPS = ['g1', 'g2', 'g3', 'g4', 'g5', 'g6'];
const MONTHS = ['2025-01-01', '2025-02-01', '2025-03-01', '2025-04-01', '2025-05-01', '2025-06-01'];

function table(seed: number): AuditCell[] {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const cells: AuditCell[] = [];
  const add = (metric: string, grain: string, start: string, group: string, v: number) => {
    const figures = { numerator: v, denominator: null, value: v };
    cells.push({ metric_id: metric, period_grain: grain, period_start: start, dimension: group === 'all' ? 'all' : 'grp', group_value: group, shown: group !== 'all' && rand() < 0.5 ? null : figures, truth: figures });
  };
  for (const m of METRICS) {
    const base = MONTHS.map(() => GROUPS.map(() => (rand() < 0.5 ? Math.floor(rand() * 11) : 11 + Math.floor(rand() * 30))));
    MONTHS.forEach((start, i) => {
      GROUPS.forEach((g, j) => add(m, 'month', start, g, base[i]![j]!));
      add(m, 'month', start, 'all', base[i]!.reduce((x, y) => x + y, 0));
    });
    for (const q of [0, 1]) {
      const months = base.slice(q * 3, q * 3 + 3);
      GROUPS.forEach((g, j) => add(m, 'quarter', MONTHS[q * 3]!, g, months.reduce((x, r) => x + r[j]!, 0)));
      add(m, 'quarter', MONTHS[q * 3]!, 'all', months.flat().reduce((x, y) => x + y, 0));
    }
  }
  return cells;
}

describe('the audit on two threads', () => {
  it('decides exactly as on one thread, in the same order', async () => {
    const metas = new Map(METRICS.map((m) => [m, count(m)]));
    let disclosed = 0;
    for (const seed of [1, 2, 3]) {
      const sys = buildSystem(table(seed), { metas, threshold: 11, existence: 'frames' });
      for (const exact of [false, true]) {
        const one = await findDisclosures(sys, { exact, parallelFrom: Infinity });
        const two = await findDisclosures(sys, { exact, parallelFrom: 1 });
        expect({ ...two, seconds: 0 }, `seed ${seed}, exact ${exact}`).toEqual({ ...one, seconds: 0 });
        expect(one.components).toBeGreaterThanOrEqual(METRICS.length);
        disclosed += one.disclosures.length;
      }
    }
    expect(disclosed).toBeGreaterThan(0);
  }, 60_000);

  it('two audits at once share the worker thread and each gets its own answers', async () => {
    const metas = new Map(METRICS.map((m) => [m, count(m)]));
    const systems = [4, 5].map((seed) => buildSystem(table(seed), { metas, threshold: 11, existence: 'frames' }));
    const alone = await Promise.all(systems.map((sys) => findDisclosures(sys, { parallelFrom: Infinity })));
    const together = await Promise.all(systems.map((sys) => findDisclosures(sys, { parallelFrom: 1 })));
    together.forEach((r, i) => expect({ ...r, seconds: 0 }).toEqual({ ...alone[i]!, seconds: 0 }));
    expect(alone[0]!.certified).not.toEqual(alone[1]!.certified);
  }, 60_000);
});

describe('a component that fails on the second thread', () => {
  it('rejects the audit (so the caller can go on without its guesses) instead of ending the process', async () => {
    // the largest component (the worker takes it first) has figures that contradict each
    // other (the shown groups add up to 12, the whole says 9)
    const cells: AuditCell[] = [];
    const add = (metric: string, group: string, shown: number | null) => {
      const figures = shown === null ? null : { numerator: shown, denominator: null, value: shown };
      cells.push({ metric_id: metric, period_grain: 'all', period_start: '2025-01-01', dimension: group === 'all' ? 'all' : 'grp', group_value: group, shown: figures });
    };
    add('a', 'all', 9);
    add('a', 'g1', 5);
    add('a', 'g2', null);
    add('a', 'g3', null);
    add('a', 'g4', 7);
    // and work for this thread (many components, each with a small count to decide), so that
    // the worker's failure arrives while this thread is still deciding them
    const others = Array.from({ length: 60 }, (_, i) => `b${i}`);
    for (const m of others) {
      add(m, 'all', 40);
      add(m, 'g1', null);
      add(m, 'g2', null);
      add(m, 'g3', 30);
    }
    const metas = new Map(['a', ...others].map((m) => [m, count(m)]));
    // the worker thread started and warm (it is kept between audits), so its answer comes
    // back within milliseconds, while this thread still has most of its components to do
    await findDisclosures(buildSystem(cells.filter((c) => c.metric_id !== 'a'), { metas, threshold: 11, existence: 'frames' }), { parallelFrom: 1 });
    const sys = buildSystem(cells, { metas, threshold: 11, existence: 'frames' });
    await expect(findDisclosures(sys, { parallelFrom: 1 })).rejects.toThrow(/contradict each other/);
  });
});
