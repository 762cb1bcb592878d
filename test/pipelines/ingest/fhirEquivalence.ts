// One population, two drops: a CSV drop and its FHIR Bulk Data equivalent (referrals as
// ServiceRequest + Task), with the service directory as an Open Referral HSDS data
// package in the non-CSV drop. The source is
// the demo generator's CSV drop, cut down to what FHIR carries here (see README, What goes
// in: FHIR), so both drops hold the same facts; then every published results table of a
// run on each is compared row for row. Written independently of the reader: resources
// are built from the FHIR element names and the code tables' published codes, not from
// pipelines/ingest/fhir, and the directory from the HSDS field names, the published
// taxonomy codes and the us-atlas county names, not from pipelines/ingest/hsds.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { expect } from 'vitest';
import { openDatabase, rows } from '../../../models/duckdb.ts';
import { generateDemo } from '../../../pipelines/demo/generate.ts';
import { closeloop } from '../../helpers/closeloopBin.ts';
import { tempStore, type TempStore } from '../../helpers/store.ts';

type Row = Record<string, string>;

const CORE = ['food', 'housing_instability', 'transportation', 'utilities', 'interpersonal_safety'];
/** A question (or the safety total) per domain, and an answer per result. */
const QUESTION: Record<string, { code: string; positive?: string; negative?: string; score?: boolean }> = {
  food: { code: '88122-7', positive: 'LA28397-0', negative: 'LA28398-8' },
  housing_instability: { code: '71802-3', positive: 'LA31995-6', negative: 'LA31993-1' },
  transportation: { code: '93030-5', positive: 'LA33-6', negative: 'LA32-8' },
  utilities: { code: '96779-4', positive: 'LA32002-0', negative: 'LA32-8' },
  interpersonal_safety: { code: '95614-4', score: true },
};
const RACE: Record<string, { omb?: string[]; detailed?: string[]; hispanic?: boolean }> = {
  hispanic_latino: { hispanic: true }, white: { omb: ['2106-3'] }, black: { omb: ['2054-5'] }, asian: { omb: ['2028-9'] },
  american_indian_alaska_native: { omb: ['1002-5'] }, native_hawaiian_pacific_islander: { omb: ['2076-8'] },
  middle_eastern_north_african: { omb: ['2106-3'], detailed: ['2118-8'] }, multiracial: { omb: ['2054-5', '2106-3'] },
  other: { detailed: ['2131-1'] }, unknown: {},
};
/** PHQ-9 items 1..9 (LOINC), and the answers for 0..3. */
const ITEMS = ['44250-9', '44255-8', '44259-0', '44254-1', '44251-7', '44258-2', '44252-5', '44253-3', '44260-8'];
const ANSWERS = ['LA6568-5', 'LA6569-3', 'LA6570-1', 'LA6571-9'];
const SOPT: Record<string, string> = { medicaid: '2', medicare: '1', dual: '14', commercial: '5', uninsured: '81', other: '9', unknown: '99' };
const CLASS: Record<string, string> = { ed: 'EMER', inpatient: 'IMP', outpatient: 'AMB', other: 'VR' };
/** A need domain as an SDOHCC SDOH category code (the Gravity IG's code system). */
const SDOHCC = 'http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes';
const CATEGORY: Record<string, string> = {
  food: 'food-insecurity', housing_instability: 'housing-instability', transportation: 'transportation-insecurity', utilities: 'utility-insecurity',
  interpersonal_safety: 'intimate-partner-violence', housing_quality: 'inadequate-housing', financial_strain: 'financial-insecurity',
  employment: 'employment-status', education: 'educational-attainment', social_isolation: 'social-connection', mental_health: 'stress', other: 'sdoh-category-unspecified',
};
/** A taxonomy term per domain (AIRS/211 categories and Open Eligibility codes); social_isolation and other have none. */
const TERM: Record<string, [string, string]> = {
  food: ['AIRS/211 LA', 'BD-1800.2000'], transportation: ['AIRS', 'BT-4500'], utilities: ['http://211hsis.org', 'BV-8900.9300'],
  housing_instability: ['Open Eligibility', '1137'], housing_quality: ['Open Eligibility', '1141'], interpersonal_safety: ['Open Eligibility', '1124'],
  employment: ['Open Eligibility', '1110'], education: ['Open Eligibility', '1109'], financial_strain: ['Open Eligibility', '1107'], mental_health: ['Open Eligibility', '1231'],
};
const TASK_STATUS: Record<string, string> = { pending: 'requested', accepted: 'accepted', in_progress: 'in-progress', completed: 'completed', rejected: 'rejected', cancelled: 'cancelled' };
const CLOSED = ['completed', 'rejected', 'cancelled'];

async function readCsv(path: string): Promise<Row[]> {
  const db = await openDatabase(':memory:', { threads: 1, memoryLimit: '512MB' });
  try {
    const rs = await rows<Record<string, string | null>>(db.conn, `SELECT * FROM read_csv('${path}', all_varchar = true, header = true, strict_mode = false, null_padding = true)`);
    return rs.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v ?? ''])));
  } finally {
    db.close();
  }
}

function csv(rowsOut: Row[], columns: string[]): string {
  const q = (v: string) => (/[",\n\r]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
  return `${[columns.join(','), ...rowsOut.map((r) => columns.map((c) => q(r[c] ?? '')).join(','))].join('\n')}\n`;
}

const ndjson = (resources: object[]) => resources.map((r) => JSON.stringify(r)).join('\n') + '\n';
const loinc = (code: string) => ({ coding: [{ system: 'http://loinc.org', code }] });
const patientRef = (id: string) => (id ? { reference: `Patient/${id}` } : undefined);

/** Writes the CSV drop and its FHIR equivalent (entities FHIR does not carry here stay CSV in both). */
export async function buildDrops(people: number, seed: number, csvInbox: string, fhirInbox: string) {
  const src = join(csvInbox, '..', 'demo-source');
  mkdirSync(src, { recursive: true });
  await generateDemo({ people, seed, outDir: src, months: 12 });
  const read = (f: string) => readCsv(join(src, f));
  const [pp, cov, scr, phq, enc, ref, svc] = await Promise.all(['people.csv', 'coverage.csv', 'screenings.csv', 'phq9.csv', 'encounters.csv', 'referrals.csv', 'services.csv'].map(read)) as Row[][];
  for (const f of ['enrollments.csv']) {
    const text = await import('node:fs').then((fs) => fs.readFileSync(join(src, f)));
    writeFileSync(join(csvInbox, f), text);
    writeFileSync(join(fhirInbox, f), text);
  }

  // people: no rurality in FHIR; the roster span becomes a coverage row (FHIR Coverage).
  const peopleCsv: Row[] = pp!.map((r) => ({ ...r, rurality: '', payer: '', program_id: '', enrolled_from: '', enrolled_through: '' }));
  const covKeys = new Set(cov!.map((r) => `${r.person_id}|${r.coverage_from}`));
  const coverageCsv: Row[] = [...cov!, ...pp!.filter((r) => (r.enrolled_from || r.enrolled_through) && !covKeys.has(`${r.person_id}|${r.enrolled_from}`)).map((r) => ({
    person_id: r.person_id!, coverage_from: r.enrolled_from!, coverage_through: r.enrolled_through!, payer: r.payer!, program_id: r.program_id!, plan_id: '',
  }))];
  // screenings: the five AHC HRSN domains, instrument ahc_hrsn; the first copy of a key (as CSV keeps it).
  const seen = new Set<string>();
  const screeningsCsv: Row[] = scr!.filter((r) => CORE.includes(r.domain!)).map((r): Row => ({ ...r, instrument: 'ahc_hrsn' }))
    .filter((r) => !seen.has(`${r.screening_id}|${r.domain}`) && !!seen.add(`${r.screening_id}|${r.domain}`));
  // PHQ-9 items are Observations of their own: an item that is no number is quarantined
  // alone (unknown_code) and its total loads without it, so the CSV row drops it too.
  const numeric = (v: string | undefined) => /^-?\d+(\.\d+)?$/.test(v ?? '');
  const phq9Csv: Row[] = phq!.map((r) => ({ ...r, ...Object.fromEntries(ITEMS.map((_, i) => [`item_${i + 1}`, numeric(r[`item_${i + 1}`]) ? r[`item_${i + 1}`]! : ''])) }));
  const encountersCsv: Row[] = enc!.map((r) => ({ ...r, encounter_type: ['primary_care', 'behavioral_health'].includes(r.encounter_type!) ? 'outpatient' : r.encounter_type!, paid_amount: '' }));

  // referrals: what a ServiceRequest and its Task versions can state. FHIR dates are ISO;
  // a closed Task has a close date and an outcome (coded, or its status's default), an
  // open one neither; an accepted Task tells when (its version), an in-progress one since
  // when. The first copy of a key (as CSV keeps it).
  const iso = (v: string | undefined) => !v || /^\d{4}-\d{2}-\d{2}$/.test(v);
  const seenRef = new Set<string>();
  const referralsCsv: Row[] = ref!.filter((r) => !seenRef.has(r.referral_id!) && !!seenRef.add(r.referral_id!))
    .filter((r) => ['referred_on', 'accepted_on', 'service_started_on', 'closed_on'].every((c) => iso(r[c])))
    .filter((r) => (CLOSED.includes(r.status!) ? !!(r.closed_on && r.outcome) : !r.closed_on && !r.outcome))
    .filter((r) => (r.status !== 'accepted' || !!r.accepted_on) && (r.status !== 'in_progress' || !!r.service_started_on));

  // services: what an HSDS directory carries. HSDS states capacity per service, so a
  // program's capacity is its county's only where it serves one county (else unknown);
  // one name per organisation; domains without a taxonomy term (social_isolation, other)
  // are quarantined in the HSDS drop (unknown_code), so the CSV drop leaves them out;
  // the demo's planted bad rows (a 4-digit county, capacities -5 and 'about 20') are left out of both.
  // Every demo program serves two counties or more, so two single-county programs are
  // added to the source (both drops) for capacity to come through the HSDS drop too.
  const single: Row[] = [
    { program_id: 'SVC-EQ-1', org_id: 'ORG-01', org_name: '', program_name: 'Durham Food Line', domain: 'food', county_fips: '37063', monthly_capacity: '30' },
    { program_id: 'SVC-EQ-2', org_id: 'ORG-EQ', org_name: 'Wake Rides Co-op', program_name: 'Wake Rides', domain: 'transportation', county_fips: '37183', monthly_capacity: '12' },
  ];
  const validSvc = [...svc!, ...single].filter((r) => /^\d{5}$/.test(r.county_fips!) && /^(\d+)?$/.test(r.monthly_capacity!));
  const countiesOf = new Map<string, Row[]>();
  for (const r of validSvc) countiesOf.set(r.program_id!, [...(countiesOf.get(r.program_id!) ?? []), r]);
  const orgName = new Map<string, string>();
  for (const r of validSvc) if (!orgName.has(r.org_id!)) orgName.set(r.org_id!, r.org_name!);
  const servicesCsv: Row[] = validSvc.filter((r) => TERM[r.domain!]).map((r) => ({
    ...r, org_name: orgName.get(r.org_id!)!, program_name: countiesOf.get(r.program_id!)![0]!.program_name!,
    monthly_capacity: countiesOf.get(r.program_id!)!.length === 1 ? r.monthly_capacity! : '',
  }));

  const cols = (rs: Row[]) => Object.keys(rs[0]!);
  writeFileSync(join(csvInbox, 'services.csv'), csv(servicesCsv, cols(svc!)));
  writeHsdsPackage(join(fhirInbox, 'directory'), validSvc, countiesOf, orgName);
  writeFileSync(join(csvInbox, 'referrals.csv'), csv(referralsCsv, cols(ref!)));
  writeFileSync(join(csvInbox, 'people.csv'), csv(peopleCsv, cols(pp!)));
  writeFileSync(join(csvInbox, 'coverage.csv'), csv(coverageCsv, cols(cov!)));
  writeFileSync(join(csvInbox, 'screenings.csv'), csv(screeningsCsv, cols(scr!)));
  writeFileSync(join(csvInbox, 'phq9.csv'), csv(phq9Csv, cols(phq!)));
  writeFileSync(join(csvInbox, 'encounters.csv'), csv(encountersCsv, cols(enc!)));

  writeFileSync(join(fhirInbox, 'Patient.ndjson'), ndjson(peopleCsv.map((r) => {
    const race = RACE[r.race_ethnicity || 'unknown'] ?? { omb: [`not-a-code-${r.race_ethnicity}`] };
    const ext = [];
    if (race.omb || race.detailed) {
      ext.push({ url: 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-race', extension: [
        ...(race.omb ?? []).map((code) => ({ url: 'ombCategory', valueCoding: { system: 'urn:oid:2.16.840.1.113883.6.238', code } })),
        ...(race.detailed ?? []).map((code) => ({ url: 'detailed', valueCoding: { system: 'urn:oid:2.16.840.1.113883.6.238', code } })),
      ] });
    }
    if (race.hispanic) ext.push({ url: 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity', extension: [{ url: 'ombCategory', valueCoding: { system: 'urn:oid:2.16.840.1.113883.6.238', code: '2135-2' } }] });
    return {
      resourceType: 'Patient', id: r.person_id, extension: ext,
      ...(r.sex ? { gender: r.sex } : {}), ...(r.birth_date ? { birthDate: r.birth_date } : {}),
      ...(r.death_date ? { deceasedDateTime: r.death_date } : {}),
      ...(r.zip || r.county_fips ? { address: [{ use: 'home', ...(r.zip ? { postalCode: r.zip } : {}), ...(r.county_fips ? { district: r.county_fips } : {}) }] } : {}),
      ...(r.preferred_language ? { communication: [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: r.preferred_language }] }, preferred: true }] } : {}),
    };
  })));
  writeFileSync(join(fhirInbox, 'Coverage.ndjson'), ndjson(coverageCsv.map((r, i) => ({
    resourceType: 'Coverage', id: `cov-${i + 1}`, status: 'active', beneficiary: patientRef(r.person_id!),
    ...(r.payer ? { type: { coding: [{ system: 'urn:oid:2.16.840.1.113883.3.221.5', code: SOPT[r.payer] ?? `x${r.payer}` }] } } : {}),
    period: { ...(r.coverage_from ? { start: r.coverage_from } : {}), ...(r.coverage_through ? { end: r.coverage_through } : {}) },
    class: [
      ...(r.program_id ? [{ type: { coding: [{ code: 'group' }] }, value: r.program_id }] : []),
      ...(r.plan_id ? [{ type: { coding: [{ code: 'plan' }] }, value: r.plan_id }] : []),
    ],
  }))));
  writeFileSync(join(fhirInbox, 'Observation.ndjson'), ndjson([
    ...screeningsCsv.map((r, i) => {
      const q = QUESTION[r.domain!]!;
      const value = r.result === 'declined' ? { dataAbsentReason: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/data-absent-reason', code: 'asked-declined' }] } }
        : q.score ? { valueInteger: r.result === 'positive' ? 13 : 5 }
          : { valueCodeableConcept: loinc((r.result === 'positive' ? q.positive : r.result === 'negative' ? q.negative : `LA-${r.result}`)!) };
      return {
        resourceType: 'Observation', id: `scr-${i + 1}`, status: 'final',
        category: [{ coding: [{ system: 'http://hl7.org/fhir/us/core/CodeSystem/us-core-category', code: 'sdoh' }] }],
        code: loinc(q.code), subject: patientRef(r.person_id!), effectiveDateTime: r.screened_on, ...value,
        derivedFrom: [{ reference: `QuestionnaireResponse/${r.screening_id}` }],
      };
    }),
    ...phq9Csv.flatMap((r, k) => {
      const present = ITEMS.map((code, i) => ({ code, n: i + 1, v: r[`item_${i + 1}`]! })).filter((x) => x.v !== '');
      return [{
        resourceType: 'Observation', id: r.assessment_id, status: 'final', code: loinc('44261-6'), subject: patientRef(r.person_id!),
        effectiveDateTime: r.assessed_on, ...(numeric(r.total_score) ? { valueInteger: Number(r.total_score) } : {}),
        ...(present.length ? { hasMember: present.map((x) => ({ reference: `Observation/phq-${k}-${x.n}` })) } : {}),
      }, ...present.map((x) => ({
        resourceType: 'Observation', id: `phq-${k}-${x.n}`, status: 'final', code: loinc(x.code), subject: patientRef(r.person_id!), effectiveDateTime: r.assessed_on,
        // Half the items answered by LOINC answer code, half by number.
        ...(ANSWERS[Number(x.v)] && x.n % 2 ? { valueCodeableConcept: loinc(ANSWERS[Number(x.v)]!) } : { valueInteger: Number(x.v) }),
      }))];
    }),
  ]));
  writeFileSync(join(fhirInbox, 'ServiceRequest.ndjson'), ndjson(referralsCsv.map((r) => ({
    resourceType: 'ServiceRequest', id: r.referral_id, status: 'active', intent: 'order',
    category: [{ coding: [{ system: SDOHCC, code: CATEGORY[r.need_domain!] ?? `not-a-category-${r.need_domain}` }] }],
    subject: patientRef(r.person_id!), authoredOn: r.referred_on,
    ...(r.source_org_id ? { requester: { reference: `Organization/${r.source_org_id}` } } : {}),
    performer: [
      ...(r.target_org_id ? [{ reference: `Organization/${r.target_org_id}` }] : []),
      ...(r.program_id ? [{ reference: `HealthcareService/${r.program_id}` }] : []),
    ],
  }))));
  // One Task per referral, a line per version: requested, accepted, in progress, then its state now.
  writeFileSync(join(fhirInbox, 'Task.ndjson'), ndjson(referralsCsv.flatMap((r) => {
    const latest = [r.referred_on, r.accepted_on, r.service_started_on, r.closed_on].filter((d): d is string => !!d).sort().at(-1)!;
    const version = (n: number, status: string, on: string, extra: object = {}) => ({
      resourceType: 'Task', id: `task-${r.referral_id}`, meta: { versionId: String(n) }, status, intent: 'order',
      focus: { reference: `ServiceRequest/${r.referral_id}` }, for: patientRef(r.person_id!), lastModified: on,
      ...(r.target_org_id ? { owner: { reference: `Organization/${r.target_org_id}` } } : {}), ...extra,
    });
    const history = [
      ...(r.status !== 'pending' ? [version(1, 'requested', r.referred_on!)] : []),
      ...(r.accepted_on ? [version(2, 'accepted', r.accepted_on)] : []),
      ...(r.service_started_on ? [version(3, 'in-progress', r.service_started_on, { executionPeriod: { start: r.service_started_on } })] : []),
    ];
    const period = { ...(r.service_started_on ? { start: r.service_started_on } : {}), ...(r.closed_on ? { end: r.closed_on } : {}) };
    return [...history, version(4, TASK_STATUS[r.status!] ?? `not-a-status-${r.status}`, latest, {
      ...(Object.keys(period).length ? { executionPeriod: period } : {}),
      ...(r.outcome ? { statusReason: { coding: [{ system: 'urn:closeloop:referral-outcome', code: r.outcome }], text: r.outcome } } : {}),
    })];
  })));
  writeFileSync(join(fhirInbox, 'Encounter.ndjson'), ndjson(encountersCsv.map((r) => ({
    resourceType: 'Encounter', id: r.encounter_id, status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: CLASS[r.encounter_type!] ?? r.encounter_type },
    subject: patientRef(r.person_id!), period: { ...(r.start_date ? { start: r.start_date } : {}), ...(r.end_date ? { end: r.end_date } : {}) },
  }))));
}

/** The directory as an HSDS 3.1 tabular data package: a folder with datapackage.json and one CSV per object. */
function writeHsdsPackage(dir: string, rowsIn: Row[], countiesOf: Map<string, Row[]>, orgName: Map<string, string>) {
  mkdirSync(dir, { recursive: true });
  const require = createRequire(import.meta.url);
  const atlas = JSON.parse(readFileSync(require.resolve('us-atlas/counties-10m.json'), 'utf8')) as { objects: { counties: { geometries: Array<{ id: string; properties: { name: string } }> } } };
  const countyName = new Map(atlas.objects.counties.geometries.map((g) => [g.id, g.properties.name]));
  const programs = [...countiesOf.keys()];
  const resources = { organization: 'organizations.csv', service: 'services.csv', service_area: 'service_areas.csv', unit: 'units.csv', service_capacity: 'service_capacity.csv', taxonomy_term: 'taxonomy_terms.csv', attribute: 'attributes.csv' };
  writeFileSync(join(dir, 'datapackage.json'), JSON.stringify({ name: 'demo-directory', profile: 'tabular-data-package', resources: Object.entries(resources).map(([name, path]) => ({ name, path, format: 'csv' })) }, null, 2));
  writeFileSync(join(dir, 'organizations.csv'), csv([...orgName].map(([id, name]) => ({ id, name, description: '' })), ['id', 'name', 'description']));
  writeFileSync(join(dir, 'services.csv'), csv(programs.map((p) => {
    const r = countiesOf.get(p)![0]!;
    return { id: p, organization_id: r.org_id!, name: r.program_name!, status: 'active' };
  }), ['id', 'organization_id', 'name', 'status']));
  // Counties by name, as a directory writes them ("Wake County, NC").
  writeFileSync(join(dir, 'service_areas.csv'), csv(rowsIn.map((r, i) => ({ id: `area-${i + 1}`, service_id: r.program_id!, name: `${countyName.get(r.county_fips!)} County, NC` })), ['id', 'service_id', 'name']));
  writeFileSync(join(dir, 'units.csv'), csv([{ id: 'u-ppm', name: 'people per month' }], ['id', 'name']));
  writeFileSync(join(dir, 'service_capacity.csv'), csv(programs.flatMap((p) => {
    const r = countiesOf.get(p)![0]!;
    return r.monthly_capacity ? [{ id: `cap-${p}`, service_id: p, unit_id: 'u-ppm', available: '0', maximum: r.monthly_capacity, updated: '2026-01-01T00:00:00Z' }] : [];
  }), ['id', 'service_id', 'unit_id', 'available', 'maximum', 'updated']));
  const domains = [...new Set(rowsIn.map((r) => r.domain!))];
  writeFileSync(join(dir, 'taxonomy_terms.csv'), csv(domains.map((d) => ({ id: `tt-${d}`, code: TERM[d]?.[1] ?? `LOCAL-${d}`, name: d, taxonomy: TERM[d]?.[0] ?? 'Local program list' })), ['id', 'code', 'name', 'taxonomy']));
  writeFileSync(join(dir, 'attributes.csv'), csv(programs.map((p) => ({ id: `at-${p}`, link_id: p, taxonomy_term_id: `tt-${countiesOf.get(p)![0]!.domain}`, link_entity: 'service' })), ['id', 'link_id', 'taxonomy_term_id', 'link_entity']));
}

const TABLES: Record<string, string> = {
  metric_results: 'ALL', km_curves: 'ALL', gap_table: 'ALL', prepost_summary: 'ALL', disparity_summary: 'ALL', service_directory: 'ALL', withheld_cuts: 'ALL',
};

async function published(store: TempStore): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const t of Object.keys(TABLES)) {
    const cols = await store.published<{ column_name: string }>(`SELECT column_name FROM duckdb_columns() WHERE table_name = '${t}' AND column_name <> 'run_id'`);
    out[t] = await store.published(`SELECT ${cols.map((c) => `"${c.column_name}"`).join(', ')} FROM ${t} ORDER BY ALL`);
  }
  return out;
}

/** Runs `closeloop run` (the real binary) on both drops and compares every published results table row for row. */
export async function compareDrops(people: number, seed: number) {
  const csvStore = tempStore('closeloop-csv-');
  const fhirStore = tempStore('closeloop-fhir-');
  try {
    await buildDrops(people, seed, csvStore.inbox, fhirStore.inbox);
    const asOf = '2026-10-31';
    for (const s of [csvStore, fhirStore]) {
      const r = await closeloop(['run', '--db', s.root, '--inbox', s.inbox, '--as-of', asOf], { cwd: s.root });
      expect(r.code, r.stderr + r.stdout).toBe(0);
    }
    // The referrals each drop loaded, value for value (built from the ServiceRequest and Task join in the FHIR drop).
    const referrals = (s: TempStore) => s.warehouse('SELECT * EXCLUDE (_file, _line, _run_id) FROM stg_referrals ORDER BY referral_id');
    expect(await referrals(fhirStore), 'stg_referrals').toEqual(await referrals(csvStore));
    const [a, b] = [await published(csvStore), await published(fhirStore)];
    for (const t of Object.keys(TABLES)) {
      expect(b[t]!.length, `${t} row count`).toBe(a[t]!.length);
      expect(b[t], t).toEqual(a[t]);
    }
    // The directory each drop loaded, value for value (from the HSDS package in the non-CSV drop).
    const services = (s: TempStore) => s.warehouse('SELECT * EXCLUDE (_file, _line, _run_id) FROM stg_services ORDER BY program_id, county_fips');
    expect(await services(fhirStore), 'stg_services').toEqual(await services(csvStore));
    const staged = async (s: TempStore) => Object.fromEntries(await Promise.all(['people', 'coverage', 'screenings', 'phq9', 'encounters', 'referrals', 'services'].map(async (e) =>
      [e, (await s.warehouse<{ n: number }>(`SELECT count(*) AS n FROM stg_${e}`))[0]!.n] as const)));
    const counts = await staged(csvStore);
    expect(await staged(fhirStore)).toEqual(counts);
    const [items] = await fhirStore.warehouse<{ n: number }>('SELECT count(*) AS n FROM stg_phq9 WHERE item_9 IS NOT NULL');
    const [cap] = await fhirStore.warehouse<{ n: number }>('SELECT count(*) AS n FROM stg_services WHERE monthly_capacity IS NOT NULL');
    const [hsdsQuarantined] = await fhirStore.warehouse<{ n: number }>(`SELECT count(*) AS n FROM quarantine WHERE file = 'directory' AND rule = 'unknown_code'`);
    return { counts, metricRows: a.metric_results!.length, phq9WithItems: items!.n, servicesWithCapacity: cap!.n, hsdsQuarantined: hsdsQuarantined!.n };
  } finally {
    csvStore.cleanup();
    fhirStore.cleanup();
  }
}
