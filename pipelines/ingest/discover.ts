// Which inbox files belong to which entity: a mapping's glob claims a file first;
// otherwise the entity whose name the file name starts with. Nothing in the inbox is
// passed over silently: folders, pipes and hidden data files are reported as skipped,
// and a file that cannot be opened (a dangling link) is rejected for this run.
import type { BigIntStats } from 'node:fs';
import { lstat, readdir, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ENTITIES, type EntityContract } from '../../models/contracts/index.ts';
import { FHIR_SOURCES, type FhirResourceType } from './fhir/resources.ts';
import { packageSize, packageStamp } from './hsds/package.ts';
import { fhirDirectoryType } from './hsds/readHsds.ts';
import { claimFor, type LoadedClaim } from './mapping.ts';

export interface InboxFile {
  name: string;
  path: string;
  size: number;
  mtimeMs: number;
  /**
   * What an edit cannot keep: size, modification and inode-change times (ns) and the
   * inode. `cp -p`, `rsync -t` and unzip restore the modification time, but setting
   * it changes the inode-change time, which no user can set.
   */
  stamp: string;
  format: InboxFormat;
  gzip: boolean;
  entity: EntityContract | null;
  claim?: LoadedClaim;
  /** FHIR Bulk Data file: its resource type; a type that feeds two entities is listed once per entity, the first reporting its unusable lines. */
  fhir?: { resourceType: FhirResourceType; reportsBadLines: boolean };
}

/** An inbox entry that is not a file to load, and why (run summary and report). */
export interface SkippedEntry {
  file: string;
  reason: string;
}

/** An entry that looks like a file to load but cannot be opened now (retried on every run). */
export interface UnopenableEntry {
  file: string;
  message: string;
}

export interface Inbox {
  files: InboxFile[];
  skipped: SkippedEntry[];
  unopenable: UnopenableEntry[];
}

/** The inbox folder itself is missing or unreadable: the run stops, publishing nothing. */
export class InboxMissing extends Error {}

/** hsds-json: an HSDS /services list; hsds-package: a folder holding an HSDS tabular data package; fhir-directory: a folder of FHIR HealthcareService, Organization and Location ndjson files. */
export type InboxFormat = 'csv' | 'parquet' | 'ndjson' | 'hsds-json' | 'hsds-package' | 'fhir-directory';

export function formatOf(name: string): { format: InboxFormat; gzip: boolean } | null {
  const n = name.toLowerCase();
  if (n.endsWith('.json')) return { format: 'hsds-json', gzip: false };
  if (n.endsWith('.ndjson')) return { format: 'ndjson', gzip: false };
  if (n.endsWith('.ndjson.gz')) return { format: 'ndjson', gzip: true };
  if (n.endsWith('.csv')) return { format: 'csv', gzip: false };
  if (n.endsWith('.csv.gz')) return { format: 'csv', gzip: true };
  if (n.endsWith('.parquet')) return { format: 'parquet', gzip: false };
  return null;
}

export function entityFromName(name: string): EntityContract | null {
  const n = name.toLowerCase();
  // "referrals_2025-06.csv", "phq9-clinic-a.parquet": the entity name, then a non-letter.
  return ENTITIES.find((e) => n.startsWith(e.name) && !/[a-z]/.test(n.charAt(e.name.length))) ?? null;
}

/**
 * The FHIR resource type an ndjson file holds, from its name as Bulk Data servers write
 * it (Patient.ndjson, 1.Observation.ndjson, Encounter_002.ndjson.gz): a word of the name
 * spelled as a resource type, capital first. Null when the name has none.
 */
export function fhirTypeOfName(name: string): string | null {
  return name.replace(/\.ndjson(\.gz)?$/i, '').split(/[^A-Za-z]+/).find((w) => /^[A-Z][a-z]+(?:[A-Z][a-z]+)*$/.test(w)) ?? null;
}

export const stampOf = (st: BigIntStats) => `${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.ino}:${st.dev}`;

/** Inbox entries, files in byte order of their names (the order the contract applies them in). */
export async function discoverInbox(inbox: string, claims: LoadedClaim[]): Promise<Inbox> {
  let names: string[];
  try {
    names = (await readdir(inbox)).sort(byteOrder);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InboxMissing(`inbox ${inbox} does not exist`);
    if (code === 'ENOTDIR') throw new InboxMissing(`inbox ${inbox} is not a folder`);
    throw new InboxMissing(`inbox ${inbox} cannot be read (${code ?? (err as Error).message})`);
  }
  const out: Inbox = { files: [], skipped: [], unopenable: [] };
  for (const name of names) {
    const fmt = formatOf(name);
    if (name.startsWith('.')) {
      // Hidden files that are not named like data (.DS_Store) are nobody's extract.
      if (fmt) out.skipped.push({ file: name, reason: 'hidden file (its name starts with a dot): rename it to load it' });
      continue;
    }
    const path = join(inbox, name);
    let st: BigIntStats;
    try {
      st = await stat(path, { bigint: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const link = await lstat(path).then((l) => l.isSymbolicLink(), () => false);
      if (link && (code === 'ENOENT' || code === 'ELOOP')) {
        const target = await readlink(path).catch(() => '?');
        out.unopenable.push({ file: name, message: `${name}: not read: it is a symbolic link to ${target}, which ${code === 'ELOOP' ? 'loops back on itself' : 'does not exist'}; it is tried again on every run` });
      } else if (code === 'ENOENT') {
        out.skipped.push({ file: name, reason: 'removed while the run was reading the inbox' });
      } else {
        out.unopenable.push({ file: name, message: `${name}: not read: ${code ?? (err as Error).message}; it is tried again on every run` });
      }
      continue;
    }
    const services = ENTITIES.find((e) => e.name === 'services') ?? null;
    if (st.isDirectory() && (await stat(join(path, 'datapackage.json')).then((d) => d.isFile(), () => false))) {
      // An HSDS tabular data package: the folder is one entry (its stamp covers every file in it).
      const stamp = await packageStamp(path, currentStamp);
      if (stamp === null) {
        out.unopenable.push({ file: name, message: `${name}: not read: the data package folder cannot be listed; it is tried again on every run` });
        continue;
      }
      const size = await packageSize(path).catch(() => 0);
      out.files.push({ name, path, size, mtimeMs: Number(st.mtimeMs), stamp, gzip: false, format: 'hsds-package', entity: services });
      continue;
    }
    if (st.isDirectory() && (await readdir(path).then((ns) => ns.some((n) => fhirDirectoryType(n) === 'HealthcareService'), () => false))) {
      // A FHIR service directory: HealthcareService files with their Organizations and Locations, read together.
      const stamp = await packageStamp(path, currentStamp);
      if (stamp === null) {
        out.unopenable.push({ file: name, message: `${name}: not read: the FHIR directory folder cannot be listed; it is tried again on every run` });
        continue;
      }
      const size = await packageSize(path).catch(() => 0);
      out.files.push({ name, path, size, mtimeMs: Number(st.mtimeMs), stamp, gzip: false, format: 'fhir-directory', entity: services });
      continue;
    }
    if (!st.isFile()) {
      const kind = st.isDirectory() ? 'a folder (closeloop reads only the files directly in the inbox, and folders holding an HSDS datapackage.json or FHIR HealthcareService files)'
        : st.isFIFO() ? 'a named pipe (FIFO), not a file'
          : st.isSocket() ? 'a socket, not a file' : 'a device, not a file';
      out.skipped.push({ file: name, reason: kind });
      continue;
    }
    const base = { name, path, size: Number(st.size), mtimeMs: Number(st.mtimeMs), stamp: stampOf(st), gzip: fmt?.gzip ?? false };
    if (fmt?.format === 'ndjson') {
      const type = fhirTypeOfName(name);
      const entities = type && type in FHIR_SOURCES ? FHIR_SOURCES[type as FhirResourceType] : null;
      if (!entities) {
        out.skipped.push({ file: name, reason: `FHIR ${type ?? '(no resource type in the name)'} resources are not read (closeloop reads ${Object.keys(FHIR_SOURCES).join(', ')}; the file name names the type, e.g. Patient.ndjson)` });
        continue;
      }
      entities.forEach((e, i) => out.files.push({
        ...base, format: 'ndjson', entity: ENTITIES.find((x) => x.name === e) ?? null, fhir: { resourceType: type as FhirResourceType, reportsBadLines: i === 0 },
      }));
      continue;
    }
    if (fmt?.format === 'hsds-json') {
      if (name.toLowerCase() === 'datapackage.json') {
        out.skipped.push({ file: name, reason: 'an HSDS data package descriptor on its own: put datapackage.json and its CSV files in a folder of their own inside the inbox' });
      } else {
        out.files.push({ ...base, format: 'hsds-json', entity: ENTITIES.find((e) => e.name === 'services') ?? null });
      }
      continue;
    }
    const claim = claimFor(claims, name);
    const entity = claim ? (ENTITIES.find((e) => e.name === claim.entity) ?? null) : entityFromName(name);
    out.files.push({ ...base, format: fmt?.format ?? 'csv', entity: fmt ? entity : null, claim });
  }
  return out;
}

/** The file's stamp now, or null when it is gone. */
export async function currentStamp(path: string): Promise<string | null> {
  const st = await stat(path, { bigint: true }).catch(() => null);
  if (!st) return null;
  return st.isDirectory() ? packageStamp(path, currentStamp) : stampOf(st);
}

/**
 * The order a run loads one entity's files in: byte order of their names, except that FHIR
 * Task files go before ServiceRequest files, so a run's referrals are built with every
 * Task version it brings (a ServiceRequest first would load a state its Task then replaces).
 */
export function loadOrder(a: InboxFile, b: InboxFile): number {
  const rank = (f: InboxFile) => (f.fhir?.resourceType === 'Task' ? 0 : 1);
  return rank(a) - rank(b) || byteOrder(a.name, b.name);
}

export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
