// The Kaplan-Meier input compaction must not change any published figure.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compactSurvival, parseSurvival } from '../../../models/metrics/survival.ts';
import { kaplanMeierMedian, type SurvivalRow } from '../../../models/stats/index.ts';

const rowsArb = fc
  .array(fc.record({ time: fc.integer({ min: 0, max: 40 }), events: fc.integer({ min: 0, max: 3 }), censored: fc.integer({ min: 0, max: 3 }) }), { minLength: 1, maxLength: 30 })
  .map((xs) => {
    // one row per time, as SQL gives them, sorted
    const byTime = new Map<number, SurvivalRow>();
    for (const x of xs) {
      const r = byTime.get(x.time) ?? { time: x.time, events: 0, censored: 0 };
      r.events += x.events;
      r.censored += x.censored;
      byTime.set(x.time, r);
    }
    return [...byTime.values()].filter((r) => r.events + r.censored > 0).sort((a, b) => a.time - b.time);
  })
  .filter((xs) => xs.length > 0);

describe('compactSurvival', () => {
  it('parses the SQL string', () => {
    expect(parseSurvival('0:1:0,5:2:3')).toEqual([{ time: 0, events: 1, censored: 0 }, { time: 5, events: 2, censored: 3 }]);
  });

  it('folds censoring-only times into the preceding event time and keeps the last time', () => {
    const rows = [
      { time: 1, events: 0, censored: 2 }, { time: 2, events: 0, censored: 1 }, { time: 3, events: 1, censored: 0 },
      { time: 4, events: 0, censored: 1 }, { time: 6, events: 0, censored: 1 }, { time: 7, events: 2, censored: 1 },
      { time: 9, events: 0, censored: 1 }, { time: 12, events: 0, censored: 4 },
    ];
    expect(compactSurvival(rows)).toEqual([
      { time: 1, events: 0, censored: 3 }, { time: 3, events: 1, censored: 2 }, { time: 7, events: 2, censored: 2 },
      { time: 12, events: 0, censored: 4 },
    ]);
  });

  it('leaves the median, its interval and the counts unchanged (including curves that end at 0.5)', () => {
    fc.assert(fc.property(rowsArb, (rows) => {
      expect(kaplanMeierMedian(compactSurvival(rows))).toEqual(kaplanMeierMedian(rows));
    }), { numRuns: 500 });
    // 2, 4 events then 6+ 8+: S = 0.5 from 4 to the last follow-up at 8 -> median (4 + 8) / 2 = 6
    const flat = [{ time: 2, events: 1, censored: 0 }, { time: 4, events: 1, censored: 0 }, { time: 6, events: 0, censored: 1 }, { time: 8, events: 0, censored: 1 }];
    expect(kaplanMeierMedian(compactSurvival(flat)).median).toBe(6);
    expect(kaplanMeierMedian(flat).median).toBe(6);
  });
});
