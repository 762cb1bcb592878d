// Aalen-Johansen cumulative incidence against R's survival::survfit with a multi-state
// (factor) status: every row of test/fixtures/reference/aalen-johansen-reference.csv,
// written by aalen-johansen.R beside it.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { aalenJohansenCurve, incidenceAt, incidenceMedian, kaplanMeierCurve, type CompetingRow } from '../../../models/stats/index.ts';
import { parseCsv } from './referenceCsv.ts';

const CSV = fileURLToPath(new URL('../../fixtures/reference/aalen-johansen-reference.csv', import.meta.url));
const [header, ...records] = parseCsv(readFileSync(CSV, 'utf8'));
const num = (s: string | undefined) => (s === undefined || s === '' ? null : Number(s));

function cases(text: string): CompetingRow[] {
  return text.split(',').map((c) => {
    const [t, s] = c.split(':').map(Number);
    return { time: t as number, events: s === 1 ? 1 : 0, competing: s === 2 ? 1 : 0, censored: s === 0 ? 1 : 0 };
  });
}

const close = (actual: number | null, expected: number | null, what: string) => {
  if (expected === null) expect(actual, what).toBeNull();
  else expect(actual, what).toBeCloseTo(expected, 10);
};

describe('aalenJohansenCurve against R survfit (multi-state)', () => {
  it('reads the reference file', () => {
    expect(header).toEqual(['dataset', 'cases', 't', 'incidence', 'se', 'lower', 'upper']);
    expect(new Set(records.map((r) => r[0]))).toEqual(new Set(['small', 'all_end', 'none_served', 'referrals', 'fast']));
  });

  for (const r of records) {
    const [dataset, text, t, inc, se, lower, upper] = r as [string, string, string, string, string, string, string];
    it(`${dataset} at ${t}`, () => {
      const curve = aalenJohansenCurve(cases(text));
      if (t === 'median') {
        const m = incidenceMedian(curve);
        expect(m.median).toBe(num(inc));
        expect(m.low).toBe(num(lower));
        expect(m.high).toBe(num(upper));
        return;
      }
      const at = incidenceAt(curve, Number(t));
      close(at.incidence, num(inc), 'incidence');
      close(at.se, num(se), 'se');
      // Before the first observed time R's summary(extend = TRUE) prints a 0..0 band; at a
      // zero incidence later it gives NA, as we do everywhere (a log band has no zero).
      const beforeFirst = Number(t) < Math.min(...cases(text).map((c) => c.time));
      close(at.lower, beforeFirst ? null : num(lower), 'lower');
      close(at.upper, beforeFirst ? null : num(upper), 'upper');
    });
  }
});

describe('why the competing event matters', () => {
  it('1 - Kaplan-Meier (closure censored) overstates the share served; Aalen-Johansen does not', () => {
    // 10 referrals: 4 served on days 5, 10, 20, 30; 5 closed without service on days 2, 4, 6, 8, 10; 1 open at day 40.
    // Aalen-Johansen by day 90: nobody is lost to follow-up before day 30 except by closure,
    // so the share served is exactly 4 / 10.
    const rows: CompetingRow[] = [
      ...[5, 10, 20, 30].map((time) => ({ time, events: 1, competing: 0, censored: 0 })),
      ...[2, 4, 6, 8, 10].map((time) => ({ time, events: 0, competing: 1, censored: 0 })),
      { time: 40, events: 0, competing: 0, censored: 1 },
    ];
    expect(incidenceAt(aalenJohansenCurve(rows), 90).incidence).toBeCloseTo(0.4, 12);
    // 1 - KM with closures censored: events on days 5, 10, 20, 30 with 8, 5, 3, 2 at risk:
    // S = 7/8 * 4/5 * 2/3 * 1/2 = 0.2333, so 1 - S = 0.767 "served", almost twice the truth
    const km = kaplanMeierCurve(rows.map((r) => ({ time: r.time, events: r.events, censored: r.competing + r.censored })));
    const s = km.filter((p) => p.time <= 90).at(-1)!.survival;
    expect(1 - s).toBeCloseTo(1 - (7 / 8) * (4 / 5) * (2 / 3) * (1 / 2), 12);
    expect(1 - s).toBeGreaterThan(0.75);
  });
});
