// Issue 14, route 1 with fixed frames: a group's first appearance in an open-ended frame.
//
// The attacker: an evaluator holding the publication (and every earlier one), who knows
// that counties, ZIP3s, programs, organisations and languages take their groups from the
// results. County 06001 appears in the frame for the first time with its only row withheld,
// and it and 06003 (also withheld) add up to 6 from the shown rows. Without existence its
// denominator lies anywhere in 0..6 (safe); knowing that someone of 06001 exists, the
// attacker has it in 1..5 (and 06003's too). The audit must see that; a group the earlier
// publications already listed (sticky frames) tells nothing; person-time counts for
// existence; a relation the truth does not satisfy is not the data's; a group that may exist
// through a cut the rounds removed tells nothing.
import { afterEach, describe, expect, it } from 'vitest';
import { auditResults, type AuditRow } from '../../../models/disclosure/audit.ts';
import type { MetricMeta } from '../../../models/disclosure/metricMeta.ts';
import { existenceRelations, uncoveredGroups } from '../../../models/disclosure/attacker/existence.ts';
import { cellKey } from '../../../models/disclosure/attacker/system.ts';
import { exec, openDatabase, type Database } from '../../../models/duckdb.ts';

const meta = (id: string, kind: MetricMeta['kind']): MetricMeta => ({
  id, kind, direction: 'higher_better', dollarNumerator: false, additiveOverTime: () => true, groupsSumToAll: () => true,
});
const METAS = [meta('prop', 'proportion'), meta('visits', 'rate')];

const row = (metric: string, dimension: string, group: string, n: number | null, d: number | null, grain = 'all', start = '2025-01-01'): AuditRow => ({
  metric_id: metric, period_grain: grain, period_start: start, dimension, group_value: group,
  numerator: n, denominator: d, value: n === null || !d ? null : n / d, suppressed: n === null,
});

// all: 30 of 60; 06005 shown 26 of 54; so 06001 + 06003 = 4 of 6 (complements 2)
const PUBLISHED: AuditRow[] = [
  row('prop', 'all', 'all', 30, 60),
  row('prop', 'county_fips', '06001', null, null),
  row('prop', 'county_fips', '06003', null, null),
  row('prop', 'county_fips', '06005', 26, 54),
];

const denominators = (violations: Awaited<ReturnType<typeof auditResults>>['violations']) =>
  violations.filter((v) => v.count === 'D').map((v) => `${v.group_value} ${v.low}..${v.high}`).sort();

/** 06001 truly 3 of 4, 06003 1 of 2 (each has someone). */
const TRUTH: AuditRow[] = [PUBLISHED[0]!, row('prop', 'county_fips', '06001', 3, 4), row('prop', 'county_fips', '06003', 1, 2), PUBLISHED[3]!];

let db: Database | undefined;
afterEach(() => db?.close());

/** The run's own audit: the published rows and the truth as tables, as finalise.ts audits them. */
async function audit(published: AuditRow[], truth: AuditRow[], opts: Partial<Parameters<typeof auditResults>[1]> = {}) {
  db = await openDatabase(':memory:', { memoryLimit: '256MB', threads: 1 });
  const v = (x: number | null) => (x === null ? 'NULL' : String(x));
  for (const [name, rs] of [['metric_results', published], ['truth', truth]] as const) {
    await exec(db.conn, `CREATE TABLE ${name} AS SELECT * FROM (VALUES ${rs.map((r) => `('${r.metric_id}', '${r.period_grain}', DATE '${r.period_start}', '${r.dimension}', '${r.group_value}', ${v(r.numerator)}, ${v(r.denominator)}, ${v(r.value)}, ${r.suppressed})`).join(', ')}) t(metric_id, period_grain, period_start, dimension, group_value, numerator, denominator, value, suppressed)`);
  }
  return auditResults(db.conn, { metrics: METAS, threshold: 11, truthTable: 'truth', ...opts });
}

describe('first appearance in an open-ended frame (the run\'s own audit)', () => {
  it('the new groups\' withheld denominators are in 1..5, not 0..6', async () => {
    const r = await audit(PUBLISHED, TRUTH);
    expect(r.ok).toBe(false);
    expect(denominators(r.violations)).toEqual(['06001 1..5', '06003 1..5']);
    expect(r.attacker?.byRelation.existence).toBe(2);
  });

  it('groups an earlier publication listed tell nothing (sticky frames): the same table passes', async () => {
    const earlier = [row('prop', 'county_fips', '06001', 0, 0), row('prop', 'county_fips', '06003', 0, 0)];
    const r = await audit(PUBLISHED, TRUTH, { earlierFrames: earlier });
    expect(r.violations).toEqual([]);
    expect(r.attacker?.byRelation.existence ?? 0).toBe(0);
  });

  it('only one of them new: that one is in 1..6, the other reaches 0', async () => {
    const r = await audit(PUBLISHED, TRUTH, { earlierFrames: [row('prop', 'county_fips', '06003', 0, 0)] });
    expect(denominators(r.violations)).toEqual(['06001 1..6']);
  });

  it('person-time counts for existence: a county with withheld member-months may exist through them alone', async () => {
    // visits: all 25 events in 900 member-months; 06005 shown 24 in 896.5; 06001 and 06003 share 1 event, 3.5 months
    const visits = [row('visits', 'all', 'all', 25, 900), row('visits', 'county_fips', '06005', 24, 896.5)];
    const published = [...PUBLISHED, ...visits, row('visits', 'county_fips', '06001', null, null), row('visits', 'county_fips', '06003', null, null)];
    const truth = [...TRUTH, ...visits, row('visits', 'county_fips', '06001', 1, 2), row('visits', 'county_fips', '06003', 0, 1.5)];
    const r = await audit(published, truth);
    expect(r.attacker?.byRelation.existence).toBe(2);
    expect(denominators(r.violations)).toEqual([]);
    // the relation, with the person-time at 31 per member-month
    const [rel] = existenceRelations(published.filter((x) => x.group_value === '06001').map((x) => ({ ...x, shown: null })), new Map(METAS.map((m) => [m.id, m])), null);
    expect(rel?.terms.map((t) => `${t.key.split('\u001f')[0]} ${t.atom} ${t.coef}`)).toEqual(['prop D -1', 'visits T -31']);
    expect(rel?.constant).toBe(1);
  });

  it('a shown positive figure says it already: no relation', () => {
    const rels = existenceRelations([
      { ...row('prop', 'county_fips', '06001', null, null), shown: null },
      { ...row('prop2', 'county_fips', '06001', 3, 12), shown: { numerator: 12, denominator: 20, value: 0.6 } },
    ], new Map([['prop', meta('prop', 'proportion')], ['prop2', meta('prop2', 'proportion')]]), null);
    expect(rels).toEqual([]);
  });

  it('a county whose true counts here are all 0 (it entered the frame elsewhere) gives no relation; the other still does', async () => {
    const r = await audit(PUBLISHED, [PUBLISHED[0]!, row('prop', 'county_fips', '06001', 4, 6), row('prop', 'county_fips', '06003', 0, 0), PUBLISHED[3]!]);
    expect(r.attacker?.byRelation.existence).toBe(1);
    expect(r.attacker?.dropped.existence).toBe(1);
    // 06001 is in 1..6 (06003 may be 0); 06003 reaches 0
    expect(denominators(r.violations)).toEqual(['06001 1..6']);
  });

  it('a group with a surface row this publication does not carry (a cut the rounds removed) may exist through it alone: no relation', async () => {
    // the surface had prop2 by county too; the rounds removed that cut, 06001's and 06003's rows in it included
    const r = await audit(PUBLISHED, [...TRUTH, row('prop2', 'county_fips', '06001', 1, 3), row('prop2', 'county_fips', '06003', 0, 0)], { metrics: [...METAS, meta('prop2', 'proportion')] });
    expect(r.attacker?.byRelation.existence ?? 0).toBe(0);
    expect(r.violations).toEqual([]);
  });
});

describe('removed cuts and grains', () => {
  // the year 2026 inside a whole span that starts 2025-01-01: the span row is found by the span's start, not the year's
  const year = (metric: string, group: string, n: number | null, d: number | null) => row(metric, group === 'all' ? 'all' : 'county_fips', group, n, d, 'year', '2026-01-01');

  it('a removed year cut of a metric additive over time, its whole span published: the span row is positive whenever a year row is, so the relation stays', async () => {
    // prop adds up over time: the rounds removed its county cut by year, the span stays
    const removed = [year('prop', 'all', 30, 60), year('prop', '06001', 3, 4), year('prop', '06003', 1, 2), year('prop', '06005', 26, 54)];
    const r = await audit([...PUBLISHED, removed[0]!], [...TRUTH, ...removed]);
    expect(r.attacker?.byRelation.existence).toBe(2);
    expect(denominators(r.violations)).toEqual(['06001 1..5', '06003 1..5']);
  });

  it('a metric not additive over time (people under their coverage of the period): a group can be in a year and at nobody at the span, and the relation takes every grain', async () => {
    const people = meta('people', 'proportion');
    people.additiveOverTime = () => false;
    // 06001 has nobody at the span (shown 0) but 3 people in 2025 (withheld; 06003 the other 2 of 5 not shown)
    const published = [
      row('people', 'all', 'all', 30, 60), row('people', 'county_fips', '06001', 0, 0), row('people', 'county_fips', '06005', 30, 60),
      year('people', 'all', 20, 45), year('people', '06001', null, null), year('people', '06003', null, null), year('people', '06005', 18, 40),
      row('people', 'county_fips', '06003', 0, 0),
    ];
    const truth = published.map((x) => (x.group_value === '06001' && x.period_grain === 'year' ? year('people', '06001', 1, 3) : x.group_value === '06003' && x.period_grain === 'year' ? year('people', '06003', 1, 2) : x));
    const r = await audit(published, truth, { metrics: [people] });
    expect(r.attacker?.byRelation.existence).toBe(2);
    // without the year rows in the sum, both could be 0 in 2025; with them, each has someone
    expect(denominators(r.violations)).toEqual(['06001 1..4', '06003 1..4']);
  });

  it('a group whose only possibly positive rows are two-way cells of a metric without its one-way row there: those cells are in the sum', async () => {
    const twoWay = meta('prop3', 'proportion');
    const cell = (group: string, n: number | null, d: number | null) => row('prop3', 'domain*county_fips', group, n, d);
    // prop by county shows 06001 and 06003 at zero; prop3 is published by domain x county only,
    // food*06001 and food*06003 withheld, adding up to 6 from food's margin
    const published = [
      row('prop', 'all', 'all', 30, 60), row('prop', 'county_fips', '06001', 0, 0), row('prop', 'county_fips', '06003', 0, 0), row('prop', 'county_fips', '06005', 30, 60),
      row('prop3', 'all', 'all', 20, 40), row('prop3', 'domain', 'food', 20, 40),
      cell('food*06001', null, null), cell('food*06003', null, null), cell('food*06005', 17, 34),
    ];
    const truth = published.map((x) => (x.group_value === 'food*06001' ? cell('food*06001', 2, 4) : x.group_value === 'food*06003' ? cell('food*06003', 1, 2) : x));
    const r = await audit(published, truth, { metrics: [METAS[0]!, twoWay] });
    expect(r.attacker?.byRelation.existence).toBe(2);
    expect(denominators(r.violations)).toEqual(['food*06001 1..5', 'food*06003 1..5']);
  });

  it('a removed year cut of a metric not additive over time: the group may be in that year alone, so nothing follows', async () => {
    const people = meta('prop', 'proportion');
    people.additiveOverTime = () => false;
    const removed = [year('prop', '06001', 3, 4), year('prop', '06003', 1, 2), year('prop', '06005', 26, 54)];
    const r = await audit([...PUBLISHED, year('prop', 'all', 30, 60)], [...TRUTH, year('prop', 'all', 30, 60), ...removed], { metrics: [people, METAS[1]!] });
    expect(r.attacker?.byRelation.existence ?? 0).toBe(0);
    expect(r.violations).toEqual([]);
  });
});

describe('an export\'s audit', () => {
  it('has neither the truth nor the designed surface, and leaves existence out', async () => {
    const r = await auditResults(PUBLISHED, { metrics: METAS, threshold: 11 });
    expect(r.attacker?.byRelation.existence ?? 0).toBe(0);
    expect(r.violations).toEqual([]);
  });
});

describe('the relation only weakens as the rounds remove cuts (the rounds keep their certificates)', () => {
  // The surface: 06001 (new, every row withheld) in county_fips and domain*county_fips, each at
  // the whole span and two years. Removing cuts one at a time, in every order: while the
  // relation stays, it keeps every term it had (a removed term takes the relation with it),
  // so no removal makes it stronger.
  const grains: Array<[string, string]> = [['all', '2025-01-01'], ['year', '2025-01-01'], ['year', '2026-01-01']];
  const cuts = ['county_fips|all', 'county_fips|year', 'domain*county_fips|all', 'domain*county_fips|year'];
  const surfaceFor = (metric: string): AuditRow[] => [
    ...grains.map(([g, start]) => row(metric, 'all', 'all', 30, 60, g, start)),
    ...grains.map(([g, start]) => row(metric, 'county_fips', '06001', null, null, g, start)),
    ...grains.map(([g, start]) => row(metric, 'domain*county_fips', 'food*06001', null, null, g, start)),
  ];
  const termsWithout = (metric: MetricMeta, removed: ReadonlySet<string>): Set<string> | null => {
    const surface = surfaceFor(metric.id).map((r) => ({ ...r, truth: { numerator: 1, denominator: 2, value: 0.5 } }));
    const carried = surface.filter((r) => !removed.has(`${r.dimension}|${r.period_grain}`));
    const metas = new Map([[metric.id, metric]]);
    const keys = new Set(carried.map((r) => cellKey(r)));
    const cells = carried.map((r) => ({ ...r, shown: r.dimension === 'all' ? { numerator: 30, denominator: 60, value: 0.5 } : null }));
    const [rel] = existenceRelations(cells, metas, null, uncoveredGroups(surface, keys, metas));
    return rel ? new Set(rel.terms.map((t) => t.key)) : null;
  };
  for (const additive of [true, false]) {
    it(`a metric ${additive ? '' : 'not '}additive over time`, () => {
      const metric = meta('prop', 'proportion');
      metric.additiveOverTime = () => additive;
      const orders = (left: string[]): string[][] => (left.length ? left.flatMap((c) => orders(left.filter((x) => x !== c)).map((o) => [c, ...o])) : [[]]);
      let kept = 0;
      for (const order of orders(cuts)) {
        const removed = new Set<string>();
        let before = termsWithout(metric, removed);
        for (const cut of order) {
          removed.add(cut);
          const after = termsWithout(metric, removed);
          if (after && before) {
            for (const t of before) expect(after.has(t), `${[...removed].join(', ')}: lost ${t}`).toBe(true);
            kept++;
          }
          if (after) expect(before, `${[...removed].join(', ')}: a relation appeared`).not.toBeNull();
          before = after;
        }
      }
      expect(kept).toBeGreaterThan(0);
    });
  }
});
