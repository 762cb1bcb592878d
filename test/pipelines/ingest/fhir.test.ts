// Issue 20: FHIR Bulk Data ndjson files in the inbox, through the real binary. The
// expected values are read off the worked example by hand (data/examples/fhir/README.md
// lists each resource and what it becomes), not from the reader's output.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeloop } from '../../helpers/closeloopBin.ts';
import { tempStore, type TempStore } from '../../helpers/store.ts';

const EXAMPLE = new URL('../../../data/examples/fhir/', import.meta.url).pathname;
const staged = (s: TempStore, e: string) => s.warehouse(`SELECT * EXCLUDE (_run_id${e === 'coverage' ? ', _roster' : ''}) FROM stg_${e} ORDER BY ALL`);

describe('the worked FHIR example (data/examples/fhir), closeloop run', () => {
  let store: TempStore;
  let report: { files: Array<{ file: string; entity: string; rows_read: number; rows_loaded: number; rows_quarantined: number; message: string | null }>; skipped: unknown[] };
  beforeAll(async () => {
    store = tempStore('closeloop-fhir-example-');
    for (const f of readdirSync(EXAMPLE).filter((n) => n.endsWith('.ndjson'))) store.copy(join(EXAMPLE, f));
    const r = await closeloop(['run', '--db', store.root, '--inbox', store.inbox, '--report', join(store.root, 'report.json')], { cwd: store.root });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    report = JSON.parse(readFileSync(join(store.root, 'report.json'), 'utf8'));
  }, 120_000);
  afterAll(() => store?.cleanup());

  it('Patient -> people: birth date, sex, race and ethnicity, ZIP, county code, language, death date', async () => {
    const base = { rurality: 'unknown', payer: 'unknown', program_id: null, enrolled_from: null, enrolled_through: null, _file: 'Patient.ndjson' };
    expect(await staged(store, 'people')).toEqual([
      { ...base, person_id: 'pat-1', birth_date: '1961-04-12', sex: 'female', race_ethnicity: 'white', preferred_language: 'es', zip: '27701', county_fips: '37063', death_date: null, _line: 1 },
      { ...base, person_id: 'pat-2', birth_date: '1990-11-02', sex: 'male', race_ethnicity: 'hispanic_latino', preferred_language: 'en', zip: '27705', county_fips: null, death_date: null, _line: 2 },
      { ...base, person_id: 'pat-3', birth_date: '1955-02-28', sex: 'female', race_ethnicity: 'multiracial', preferred_language: 'unknown', zip: '27514', county_fips: '37135', death_date: '2026-03-14', _line: 3 },
      { ...base, person_id: 'pat-4', birth_date: '1975-07-07', sex: 'unknown', race_ethnicity: 'middle_eastern_north_african', preferred_language: 'unknown', zip: null, county_fips: null, death_date: null, _line: 4 },
    ]);
  });

  it('Coverage -> coverage spans: period, payer from the payment typology, program and plan from Coverage.class', async () => {
    const f = { _file: 'Coverage.ndjson' };
    expect(await staged(store, 'coverage')).toEqual([
      { ...f, person_id: 'pat-1', coverage_from: '2025-01-01', coverage_through: null, payer: 'medicaid', program_id: 'ACO-DURHAM', plan_id: 'MCD-STD', _line: 1 },
      { ...f, person_id: 'pat-2', coverage_from: '2025-03-01', coverage_through: '2026-02-28', payer: 'dual', program_id: 'ACO-DURHAM', plan_id: null, _line: 2 },
      { ...f, person_id: 'pat-3', coverage_from: '2024-06-01', coverage_through: '2026-03-14', payer: 'commercial', program_id: 'CLINIC-ORANGE', plan_id: null, _line: 3 },
      { ...f, person_id: 'pat-4', coverage_from: '2025-01-01', coverage_through: null, payer: 'unknown', program_id: null, plan_id: null, _line: 4 },
    ]);
  });

  it('Encounter -> encounters: class, dates as written (local), a cancelled encounter counted and not loaded', async () => {
    const f = { _file: 'Encounter.ndjson', paid_amount: null };
    expect(await staged(store, 'encounters')).toEqual([
      { ...f, encounter_id: 'enc-1', person_id: 'pat-1', encounter_type: 'ed', start_date: '2025-05-03', end_date: '2025-05-04', _line: 1 },
      { ...f, encounter_id: 'enc-2', person_id: 'pat-1', encounter_type: 'inpatient', start_date: '2025-05-04', end_date: '2025-05-08', _line: 2 },
      { ...f, encounter_id: 'enc-3', person_id: 'pat-2', encounter_type: 'outpatient', start_date: '2025-06-10', end_date: '2025-06-10', _line: 3 },
      { ...f, encounter_id: 'enc-5', person_id: 'pat-4', encounter_type: 'other', start_date: '2025-08-20', end_date: '2025-08-20', _line: 5 },
    ]);
    const enc = report.files.find((x) => x.entity === 'encounters')!;
    expect(enc).toMatchObject({ rows_read: 5, rows_loaded: 4, rows_quarantined: 0 });
    expect(enc.message).toBe('Encounter.ndjson (encounters): of its 5 Encounter resources, 1 not read: status cancelled');
  });

  it('Observation -> screenings: one row per screening and domain, the answers scored, declined from dataAbsentReason', async () => {
    const s = (screening_id: string, person_id: string, screened_on: string, domain: string, result: string, _line: number) =>
      ({ screening_id, person_id, screened_on, instrument: 'ahc_hrsn', domain, result, _file: 'Observation.ndjson', _line });
    expect(await staged(store, 'screenings')).toEqual([
      s('obs-11', 'pat-3', '2025-09-01', 'housing_instability', 'negative', 12),
      s('qr-1', 'pat-1', '2025-04-02', 'food', 'positive', 3), // never true + sometimes true
      s('qr-1', 'pat-1', '2025-04-02', 'housing_instability', 'positive', 2),
      s('qr-1', 'pat-1', '2025-04-02', 'interpersonal_safety', 'positive', 7), // total 12 >= 11
      s('qr-1', 'pat-1', '2025-04-02', 'transportation', 'negative', 5),
      s('qr-1', 'pat-1', '2025-04-02', 'utilities', 'declined', 6),
      s('qr-2', 'pat-2', '2025-06-10', 'food', 'negative', 9),
      s('qr-2', 'pat-2', '2025-06-10', 'interpersonal_safety', 'negative', 11), // total 6
    ]);
  });

  it('Observation -> phq9: the total score (44261-6) and the items its hasMember lists; the file\'s other Observations are counted, by reason', async () => {
    const none = Object.fromEntries([1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => [`item_${n}`, null]));
    const items = { item_1: 2, item_2: 2, item_3: 2, item_4: 2, item_5: 2, item_6: 1, item_7: 1, item_8: 1, item_9: 1 };
    expect(await staged(store, 'phq9')).toEqual([
      { assessment_id: 'obs-12', person_id: 'pat-1', assessed_on: '2025-04-02', total_score: 14, ...items, _file: 'Observation.ndjson', _line: 13 },
      { assessment_id: 'obs-13', person_id: 'pat-2', assessed_on: '2025-06-10', total_score: 3, ...none, _file: 'Observation.ndjson', _line: 14 },
    ]);
    expect(report.files.find((x) => x.entity === 'screenings')!.message).toBe('Observation.ndjson (screenings): of its 24 Observation resources, '
      + '11 read as phq9, 1 not read: panel (its member Observations are read), 1 not read: safety item (read through its total score), 1 not read: not a screening or PHQ-9 Observation');
    // rows_read: the resources each load accounts for; the two add up to the file's 24.
    expect(report.files.find((x) => x.entity === 'screenings')).toMatchObject({ rows_read: 13, rows_loaded: 8, rows_quarantined: 0 });
    expect(report.files.find((x) => x.entity === 'phq9')).toMatchObject({ rows_read: 11, rows_loaded: 2, rows_quarantined: 0 });
    expect(report.files.find((x) => x.entity === 'phq9')!.message).toBe('Observation.ndjson (phq9): of its 24 Observation resources, 10 read as screenings, 9 read as items of their PHQ-9 total, the rest in the screenings report');
  });
});

describe('bad FHIR resources are quarantined with their file, line, id and rule (closeloop quarantine --json)', () => {
  let store: TempStore;
  let summary: { files: Array<{ file: string; entity: string; rows_loaded: number; rows_quarantined: number; rejected: boolean; message: string | null }>; skipped: Array<{ file: string; reason: string }> };
  beforeAll(async () => {
    store = tempStore('closeloop-fhir-bad-');
    const obs = (id: string, extra: object) => JSON.stringify({
      resourceType: 'Observation', id, status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '88122-7' }] },
      subject: { reference: 'Patient/p1' }, effectiveDateTime: '2025-02-03', valueCodeableConcept: { coding: [{ system: 'http://loinc.org', code: 'LA28397-0' }] }, ...extra,
    });
    store.add('Patient.ndjson.gz', gzipSync([
      JSON.stringify({ resourceType: 'Patient', id: 'p1', birthDate: '1970-01-01' }),
      '{"resourceType": "Patient", "id": "p2", "birthDate": "1970-01-01"', // line 2: cut short
      JSON.stringify({ resourceType: 'Observation', id: 'p3' }), // line 3: wrong type
      '',
      JSON.stringify({ resourceType: 'Patient', id: 'p5', birthDate: 19700101 }), // line 5: a number where a string belongs
    ].join('\n')));
    store.add('Observation.ndjson', [
      obs('o1', {}),
      obs('o2', { subject: undefined }), // missing subject
      obs('o3', { valueCodeableConcept: { coding: [{ system: 'http://loinc.org', code: 'LA9999-9' }] } }), // unknown answer
      obs('o4', { subject: { reference: 'Patient/nobody' } }), // orphan
      obs('o5', { code: { coding: [{ system: 'http://loinc.org', code: '99999-9' }] }, category: [{ coding: [{ code: 'sdoh' }] }] }), // unknown SDOH question
      obs('o6', { code: { coding: [{ system: 'http://loinc.org', code: '44261-6' }] }, subject: { reference: 'Group/g1' } }), // PHQ-9 without a patient
      obs('o7', { code: { coding: [{ system: 'http://loinc.org', code: '44261-6' }] }, valueCodeableConcept: undefined, valueInteger: 5, hasMember: [{ reference: 'Observation/i1' }, { reference: 'Observation/i2' }] }),
      obs('i1', { code: { coding: [{ system: 'http://loinc.org', code: '44250-9' }] }, valueCodeableConcept: { coding: [{ system: 'http://loinc.org', code: 'LA6571-9' }] } }),
      obs('i2', { code: { coding: [{ system: 'http://loinc.org', code: '44255-8' }] }, valueCodeableConcept: { coding: [{ system: 'http://loinc.org', code: 'LA1-1' }] } }), // unknown item answer
    ].join('\n'));
    store.add('Condition.ndjson', `${JSON.stringify({ resourceType: 'Condition', id: 'c1' })}\n`);
    store.add('Encounter.ndjson.gz', Buffer.from('not gzip at all\n')); // rejected whole: exit 2, the rest loads
    const r = await closeloop(['run', '--db', store.root, '--inbox', store.inbox, '--report', join(store.root, 'report.json')], { cwd: store.root });
    expect(r.code, r.stderr + r.stdout).toBe(2);
    summary = JSON.parse(readFileSync(join(store.root, 'report.json'), 'utf8'));
  }, 120_000);
  afterAll(() => store?.cleanup());

  it('each bad line is quarantined once, with its line, rule, column and the resource id in the message', async () => {
    const q = await closeloop(['quarantine', '--db', store.root, '--json']);
    expect(q.code, q.stderr).toBe(0);
    const rows = (JSON.parse(q.stdout) as Array<{ file: string; line: number; rule: string; column: string | null; message: string; raw_record: unknown }>)
      .map((r) => [r.file, r.line, r.rule, r.column, r.message]);
    expect(rows).toEqual([
      ['Observation.ndjson', 2, 'missing_reference', 'person_id', 'Observation/o2: Observation.subject is missing'],
      ['Observation.ndjson', 3, 'unknown_code', 'result', 'Observation/o3: answer \'LA9999-9\' to LOINC 88122-7 is not one of LA28397-0, LA6729-3, LA28398-8, LA15775-2'],
      ['Observation.ndjson', 4, 'orphan', 'person_id', 'person_id \'nobody\' is not among the loaded people (kept; retried on every run)'],
      ['Observation.ndjson', 5, 'unknown_code', 'domain', 'Observation/o5: SDOH Observation with code 99999-9: not a question closeloop maps'],
      ['Observation.ndjson', 6, 'missing_reference', 'person_id', 'Observation/o6: Observation.subject \'Group/g1\' is no Patient reference'],
      ['Observation.ndjson', 9, 'unknown_code', 'item_2', 'Observation/i2: PHQ-9 item 44255-8: answer \'LA1-1\' is not one of LA6568-5, LA6569-3, LA6570-1, LA6571-9'],
      ['Patient.ndjson.gz', 2, 'bad_json', null, expect.stringMatching(/^not JSON: /)],
      ['Patient.ndjson.gz', 3, 'wrong_resource_type', 'resourceType', 'Observation/p3: resourceType "Observation" in a file of Patient resources'],
      ['Patient.ndjson.gz', 5, 'bad_resource', 'birthDate', 'Patient/p5: Patient.birthDate: Invalid input: expected string, received number'],
    ]);
  });

  it('the quarantined record keeps the line as it came', async () => {
    const q = JSON.parse((await closeloop(['quarantine', '--db', store.root, '--json'])).stdout) as Array<{ line: number; file: string; raw_record: unknown }>;
    expect(q.find((r) => r.file === 'Patient.ndjson.gz' && r.line === 2)!.raw_record).toEqual({ resource: '{"resourceType": "Patient", "id": "p2", "birthDate": "1970-01-01"' });
  });

  it('the good resources load; a resource type closeloop does not read is reported as skipped', async () => {
    expect(await store.warehouse('SELECT person_id FROM stg_people')).toEqual([{ person_id: 'p1' }]);
    expect(await store.warehouse('SELECT screening_id, domain, result FROM stg_screenings')).toEqual([{ screening_id: 'o1', domain: 'food', result: 'positive' }]);
    expect(await store.warehouse('SELECT assessment_id, total_score, item_1, item_2, item_3 FROM stg_phq9')).toEqual([{ assessment_id: 'o7', total_score: 5, item_1: 3, item_2: null, item_3: null }]);
    expect(summary.skipped).toEqual([{ file: 'Condition.ndjson', reason: expect.stringMatching(/^FHIR Condition resources are not read \(closeloop reads Patient, Coverage, Encounter, Observation/) }]);
    expect(summary.files.map((f) => [f.file, f.entity, f.rows_loaded, f.rows_quarantined])).toEqual([
      ['Patient.ndjson.gz', 'people', 1, 3],
      ['Observation.ndjson', 'screenings', 1, 4],
      ['Observation.ndjson', 'phq9', 1, 2],
      ['Encounter.ndjson.gz', 'encounters', 0, 0],
    ]);
    expect(summary.files[3]).toMatchObject({ rejected: true, message: expect.stringMatching(/^Encounter\.ndjson\.gz: rejected whole: cannot be read as gzip: /) });
  });

  it('an unchanged inbox loads nothing again; the Observation file is in the ledger once per entity', async () => {
    const r = await closeloop(['run', '--db', store.root, '--inbox', store.inbox], { cwd: store.root });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/Nothing new in the inbox/);
    expect(await store.warehouse('SELECT file, entity, status FROM load_ledger ORDER BY ALL')).toEqual([
      { file: 'Encounter.ndjson.gz', entity: 'encounters', status: 'rejected' },
      { file: 'Observation.ndjson', entity: 'phq9', status: 'loaded' },
      { file: 'Observation.ndjson', entity: 'screenings', status: 'loaded' },
      { file: 'Patient.ndjson.gz', entity: 'people', status: 'loaded' },
    ]);
  });
});

describe('FHIR file names and references', () => {
  it('the resource type is a word of the file name as Bulk Data servers write it', async () => {
    const { fhirTypeOfName } = await import('../../../pipelines/ingest/discover.ts');
    expect(['Patient.ndjson', '1.Observation.ndjson', 'Encounter_002.ndjson.gz', 'FHIR-Coverage.ndjson', 'patient.ndjson', 'MedicationRequest.ndjson', '2024-export.ndjson']
      .map(fhirTypeOfName)).toEqual(['Patient', 'Observation', 'Encounter', 'Coverage', null, 'MedicationRequest', null]);
  });

  it('a reference names a Patient by relative or absolute URL, with or without a version; anything else is no reference', async () => {
    const { referencedId } = await import('../../../pipelines/ingest/fhir/resources.ts');
    expect(['Patient/p-1', 'https://ehr.example/fhir/Patient/p.2', 'Patient/p3/_history/4', 'Group/g1', 'urn:uuid:1b2c', 'Patient/', 'Patient/a b']
      .map((reference) => referencedId({ reference }, 'Patient'))).toEqual(['p-1', 'p.2', 'p3', null, null, null, null]);
  });
});

describe('regression: US Core race codes', () => {
  const patient = (race: Array<[string, string]>) => ({
    resourceType: 'Patient', id: 'p1',
    extension: [{ url: 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-race', extension: race.map(([url, code]) => ({ url, valueCoding: { system: 'urn:oid:2.16.840.1.113883.6.238', code } })) }],
  });
  const race = async (r: Array<[string, string]>) => {
    const { mapResource } = await import('../../../pipelines/ingest/fhir/resources.ts');
    const o = mapResource(patient(r), 'Patient', 'people');
    return o.kind === 'row' ? o.values.race_ethnicity : o;
  };

  it('Other Race (2131-1) comes as a detailed code and is read as other (it was read as unknown; found by the 3,000-person comparison)', async () => {
    expect(await race([['detailed', '2131-1']])).toBe('other');
  });

  it('an OMB category that is not one is unknown_code; UNK is unknown; a detailed code we do not list refines its category', async () => {
    expect(await race([['ombCategory', '2131-1']])).toMatchObject({ kind: 'reject', rule: 'unknown_code', column: 'race_ethnicity' });
    expect(await race([['ombCategory', 'UNK']])).toBe('unknown');
    expect(await race([['ombCategory', '2028-9'], ['detailed', '2039-6']])).toBe('asian');
  });
});
