// The slow cases of fhirReferrals.test.ts (more runs): Task versions that arrive out of order across files.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeloop } from '../../helpers/closeloopBin.ts';
import { tempStore, type TempStore } from '../../helpers/store.ts';
import { EXPECTED } from './fhirReferralsExpected.ts';

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
});
