// Issue 19, incremental runs: the attacker's decision for a component is kept (the memo)
// and reused when a later audit (a later round, or the next run) meets the same component:
// same counts, truth, bounds, relations and candidates. A component the change touched is
// solved again. Every expected range is worked out by hand in the comment above it.
import { describe, expect, it } from 'vitest';
import type { MetricMeta } from '../../../models/disclosure/metricMeta.ts';
import { findDisclosures } from '../../../models/disclosure/attacker/ranges.ts';
import { buildSystem, type AuditCell } from '../../../models/disclosure/attacker/system.ts';

const count = (id: string): MetricMeta => ({ id, kind: 'count', direction: 'lower_better', dollarNumerator: false, additiveOverTime: () => true, groupsSumToAll: () => true });
const metas = new Map([['a', count('a')], ['b', count('b')]]);

function cell(metric: string, group: string, truth: number, shown: boolean): AuditCell {
  const figures = { numerator: truth, denominator: null, value: truth };
  return { metric_id: metric, period_grain: 'all', period_start: '2025-01-01', dimension: group === 'all' ? 'all' : 'sex', group_value: group, shown: shown ? figures : null, truth: figures };
}

// Two independent components (metric a, metric b), each all = f + m + u.
// a: all 20 shown, f = 5 withheld, m = 15 shown: f = 20 - 15 = 5 exactly (disclosed).
// b: all 50 shown, f = 4 and m = 16 withheld, u = 30 shown: f + m = 20, f anywhere in 0..20 (safe).
const table = (bF = 4, bMShown = false) => [
  cell('a', 'all', 20, true), cell('a', 'f', 5, false), cell('a', 'm', 15, true),
  cell('b', 'all', 50, true), cell('b', 'f', bF, false), cell('b', 'm', 20 - bF, bMShown), cell('b', 'u', 30, true),
];

async function audit(cells: AuditCell[], memo: { previous: ReadonlyMap<string, string>; next: Map<string, string> }, threshold = 11) {
  const sys = buildSystem(cells, { metas, threshold, existence: 'frames' });
  const r = await findDisclosures(sys, { memo });
  const found = r.disclosures.map((d) => {
    const v = sys.vars[d.var]!;
    const c = sys.cells[v.cell]!;
    return `${c.metric_id} ${c.group_value} in [${d.low}, ${d.high}]`;
  }).sort();
  return { found, reused: r.reused, components: r.components, certified: [...r.certified].sort() };
}

describe('the audit memo: a component decided before is not solved again', () => {
  it('the same table twice: both components come from the memo, with the same decisions', async () => {
    const first = { previous: new Map<string, string>(), next: new Map<string, string>() };
    const one = await audit(table(), first);
    expect(one.found).toEqual(['a f in [5, 5]']);
    expect(one).toMatchObject({ components: 2, reused: 0 });
    expect(first.next.size).toBe(2);

    const second = { previous: first.next, next: new Map<string, string>() };
    const two = await audit(table(), second);
    expect(two).toEqual({ ...one, reused: 2 });
    expect([...second.next.keys()].sort()).toEqual([...first.next.keys()].sort());
  });

  it('a changed count is solved again, and only its own component', async () => {
    const first = { previous: new Map<string, string>(), next: new Map<string, string>() };
    await audit(table(), first);
    // b's m now shown (17): f = 20 - 17 = 3 exactly, a new disclosure the memo cannot know
    const changed = await audit(table(3, true), { previous: first.next, next: new Map() });
    expect(changed.found).toEqual(['a f in [5, 5]', 'b f in [3, 3]']);
    expect(changed).toMatchObject({ components: 2, reused: 1 });
  });

  it('a decision under another threshold is not reused', async () => {
    const first = { previous: new Map<string, string>(), next: new Map<string, string>() };
    await audit(table(), first);
    // threshold 6: a's f = 5 is still exact and inside 1..5; b's f = 4 is still free in 0..20
    const other = await audit(table(), { previous: first.next, next: new Map() }, 6);
    expect(other.found).toEqual(['a f in [5, 5]']);
    expect(other.reused).toBe(0);
  });
});
