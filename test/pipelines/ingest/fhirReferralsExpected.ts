// The referrals of the worked FHIR example (data/examples/fhir: ServiceRequest.ndjson + Task.ndjson),
// worked out by hand from the resources (see the example's README), not from the reader.
const r = (referral_id: string, person_id: string, need_domain: string, referred_on: string, source_org_id: string | null, target_org_id: string, program_id: string | null,
  status: string, accepted_on: string | null, service_started_on: string | null, closed_on: string | null, outcome: string | null) =>
  ({ referral_id, person_id, need_domain, referred_on, source_org_id, target_org_id, program_id, status, accepted_on, service_started_on, closed_on, outcome });

export const EXPECTED = [
  // task-1: requested, accepted 04-03, in progress from 04-05 (executionPeriod.start), completed 04-20 with only a text reason -> need_met
  r('sr-1', 'pat-1', 'food', '2025-04-02', 'org-clinic', 'org-foodbank', 'prog-pantry', 'completed', '2025-04-03', '2025-04-05', '2025-04-20', 'need_met'),
  // task-2: rejected on 06-12, statusReason coded no_capacity; the requester is a Practitioner: no source organisation
  r('sr-2', 'pat-2', 'housing_instability', '2025-06-10', null, 'org-housing', null, 'rejected', null, null, '2025-06-12', 'no_capacity'),
  // no Task: pending
  r('sr-3', 'pat-3', 'transportation', '2025-09-01', 'org-clinic', 'org-rides', null, 'pending', null, null, null, null),
  // task-4: accepted 05-02, then on hold: in_progress; Task.owner org-energy overrides the requested performer
  r('sr-4', 'pat-1', 'utilities', '2025-05-01', 'org-clinic', 'org-energy', null, 'in_progress', '2025-05-02', null, null, null),
  // homelessness -> housing_instability; both its Tasks are quarantined, so it stays pending
  r('sr-8', 'pat-4', 'housing_instability', '2025-08-21', 'org-clinic', 'org-housing', null, 'pending', null, null, null, null),
];

/** A referral whose Task is for another patient (p2) than its ServiceRequest (p1): the patient_mismatch cases. */
export const mismatch = {
  people: `${['p1', 'p2'].map((id) => JSON.stringify({ resourceType: 'Patient', id, birthDate: '1970-01-01' })).join('\n')}\n`,
  sr: `${JSON.stringify({ resourceType: 'ServiceRequest', id: 'sr-1', status: 'active', intent: 'order', subject: { reference: 'Patient/p1' }, authoredOn: '2026-06-03',
    category: [{ coding: [{ system: 'http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes', code: 'food-insecurity' }] }], performer: [{ reference: 'Organization/o1' }] })}\n`,
  task: (forPatient: string) => `${JSON.stringify({ resourceType: 'Task', id: 't1', status: 'accepted', intent: 'order', focus: { reference: 'ServiceRequest/sr-1' },
    for: { reference: `Patient/${forPatient}` }, lastModified: '2026-06-04' })}\n`,
  message: 'ServiceRequest/sr-1: its Task is for Patient/p2, the ServiceRequest (subject) for Patient/p1',
};
