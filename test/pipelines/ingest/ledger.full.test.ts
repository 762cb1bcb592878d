// The load ledger, whole-file rejection, replacement by key, orphan retry and --full-refresh,
// each over several runs of one store (full tier: about 27 s, moved out of `npm test` to keep it
// under five minutes).
import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readPointer, storePaths } from '../../../pipelines/store.ts';
import { tempStore, type TempStore } from '../../helpers/store.ts';

const PEOPLE = 'person_id,birth_date,enrolled_from\nP1,1980-01-01,2024-01-01\nP2,1981-01-01,2024-01-01\n';
const REFERRALS_HEADER = 'referral_id,person_id,need_domain,referred_on,target_org_id,status';

let store: TempStore;
afterEach(() => store?.cleanup());

describe('load ledger', () => {
  it('loads once; an unchanged re-run does no work and changes nothing', async () => {
    store = tempStore();
    store.add('people.csv', PEOPLE);
    store.add('referrals.csv', `${REFERRALS_HEADER}\nR1,P1,food,2024-03-01,ORG-1,pending\n`);
    const first = await store.run();
    expect(first.status).toBe('published');
    expect(first.files.map((f) => f.rows_loaded)).toEqual([2, 1]);
    const pointer = await readPointer(storePaths(store.root));

    const second = await store.run();
    expect(second.status).toBe('unchanged');
    expect(second.files).toEqual([]);
    expect(await readPointer(storePaths(store.root))).toEqual(pointer);
  });

  it('reloads a changed file, and recognises the same content under a new name', async () => {
    store = tempStore();
    store.add('people.csv', PEOPLE);
    const path = store.add('referrals.csv', `${REFERRALS_HEADER}\nR1,P1,food,2024-03-01,ORG-1,pending\n`);
    await store.run();
    writeFileSync(path, `${REFERRALS_HEADER}\nR1,P1,food,2024-03-01,ORG-1,accepted\nR2,P2,food,2024-03-02,ORG-1,pending\n`);
    utimesSync(path, new Date('2030-01-01'), new Date('2030-01-01'));
    const changed = await store.run();
    expect(changed.status).toBe('published');
    expect(changed.files.map((f) => [f.file, f.rows_loaded])).toEqual([['referrals.csv', 2]]);
    expect(await store.warehouse('SELECT referral_id, status FROM stg_referrals ORDER BY 1')).toEqual([
      { referral_id: 'R1', status: 'accepted' },
      { referral_id: 'R2', status: 'pending' },
    ]);
    store.copy(path, 'referrals_copy.csv');
    const renamed = await store.run();
    expect(renamed.status).toBe('unchanged');
  });

  it('rejects an unreadable file whole, loads the rest, and keeps what was loaded before', async () => {
    store = tempStore();
    store.add('people.csv', PEOPLE);
    store.add('referrals.csv', `${REFERRALS_HEADER}\nR1,P1,food,2024-03-01,ORG-1,pending\n`);
    await store.run();
    store.add('referrals_2.csv', 'referral_id,person_id,need_domain,referred_on,status\nR1,P1,food,2024-03-01,cancelled\n');
    store.add('referrals_3.csv', Buffer.from([0x72, 0x65, 0x66, 0xff, 0xfe, 0x2c, 0x0a, 0x41, 0x42]));
    store.add('encounters.csv', Buffer.concat([Buffer.from('encounter_id,person_id\n'), Buffer.from([0, 1, 2, 3])]));
    store.add('encounters_ok.csv', 'encounter_id,person_id,encounter_type,start_date\nE1,P1,ed,2024-04-01\n');
    const s = await store.run();
    expect(s.exit_code).toBe(2);
    const byFile = Object.fromEntries(s.files.map((f) => [f.file, f]));
    expect(byFile['referrals_2.csv']!.message).toBe('referrals_2.csv: rejected whole: missing required column target_org_id');
    expect(byFile['referrals_3.csv']!.message).toMatch(/^referrals_3\.csv: rejected whole: the file is not valid UTF-8/);
    expect(byFile['encounters.csv']!.message).toMatch(/^encounters\.csv: rejected whole: the file contains a NUL byte/);
    expect(byFile['encounters_ok.csv']!.rows_loaded).toBe(1);
    expect(await store.warehouse('SELECT referral_id, status FROM stg_referrals')).toEqual([{ referral_id: 'R1', status: 'pending' }]);
    expect(await store.warehouse('SELECT count(*) AS n FROM stg_encounters')).toEqual([{ n: 1 }]);
  });

  it('a later run replaces rows by key, keeps a person whose new row is bad, and retries orphans', async () => {
    store = tempStore();
    store.add('people.csv', PEOPLE);
    store.add('referrals.csv', `${REFERRALS_HEADER}\nR1,P1,food,2024-03-01,ORG-1,pending\nR2,P3,food,2024-03-02,ORG-1,pending\n`);
    const first = await store.run();
    expect(first.files[1]!.reasons).toEqual([{ rule: 'orphan', column: 'person_id', count: 1 }]);

    store.add('people_2.csv', 'person_id,birth_date,enrolled_from\nP3,1990-01-01,2024-01-01\nP1,not-a-date,2024-01-01\n');
    await store.run();
    expect(await store.warehouse('SELECT referral_id, person_id FROM stg_referrals ORDER BY 1')).toEqual([
      { referral_id: 'R1', person_id: 'P1' },
      { referral_id: 'R2', person_id: 'P3' },
    ]);
    expect(await store.warehouse(`SELECT birth_date FROM stg_people WHERE person_id = 'P1'`)).toEqual([{ birth_date: '1980-01-01' }]);
    expect(await store.warehouse(`SELECT rule, status FROM quarantine ORDER BY line, rule`)).toEqual([
      { rule: 'bad_date', status: 'open' },
      { rule: 'orphan', status: 'resolved' },
    ]);
  });

  it('--full-refresh rebuilds from the inbox alone', async () => {
    store = tempStore();
    store.add('people.csv', PEOPLE);
    const old = store.add('referrals_old.csv', `${REFERRALS_HEADER}\nR9,P1,food,2024-03-01,ORG-1,pending\n`);
    await store.run();
    const { rmSync } = await import('node:fs');
    rmSync(old);
    store.add('referrals.csv', `${REFERRALS_HEADER}\nR1,P1,food,2024-03-01,ORG-1,pending\n`);
    await store.run();
    expect((await store.warehouse('SELECT referral_id FROM stg_referrals ORDER BY 1')).map((r) => r.referral_id)).toEqual(['R1', 'R9']);
    const refreshed = await store.run({ fullRefresh: true });
    expect(refreshed.status).toBe('published');
    expect((await store.warehouse('SELECT referral_id FROM stg_referrals ORDER BY 1')).map((r) => r.referral_id)).toEqual(['R1']);
  });

  it('a file that belongs to no entity is rejected with a message saying how to name it', async () => {
    store = tempStore();
    store.add('people.csv', PEOPLE);
    store.add('notes.txt', 'hello');
    const s = await store.run();
    expect(s.exit_code).toBe(2);
    expect(s.files.find((f) => f.file === 'notes.txt')!.message).toMatch(/not a data file of any entity/);
    expect(join(store.root)).toBeTruthy();
  });
});
