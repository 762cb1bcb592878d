import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { kaplanMeierCurve, kaplanMeierMedian, type SurvivalRow } from '../../../models/stats/kaplanMeier.ts';

const event = (time: number): SurvivalRow => ({ time, events: 1, censored: 0 });
const open = (time: number): SurvivalRow => ({ time, events: 0, censored: 1 });

// Gehan's 6-MP arm (weeks in remission), `+` censored
const gehan6mp = [6, 6, 6, -6, 7, -9, 10, -10, -11, 13, 16, -17, -19, -20, 22, 23, -25, -32, -32, -34, -35].map((t) =>
  t < 0 ? open(-t) : event(t),
);

describe('kaplanMeierCurve', () => {
  it('hand check: first point of the 6-MP arm', () => {
    // n = 21, d = 3 (the censoring at 6 counts as at risk), S = 18/21;
    // se(log S) = sqrt(3 / (21 * 18)) = 0.089087, c = 1.959964 * se / log S = -1.132747,
    // lower = S^exp(-c) = 0.6197, upper = S^exp(c) = 0.9516
    const first = kaplanMeierCurve(gehan6mp)[0];
    expect(first).toMatchObject({ time: 6, atRisk: 21, events: 3, censored: 1 });
    expect(first?.survival).toBeCloseTo(18 / 21, 15);
    expect(first?.lower).toBeCloseTo(0.6197, 4);
    expect(first?.upper).toBeCloseTo(0.9516, 4);
  });

  it('lists every distinct time, censoring-only times included, and ends at the last one', () => {
    const curve = kaplanMeierCurve(gehan6mp);
    expect(curve.map((p) => p.time)).toEqual([6, 7, 9, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 34, 35]);
    // S at 23 = 0.4482 (the textbook value), flat after
    expect(curve.find((p) => p.time === 23)?.survival).toBeCloseTo(0.448, 3);
    expect(curve.at(-1)?.survival).toBeCloseTo(0.448, 3);
  });

  it('adds rows that share a time, in any order', () => {
    const aggregated: SurvivalRow[] = [
      { time: 10, events: 1, censored: 2 },
      { time: 6, events: 2, censored: 0 },
      { time: 6, events: 1, censored: 1 },
    ];
    const individual = [event(6), event(6), event(6), open(6), event(10), open(10), open(10)];
    expect(kaplanMeierCurve(aggregated)).toEqual(kaplanMeierCurve(individual));
  });

  it('no band where R has NA: before the first event and once S = 0', () => {
    const curve = kaplanMeierCurve([open(1), event(2), event(3)]);
    expect(curve[0]).toMatchObject({ survival: 1, lower: null, upper: null });
    expect(curve[2]).toMatchObject({ survival: 0, lower: null, upper: null });
    expect(kaplanMeierCurve([])).toEqual([]);
  });

  it('property: survival is non-increasing, in [0, 1], inside its bands', () => {
    const row = fc.record({
      time: fc.integer({ min: 0, max: 60 }),
      events: fc.integer({ min: 0, max: 4 }),
      censored: fc.integer({ min: 0, max: 4 }),
    });
    fc.assert(
      fc.property(fc.array(row, { maxLength: 40 }), (rows) => {
        const curve = kaplanMeierCurve(rows);
        let previous = 1;
        for (const p of curve) {
          if (p.survival > previous || p.survival < 0) return false;
          if (p.lower !== null && p.upper !== null && !(p.lower <= p.survival && p.survival <= p.upper)) return false;
          previous = p.survival;
        }
        return true;
      }),
    );
  });
});

describe('kaplanMeierMedian (R quantile.survfit rules)', () => {
  it('Gehan 6-MP: median 23 weeks, lower 13, upper never reached', () => {
    expect(kaplanMeierMedian(gehan6mp)).toEqual({ median: 23, low: 13, high: null, events: 9, cases: 21 });
  });

  it('a flat stretch at exactly 0.5 gives the midpoint to the next event time', () => {
    // S = 0.75, 0.5, 0.25, 0 at 2, 4, 6, 8: median (4 + 6) / 2 = 5
    expect(kaplanMeierMedian([event(2), event(4), event(6), event(8)]).median).toBe(5);
    // S = 0.5 reached through products that are not exact in floating point:
    // 5/6 * 4/5 * 3/4 = 0.5 (to within R's 1.5e-8 tolerance) from time 3 to 7
    expect(kaplanMeierMedian([1, 2, 3, 7, 8, 9].map(event)).median).toBe(5);
  });

  it('a curve that ends flat at 0.5 uses the last follow-up time (R: (x + xmax) / 2)', () => {
    // S = 0.5 from time 1, last follow-up (censored) at 2: median 1.5
    expect(kaplanMeierMedian([event(1), open(2)]).median).toBe(1.5);
  });

  it('censoring at an event time happens after the events', () => {
    // 3 at risk at time 5 (the case censored at 5 included): S = 2/3, not 1/2
    expect(kaplanMeierCurve([event(5), open(5), event(9)])[0]?.survival).toBe(2 / 3);
  });

  it('nulls where never reached; counts of events and cases', () => {
    expect(kaplanMeierMedian([event(5), open(10), open(20), open(30), open(40)])).toEqual({
      median: null,
      low: 5,
      high: null,
      events: 1,
      cases: 5,
    });
    expect(kaplanMeierMedian([open(3), open(4)])).toEqual({ median: null, low: null, high: null, events: 0, cases: 2 });
    expect(kaplanMeierMedian([])).toEqual({ median: null, low: null, high: null, events: 0, cases: 0 });
  });

  it('property: lower <= median <= upper where all three exist', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 100 }), fc.boolean()), { minLength: 1, maxLength: 60 }), (cases) => {
        const m = kaplanMeierMedian(cases.map(([t, done]) => (done ? event(t) : open(t))));
        if (m.median !== null && m.low !== null && m.low > m.median) return false;
        if (m.median !== null && m.high !== null && m.high < m.median) return false;
        return true;
      }),
    );
  });
});
