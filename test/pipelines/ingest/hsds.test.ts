// Issue 20: Open Referral HSDS 3.x directories in the inbox, through the real binary.
// The expected values are read off the worked example by hand (data/examples/hsds/README.md
// lists each service and what it becomes), not from the reader's output.
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countyFips, domainOfTerm } from '../../../pipelines/ingest/hsds/codes.ts';
import { closeloop } from '../../helpers/closeloopBin.ts';
import { memoryWarehouse } from '../../helpers/loader.ts';
import { tempStore, type TempStore } from '../../helpers/store.ts';

const EXAMPLE = new URL('../../../data/examples/hsds/', import.meta.url).pathname;
type Report = { files: Array<{ file: string; entity: string; rows_read: number; rows_loaded: number; rows_quarantined: number; rejected: boolean; message: string | null }>; skipped: Array<{ file: string; reason: string }>; status: string };

async function run(store: TempStore, code = 0): Promise<Report> {
  const r = await closeloop(['run', '--db', store.root, '--inbox', store.inbox, '--report', join(store.root, 'report.json')], { cwd: store.root });
  expect(r.code, r.stderr + r.stdout).toBe(code); // 2: published, with a file rejected
  return JSON.parse(readFileSync(join(store.root, 'report.json'), 'utf8'));
}

describe('the worked HSDS example (data/examples/hsds), closeloop run', () => {
  let store: TempStore;
  let report: Report;
  beforeAll(async () => {
    store = tempStore('closeloop-hsds-example-');
    cpSync(join(EXAMPLE, 'directory'), join(store.inbox, 'directory'), { recursive: true });
    store.copy(join(EXAMPLE, 'services.json'));
    report = await run(store);
  }, 120_000);
  afterAll(() => store?.cleanup());

  it('loads every mapped value: program, organisation, domain from the taxonomy term, county FIPS, monthly capacity', async () => {
    const svc = (program_id: string, org_id: string, org_name: string, program_name: string, domain: string, county_fips: string, monthly_capacity: number | null, _file: string, _line: number) =>
      ({ program_id, org_id, org_name, program_name, domain, county_fips, monthly_capacity, _file, _line });
    expect(await store.warehouse('SELECT * EXCLUDE (_run_id) FROM stg_services ORDER BY program_id, county_fips')).toEqual([
      // BD-1800.2000 (AIRS) -> food; two service areas -> two rows; 120 people per month is service-wide: not split, unknown.
      svc('svc-pantry', 'org-a', 'Triangle Food Bank', 'Mobile Food Pantry', 'food', '37063', null, 'directory', 2),
      svc('svc-pantry', 'org-a', 'Triangle Food Bank', 'Mobile Food Pantry', 'food', '37135', null, 'directory', 2),
      // AIRS BV-8900.9300 -> utilities; Baltimore city, MD (address region) -> 24510; only `available` given: 8. Its object starts on line 23.
      svc('svc-power', 'org-d', 'Piedmont Safety Alliance', 'Power Bill Assistance', 'utilities', '24510', 8, 'services.json', 23),
      // OE 1137 -> housing_instability; area "Wake County" (no state) in its location's state NC -> 37183; the later of two capacities: 40.
      svc('svc-rent', 'org-b', 'Eastern Housing Partners', 'Rent Relief Fund', 'housing_instability', '37183', 40, 'directory', 3),
      // BT-4500 -> transportation; no area: the physical address's region Orange County, NC -> 37135 (the postal address is not read); capacity in seats: unknown.
      svc('svc-rides', 'org-c', 'County Transit Authority', 'Rides to Care', 'transportation', '37135', null, 'directory', 4),
      // OE 1124 -> interpersonal_safety; Alamance County, NC -> 37001; maximum 25 people per month.
      svc('svc-safety', 'org-d', 'Piedmont Safety Alliance', 'Safety Planning Line', 'interpersonal_safety', '37001', 25, 'services.json', 10),
      // OE 1244 -> utilities; the one area of three that is a county: Durham -> 37063.
      svc('svc-utility', 'org-b', 'Eastern Housing Partners', 'Utility Bill Help', 'utilities', '37063', null, 'directory', 9),
    ]);
  });

  it('quarantines bad records with their file, line, id and rule', async () => {
    const q = await store.warehouse<{ file: string; line: number; rule: string; column_name: string | null; message: string }>(
      `SELECT file, line, rule, column_name, message FROM quarantine ORDER BY file, line, rule`);
    expect(q.map((r) => [r.file, r.line, r.rule, r.column_name])).toEqual([
      ['directory', 6, 'missing_reference', 'org_id'],
      ['directory', 6, 'unknown_county', 'county_fips'],
      ['directory', 7, 'ambiguous_domain', 'domain'],
      ['directory', 7, 'unknown_county', 'county_fips'],
      ['directory', 8, 'unknown_code', 'domain'],
      ['directory', 9, 'malformed_row', null],
      ['directory', 10, 'not_an_int', 'monthly_capacity'],
      ['services.json', 46, 'bad_resource', 'id'],
    ]);
    const msg = (rule: string, line: number) => q.find((r) => r.rule === rule && r.line === line)!.message;
    expect(msg('missing_reference', 6)).toBe("services.csv line 6: service svc-orphan: organization 'org-z' is not in the directory");
    expect(msg('unknown_county', 6)).toContain("service_areas.csv line 6: service svc-utility: service_area name: 'Durhm County, NC' is not a county of NC");
    expect(msg('unknown_county', 7)).toContain("'Richmond, VA' is both a county and an independent city");
    expect(msg('ambiguous_domain', 7)).toContain('services.csv line 7: service svc-hub: taxonomy terms of 2 domains: BD-1800.2000 -> food, BH-1800.8500 -> housing_instability');
    expect(msg('unknown_code', 8)).toContain("services.csv line 8: service svc-legal: no taxonomy term maps to a domain: 1111 (Open Eligibility code '1111' is not in the mapping table)");
    expect(msg('malformed_row', 9)).toBe('service_areas.csv line 9: record has 6 fields, the header 5');
    expect(msg('bad_resource', 46)).toContain('services.json line 46: service.id');
    // Kept whole as it came: an area that is no county keeps the area's own record.
    const [raw] = await store.warehouse<{ raw_record: string }>(`SELECT raw_record::VARCHAR AS raw_record FROM quarantine WHERE rule = 'unknown_county' AND line = 6`);
    expect(JSON.parse(raw!.raw_record)).toEqual({ record: { id: 'area-5', service_id: 'svc-utility', service_at_location_id: '', name: 'Durhm County, NC', description: '' } });
  });

  it('reports what the directory held besides its rows', () => {
    const dir = report.files.find((f) => f.file === 'directory')!;
    expect(dir).toMatchObject({ entity: 'services', rows_loaded: 5, rows_quarantined: 7, rejected: false });
    expect(dir.message).toBe('directory (HSDS directory): 9 services read, 1 not read: status inactive, '
      + '1 with a monthly capacity serve several counties: capacity unknown per county (HSDS states it per service; it is not split), '
      + '1 state capacity only in units other than people or referrals per month: capacity unknown');
    const json = report.files.find((f) => f.file === 'services.json')!;
    expect(json).toMatchObject({ entity: 'services', rows_loaded: 2, rows_quarantined: 1 });
    expect(json.message).toBe('services.json (HSDS directory): 3 services read, 1 not read: status defunct');
  });

  it('a package changed in place (one CSV edited) loads again; unchanged, nothing new', async () => {
    const again = await closeloop(['run', '--db', store.root, '--inbox', store.inbox], { cwd: store.root });
    expect(again.stdout).toContain('Nothing new in the inbox');
    const f = join(store.inbox, 'directory', 'service_capacity.csv');
    writeFileSync(f, readFileSync(f, 'utf8').replace('cap-3,svc-rent,unit-rpm,5,40,', 'cap-3,svc-rent,unit-rpm,5,45,'));
    await run(store);
    expect(await store.warehouse('SELECT monthly_capacity FROM stg_services WHERE program_id = \'svc-rent\'')).toEqual([{ monthly_capacity: 45 }]);
  }, 120_000);
});

describe('HSDS drops that are refused or set aside (one run)', () => {
  // Attacker: whoever writes the directory export (a referral platform, a 211) holds
  // datapackage.json; they try to make closeloop read a file outside the package.
  let store: TempStore;
  let report: Report;
  beforeAll(async () => {
    store = tempStore('closeloop-hsds-refused-');
    writeFileSync(join(store.root, 'secret.csv'), 'id,name\nx,the secret\n');
    const pkg = join(store.inbox, 'evil');
    mkdirSync(pkg);
    cpSync(join(EXAMPLE, 'directory'), pkg, { recursive: true });
    const d = JSON.parse(readFileSync(join(pkg, 'datapackage.json'), 'utf8'));
    d.resources[0].path = '../../secret.csv';
    writeFileSync(join(pkg, 'datapackage.json'), JSON.stringify(d));
    store.copy(join(EXAMPLE, 'directory', 'datapackage.json'));
    store.add('services-broken.json', '{"services": []}');
    report = await run(store, 2);
  }, 120_000);
  afterAll(() => store?.cleanup());

  it('a datapackage.json whose resource path leaves its folder is rejected whole; nothing outside is read', async () => {
    const f = report.files.find((x) => x.file === 'evil')!;
    expect(f.rejected).toBe(true);
    expect(f.message).toContain("resource organization has path '../../secret.csv': closeloop reads only CSV files in the package's own folder");
    const leaked = await store.warehouse<{ n: number }>(`SELECT count(*) AS n FROM quarantine WHERE raw_record::VARCHAR LIKE '%the secret%'`);
    expect(leaked[0]!.n).toBe(0);
  });

  it('a datapackage.json alone in the inbox is skipped with the reason; a JSON file that is no /services list is rejected whole', () => {
    expect(report.skipped).toContainEqual({ file: 'datapackage.json', reason: expect.stringContaining('put datapackage.json and its CSV files in a folder of their own') });
    const f = report.files.find((x) => x.file === 'services-broken.json')!;
    expect(f.rejected).toBe(true);
    expect(f.message).toContain('not an HSDS /services list');
  });
});

describe('a FHIR service directory (data/examples/fhir/directory: Organization, Location, HealthcareService), closeloop run', () => {
  let store: TempStore;
  let report: Report;
  beforeAll(async () => {
    store = tempStore('closeloop-fhir-directory-');
    cpSync(new URL('../../../data/examples/fhir/directory', import.meta.url).pathname, join(store.inbox, 'directory'), { recursive: true });
    report = await run(store);
  }, 120_000);
  afterAll(() => store?.cleanup());

  it('HealthcareService -> services: providedBy -> organisation, category/type -> domain, coverageArea (else location) -> county; capacity unknown', async () => {
    const svc = (program_id: string, org_id: string, org_name: string, program_name: string, domain: string, county_fips: string, _line: number) =>
      ({ program_id, org_id, org_name, program_name, domain, county_fips, monthly_capacity: null, _file: 'directory', _line });
    expect(await store.warehouse('SELECT * EXCLUDE (_run_id) FROM stg_services ORDER BY program_id, county_fips')).toEqual([
      // Open Eligibility 1102 -> food; of its three coverage areas only Durham is a county the folder holds
      svc('hs-gotham', 'org-f1', 'Durham Community Kitchen', 'Night Kitchen', 'food', '37063', 5),
      // 211HSIS BD -> food; coverageArea Durham County, NC and Orange, North Carolina
      svc('hs-meals', 'org-f1', 'Durham Community Kitchen', 'Community Meals', 'food', '37063', 1),
      svc('hs-meals', 'org-f1', 'Durham Community Kitchen', 'Community Meals', 'food', '37135', 1),
      // Open Eligibility 1175 (type) -> transportation; no coverageArea: its location, Wake County, NC
      svc('hs-rides', 'org-f2', 'Triangle Transit Helpers', 'Rides to Appointments', 'transportation', '37183', 2),
    ]);
  });

  it('quarantines what it cannot use with its file and line; an inactive service is counted', async () => {
    const q = await store.warehouse<{ line: number; rule: string; message: string }>('SELECT line, rule, message FROM quarantine ORDER BY line, rule');
    expect(q).toEqual([
      { line: 4, rule: 'missing_reference', message: "HealthcareService.ndjson line 4: service hs-lost: organization 'org-x' is not in the directory" },
      { line: 4, rule: 'unknown_county', message: "Location.ndjson line 4: service hs-gotham: coverageArea Location address.district: 'Gotham County, NC' is not a county of NC (state 37) among the us-atlas county names" },
      { line: 5, rule: 'missing_reference', message: 'HealthcareService.ndjson line 5: service hs-gotham: Location/loc-missing is not in the folder' },
      { line: 6, rule: 'bad_json', message: expect.stringMatching(/^HealthcareService\.ndjson line 6: not JSON: /) },
    ]);
    expect(report.files.find((f) => f.file === 'directory')!.message).toBe('directory (FHIR directory): 5 services read, 1 not read: status inactive');
  });
});

describe('HSDS JSON: the line of each service', () => {
  it('is the line where its object opens, whatever its strings hold (braces, brackets, escaped quotes); a bare array works as the page object does', async () => {
    const w = await memoryWarehouse();
    try {
      const svc = (id: string, description: string) => ({ id, name: `Svc ${id}`, status: 'active', description, organization: { id: 'o1', name: 'Org' },
        service_areas: [{ name: 'Wake County, NC' }], attributes: [{ taxonomy_term: { code: 'BD', taxonomy: 'AIRS' } }] });
      const text = [
        '[',
        `  ${JSON.stringify(svc('a', 'has { and [ and "quotes" and \\" inside'))},`,
        '',
        `  ${JSON.stringify(svc('b', '}]'), null, 2).replaceAll('\n', '\n  ')},`,
        `  ${JSON.stringify(svc('c', 'last'))}`,
        ']',
      ].join('\n');
      const r = await w.load('services.json', text);
      expect(r).toMatchObject({ rejected: false, rows_loaded: 3 });
      // a: line 2; b opens on line 4 and spans lines; c follows b's closing brace
      const bLines = JSON.stringify(svc('b', '}]'), null, 2).split('\n').length;
      expect(await w.query('SELECT program_id, _line FROM stg_services ORDER BY program_id')).toEqual([
        { program_id: 'a', _line: 2 }, { program_id: 'b', _line: 4 }, { program_id: 'c', _line: 4 + bLines },
      ]);
    } finally {
      w.close();
    }
  });
});

describe('HSDS tables: county names and taxonomy codes', () => {
  it('county name + state -> FIPS, read off the Census county list by hand', () => {
    expect(countyFips('Durham County, NC', null)).toEqual({ fips: '37063' });
    expect(countyFips('Durham County', 'North Carolina')).toEqual({ fips: '37063' });
    expect(countyFips('Saint Louis County, MO', null)).toEqual({ fips: '29189' });
    expect(countyFips('St. Louis city, MO', null)).toEqual({ fips: '29510' });
    expect(countyFips('Baltimore County, MD', null)).toEqual({ fips: '24005' });
    expect(countyFips('Carson City, NV', null)).toEqual({ fips: '32510' });
    expect(countyFips('Orleans Parish, LA', null)).toEqual({ fips: '22071' });
    expect(countyFips('37183', null)).toEqual({ fips: '37183' });
    expect(countyFips('37999', null)).toEqual({ unknown: "'37999' is not a county FIPS code" });
    expect(countyFips('Fairfax', 'VA')).toMatchObject({ unknown: expect.stringContaining('both a county and an independent city') });
    expect(countyFips('Durham County, Narnia', null)).toMatchObject({ unknown: expect.stringContaining('not a US state') });
    expect(countyFips('Durham County', null)).toMatchObject({ unknown: expect.stringContaining('names no state') });
  });

  it('taxonomy terms -> domain: AIRS codes by their category, Open Eligibility codes exactly; anything else unknown', () => {
    expect(domainOfTerm('AIRS', 'BD-1800.2000')).toEqual({ domain: 'food' });
    expect(domainOfTerm('airs/211 la', 'BH')).toEqual({ domain: 'housing_instability' });
    expect(domainOfTerm('http://211hsis.org', 'BT-4500.6500-170')).toEqual({ domain: 'transportation' });
    expect(domainOfTerm('AIRS', 'BDX-1')).toMatchObject({ unknown: expect.any(String) }); // BD is a category, BDX is not under it
    expect(domainOfTerm('AIRS', 'LF-4900')).toMatchObject({ unknown: expect.any(String) });
    expect(domainOfTerm('Open Eligibility', '1119')).toEqual({ domain: 'utilities' });
    expect(domainOfTerm('Open Eligibility', '11190')).toMatchObject({ unknown: expect.any(String) });
    expect(domainOfTerm('My local list', 'BD')).toMatchObject({ unknown: expect.stringContaining("taxonomy 'My local list' is not one closeloop maps") });
  });
});
