// Reads an Open Referral HSDS 3.x directory into the services entity: a tabular data
// package (a folder in the inbox with datapackage.json and one CSV per object) or the
// JSON /services list (services with their organization, service_at_locations, service
// areas, capacities and attributes nested). Both shapes become one model; each service
// becomes a row per county it serves, in the temporary tables the CSV reader makes
// (raw_file, line_map, skip_rowids), so the SQL rules, duplicate keys, quarantine and
// ledger are the CSV path's. What this step decides itself (the county, the domain, a
// broken link between records) goes to temp table resource_rejects with its rule.
// A directory is small (thousands of services), so the linking is done here in JS.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { z } from 'zod';
import { exec, rows, sqlIdent as id } from '../../../models/duckdb.ts';
import { parseCsvRecord } from '../csvHeader.ts';
import { FileRejected, readCsv, type RawRead } from '../readSource.ts';
import type { RuleId } from '../rules.ts';
import { scanFile } from '../scanFile.ts';
import { countyFips, domainOfTerm, hsdsTables, isMonthlyUnit } from './codes.ts';

export interface HsdsRead extends RawRead {
  /** Records quarantined by this reader (temp table resource_rejects). */
  rejects: number;
  /** What else the directory held, for the file's report. */
  notes: string[];
}

/** The column holding the service record as it came (the raw record of a quarantined row). */
export const HSDS_COLUMN = 'hsds_record';

/** Where a record is: the CSV of the package and its line, or the line of the JSON file where the object starts. */
interface Src { file: string; line: number }
type Opt = string | null | undefined;
interface Term { taxonomy: Opt; code: Opt; name: Opt }
interface Capacity { unit: Opt; maximum: Opt; available: Opt; updated: Opt; src: Src }
interface Service {
  id: string; name: Opt; status: Opt; orgId: Opt;
  org: { id: string; name: Opt } | null;
  /** record: the area's or address's own record (CSV package), for its quarantine record. */
  areas: Array<{ name: Opt; src: Src; record?: string }>;
  addresses: Array<{ region: Opt; state: Opt; type: Opt; src: Src; record?: string }>;
  capacities: Capacity[]; terms: Term[];
  src: Src; record: string;
  /** What an area is called in the messages (HSDS: a service_area name). */
  areaWhat?: string;
}
interface Reject { line: number; rule: RuleId; column: string | null; message: string; record: string }

const at = (s: Src) => `${s.file} line ${s.line}`;
const text = (v: unknown): string | null => (v === null || v === undefined ? null : typeof v === 'string' ? (v.trim() === '' ? null : v.trim()) : String(v));

export async function readHsds(conn: DuckDBConnection, path: string, kind: 'json' | 'package' | 'fhir', columns: string[], fileName: string): Promise<HsdsRead> {
  const rejects: Reject[] = [];
  const services = kind === 'json' ? await readJson(path, fileName, rejects) : kind === 'fhir' ? await readFhirDirectory(path, rejects) : await readPackage(conn, path, rejects);
  return writeRows(conn, services, columns, rejects);
}

// ---------- FHIR: a folder of Organization, Location and HealthcareService ndjson files ----------

const FhirCoding = z.looseObject({ system: z.string().optional(), code: z.string().optional() });
const FhirRef = z.looseObject({ reference: z.string().optional() });
const FhirOrganization = z.looseObject({ resourceType: z.literal('Organization'), id: z.string().min(1), name: z.string().optional() });
const FhirLocation = z.looseObject({
  resourceType: z.literal('Location'), id: z.string().min(1),
  address: z.looseObject({ district: z.string().optional(), state: z.string().optional() }).optional(),
});
const FhirHealthcareService = z.looseObject({
  resourceType: z.literal('HealthcareService'), id: z.string().min(1), active: z.boolean().optional(), name: z.string().optional(),
  providedBy: FhirRef.optional(),
  category: z.array(z.looseObject({ coding: z.array(FhirCoding).optional() })).optional(),
  type: z.array(z.looseObject({ coding: z.array(FhirCoding).optional() })).optional(),
  location: z.array(FhirRef).optional(),
  coverageArea: z.array(FhirRef).optional(),
});
const SCHEMA = { Organization: FhirOrganization, Location: FhirLocation, HealthcareService: FhirHealthcareService } as const;
type FhirType = keyof typeof SCHEMA;

/** The files of a FHIR directory folder by the resource type their name gives (HealthcareService.ndjson, 1.Location.ndjson.gz). */
export function fhirDirectoryType(name: string): FhirType | null {
  if (!/\.ndjson(\.gz)?$/i.test(name)) return null;
  const type = name.replace(/\.ndjson(\.gz)?$/i, '').split(/[^A-Za-z]+/).find((w) => /^[A-Z][a-z]+(?:[A-Z][a-z]+)*$/.test(w));
  return type && type in SCHEMA ? (type as FhirType) : null;
}

const refId = (r: { reference?: string } | undefined, type: string) => r?.reference?.match(new RegExp(`(?:^|/)${type}/([A-Za-z0-9\\-.]{1,64})(?:/_history/[^/]+)?$`))?.[1] ?? null;

async function readFhirDirectory(dir: string, rejects: Reject[]): Promise<Service[]> {
  const { readdir } = await import('node:fs/promises');
  const { gunzipSync } = await import('node:zlib');
  const names = (await readdir(dir)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const got: { [K in FhirType]: Array<{ r: z.infer<(typeof SCHEMA)[K]>; src: Src; record: string }> } = { Organization: [], Location: [], HealthcareService: [] };
  for (const name of names) {
    const type = fhirDirectoryType(name);
    if (!type) continue;
    let text: string;
    try {
      const raw = await readFile(join(dir, name));
      text = new TextDecoder('utf-8', { fatal: true }).decode(/\.gz$/i.test(name) ? gunzipSync(raw) : raw);
    } catch (err) {
      throw new FileRejected(`rejected whole: ${name} cannot be read (${(err as Error).message.split('\n')[0]})`);
    }
    text.split('\n').forEach((lineText, i) => {
      const line = lineText.replace(/\r$/, '');
      if (line.trim() === '') return;
      const src: Src = { file: name, line: i + 1 };
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch (err) {
        rejects.push({ line: src.line, rule: 'bad_json', column: null, message: `${at(src)}: not JSON: ${(err as Error).message}`, record: JSON.stringify(line) });
        return;
      }
      const rt = (json as { resourceType?: unknown })?.resourceType;
      if (rt !== type) {
        rejects.push({ line: src.line, rule: 'wrong_resource_type', column: 'resourceType', message: `${at(src)}: resourceType ${JSON.stringify(rt ?? null)} in a file of ${type} resources`, record: line });
        return;
      }
      const parsed = SCHEMA[type].safeParse(json);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const p = issue?.path.join('.') ?? '';
        rejects.push({ line: src.line, rule: 'bad_resource', column: p || null, message: `${at(src)}: ${type}${p ? `.${p}` : ''}: ${issue?.message ?? 'not the expected shape'}`, record: line });
        return;
      }
      (got[type] as Array<{ r: unknown; src: Src; record: string }>).push({ r: parsed.data, src, record: line });
    });
  }
  const orgs = new Map(got.Organization.map((o) => [o.r.id, o.r]));
  const locations = new Map(got.Location.map((l) => [l.r.id, l]));
  return got.HealthcareService.map(({ r, src, record }): Service => {
    const orgId = refId(r.providedBy, 'Organization');
    const org = orgId ? orgs.get(orgId) : undefined;
    const place = (refs: Array<{ reference?: string }> | undefined) => (refs ?? []).map((x) => refId(x, 'Location')).filter((x): x is string => !!x);
    const areaIds = place(r.coverageArea);
    const locIds = place(r.location);
    const asArea = (l: NonNullable<ReturnType<typeof locations.get>>) => {
      const district = l.r.address?.district;
      return { name: district ? `${district}${l.r.address?.state ? `, ${l.r.address.state}` : ''}` : null, src: l.src, record: l.record };
    };
    const areas = [];
    for (const id of areaIds.length ? areaIds : locIds) {
      const l = locations.get(id);
      if (l) areas.push(asArea(l));
      else rejects.push({ line: src.line, rule: 'missing_reference', column: 'county_fips', message: `${at(src)}: service ${r.id}: Location/${id} is not in the folder`, record });
    }
    return {
      id: r.id, name: r.name ?? null, status: r.active === false ? 'inactive' : 'active', orgId,
      org: org ? { id: org.id, name: org.name ?? null } : null,
      areas, areaWhat: areaIds.length ? 'coverageArea Location address.district' : 'location Location address.district',
      addresses: [],
      capacities: [],
      terms: [...(r.category ?? []), ...(r.type ?? [])].flatMap((c) => c.coding ?? []).map((c) => ({ taxonomy: c.system ?? null, code: c.code ?? null, name: null })),
      src, record: JSON.stringify(JSON.parse(record)),
    };
  });
}

// ---------- JSON: the /services list (an array, or the API's page object with `contents`) ----------

const Str = z.union([z.string(), z.number()]).nullish();
const Num = z.union([z.number(), z.string()]).nullish();
const JsonService = z.looseObject({
  id: z.string().min(1),
  name: z.string().nullish(),
  status: z.string().nullish(),
  organization_id: z.string().nullish(),
  organization: z.looseObject({ id: z.string().min(1), name: z.string().nullish() }).nullish(),
  service_areas: z.array(z.looseObject({ name: z.string().nullish() })).nullish(),
  service_at_locations: z.array(z.looseObject({
    service_areas: z.array(z.looseObject({ name: z.string().nullish() })).nullish(),
    location: z.looseObject({
      addresses: z.array(z.looseObject({ region: z.string().nullish(), state_province: z.string().nullish(), address_type: z.string().nullish() })).nullish(),
    }).nullish(),
  })).nullish(),
  capacities: z.array(z.looseObject({
    unit: z.looseObject({ name: z.string().nullish() }).nullish(),
    maximum: Num, available: Num, updated: z.string().nullish(),
  })).nullish(),
  attributes: z.array(z.looseObject({
    taxonomy_term: z.looseObject({
      code: Str, name: z.string().nullish(), taxonomy: z.string().nullish(),
      taxonomy_detail: z.looseObject({ name: z.string().nullish(), uri: z.string().nullish() }).nullish(),
    }).nullish(),
  })).nullish(),
});

async function readJson(path: string, fileName: string, rejects: Reject[]): Promise<Service[]> {
  const raw = await readFile(path);
  let body: string;
  try {
    body = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw new FileRejected('rejected whole: the file is not valid UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (err) {
    throw new FileRejected(`rejected whole: not JSON: ${(err as Error).message}`);
  }
  const page = !Array.isArray(json) && typeof json === 'object' && json !== null && Array.isArray((json as { contents?: unknown }).contents);
  const list = Array.isArray(json) ? json : page ? (json as { contents: unknown[] }).contents : null;
  if (!list) throw new FileRejected('rejected whole: not an HSDS /services list (a JSON array of services, or the API\'s page object with a `contents` array)');
  const lines = elementLines(body, page ? 2 : 1);
  const out: Service[] = [];
  list.forEach((item, i) => {
    const src: Src = { file: fileName, line: lines[i] ?? 0 };
    const record = JSON.stringify(item);
    const parsed = JsonService.safeParse(item);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const p = issue?.path.join('.') ?? '';
      const sid = typeof (item as { id?: unknown })?.id === 'string' ? ` ${(item as { id: string }).id}` : '';
      rejects.push({ line: src.line, rule: 'bad_resource', column: p || null, message: `${at(src)}: service${sid}${p ? `.${p}` : ''}: ${issue?.message ?? 'not an HSDS service object'}`, record });
      return;
    }
    const s = parsed.data;
    const areas = [...(s.service_areas ?? []), ...(s.service_at_locations ?? []).flatMap((l) => l.service_areas ?? [])];
    out.push({
      id: s.id, name: text(s.name), status: text(s.status), orgId: text(s.organization_id) ?? s.organization?.id ?? null,
      org: s.organization ? { id: s.organization.id, name: text(s.organization.name) } : null,
      areas: areas.map((a) => ({ name: text(a.name), src })),
      addresses: (s.service_at_locations ?? []).flatMap((l) => l.location?.addresses ?? [])
        .map((a) => ({ region: text(a.region), state: text(a.state_province), type: text(a.address_type), src })),
      capacities: (s.capacities ?? []).map((c) => ({ unit: text(c.unit?.name), maximum: text(c.maximum), available: text(c.available), updated: text(c.updated), src })),
      terms: (s.attributes ?? []).flatMap((a) => (a.taxonomy_term ? [a.taxonomy_term] : []))
        .map((t) => ({ taxonomy: text(t.taxonomy) ?? text(t.taxonomy_detail?.uri) ?? text(t.taxonomy_detail?.name), code: text(t.code), name: text(t.name) })),
      src, record,
    });
  });
  return out;
}

/** The line where each element of the services array starts (JSON has no record lines; a service's opening brace is its line). */
function elementLines(body: string, depthOfElements: number): number[] {
  const lines: number[] = [];
  const stack: number[] = []; // the open containers: 0x5b array, 0x7b object
  let line = 1;
  let inString = false;
  let expecting = false; // after the list's [ or one of its commas: the next token starts an element
  for (let i = 0; i < body.length; i++) {
    const ch = body.charCodeAt(i);
    if (ch === 0x0a) line++;
    if (inString) {
      if (ch === 0x5c) i++; // the escaped character cannot end the string (and is never a line end)
      else if (ch === 0x22) inString = false;
      continue;
    }
    if (ch === 0x20 || ch === 0x0a || ch === 0x0d || ch === 0x09) continue;
    if (expecting && ch !== 0x5d) {
      lines.push(line);
      expecting = false;
    }
    if (ch === 0x22) inString = true;
    else if (ch === 0x7b || ch === 0x5b) {
      stack.push(ch);
      if (ch === 0x5b && stack.length === depthOfElements) expecting = true;
    } else if (ch === 0x7d || ch === 0x5d) stack.pop();
    else if (ch === 0x2c && stack.length === depthOfElements && stack[stack.length - 1] === 0x5b) expecting = true;
  }
  return lines;
}

// ---------- Tabular data package: a folder with datapackage.json and one CSV per object ----------

const Descriptor = z.looseObject({ resources: z.array(z.looseObject({ name: z.string(), path: z.string() })).min(1) });

/** The package's objects we read, and the columns of each. */
const TABLES = {
  organization: ['id', 'name'],
  service: ['id', 'organization_id', 'name', 'status'],
  service_area: ['service_id', 'service_at_location_id', 'name'],
  service_at_location: ['id', 'service_id', 'location_id'],
  address: ['location_id', 'region', 'state_province', 'address_type'],
  service_capacity: ['service_id', 'unit_id', 'available', 'maximum', 'updated'],
  unit: ['id', 'name'],
  attribute: ['link_id', 'link_entity', 'taxonomy_term_id'],
  taxonomy_term: ['id', 'code', 'name', 'taxonomy', 'taxonomy_id'],
  taxonomy: ['id', 'name', 'uri'],
} as const;
type Table = keyof typeof TABLES;
type Rec = Record<string, string | null> & { _src: Src; _record: string };

async function readPackage(conn: DuckDBConnection, dir: string, rejects: Reject[]): Promise<Service[]> {
  let descriptor: z.infer<typeof Descriptor>;
  try {
    const parsed = Descriptor.safeParse(JSON.parse(await readFile(join(dir, 'datapackage.json'), 'utf8')));
    if (!parsed.success) throw new Error('it has no `resources` list of {name, path}');
    descriptor = parsed.data;
  } catch (err) {
    throw new FileRejected(`rejected whole: datapackage.json cannot be read: ${(err as Error).message}`);
  }
  const tables: Partial<Record<Table, Rec[]>> = {};
  for (const r of descriptor.resources) {
    if (!(r.name in TABLES)) continue;
    // A path is a file of this folder: nothing above it, no absolute path or URL.
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*\.csv$/.test(r.path)) throw new FileRejected(`rejected whole: datapackage.json resource ${r.name} has path '${r.path}': closeloop reads only CSV files in the package's own folder`);
    const st = await stat(join(dir, r.path)).catch(() => null);
    if (!st?.isFile()) throw new FileRejected(`rejected whole: datapackage.json lists ${r.path} (${r.name}), which is not in the folder`);
    tables[r.name as Table] = await readPackageCsv(conn, join(dir, r.path), r.path, TABLES[r.name as Table], rejects);
  }
  for (const need of ['service', 'organization'] as const) {
    if (!tables[need]) throw new FileRejected(`rejected whole: datapackage.json has no ${need} resource`);
  }
  const by = <T extends Table>(t: T, key: string) => {
    const m = new Map<string, Rec[]>();
    for (const r of tables[t] ?? []) {
      const k = r[key];
      if (k) m.set(k, [...(m.get(k) ?? []), r]);
    }
    return m;
  };
  const orgs = by('organization', 'id');
  const sals = by('service_at_location', 'id');
  const salsOfService = by('service_at_location', 'service_id');
  const addrOfLocation = by('address', 'location_id');
  const units = by('unit', 'id');
  const terms = by('taxonomy_term', 'id');
  const taxonomies = by('taxonomy', 'id');
  const capsOf = by('service_capacity', 'service_id');
  const attrsOf = by('attribute', 'link_id');
  const areasOf = new Map<string, Rec[]>();
  for (const a of tables.service_area ?? []) {
    const sid = a.service_id ?? (a.service_at_location_id ? sals.get(a.service_at_location_id)?.[0]?.service_id : null);
    if (sid) areasOf.set(sid, [...(areasOf.get(sid) ?? []), a]);
    else rejects.push({ line: a._src.line, rule: 'missing_reference', column: 'service_id', message: `${at(a._src)}: service_area '${a.name ?? ''}' names no service (service_id, or a service_at_location_id that exists)`, record: a._record });
  }
  return (tables.service ?? []).flatMap((s): Service[] => {
    if (!s.id) {
      rejects.push({ line: s._src.line, rule: 'missing_required', column: 'program_id', message: `${at(s._src)}: service without an id`, record: s._record });
      return [];
    }
    const org = s.organization_id ? orgs.get(s.organization_id)?.[0] : undefined;
    return [{
      id: s.id, name: s.name, status: s.status, orgId: s.organization_id,
      org: org?.id ? { id: org.id, name: org.name } : null,
      areas: (areasOf.get(s.id) ?? []).map((a) => ({ name: a.name, src: a._src, record: a._record })),
      addresses: (salsOfService.get(s.id) ?? []).flatMap((l) => (l.location_id ? addrOfLocation.get(l.location_id) ?? [] : []))
        .map((a) => ({ region: a.region, state: a.state_province, type: a.address_type, src: a._src, record: a._record })),
      capacities: (capsOf.get(s.id) ?? []).map((c) => ({
        unit: (c.unit_id ? units.get(c.unit_id)?.[0]?.name : null) ?? null, maximum: c.maximum, available: c.available, updated: c.updated, src: c._src,
      })),
      terms: (attrsOf.get(s.id) ?? []).filter((a) => !a.link_entity || a.link_entity.toLowerCase() === 'service')
        .flatMap((a) => (a.taxonomy_term_id ? terms.get(a.taxonomy_term_id) ?? [] : []))
        .map((t) => {
          const tx = t.taxonomy_id ? taxonomies.get(t.taxonomy_id)?.[0] : undefined;
          return { taxonomy: t.taxonomy ?? tx?.uri ?? tx?.name ?? null, code: t.code, name: t.name };
        }),
      src: s._src, record: s._record,
    }];
  });
}

/** One CSV of the package, read by the loader's own CSV reader (line numbers, malformed records). */
async function readPackageCsv(conn: DuckDBConnection, path: string, file: string, want: readonly string[], rejects: Reject[]): Promise<Rec[]> {
  const scan = await scanFile(path, { text: true, gzip: false });
  if (scan.textProblem) throw new FileRejected(`rejected whole: ${file}: the file ${scan.textProblem}`);
  if (scan.headerText === null) return [];
  const header = parseCsvRecord(scan.headerText).map((h) => h.trim());
  let read;
  try {
    read = await readCsv(conn, path, header, scan, false);
  } catch (err) {
    if (err instanceof FileRejected) throw new FileRejected(err.message.replace('rejected whole: ', `rejected whole: ${file}: `));
    throw new FileRejected(`rejected whole: ${file} cannot be read as CSV: ${(err as Error).message.split('\n')[0]}`);
  }
  if (read.malformed) {
    for (const m of await rows<{ line: number; record: string; message: string }>(conn, 'SELECT line, record, message FROM malformed_rows ORDER BY line')) {
      rejects.push({ line: m.line, rule: 'malformed_row', column: null, message: `${file} line ${m.line}: ${m.message}`, record: JSON.stringify(m.record) });
    }
  }
  const index = (c: string) => header.findIndex((h) => h.toLowerCase() === c);
  const picked = want.map((c) => [c, index(c)] as const);
  const recs = await rows<Record<string, string | null> & { _line: number; _all: string }>(conn, `
    SELECT m.line_at + (r._rowid - m.from_rowid) AS _line, ${picked.map(([c, i]) => `${i < 0 ? 'NULL' : `r.c${i}`} AS ${id(c)}`).join(', ')},
      json_object(${header.map((h, i) => `'${h.replaceAll("'", "''")}', coalesce(r.c${i}, '')`).join(', ')})::VARCHAR AS _all
    FROM (SELECT rowid AS _rowid, * FROM raw_file WHERE rowid NOT IN (SELECT _rowid FROM skip_rowids)) r
    ASOF LEFT JOIN line_map m ON r._rowid >= m.from_rowid ORDER BY _line`);
  await exec(conn, 'DROP TABLE IF EXISTS raw_file; DROP TABLE IF EXISTS line_map; DROP TABLE IF EXISTS skip_rowids; DROP TABLE IF EXISTS malformed_rows');
  return recs.map((r) => {
    const o = Object.fromEntries(want.map((c) => [c, text(r[c])])) as Rec;
    o._src = { file, line: Number(r._line) };
    o._record = r._all;
    return o;
  });
}

// ---------- services -> rows of the services entity ----------

async function writeRows(conn: DuckDBConnection, services: Service[], columns: string[], rejects: Reject[]): Promise<HsdsRead> {
  if (columns.join() !== 'program_id,org_id,org_name,program_name,domain,county_fips,monthly_capacity') throw new Error('services columns changed: update readHsds');
  const header = [...columns, HSDS_COLUMN];
  const out: Array<{ line: number; values: Array<string | null> }> = [];
  const notRead: Record<string, number> = {};
  let capacityNotSplit = 0;
  let capacityOtherUnit = 0;
  const tables = hsdsTables();
  for (const s of services) {
    // Only a service that takes clients now is in the directory.
    if (s.status && s.status.toLowerCase() !== 'active') {
      notRead[`status ${s.status}`] = (notRead[`status ${s.status}`] ?? 0) + 1;
      continue;
    }
    const reject = (rule: RuleId, column: string | null, message: string, src = s.src, record = s.record) => rejects.push({ line: src.line, rule, column, message: `${at(src)}: service ${s.id}: ${message}`, record });
    if (!s.org) {
      reject('missing_reference', 'org_id', s.orgId ? `organization '${s.orgId}' is not in the directory` : 'no organization (organization_id)');
      continue;
    }
    // Domain: the service's taxonomy terms that the table maps must agree on one domain.
    const mapped = new Map<string, Term>();
    const unmapped: string[] = [];
    for (const t of s.terms) {
      const d = domainOfTerm(t.taxonomy, t.code, tables);
      if ('domain' in d) mapped.set(d.domain, mapped.get(d.domain) ?? t);
      else unmapped.push(`${t.code ?? t.name ?? '?'} (${d.unknown})`);
    }
    if (mapped.size > 1) {
      reject('ambiguous_domain', 'domain', `taxonomy terms of ${mapped.size} domains: ${[...mapped].map(([d, t]) => `${t.code} -> ${d}`).join(', ')} (closeloop keeps one domain per program)`);
      continue;
    }
    if (mapped.size === 0) {
      reject('unknown_code', 'domain', s.terms.length ? `no taxonomy term maps to a domain: ${unmapped.slice(0, 3).join('; ')}` : 'no taxonomy term (attributes) to read a domain from');
      continue;
    }
    const domain = [...mapped.keys()][0] as string;
    // Counties: the service areas; without any, the counties of its locations' addresses.
    const states = [...new Set(s.addresses.map((a) => a.state).filter((x): x is string => !!x))];
    const places = s.areas.length
      ? s.areas.map((a) => ({ text: a.name, state: states.length === 1 ? states[0] as string : null, src: a.src, record: a.record, what: s.areaWhat ?? 'service_area name' }))
      : s.addresses.filter((a) => a.type?.toLowerCase() !== 'virtual' && a.type?.toLowerCase() !== 'postal')
        .map((a) => ({ text: a.region, state: a.state, src: a.src, record: a.record, what: 'address region' }));
    const counties = new Map<string, string>();
    for (const p of places) {
      if (!p.text) {
        reject('unknown_county', 'county_fips', `${p.what} is empty`, p.src, p.record);
        continue;
      }
      const c = countyFips(p.text, p.state);
      if ('fips' in c) counties.set(c.fips, counties.get(c.fips) ?? `${at(p.src)}: ${p.what} '${p.text}'`);
      else reject('unknown_county', 'county_fips', `${p.what}: ${c.unknown}`, p.src, p.record);
    }
    if (places.length === 0) reject('missing_required', 'county_fips', 'no service_area and no location address with a county (region) to read a county from');
    // Capacity: per month only; the latest updated statement; a service-wide figure is a county's only when it serves one.
    const monthly = s.capacities.filter((c) => isMonthlyUnit(c.unit, tables));
    if (s.capacities.length > monthly.length && monthly.length === 0) capacityOtherUnit++;
    const latest = monthly.sort((a, b) => (b.updated ?? '').localeCompare(a.updated ?? ''))[0];
    // (one place that is one county: an area we could not read may be where the capacity goes)
    const single = places.length === 1 && counties.size === 1;
    if (latest && places.length > 1) capacityNotSplit++;
    const capacity = latest && single ? latest.maximum ?? latest.available : null;
    for (const [fips, from] of counties) {
      const record = JSON.stringify({ service: JSON.parse(s.record), county_from: from, ...(capacity !== null && latest ? { capacity_from: `${at(latest.src)}: ${latest.maximum !== null ? 'maximum' : 'available'} ${capacity} ${latest.unit}` } : {}) });
      out.push({ line: s.src.line, values: [s.id, s.org.id, s.org.name ?? null, s.name ?? null, domain, fips, capacity ?? null, record] });
    }
  }
  await exec(conn, `DROP TABLE IF EXISTS resource_rejects; CREATE TEMP TABLE resource_rejects (line BIGINT, rule VARCHAR, column_name VARCHAR, message VARCHAR, record VARCHAR)`);
  await exec(conn, `DROP TABLE IF EXISTS hsds_rows; CREATE TEMP TABLE hsds_rows (line BIGINT, ord BIGINT, ${header.map((_, i) => `c${i} VARCHAR`).join(', ')})`);
  const a = await conn.createAppender('hsds_rows', 'main', 'temp');
  const b = await conn.createAppender('resource_rejects', 'main', 'temp');
  try {
    out.forEach((r, k) => {
      a.appendBigInt(BigInt(r.line));
      a.appendBigInt(BigInt(k));
      for (const v of r.values) {
        if (v === null) a.appendNull();
        else a.appendVarchar(v);
      }
      a.endRow();
    });
    for (const r of rejects) {
      b.appendBigInt(BigInt(r.line));
      b.appendVarchar(r.rule);
      if (r.column === null) b.appendNull();
      else b.appendVarchar(r.column);
      b.appendVarchar(r.message);
      b.appendVarchar(r.record);
      b.endRow();
    }
    a.flushSync();
    b.flushSync();
  } finally {
    a.closeSync();
    b.closeSync();
  }
  // raw_file in line order: row n is line_map's row n (one point per row).
  await exec(conn, `DROP TABLE IF EXISTS raw_file; CREATE TEMP TABLE raw_file AS SELECT ${header.map((_, i) => `c${i}`).join(', ')} FROM hsds_rows ORDER BY line, ord`);
  await exec(conn, `DROP TABLE IF EXISTS line_map; CREATE TEMP TABLE line_map AS SELECT (row_number() OVER (ORDER BY line, ord) - 1)::BIGINT AS from_rowid, line::BIGINT AS line_at FROM hsds_rows`);
  await exec(conn, `DROP TABLE hsds_rows; DROP TABLE IF EXISTS skip_rowids; CREATE TEMP TABLE skip_rowids (_rowid BIGINT)`);
  const notes = [
    `${services.length} service${services.length === 1 ? '' : 's'} read`,
    ...Object.entries(notRead).map(([why, n]) => `${n} not read: ${why}`),
    ...(capacityNotSplit ? [`${capacityNotSplit} with a monthly capacity serve several counties: capacity unknown per county (HSDS states it per service; it is not split)`] : []),
    ...(capacityOtherUnit ? [`${capacityOtherUnit} state capacity only in units other than people or referrals per month: capacity unknown`] : []),
  ];
  return { header, malformed: 0, rowsRead: out.length + rejects.length, emptyIsText: false, rejects: rejects.length, notes };
}
