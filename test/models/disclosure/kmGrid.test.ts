// Kaplan-Meier curves on a common grid (issue 14, route 5): every figure below is worked by
// hand from the tiny curves in each test (threshold 11: a step's events and censored are
// each 0 or >= 11).
import { afterEach, describe, expect, test } from 'vitest';
import { rows, type Database } from '../../../models/duckdb.ts';
import { chooseCurves, commonGrid, meetsRule, publishedPoints, publishKmCurves, type Days, type KmCurve } from '../../../models/disclosure/index.ts';
import { resultsDb } from './resultsTable.ts';

const T = 11;
const days = (o: Record<number, [number, number]>): Days => new Map(Object.entries(o).map(([t, v]) => [Number(t), v]));
const curve = (o: Record<number, [number, number]>): KmCurve => ({ days: days(o), points: [] });
const key = (dimension: string, group: string) => `${dimension}\u001f${group}`;
const ALL = key('all', 'all');

describe('commonGrid', () => {
  test('merges days until each step has 0 or >= 11 events and 0 or >= 11 censored', () => {
    // day 1: 5 events (short), day 2: 5+6 = 11 -> grid day 2; day 3: 2 censored (short),
    // day 4: 11 events, 2+9 = 11 censored -> 4; day 7: 3 events, day 9: 3+20 events, 30 censored -> 9
    const a = days({ 1: [5, 0], 2: [6, 0], 3: [0, 2], 4: [11, 9], 7: [3, 0], 9: [20, 30] });
    expect(commonGrid([a], T)).toEqual([2, 4, 9]);
    expect(meetsRule(a, [2, 4, 9], T)).toBe(true);
    expect(meetsRule(a, [1, 4, 9], T)).toBe(false); // day 1 alone: 5 events
    expect(meetsRule(a, [2, 4], T)).toBe(false); // days 7 and 9 after the last grid day
  });

  test('the last days join the steps before when they cannot stand alone', () => {
    // greedy: day 1 (12 events), day 2 (12 censored), then day 5 has 4 events: (2,5] fails;
    // (1,5] has 4 events and 12 censored: fails; one step [.., 5]: 16 events, 12 censored
    expect(commonGrid([days({ 1: [12, 0], 2: [0, 12], 5: [4, 0] })], T)).toEqual([5]);
  });

  test('no grid when a curve has 1..10 events in total', () => {
    expect(commonGrid([days({ 1: [3, 0], 4: [2, 20] })], T)).toBeNull();
  });

  test('one grid for several curves: a step ends only where every curve meets the rule', () => {
    // A alone would step at day 1 (11 events); B has 5 there and 5+6 = 11 by day 2
    const a = days({ 1: [11, 0], 2: [11, 0] });
    const b = days({ 1: [5, 0], 2: [6, 0] });
    expect(commonGrid([a], T)).toEqual([1, 2]);
    expect(commonGrid([a, b], T)).toEqual([2]);
  });

  test('the most steps: a grid day wherever every curve can close a step', () => {
    // censored 5 on day 2 and 6 on day 3 must share a step; events 11 on days 1, 3, 4
    expect(commonGrid([days({ 1: [11, 0], 2: [0, 5], 3: [11, 6], 4: [11, 0] })], T)).toEqual([1, 3, 4]);
  });

  test('steps end only on candidate days when given (the all curve\'s days, for groups)', () => {
    const a = days({ 1: [11, 0], 2: [11, 0], 3: [11, 0] });
    expect(commonGrid([a], T, [2, 3])).toEqual([2, 3]);
    expect(commonGrid([a], T, [3])).toEqual([3]);
  });
});

describe('chooseCurves', () => {
  test('the all curve minus the shown groups (the withheld groups together) meets the rule too', () => {
    // female 11+11 and male 11+11 events shown; other (2 then 9) and unknown (1 on day 1)
    // withheld. All: 25 on day 1, 31 on day 2. On grid [1, 2] an attacker would get
    // 25 - 11 - 11 = 3 events of the withheld groups on day 1; their 3 + 9 = 12 by day 2.
    const set = new Map<string, KmCurve>([
      [ALL, curve({ 1: [25, 0], 2: [31, 0] })],
      [key('sex', 'female'), curve({ 1: [11, 0], 2: [11, 0] })],
      [key('sex', 'male'), curve({ 1: [11, 0], 2: [11, 0] })],
      [key('sex', 'other'), curve({ 1: [2, 0], 2: [9, 0] })],
      [key('sex', 'unknown'), curve({ 1: [1, 0] })],
    ]);
    const shown = new Map([[ALL, 56], [key('sex', 'female'), 22], [key('sex', 'male'), 22]]);
    // the all curve alone keeps both days; the groups are lined up with it on day 2 only
    expect(chooseCurves(set, shown, T)?.grids).toEqual(new Map([[ALL, [1, 2]], [key('sex', 'female'), [2]], [key('sex', 'male'), [2]]]));
  });

  test('the all curve minus one organisation (what that partner learns about the others) meets the rule', () => {
    // ORG-A and ORG-B shown (15 events each on day 2), ORG-C (3, 11) and ORG-D (9, 11)
    // withheld. All: 12 on day 1, 52 on day 2. The withheld together: 12 and 22 (fine on
    // [1, 2]), but partner ORG-C knows its own 3 on day 1: 12 - 3 = 9 would be ORG-D's, so
    // the all curve (and the groups, on its days) has day 2 only.
    const set = new Map<string, KmCurve>([
      [ALL, curve({ 1: [12, 0], 2: [52, 0] })],
      [key('target_org_id', 'ORG-A'), curve({ 2: [15, 0] })],
      [key('target_org_id', 'ORG-B'), curve({ 2: [15, 0] })],
      [key('target_org_id', 'ORG-C'), curve({ 1: [3, 0], 2: [11, 0] })],
      [key('target_org_id', 'ORG-D'), curve({ 1: [9, 0], 2: [11, 0] })],
    ]);
    const shown = new Map([[ALL, 64], [key('target_org_id', 'ORG-A'), 15], [key('target_org_id', 'ORG-B'), 15]]);
    expect(chooseCurves(set, shown, T)?.grids).toEqual(new Map([[ALL, [2]], [key('target_org_id', 'ORG-A'), [2]], [key('target_org_id', 'ORG-B'), [2]]]));
  });

  test('no all curve where the area minus one organisation is a small count: a partner would read it', () => {
    // ORG-A 40 events, ORG-B 5 (row withheld): all minus ORG-A = ORG-B's 5 in total, so the
    // all curve goes; ORG-A alone shown would leave exactly one group withheld: it goes too.
    const set = new Map<string, KmCurve>([
      [ALL, curve({ 3: [45, 0] })],
      [key('target_org_id', 'ORG-A'), curve({ 3: [40, 0] })],
      [key('target_org_id', 'ORG-B'), curve({ 3: [5, 0] })],
    ]);
    expect(chooseCurves(set, new Map([[ALL, 45], [key('target_org_id', 'ORG-A'), 40]]), T)).toBeNull();
  });

  test('never exactly one group withheld: the next smallest shown group is withheld too', () => {
    // other (11) withheld alone: all - female - male = other's curve; male (22) < female (30) goes
    const set = new Map<string, KmCurve>([
      [ALL, curve({ 1: [63, 0] })],
      [key('sex', 'female'), curve({ 1: [30, 0] })],
      [key('sex', 'male'), curve({ 1: [22, 0] })],
      [key('sex', 'other'), curve({ 1: [11, 0] })],
    ]);
    const shown = new Map([[ALL, 63], [key('sex', 'female'), 30], [key('sex', 'male'), 22]]);
    expect(chooseCurves(set, shown, T)?.grids).toEqual(new Map([[ALL, [1]], [key('sex', 'female'), [1]]]));
  });

  test('a curve whose results row is withheld is never published', () => {
    const set = new Map<string, KmCurve>([[ALL, curve({ 1: [20, 0] })]]);
    expect(chooseCurves(set, new Map(), T)).toBeNull();
  });
});

describe('publishedPoints', () => {
  // 86 cases: day 1 5 events (81/86), day 2 6 events (75/81), day 3 2 censored, day 4 11
  // events of 73 at risk and 9 censored (62/73), day 7 3 of 53 (50/53), day 9 20 of 50 and 30 censored (30/50)
  const s2 = 75 / 86;
  const s4 = (75 / 86) * (62 / 73);
  const s9 = s4 * (50 / 53) * (30 / 50);
  const a: KmCurve = {
    days: days({ 1: [5, 0], 2: [6, 0], 3: [0, 2], 4: [11, 9], 7: [3, 0], 9: [20, 30] }),
    points: [
      { time: 1, survival: 81 / 86, lower: 0.88, upper: 0.97 },
      { time: 2, survival: s2, lower: 0.78123, upper: 0.92777 },
      { time: 3, survival: s2, lower: 0.78, upper: 0.93 },
      { time: 4, survival: s4, lower: 0.63, upper: 0.82 },
      { time: 7, survival: s4 * (50 / 53), lower: 0.6, upper: 0.8 },
      { time: 9, survival: s9, lower: 0.30, upper: 0.53 },
    ],
  };

  test('survival at grid days only, rounded to 3 decimals, from (0, 1)', () => {
    // 75/86 = 0.87209; 4650/6278 = 0.74068; 139500/332734 = 0.41925
    expect(publishedPoints(a, [2, 4, 9])).toEqual([
      { time: 0, survival: 1, lower: null, upper: null },
      { time: 2, survival: 0.872, lower: 0.781, upper: 0.928 },
      { time: 4, survival: 0.741, lower: 0.63, upper: 0.82 },
      { time: 9, survival: 0.419, lower: 0.3, upper: 0.53 },
    ]);
  });

  test('a curve stops at the first grid day at or after its last case', () => {
    const b: KmCurve = { days: days({ 2: [11, 0], 3: [0, 11] }), points: [{ time: 2, survival: 0.5, lower: 0.3, upper: 0.7 }, { time: 3, survival: 0.5, lower: 0.3, upper: 0.7 }] };
    expect(publishedPoints(b, [2, 4, 9]).map((p) => p.time)).toEqual([0, 2, 4]);
  });

  test('regression: the day-0 point showed the survival after day 0 alone (its 1..10 events)', () => {
    // 30 cases, 3 closed on day 0 and 8 on day 2 (grid day 2: 11 events): the point at day 0
    // is the start (1), not 27/30, which gave the 3 day-0 events away
    const c: KmCurve = {
      days: days({ 0: [3, 0], 2: [8, 0], 5: [0, 19] }),
      points: [{ time: 0, survival: 27 / 30, lower: 0.7, upper: 0.97 }, { time: 2, survival: 19 / 30, lower: 0.44, upper: 0.78 }, { time: 5, survival: 19 / 30, lower: 0.44, upper: 0.78 }],
    };
    expect(commonGrid([c.days], T)).toEqual([2, 5]);
    expect(publishedPoints(c, [2, 5])).toEqual([
      { time: 0, survival: 1, lower: null, upper: null },
      { time: 2, survival: 0.633, lower: 0.44, upper: 0.78 },
      { time: 5, survival: 0.633, lower: 0.44, upper: 0.78 },
    ]);
    // day 0 a grid day of its own (11 events): its own point, no start point before it
    expect(publishedPoints({ days: days({ 0: [11, 0] }), points: [{ time: 0, survival: 0.5, lower: 0.3, upper: 0.7 }] }, [0])).toEqual([
      { time: 0, survival: 0.5, lower: 0.3, upper: 0.7 },
    ]);
  });
});

describe('publishKmCurves', () => {
  let db: Database | null = null;
  afterEach(() => {
    db?.close();
    db = null;
  });

  const kmTable = (values: string) => `CREATE TABLE km_curves AS SELECT * FROM (VALUES ${values})
    t(metric_id, period_grain, period_start, dimension, group_value, time, at_risk, events, censored, survival, lower, upper)`;

  test('the published table has survival and its interval on the grid, no at-risk, events or censored', async () => {
    db = await resultsDb([
      { metric_id: 'days_to_close', numerator: 22, denominator: 33 },
      { metric_id: 'days_to_close', dimension: 'target_org_id', group_value: 'ORG-02', suppressed: true },
    ]);
    // all: 33 cases; day 1 5 events, day 2 6 more (grid day 2: 11), day 3 11 censored and
    // 11 events (grid day 3). ORG-02 (11 censored on day 3; row withheld) is not published;
    // all minus ORG-02 (a partner's view): 11 events by day 2, 11 events on day 3: grid [2, 3].
    await db.conn.run(kmTable(`
      ('days_to_close', 'all', DATE '2025-01-01', 'all', 'all', 1, 33, 5, 0, 28 / 33, 0.7, 0.93),
      ('days_to_close', 'all', DATE '2025-01-01', 'all', 'all', 2, 28, 6, 0, 22 / 33, 0.5, 0.8),
      ('days_to_close', 'all', DATE '2025-01-01', 'all', 'all', 3, 22, 11, 11, 11 / 33, 0.2, 0.5),
      ('days_to_close', 'all', DATE '2025-01-01', 'target_org_id', 'ORG-02', 3, 11, 0, 11, 1.0, NULL, NULL)`));
    expect(await publishKmCurves(db.conn, T, 'metric_results')).toBe(1);
    const cols = await rows<{ name: string }>(db.conn, `SELECT column_name AS name FROM information_schema.columns WHERE table_name = 'km_curves' ORDER BY ordinal_position`);
    expect(cols.map((c) => c.name)).toEqual(['metric_id', 'period_grain', 'period_start', 'dimension', 'group_value', 'time', 'survival', 'lower', 'upper']);
    expect(await rows(db.conn, `SELECT group_value, time, survival, lower, upper FROM km_curves ORDER BY group_value, time`)).toEqual([
      { group_value: 'all', time: 0, survival: 1, lower: null, upper: null },
      { group_value: 'all', time: 2, survival: 0.667, lower: 0.5, upper: 0.8 },
      { group_value: 'all', time: 3, survival: 0.333, lower: 0.2, upper: 0.5 },
    ]);
  });

  test('curves at two grains of one metric are refused with the reason', async () => {
    db = await resultsDb([]);
    await db.conn.run(kmTable(`
      ('days_to_close', 'all', DATE '2025-01-01', 'all', 'all', 1, 33, 11, 0, 0.6, 0.5, 0.7),
      ('days_to_close', 'year', DATE '2025-01-01', 'all', 'all', 1, 33, 11, 0, 0.6, 0.5, 0.7)`));
    await expect(publishKmCurves(db.conn, T, 'metric_results')).rejects.toThrow(/km_curves: days_to_close has curves at 2 grains/);
  });

  test('curves by a dimension other than target_org_id are refused: a partner could subtract its own cases', async () => {
    db = await resultsDb([]);
    await db.conn.run(kmTable(`('days_to_close', 'all', DATE '2025-01-01', 'sex', 'female', 1, 33, 11, 0, 0.6, 0.5, 0.7)`));
    await expect(publishKmCurves(db.conn, T, 'metric_results')).rejects.toThrow(/km_curves: curves by sex: only the all curve and curves by target_org_id are published/);
  });
});
