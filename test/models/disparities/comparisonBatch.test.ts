// The statistics of many comparisons split across worker threads are the same numbers as
// computed in this thread (and as compareGroups for one comparison).
import { describe, expect, test } from 'vitest';
import { compareAll, compareBatch, compareGroups, VALUE_FIELDS, type ComparisonBatch } from '../../../models/disparities/index.ts';

function batch(n: number): ComparisonBatch {
  const b: ComparisonBatch = {
    kind: new Uint8Array(n), direction: new Uint8Array(n), x1: new Float64Array(n), n1: new Float64Array(n),
    x2: new Float64Array(n), n2: new Float64Array(n), active: new Uint8Array(n),
  };
  for (let i = 0; i < n; i++) {
    b.kind[i] = i % 7 === 0 ? 1 : i % 11 === 0 ? 2 : 0;
    b.direction[i] = i % 2;
    b.n1[i] = 20 + (i % 37);
    b.x1[i] = i % 13;
    b.n2[i] = 50 + (i % 17);
    b.x2[i] = (i * 7) % 23;
    b.active[i] = i % 5 === 0 ? 0 : 1;
  }
  return b;
}

describe('comparisons in bulk', () => {
  test('worker threads give the numbers this thread gives', async () => {
    const b = batch(26_000);
    const inline = compareBatch(b);
    const parallel = await compareAll(b, { workers: 2 });
    expect(Array.from(parallel.flag)).toEqual(Array.from(inline.flag));
    expect(Array.from(parallel.values)).toEqual(Array.from(inline.values));
    // one row against compareGroups directly
    const i = 3;
    const one = compareGroups({ kind: 'proportion', direction: 'lower_better', x1: b.x1[i]!, n1: b.n1[i]!, x2: b.x2[i]!, n2: b.n2[i]!});
    VALUE_FIELDS.forEach((f, k) => expect(inline.values[i * VALUE_FIELDS.length + k]).toBe(one[f] ?? Number.NaN));
    // inactive rows carry nothing
    expect(inline.flag[0]).toBe(-1);
    expect(Number.isNaN(inline.values[0]!)).toBe(true);
  });
});
