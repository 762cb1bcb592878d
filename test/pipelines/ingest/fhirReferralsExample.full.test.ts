// Issue 20, part 2: referrals from FHIR ServiceRequest + Task (SDOHCC TaskForReferralManagement),
// through the real binary. Expected values are read off the worked example by hand
// (data/examples/fhir/README.md says what each resource becomes), not from the reader.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeloop } from '../../helpers/closeloopBin.ts';
import { tempStore, type TempStore } from '../../helpers/store.ts';
import { EXPECTED, mismatch } from './fhirReferralsExpected.ts';

const EXAMPLE = new URL('../../../data/examples/fhir/', import.meta.url).pathname;
const referrals = (s: TempStore) => s.warehouse('SELECT * EXCLUDE (_run_id, _file, _line) FROM stg_referrals ORDER BY referral_id');

async function run(s: TempStore) {
  const r = await closeloop(['run', '--db', s.root, '--inbox', s.inbox, '--report', join(s.root, 'report.json')], { cwd: s.root });
  expect(r.code, r.stderr + r.stdout).toBe(0);
  return JSON.parse(readFileSync(join(s.root, 'report.json'), 'utf8')) as { files: Array<{ file: string; entity: string; rows_read: number; rows_loaded: number; rows_quarantined: number; message: string | null }> };
}


describe('the worked FHIR referrals (ServiceRequest.ndjson + Task.ndjson), closeloop run', () => {
  let store: TempStore;
  let report: Awaited<ReturnType<typeof run>>;
  beforeAll(async () => {
    store = tempStore('closeloop-fhir-referrals-');
    for (const f of ['Patient.ndjson', 'ServiceRequest.ndjson', 'Task.ndjson']) store.copy(join(EXAMPLE, f));
    report = await run(store);
  }, 120_000);
  afterAll(() => store?.cleanup());

  it('every mapped value of every referral', async () => {
    expect(await referrals(store)).toEqual(EXPECTED);
    expect(await store.warehouse('SELECT referral_id, _file, _line FROM stg_referrals ORDER BY referral_id')).toEqual([
      // Task files load first in a run, so each referral is built by its ServiceRequest's line
      { referral_id: 'sr-1', _file: 'ServiceRequest.ndjson', _line: 1 },
      { referral_id: 'sr-2', _file: 'ServiceRequest.ndjson', _line: 2 },
      { referral_id: 'sr-3', _file: 'ServiceRequest.ndjson', _line: 3 },
      { referral_id: 'sr-4', _file: 'ServiceRequest.ndjson', _line: 4 },
      { referral_id: 'sr-8', _file: 'ServiceRequest.ndjson', _line: 8 },
    ]);
  });

  it('bad resources are quarantined with file, line, id and rule; a draft is counted, a Task without its ServiceRequest is kept', async () => {
    const q = await closeloop(['quarantine', '--db', store.root, '--json']);
    expect((JSON.parse(q.stdout) as Array<{ file: string; line: number; rule: string; column: string | null; message: string }>).map((x) => [x.file, x.line, x.rule, x.column, x.message])).toEqual([
      ['ServiceRequest.ndjson', 5, 'unknown_code', 'need_domain', 'ServiceRequest/sr-5: ServiceRequest.category has no SDOHCC SDOH category code'],
      ['ServiceRequest.ndjson', 6, 'orphan', 'person_id', 'person_id \'pat-9\' is not among the loaded people (kept; retried on every run)'],
      ['Task.ndjson', 9, 'unknown_code', 'status', 'Task/task-9: Task.status \'received\' is not a status of the SDOHCC referral Task (requested, accepted, rejected, cancelled, in-progress, on-hold, failed, completed)'],
      ['Task.ndjson', 10, 'unknown_code', 'outcome', 'Task/task-10: Task.statusReason code \'105480006\' is not an outcome we map (code the outcome in urn:closeloop:referral-outcome)'],
    ]);
    const sr = report.files.find((f) => f.file === 'ServiceRequest.ndjson')!;
    expect(sr).toMatchObject({ entity: 'referrals', rows_read: 8, rows_loaded: 5, rows_quarantined: 2 });
    expect(sr.message).toBe('ServiceRequest.ndjson (referrals): of its 8 ServiceRequest resources, 3 read with the Task versions kept for them, 1 not read: status draft');
    const task = report.files.find((f) => f.file === 'Task.ndjson')!;
    expect(task).toMatchObject({ entity: 'referrals', rows_read: 10, rows_loaded: 0, rows_quarantined: 2 });
    expect(task.message).toBe('Task.ndjson (referrals): of its 10 Task resources, 8 kept until their ServiceRequest loads (a run loads Task files first)');
    expect(report.files.map((f) => f.file)).toEqual(['Patient.ndjson', 'Task.ndjson', 'ServiceRequest.ndjson']);
  });
});

describe('a referral does not depend on the order its ServiceRequest and Task versions arrive in', () => {
  const stores: TempStore[] = [];
  afterAll(() => stores.forEach((s) => s.cleanup()));

  it('a Task that makes its referral invalid quarantines it rather than leaving it pending (a ServiceRequest loaded before its Task in the same run left a stale pending row; found by the CSV/FHIR comparison)', async () => {
    const s = tempStore('closeloop-fhir-stale-pending-');
    stores.push(s);
    s.add('Patient.ndjson', `${JSON.stringify({ resourceType: 'Patient', id: 'p1', birthDate: '1970-01-01' })}\n`);
    s.add('ServiceRequest.ndjson', `${JSON.stringify({ resourceType: 'ServiceRequest', id: 'sr-1', status: 'active', intent: 'order', subject: { reference: 'Patient/p1' }, authoredOn: '2026-06-03',
      category: [{ coding: [{ system: 'http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes', code: 'food-insecurity' }] }], performer: [{ reference: 'Organization/o1' }] })}\n`);
    s.add('Task.ndjson', `${JSON.stringify({ resourceType: 'Task', id: 't1', status: 'rejected', intent: 'order', focus: { reference: 'ServiceRequest/sr-1' }, lastModified: '2026-05-24' })}\n`);
    await run(s);
    expect(await referrals(s)).toEqual([]);
    expect(await s.warehouse('SELECT file, line, rule, column_name FROM quarantine')).toEqual([{ file: 'ServiceRequest.ndjson', line: 1, rule: 'date_order', column_name: 'closed_on' }]);
  }, 60_000);

  it('a Task for another patient than its ServiceRequest is quarantined (patient_mismatch): a run with both loads the referral for neither patient (other arrival orders: fhirReferrals.full.test.ts)', async () => {
    const { people, sr, task, message } = mismatch;
    // One run with both files (Task files load first, the ServiceRequest's load builds the referral).
    const both = tempStore('closeloop-fhir-task-for-');
    stores.push(both);
    both.add('Patient.ndjson', people);
    both.add('ServiceRequest.ndjson', sr);
    both.add('Task.ndjson', task('p2'));
    await run(both);
    expect(await referrals(both)).toEqual([]);
    expect(await both.warehouse('SELECT file, line, rule, column_name, message FROM quarantine')).toEqual([
      { file: 'ServiceRequest.ndjson', line: 1, rule: 'patient_mismatch', column_name: 'person_id', message },
    ]);
  }, 120_000);

  it('the Tasks a run before their ServiceRequests: kept, then joined when the ServiceRequests arrive', async () => {
    const s = tempStore('closeloop-fhir-task-first-');
    stores.push(s);
    s.copy(join(EXAMPLE, 'Patient.ndjson'));
    s.copy(join(EXAMPLE, 'Task.ndjson'));
    const first = await run(s);
    expect(await referrals(s)).toEqual([]);
    expect(first.files.find((f) => f.file === 'Task.ndjson')!.message).toBe('Task.ndjson (referrals): of its 10 Task resources, 8 kept until their ServiceRequest loads (a run loads Task files first)');
    s.copy(join(EXAMPLE, 'ServiceRequest.ndjson'));
    await run(s);
    expect(await referrals(s)).toEqual(EXPECTED);
  }, 120_000);
});
