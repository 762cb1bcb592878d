// Issue 20: PRAPARE (LOINC 93025-5) items -> screenings, through the real binary. The
// expected rows are the question texts read by hand against the answer lists in
// data/reference/fhir-codes.json (its README names where each list was read from).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeloop } from '../../helpers/closeloopBin.ts';
import { tempStore, type TempStore } from '../../helpers/store.ts';

const loinc = (code: string) => ({ coding: [{ system: 'http://loinc.org', code }] });
const obs = (id: string, qr: string, question: string, answer: string | null) => ({
  resourceType: 'Observation', id, status: 'final',
  category: [{ coding: [{ system: 'http://hl7.org/fhir/us/core/CodeSystem/us-core-category', code: 'sdoh' }] }],
  code: loinc(question), subject: { reference: 'Patient/p1' }, effectiveDateTime: '2026-03-02T10:00:00-05:00',
  ...(answer ? { valueCodeableConcept: loinc(answer) } : { dataAbsentReason: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/data-absent-reason', code: 'asked-declined' }] } }),
  derivedFrom: [{ reference: `QuestionnaireResponse/${qr}` }],
});

describe('PRAPARE items -> screenings (closeloop run)', () => {
  let store: TempStore;
  beforeAll(async () => {
    store = tempStore('closeloop-prapare-');
    store.add('Patient.ndjson', `${JSON.stringify({ resourceType: 'Patient', id: 'p1', birthDate: '1980-05-05' })}\n`);
    const lines = [
      { resourceType: 'Observation', id: 'panel', status: 'final', code: loinc('93025-5'), subject: { reference: 'Patient/p1' }, hasMember: [{ reference: 'Observation/o1' }] },
      obs('o1', 'qr-p', '71802-3', 'LA30190-5'), // line 2: I do not have housing -> housing_instability positive
      obs('o2', 'qr-p', '93033-9', 'LA32-8'), //    line 3: not worried about losing it -> negative (the domain stays positive)
      obs('o3', 'qr-p', '93030-5', 'LA32-8'), //    line 4: transportation No: AHC's answer too; the screening's other items say PRAPARE
      obs('o4', 'qr-p', '93026-3', 'LA32-8'), //    line 5: does not feel safe where they live -> interpersonal_safety positive
      obs('o5', 'qr-p', '76501-6', 'LA4720-4'), //  line 6: no partner in the past year -> negative
      obs('o6', 'qr-q', '93030-5', 'LA30134-3'), // line 7: kept from non-medical appointments -> transportation positive, PRAPARE
      obs('o7', 'qr-q', '93033-9', null), //         line 8: declined -> housing_instability declined (93033-9 is PRAPARE's only)
      obs('o8', 'qr-q', '93026-3', 'LA14072-5'), //  line 9: Unsure: no scoring we could verify -> quarantined
      obs('o9', 'qr-a', '93030-5', 'LA32-8'), //     line 10: transportation No alone: the first instrument listed, AHC HRSN
      obs('o10', 'qr-b', '71802-3', 'LA31995-6'), // line 11: AHC's answer to the shared housing question -> AHC HRSN positive
    ];
    store.add('Observation.ndjson', `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    const r = await closeloop(['run', '--db', store.root, '--inbox', store.inbox, '--report', join(store.root, 'report.json')], { cwd: store.root });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    JSON.parse(readFileSync(join(store.root, 'report.json'), 'utf8'));
  }, 120_000);
  afterAll(() => store?.cleanup());

  it('each PRAPARE answer scored, the instrument from the answer (or the screening), one row per screening and domain', async () => {
    const row = (screening_id: string, instrument: string, domain: string, result: string, _line: number) => ({ screening_id, instrument, domain, result, _line });
    expect(await store.warehouse('SELECT screening_id, instrument, domain, result, _line FROM stg_screenings ORDER BY screening_id, domain')).toEqual([
      row('qr-a', 'ahc_hrsn', 'transportation', 'negative', 10),
      row('qr-b', 'ahc_hrsn', 'housing_instability', 'positive', 11),
      row('qr-p', 'prapare', 'housing_instability', 'positive', 2),
      row('qr-p', 'prapare', 'interpersonal_safety', 'positive', 5),
      row('qr-p', 'prapare', 'transportation', 'negative', 4),
      row('qr-q', 'prapare', 'housing_instability', 'declined', 8),
      row('qr-q', 'prapare', 'transportation', 'positive', 7),
    ]);
  });

  it('an answer without a verified scoring is quarantined with its line and the answers we read', async () => {
    const q = await store.warehouse<{ line: number; rule: string; message: string }>('SELECT line, rule, message FROM quarantine');
    expect(q).toEqual([{ line: 9, rule: 'unknown_code', message: "Observation/o8: answer 'LA14072-5' to LOINC 93026-3 is not one of LA32-8, LA33-6, LA30122-8" }]);
  });
});
