// Task (SDOHCC TaskForReferralManagement) -> one version of a referral's state: each status
// of the SDOHCC referral Task value set, and where the outcome comes from. Expected values
// are the mapping table's documented choices (data/reference/fhir-codes.README.md).
import { describe, expect, it } from 'vitest';
import { mapResource } from '../../../pipelines/ingest/fhir/resources.ts';

const OUT = 'urn:closeloop:referral-outcome';
const task = (extra: object) => mapResource({
  resourceType: 'Task', id: 't1', status: 'requested', intent: 'order', focus: { reference: 'ServiceRequest/sr-1' }, lastModified: '2025-04-03T23:30:00-04:00', ...extra,
}, 'Task', 'referrals');
const value = (extra: object, key: string) => {
  const o = task(extra);
  return o.kind === 'side' ? o.values[key] : o;
};

describe('Task -> referral state', () => {
  it('each status of the SDOHCC referral Task value set maps to ours; draft and entered-in-error are not read; ready and received (left out of the value set) are unknown_code', () => {
    const want: Record<string, string> = {
      requested: 'pending', accepted: 'accepted', rejected: 'rejected', cancelled: 'cancelled',
      'in-progress': 'in_progress', 'on-hold': 'in_progress', failed: 'completed', completed: 'completed',
    };
    for (const [status, ours] of Object.entries(want)) expect(value({ status }, 'status'), status).toBe(ours);
    expect(task({ status: 'draft' })).toEqual({ kind: 'not_read', reason: 'status draft' });
    expect(task({ status: 'entered-in-error' })).toEqual({ kind: 'not_read', reason: 'status entered-in-error' });
    for (const status of ['ready', 'received']) expect(task({ status })).toMatchObject({ kind: 'reject', rule: 'unknown_code', column: 'status' });
  });

  it('the outcome: a code of our outcome system in statusReason or output; else the closed status\'s default; an open Task has none', () => {
    expect(value({ status: 'completed' }, 'outcome')).toBe('need_met');
    expect(value({ status: 'failed', statusReason: { text: 'Client moved away' } }, 'outcome')).toBe('need_not_met');
    expect(value({ status: 'rejected', statusReason: { text: 'Not eligible here' } }, 'outcome')).toBe('other');
    expect(value({ status: 'cancelled' }, 'outcome')).toBe('other');
    expect(value({ status: 'rejected', statusReason: { coding: [{ system: OUT, code: 'ineligible' }], text: 'Over the income limit' } }, 'outcome')).toBe('ineligible');
    expect(value({ status: 'completed', output: [{ valueCodeableConcept: { coding: [{ system: OUT, code: 'client_declined' }] } }] }, 'outcome')).toBe('client_declined');
    expect(value({ status: 'in-progress', statusReason: { coding: [{ system: OUT, code: 'need_met' }] } }, 'outcome')).toBeNull();
  });

  it('an outcome code we cannot read is unknown_code: another system\'s statusReason code, or a code our system does not have', () => {
    expect(task({ status: 'cancelled', statusReason: { coding: [{ system: 'http://snomed.info/sct', code: '105480006' }], text: 'Refused' } }))
      .toMatchObject({ kind: 'reject', rule: 'unknown_code', column: 'outcome' });
    expect(task({ status: 'completed', statusReason: { coding: [{ system: OUT, code: 'solved' }] } }))
      .toMatchObject({ kind: 'reject', rule: 'unknown_code', column: 'outcome', message: expect.stringContaining("'solved'") });
  });

  it('dates: the calendar day of lastModified as written (else meta.lastUpdated, else authoredOn); the executionPeriod; owner -> target organisation', () => {
    const o = task({ status: 'completed', executionPeriod: { start: '2025-04-05', end: '2025-04-20T16:00:00-04:00' }, owner: { reference: 'Organization/org-9' }, meta: { versionId: '4' } });
    expect(o).toEqual({ kind: 'side', values: {
      task_id: 't1', referral_id: 'sr-1', fhir_status: 'completed', status: 'completed', modified: '2025-04-03T23:30:00-04:00', version: '4',
      on_date: '2025-04-03', started_on: '2025-04-05', ended_on: '2025-04-20', outcome: 'need_met', owner_org_id: 'org-9', for_person_id: null,
    } });
    expect(value({ lastModified: undefined, meta: { lastUpdated: '2025-05-01T00:00:00Z' } }, 'on_date')).toBe('2025-05-01');
    expect(task({ focus: { reference: 'Patient/p1' } })).toMatchObject({ kind: 'reject', rule: 'missing_reference', column: 'referral_id' });
  });
});

describe('ServiceRequest -> referral', () => {
  const sr = (extra: object) => mapResource({
    resourceType: 'ServiceRequest', id: 'sr-1', status: 'active', intent: 'order', subject: { reference: 'Patient/p1' }, authoredOn: '2025-04-02',
    category: [{ coding: [{ system: 'http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes', code: 'food-insecurity' }] }], ...extra,
  }, 'ServiceRequest', 'referrals');

  it('category -> need domain through the table; an SDOH category we do not list, or none, is unknown_code', () => {
    expect(sr({})).toMatchObject({ kind: 'side', values: { need_domain: 'food', source_org_id: null, target_org_id: null, program_id: null } });
    expect(sr({ category: [{ coding: [{ system: 'http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes', code: 'digital-access' }] }] }))
      .toMatchObject({ kind: 'reject', rule: 'unknown_code', column: 'need_domain' });
    expect(sr({ category: undefined })).toMatchObject({ kind: 'reject', rule: 'unknown_code', column: 'need_domain' });
  });

  it('requester Organization -> source; performer Organization -> target, HealthcareService -> program; subject must be a Patient', () => {
    expect(sr({ requester: { reference: 'Organization/o1' }, performer: [{ reference: 'HealthcareService/hs1' }, { reference: 'Organization/o2' }] }))
      .toMatchObject({ kind: 'side', values: { source_org_id: 'o1', target_org_id: 'o2', program_id: 'hs1' } });
    expect(sr({ subject: { reference: 'Group/g1' } })).toMatchObject({ kind: 'reject', rule: 'missing_reference', column: 'person_id' });
    expect(sr({ status: 'draft' })).toEqual({ kind: 'not_read', reason: 'status draft' });
  });
});
