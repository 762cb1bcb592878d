// Issue 14, routes 6 and 8 together: the people behind person-time, between two
// publications. Each person of a pre/post cohort adds one whole 180-day window, 5.871 to
// 5.968 member-months, so member-months pin the number of people. A group withheld now
// whose member-months the attacker can still derive (everyone less the other group) gives
// its people now; the previous publication showed its people then; the difference is a
// protected count's change. Every number below is worked out by hand:
//   30 people x 5.92 = 177.6 member-months: 177.6 / 5.968 = 29.76 and 177.6 / 5.871 = 30.25, so 30
//   15 people x 5.92 =  88.8:                88.8 / 5.968 = 14.88 and  88.8 / 5.871 = 15.13, so 15
//   31 people x 5.92 = 183.52; women now 183.52 - 88.8 = 94.72: 15.87 .. 16.13, so 16
import { describe, expect, test } from 'vitest';
import { auditResults, type AuditRow } from '../../../models/disclosure/index.ts';
import { peopleRule } from '../../../models/disclosure/finalise.ts';
import { metricMetaMap } from '../../../models/disclosure/metricMeta.ts';
import { METRICS } from '../../../models/metrics/catalog.ts';

const PRE = 'ed_visits_pre_referral_per_1000_mm';
const POST = 'ed_visits_post_referral_per_1000_mm';
const people = peopleRule(metricMetaMap(METRICS))!;

const row = (metric: string, group: string, events: number | null, mm: number | null): AuditRow => ({
  metric_id: metric, period_grain: 'all', period_start: '2025-01-01', dimension: group === 'all' ? 'all' : 'sex', group_value: group,
  numerator: events, denominator: mm, value: events === null || mm === null ? null : (1000 * events) / mm, suppressed: events === null,
});
/** Both sides of the cohort for one group: ED visits before (twice those after) and member-months. */
const cohort = (group: string, visits: number | null, mm: number | null) => [row(PRE, group, visits === null ? null : 2 * visits, mm), row(POST, group, visits, mm)];

const audit = (now: AuditRow[], before: AuditRow[]) => auditResults(now, { metrics: METRICS, threshold: 11, previous: before, people });
const peopleChanges = (r: Awaited<ReturnType<typeof audit>>) =>
  r.violations.filter((v) => v.relation === 'disclosure' && v.count === 'P').map((v) => `${v.group_value} ${v.low}..${v.high}: ${v.message}`);

describe('the people behind person-time between consecutive publications (issue 14, routes 6 and 8)', () => {
  test('the rule: one whole 180-day window is 5.871..5.968 member-months', () => {
    expect(people.minPerPerson).toBeCloseTo(182 / 31, 3);
    expect(people.maxPerPerson).toBeCloseTo(185 / 31, 3);
    expect(people.metrics).toContain(PRE);
    expect(people.samePeople.some((g) => g.includes(PRE) && g.includes(POST))).toBe(true);
  });

  // the previous publication: 30 people, 15 women and 15 men, every figure shown
  const before = [...cohort('all', 20, 177.6), ...cohort('female', 10, 88.8), ...cohort('male', 10, 88.8)];

  test('only this rule sees it: everyone 30 to 50 and men 15 to 30 shown (changes of 20 and 15), women withheld: 20 women against 15 then, a change of exactly 5', async () => {
    // 50 x 5.92 = 296 and 30 x 5.92 = 177.6; women 296 - 177.6 = 118.4: 19.84 .. 20.17, so 20;
    // every visit count 12 or more and unchanged
    const then = [...cohort('all', 24, 177.6), ...cohort('female', 12, 88.8), ...cohort('male', 12, 88.8)];
    const r = await audit([...cohort('all', 24, 296), ...cohort('female', null, null), ...cohort('male', 12, 177.6)], then);
    expect(r.violations.map((v) => `${v.relation} ${v.group_value} ${v.count}`)).toEqual(['disclosure female P']);
    expect(peopleChanges(r)).toEqual([
      'female 5..5: the change of withheld people behind the person-time since the previous publication can be derived exactly 5',
    ]);
  });

  test('one woman added, women withheld: everyone less men gives 16 women against 15 shown then, a change of exactly 1', async () => {
    // the new woman had no ED visit, so every event count is as before
    const r = await audit([...cohort('all', 20, 183.52), ...cohort('female', null, null), ...cohort('male', 10, 88.8)], before);
    expect(peopleChanges(r)).toEqual([
      'female 1..1: the change of withheld people behind the person-time since the previous publication can be derived exactly 1',
    ]);
    // the same publication on its own shows nothing: 16 women is not a count in 1..10
    const alone = await auditResults([...cohort('all', 20, 183.52), ...cohort('female', null, null), ...cohort('male', 10, 88.8)], { metrics: METRICS, threshold: 11, people });
    expect(alone.violations.filter((v) => v.count === 'P')).toEqual([]);
  });

  test('eleven women added: a change of 11 people may be derived', async () => {
    // 41 people = 242.72 member-months; women 242.72 - 88.8 = 153.92: 25.79 .. 26.22, so 26 = 15 + 11
    const r = await audit([...cohort('all', 20, 242.72), ...cohort('female', null, null), ...cohort('male', 10, 88.8)], before);
    expect(peopleChanges(r)).toEqual([]);
  });

  test('member-months too many to pin the people then, but a change of 4 or 5 still proven', async () => {
    // then: women 600 member-months, 100.54 .. 102.20, so 101 or 102; now everyone 716.32 less
    // men 88.8 = 627.52: 105.15 .. 106.88, so 106; the change is 4 or 5
    const wide = [...cohort('all', 60, 688.8), ...cohort('female', 50, 600), ...cohort('male', 10, 88.8)];
    const r = await audit([...cohort('all', 60, 716.32), ...cohort('female', null, null), ...cohort('male', 10, 88.8)], wide);
    expect(peopleChanges(r)).toEqual([
      'female 4..5: the change of withheld people behind the person-time since the previous publication can be derived within 4..5',
    ]);
  });

  test('member-months too many to pin the people then: the change could be 0', async () => {
    // then: women 600 member-months, 100.54 .. 102.20, so 101 or 102; now 606: 101.54 .. 103.22, so 102 or 103
    const wide = [...cohort('all', 60, 688.8), ...cohort('female', 50, 600), ...cohort('male', 10, 88.8)];
    const r = await audit([...cohort('all', 60, 694.8), ...cohort('female', null, null), ...cohort('male', 10, 88.8)], wide);
    expect(peopleChanges(r)).toEqual([]);
  });

  test('a group shown now is the primary check on its member-months', async () => {
    const r = await audit([...cohort('all', 20, 183.52), ...cohort('female', 10, 94.72), ...cohort('male', 10, 88.8)], before);
    expect(peopleChanges(r)).toEqual([]);
    const primary = r.violations.filter((v) => v.relation === 'primary' && v.count === 'P' && v.group_value === 'female').map((v) => `${v.metric_id === PRE ? 'pre' : 'post'}: ${v.message}`);
    expect(primary.sort()).toEqual([
      'post: person-time changed by 5.92 member-months since the previous publication: at most 1 people',
      'pre: person-time changed by 5.92 member-months since the previous publication: at most 1 people',
    ]);
  });

  test('across the rows of a cohort: the pre rate shown now, the post rate shown then (16 people against 15)', async () => {
    const only = (rows: AuditRow[]) => rows.filter((x) => x.dimension === 'all');
    // then: pre withheld, post shown (88.8: 15); now: pre shown (94.72: 16), post withheld
    const then = only([row(PRE, 'all', null, null), row(POST, 'all', 10, 88.8)]);
    const now = only([row(PRE, 'all', 20, 94.72), row(POST, 'all', null, null)]);
    const said = (x: Awaited<ReturnType<typeof audit>>) => x.violations.filter((v) => v.count === 'P').map((v) => `${v.relation} ${v.metric_id === PRE ? 'pre' : 'post'}: ${v.message}`);
    expect(said(await audit(now, then))).toEqual(['primary pre: people behind the person-time changed by 1 since the previous publication (member-months now and then): a change in 1..10']);
    // the same when the post row is not published now at all (its cut removed)
    expect(said(await audit(now.filter((x) => x.metric_id === PRE), then))).toEqual(['primary pre: people behind the person-time changed by 1 since the previous publication (member-months now and then): a change in 1..10']);
  });
});
