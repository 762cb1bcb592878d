// Issue 14, route 8, through the real binary: a demo drop is published, one referral is
// added (for a new person of a ZIP3 and a county seen nowhere before), the drop is
// published again, and the two exports are compared the way the outside attacker did (a
// diff of every row shown in both; the new groups' rows against the zero rows that fixed
// frames imply). Also the CLI audit of a pair
// of exports (`closeloop audit-suppression FILE --previous FILE`) on hand-made files.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from '../../helpers/cli.ts';
import { keyOf, num, RATE_METRICS, readExportCsv, type ExportRow } from '../../helpers/exportCsv.ts';
import { addTestUser, getAs } from '../../helpers/auth.ts';
import { createApp } from '../../../server/app.ts';

const dir = mkdtempSync(join(tmpdir(), 'closeloop-consecutive-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cutOf = (r: ExportRow) => [r.metric_id, r.period_grain, r.period_start, r.dimension].join('|');
const NEW_ZIP3 = '999';
const NEW_COUNTY = '37999';
const GONE_ZIP3 = '998';
const GONE_COUNTY = '37998';
/** A row of the added person's new ZIP3 or county (one-way, or a part of a two-way group). */
const ofNewGroup = (r: ExportRow) => r.dimension!.split('*').some((d, i) => {
  const g = r.group_value!.split('*')[i];
  return (d === 'zip3' && g === NEW_ZIP3) || (d === 'county_fips' && g === NEW_COUNTY);
});

describe('consecutive publications through closeloop run (issue 14, route 8)', () => {
  let before: ExportRow[] = [];
  let after: ExportRow[] = [];
  let second = '';
  const store = join(dir, 'store');
  beforeAll(async () => {
    const drop = join(dir, 'drop');
    expect((await runCli(['demo', '--people', '800', '--seed', '1414', '--out', drop], {}, 300_000)).code).toBe(0);
    // a person of a ZIP3 and a county nobody else has (a copy of the first person under a new
    // id); before the second run they move to the first person's, and their groups have nobody
    const peopleFile = join(drop, 'people.csv');
    const roster = readFileSync(peopleFile, 'utf8').trimEnd().split('\n');
    const phead = roster[0]!.split(',');
    const col = (c: string) => phead.indexOf(c);
    expect(roster.some((l) => l.split(',')[col('zip')]!.startsWith(GONE_ZIP3) || l.split(',')[col('county_fips')] === GONE_COUNTY)).toBe(false);
    const mover = roster[1]!.split(',');
    const home = [mover[col('zip')]!, mover[col('county_fips')]!];
    mover[col('person_id')] = 'P9999998';
    mover[col('zip')] = `${GONE_ZIP3}01`;
    mover[col('county_fips')] = GONE_COUNTY;
    writeFileSync(peopleFile, [...roster, mover.join(',')].join('\n') + '\n');
    const first = await runCli(['run', '--inbox', drop, '--db', store], {}, 600_000);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect((await runCli(['export', '--metric', 'all', '--db', store, '--out', join(dir, 'before.csv')])).code).toBe(0);
    // one referral more: a copy of a closed one under a new id, for a new person (a copy of
    // its person) of a ZIP3 and a county seen nowhere before (fixed frames)
    const file = join(drop, 'referrals.csv');
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    const head = lines[0]!.split(',');
    const closed = lines.slice(1).reverse().find((l) => l.split(',')[head.indexOf('closed_on')])!.split(',');
    const people = readFileSync(peopleFile, 'utf8').trimEnd().split('\n');
    const person = people.find((l) => l.split(',')[col('person_id')] === closed[head.indexOf('person_id')])!.split(',');
    expect(people.some((l) => l.split(',')[col('zip')]!.startsWith(NEW_ZIP3) || l.split(',')[col('county_fips')] === NEW_COUNTY)).toBe(false);
    person[col('person_id')] = 'P9999999';
    person[col('zip')] = `${NEW_ZIP3}01`;
    person[col('county_fips')] = NEW_COUNTY;
    const moved = people.map((l) => {
      const f = l.split(',');
      if (f[col('person_id')] !== 'P9999998') return l;
      f[col('zip')] = home[0]!;
      f[col('county_fips')] = home[1]!;
      return f.join(',');
    });
    writeFileSync(peopleFile, [...moved, person.join(',')].join('\n') + '\n');
    closed[head.indexOf('referral_id')] = 'R9999999-ADDED';
    closed[head.indexOf('person_id')] = 'P9999999';
    writeFileSync(file, [...lines, closed.join(',')].join('\n') + '\n');
    const run2 = await runCli(['run', '--inbox', drop, '--db', store], {}, 900_000);
    second = run2.stdout;
    expect(run2.code, run2.stdout + run2.stderr).toBe(0);
    expect((await runCli(['export', '--metric', 'all', '--db', store, '--out', join(dir, 'after.csv')])).code).toBe(0);
    before = readExportCsv(join(dir, 'before.csv'));
    after = readExportCsv(join(dir, 'after.csv'));
  }, 1_800_000);

  test('no count shown in both publications changed by 1..10 (numerator, denominator, complement)', () => {
    const was = new Map(before.filter((r) => r.suppressed !== 'true').map((r) => [keyOf(r), r]));
    const small: string[] = [];
    let compared = 0;
    for (const r of after) {
      const b = was.get(keyOf(r));
      if (!b || r.suppressed === 'true' || r.note === 'pending revision') continue;
      const [n0, d0, n1, d1] = [num(b.numerator), num(b.denominator), num(r.numerator), num(r.denominator)];
      compared++;
      // a rate's denominator is person-time (member-months), not a count (the added person's
      // whole months move it by exactly 1 a month; README, Consecutive publications)
      const changes: Array<[string, number | null]> = [['numerator', n0 !== null && n1 !== null ? n1 - n0 : null], ['denominator', d0 !== null && d1 !== null && !RATE_METRICS.has(r.metric_id!) ? d1 - d0 : null]];
      // complements only for proportions and durations (cases - events); a rate's denominator is person-time
      if (n0 !== null && d0 !== null && n1 !== null && d1 !== null && Number.isInteger(d0) && Number.isInteger(d1) && !RATE_METRICS.has(r.metric_id!)) changes.push(['complement', (d1 - n1) - (d0 - n0)]);
      for (const [what, c] of changes) {
        if (c !== null && Number.isInteger(c) && Math.abs(c) >= 1 && Math.abs(c) <= 10) small.push(`${keyOf(r)} ${what} ${c}`);
      }
    }
    expect(compared).toBeGreaterThan(500);
    expect(small).toEqual([]);
  });

  test('rows pending revision show the previous publication\'s figures, run and as-of date, and the run says how many', () => {
    const was = new Map(before.map((r) => [keyOf(r), r]));
    const held = after.filter((r) => r.note === 'pending revision');
    expect(held.length).toBeGreaterThan(0);
    expect(second).toContain(`${held.length.toLocaleString('en-US')} row(s) keep the previous publication's figures, pending revision`);
    for (const r of held) {
      const b = was.get(keyOf(r))!;
      expect(b, keyOf(r)).toBeDefined();
      expect([r.numerator, r.denominator, r.value, r.run_id, r.as_of, r.suppressed], keyOf(r)).toEqual([b.numerator, b.denominator, b.value, b.run_id, b.as_of, 'false']);
    }
    // the headline of closed loops over the whole span counts the added referral: it is held
    expect(held.some((r) => r.metric_id === 'closed_loop_rate' && r.dimension === 'all' && r.period_grain === 'all')).toBe(true);
  });

  test('the trend chart says which of its figures are the previous publication\'s', async () => {
    const app = createApp({ root: store, log: () => undefined });
    try {
      const evaluator = await addTestUser(store, 'evaluator');
      const held = after.filter((r) => r.note === 'pending revision' && r.metric_id === 'closed_loop_rate' && r.dimension === 'all' && r.period_grain === 'quarter');
      expect(held.length).toBeGreaterThan(0);
      const r = await getAs(app, evaluator, '/api/charts/trend.json?metric=closed_loop_rate&grain=quarter');
      expect(r.status).toBe(200);
      expect((r.body.notes as string[]).join(' ')).toMatch(new RegExp(`${held.length === 1 ? 'One figure shows' : `${held.length} figures show`} the previous publication's values, pending revision`));
      expect(r.body.table.rows.filter((x: { pending?: boolean }) => x.pending).length).toBe(held.length);
    } finally {
      app.close();
    }
  });

  test('fixed frames: the ZIP3 and county that lost their one person keep their rows; the new ones show no count 1..10 in periods already published', () => {
    const frames = (rs: ExportRow[]) => {
      const m = new Map<string, Set<string>>();
      for (const r of rs) m.set(cutOf(r), (m.get(cutOf(r)) ?? new Set()).add(r.group_value!));
      return m;
    };
    const [was, now] = [frames(before), frames(after)];
    for (const [d, g] of [['zip3', GONE_ZIP3], ['county_fips', GONE_COUNTY]]) {
      expect(before.some((r) => r.dimension === d && r.group_value === g), `${d}=${g} published the first time`).toBe(true);
      expect(after.some((r) => r.dimension === d && r.group_value === g), `${d}=${g} kept`).toBe(true);
    }
    const lost = [...was].flatMap(([cut, groups]) => (now.has(cut) ? [...groups].filter((g) => !now.get(cut)!.has(g)).map((g) => `${cut}|${g}`) : []));
    expect(lost).toEqual([]);
    // the new groups' rows in cuts the previous publication published without them: a change from the zero row
    const fresh = after.filter((r) => ofNewGroup(r) && was.has(cutOf(r)));
    expect(fresh.filter((r) => r.dimension === 'zip3').length).toBeGreaterThan(0);
    expect(fresh.filter((r) => r.dimension === 'county_fips').length).toBeGreaterThan(0);
    const small = fresh.filter((r) => r.suppressed !== 'true').flatMap((r) => [['numerator', num(r.numerator)], ['denominator', RATE_METRICS.has(r.metric_id!) ? null : num(r.denominator)]]
      .filter(([, v]) => v !== null && Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 10).map(([what, v]) => `${keyOf(r)} ${what} ${v}`));
    expect(small).toEqual([]);
    // withheld, not held at figures the previous publication never printed
    expect(fresh.filter((r) => r.note === 'pending revision').map(keyOf)).toEqual([]);
    expect(fresh.some((r) => r.suppressed === 'true' && r.metric_id === 'closed_loop_rate')).toBe(true);
  });

  test('closeloop audit-suppression after.csv --previous before.csv passes', async () => {
    const r = await runCli(['audit-suppression', join(dir, 'after.csv'), '--previous', join(dir, 'before.csv')], {}, 600_000);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  }, 600_000);

  test('the same audit fails on a pair of hand-made exports that differ by one closed referral, and names the change', async () => {
    const cols = 'metric_id,period_grain,period_start,dimension,group_value,numerator,denominator,value,suppressed,note';
    const line = (g: string, n: number, d: number) => `closed_loop_rate,all,2025-01-01,${g === 'all' ? 'all' : 'sex'},${g},${n},${d},${n / d},false,`;
    writeFileSync(join(dir, 'p0.csv'), [cols, line('all', 30, 60), line('female', 15, 30), line('male', 15, 30)].join('\n') + '\n');
    writeFileSync(join(dir, 'p1.csv'), [cols, line('all', 31, 61), line('female', 16, 31), line('male', 15, 30)].join('\n') + '\n');
    const alone = await runCli(['audit-suppression', join(dir, 'p1.csv')]);
    expect(alone.code, alone.stdout).toBe(0);
    const pair = await runCli(['audit-suppression', join(dir, 'p1.csv'), '--previous', join(dir, 'p0.csv')]);
    expect(pair.code).toBe(1);
    expect(pair.stdout).toContain('closed_loop_rate all 2025-01-01 sex=female: numerator changed by 1 since the previous publication (15 then 16)');
  }, 120_000);
});
