// The slow cases of fhirReferralsExample.full.test.ts (more runs): Task versions that arrive out of order across files, a Task for another patient arriving after its ServiceRequest.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeloop } from '../../helpers/closeloopBin.ts';
import { tempStore, type TempStore } from '../../helpers/store.ts';
import { EXPECTED, mismatch } from './fhirReferralsExpected.ts';

const EXAMPLE = new URL('../../../data/examples/fhir/', import.meta.url).pathname;
const lines = (f: string) => readFileSync(join(EXAMPLE, f), 'utf8').trimEnd().split('\n');
const referrals = (s: TempStore) => s.warehouse('SELECT * EXCLUDE (_run_id, _file, _line) FROM stg_referrals ORDER BY referral_id');

async function run(s: TempStore) {
  const r = await closeloop(['run', '--db', s.root, '--inbox', s.inbox], { cwd: s.root });
  expect(r.code, r.stderr + r.stdout).toBe(0);
}

describe('a referral Task\'s history across files', () => {
  const stores: TempStore[] = [];
  afterAll(() => stores.forEach((s) => s.cleanup()));

  it('a Task\'s versions in two later files, newest first: accepted_on still comes from the accepted version', async () => {
    const s = tempStore('closeloop-fhir-task-versions-');
    stores.push(s);
    s.copy(join(EXAMPLE, 'Patient.ndjson'));
    s.copy(join(EXAMPLE, 'ServiceRequest.ndjson'));
    const task = lines('Task.ndjson');
    s.add('Task_1.ndjson', `${[task[2], task[3]].join('\n')}\n`); // task-1 in progress, then completed
    await run(s);
    expect((await referrals(s)).find((x) => x.referral_id === 'sr-1')).toEqual({ ...EXPECTED[0], accepted_on: null });
    s.add('Task_2.ndjson', `${[task[0], task[1], ...task.slice(4)].join('\n')}\n`); // the older versions, and the other Tasks
    await run(s);
    expect(await referrals(s)).toEqual(EXPECTED);
  }, 120_000);

  it('a Task for another patient than its ServiceRequest arriving after it quarantines the referral it would change (patient_mismatch); the same patient loads', async () => {
    const { people, sr, task, message } = mismatch;
    // The ServiceRequest first (a pending referral for p1), its Task later: the Task's load quarantines the referral it would change.
    const later = tempStore('closeloop-fhir-task-for-later-');
    stores.push(later);
    later.add('Patient.ndjson', people);
    later.add('ServiceRequest.ndjson', sr);
    await run(later);
    expect(await referrals(later)).toMatchObject([{ referral_id: 'sr-1', person_id: 'p1', status: 'pending' }]);
    later.add('Task.ndjson', task('p2'));
    await run(later);
    expect(await later.warehouse(`SELECT file, line, rule, message FROM quarantine WHERE rule = 'patient_mismatch'`)).toEqual([{ file: 'Task.ndjson', line: 1, rule: 'patient_mismatch', message }]);
    // As with any later file that makes a loaded row invalid, the pending row loaded before stays (the quarantine says why it was not updated).
    expect(await referrals(later)).toMatchObject([{ referral_id: 'sr-1', person_id: 'p1', status: 'pending' }]);
    // A Task for the same patient loads as before.
    const same = tempStore('closeloop-fhir-task-for-same-');
    stores.push(same);
    same.add('Patient.ndjson', people);
    same.add('ServiceRequest.ndjson', sr);
    same.add('Task.ndjson', task('p1'));
    await run(same);
    expect(await referrals(same)).toMatchObject([{ referral_id: 'sr-1', person_id: 'p1', status: 'accepted', accepted_on: '2026-06-04' }]);
  }, 120_000);
});
