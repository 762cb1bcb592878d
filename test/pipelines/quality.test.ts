// Data-quality gates: each kind with a failing fixture; warn publishes and records,
// block publishes nothing and says exactly why (exit code 1), with the results in the
// run history; results are published in quality_checks.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../models/config.ts';
import { resolveChecks, type CheckInput } from '../../pipelines/quality/checks.ts';
import { readPointer, storePaths } from '../../pipelines/store.ts';
import { tempStore, type TempStore } from '../helpers/store.ts';

let store: TempStore;
afterEach(() => store?.cleanup());

const people = (n: number, extra = '') => `person_id,birth_date,enrolled_from,county_fips\n${Array.from({ length: n }, (_, i) => `P${i},1980-01-01,2024-01-01,${i % 2 ? '' : '06037'}`).join('\n')}\n${extra}`;
const services = 'program_id,org_id,org_name,program_name,domain,county_fips,monthly_capacity\nPR1,ORG-1,Org One,Food,food,06037,50\n';
const referrals = (rows: string[]) => `referral_id,person_id,need_domain,referred_on,target_org_id,status,accepted_on,closed_on,outcome\n${rows.join('\n')}\n`;

/** Only the given checks (plus nothing else), as a config. */
function only(checks: CheckInput[]) {
  const all = resolveChecks(undefined).map((c) => c.id);
  return ConfigSchema.parse({ qualityGates: { disable: all, checks } });
}

const history = (root: string) => readFileSync(join(root, 'state', 'runs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));

describe('quality gates', () => {
  it('the defaults pass on a clean drop and are published in quality_checks', async () => {
    store = tempStore();
    store.add('people.csv', people(30));
    store.add('services.csv', services);
    store.add('referrals.csv', referrals([`R1,P1,food,2024-03-01,ORG-1,pending,,,`]));
    const s = await store.run();
    expect(s.status).toBe('published');
    expect(s.quality.filter((q) => q.status === 'block')).toEqual([]);
    const pub = await store.published<{ check_id: string; status: string }>(`SELECT check_id, status FROM quality_checks ORDER BY check_id`);
    expect(pub.length).toBe(s.quality.length);
    expect(pub.find((p) => p.check_id === 'people.county_present')!.status).toBe('warn'); // half the people have no county
  });

  const cases: Array<{ name: string; check: CheckInput; files: Record<string, string>; observed: number }> = [
    { name: 'not_null', check: { id: 'people.county', entity: 'people', kind: 'not_null', column: 'county_fips', severity: 'block', threshold: 0.2 }, files: { 'people.csv': people(10) }, observed: 0.5 },
    { name: 'relationship (orphan rate)', check: { id: 'referrals.org', entity: 'referrals', kind: 'relationship', column: 'target_org_id', references: { entity: 'services', column: 'org_id' }, severity: 'block', threshold: 0.1 },
      files: { 'people.csv': people(5), 'services.csv': services, 'referrals.csv': referrals(['R1,P1,food,2024-03-01,ORG-1,pending,,,', 'R2,P2,food,2024-03-01,ORG-9,pending,,,']) }, observed: 0.5 },
    { name: 'accepted values', check: { id: 'referrals.orgs', entity: 'referrals', kind: 'accepted_values', column: 'target_org_id', values: ['ORG-1'], severity: 'block', threshold: 0 },
      files: { 'people.csv': people(5), 'referrals.csv': referrals(['R1,P1,food,2024-03-01,ORG-1,pending,,,', 'R2,P2,food,2024-03-01,ORG-2,pending,,,']) }, observed: 0.5 },
    { name: 'range', check: { id: 'referrals.recent', entity: 'referrals', kind: 'range', column: 'referred_on', min: '2024-06-01', severity: 'block', threshold: 0 },
      files: { 'people.csv': people(5), 'referrals.csv': referrals(['R1,P1,food,2024-03-01,ORG-1,pending,,,', 'R2,P2,food,2024-07-01,ORG-1,pending,,,']) }, observed: 0.5 },
    { name: 'cross-field', check: { id: 'referrals.accepted', entity: 'referrals', kind: 'cross_field', condition: `NOT (status = 'accepted' AND accepted_on IS NULL)`, severity: 'block', threshold: 0 },
      files: { 'people.csv': people(5), 'referrals.csv': referrals(['R1,P1,food,2024-03-01,ORG-1,accepted,,,', 'R2,P2,food,2024-03-01,ORG-1,accepted,2024-03-02,,']) }, observed: 0.5 },
    // P0 and P1 each have two spans: P0's overlap (another plan, same payer), P1's follow each other
    { name: 'overlapping spans (merged for person-time)', check: { id: 'coverage.overlaps', entity: 'coverage', kind: 'overlapping_spans', person: 'person_id', from: 'coverage_from', through: 'coverage_through', severity: 'block', threshold: 0 },
      files: { 'people.csv': people(2).replace(/2024-01-01/g, ''), 'coverage.csv': 'person_id,coverage_from,coverage_through,payer,plan_id\nP0,2024-01-01,,medicaid,A\nP0,2024-03-01,2024-06-30,medicaid,B\nP1,2024-01-01,2024-02-29,medicaid,\nP1,2024-03-01,,medicaid,\n' }, observed: 0.5 },
    { name: 'quarantine rate', check: { id: 'people.quarantine', entity: 'people', kind: 'quarantine_rate', severity: 'block', threshold: 0.05 },
      files: { 'people.csv': people(9, 'P99,not-a-date,2024-01-01,\n') }, observed: 0.1 },
  ];

  for (const c of cases) {
    it(`${c.name}: block publishes nothing and says why; warn publishes and records`, async () => {
      store = tempStore();
      for (const [n, t] of Object.entries(c.files)) store.add(n, t);
      const blocked = await store.run({ config: only([c.check]) });
      expect(blocked.status).toBe('blocked');
      expect(blocked.exit_code).toBe(1);
      expect(blocked.message).toMatch(new RegExp(`^blocked by 1 data-quality gate: ${c.check.id.replace('.', '\\.')}: `));
      expect(blocked.quality[0]).toMatchObject({ id: c.check.id, status: 'block', observed: c.observed });
      expect(await readPointer(storePaths(store.root))).toBeNull();
      const h = history(store.root).at(-1);
      expect(h).toMatchObject({ status: 'blocked', failure: 'blocked', quality: [{ id: c.check.id, status: 'block' }] });

      const warned = await store.run({ config: only([{ ...c.check, severity: 'warn' }]) });
      expect(warned.status).toBe('published');
      expect(warned.quality[0]).toMatchObject({ id: c.check.id, status: 'warn' });
      expect(await store.published(`SELECT check_id, status FROM quality_checks`)).toEqual([{ check_id: c.check.id, status: 'warn' }]);
    });
  }

  it('unique keys and volume change vs the previous run', async () => {
    store = tempStore();
    store.add('people.csv', people(10));
    const cfg = only([
      { id: 'people.unique_county', entity: 'people', kind: 'unique', columns: ['county_fips'], severity: 'warn', threshold: 0 },
      { id: 'people.volume', entity: 'people', kind: 'volume_change', measure: 'table', severity: 'block', threshold: 0.5 },
    ]);
    const first = await store.run({ config: cfg });
    expect(first.quality.map((q) => [q.id, q.status])).toEqual([['people.unique_county', 'warn'], ['people.volume', 'skip']]);
    // A full refresh from a truncated roster: 10 people -> 3.
    const { rmSync } = await import('node:fs');
    rmSync(join(store.inbox, 'people.csv'));
    store.add('people_small.csv', people(3));
    const second = await store.run({ config: cfg, fullRefresh: true });
    expect(second.status).toBe('blocked');
    expect(second.message).toBe('blocked by 1 data-quality gate: people.volume: people rows went from 10 to 3 (70.0%; block above 50.0%)');
    expect((await store.published<{ n: number }>('SELECT count(*) AS n FROM quality_checks'))[0]!.n).toBe(2); // still the first run's
  });

  it('volume drop of the incoming extract blocks', async () => {
    store = tempStore();
    store.add('referrals.csv', referrals(Array.from({ length: 10 }, (_, i) => `R${i},P1,food,2024-03-01,ORG-1,pending,,,`)));
    store.add('people.csv', people(3));
    const cfg = only([{ id: 'referrals.incoming', entity: 'referrals', kind: 'volume_change', measure: 'incoming', severity: 'block', threshold: 0.5 }]);
    expect((await store.run({ config: cfg })).status).toBe('published');
    store.add('referrals_2.csv', referrals([`R1,P1,food,2024-03-01,ORG-1,accepted,2024-03-02,,`]));
    const s = await store.run({ config: cfg });
    expect(s.status).toBe('blocked');
    expect(s.message).toContain('referrals files read 1 rows, the last load 10');
  });

  it('config errors name the setting', () => {
    expect(() => resolveChecks({ disable: ['nope.nope'], overrides: {}, checks: [] })).toThrow(/no check called nope\.nope/);
    expect(() => resolveChecks({ disable: [], overrides: {}, checks: [{ id: 'x.y', entity: 'people', kind: 'range', column: 'a', severity: 'fatal', threshold: 0 }] })).toThrow(/severity/);
  });
});
