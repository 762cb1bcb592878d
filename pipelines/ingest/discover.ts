// Which inbox files belong to which entity: a mapping's glob claims a file first;
// otherwise the entity whose name the file name starts with.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ENTITIES, type EntityContract } from '../../models/contracts/index.ts';
import { claimFor, type LoadedClaim } from './mapping.ts';

export interface InboxFile {
  name: string;
  path: string;
  size: number;
  mtimeMs: number;
  format: 'csv' | 'parquet';
  gzip: boolean;
  entity: EntityContract | null;
  claim?: LoadedClaim;
}

export function formatOf(name: string): { format: 'csv' | 'parquet'; gzip: boolean } | null {
  const n = name.toLowerCase();
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

/** Inbox files in byte order of their names (the order the contract applies them in). */
export async function discoverInbox(inbox: string, claims: LoadedClaim[]): Promise<InboxFile[]> {
  const names = (await readdir(inbox).catch(() => [] as string[])).filter((n) => !n.startsWith('.')).sort(byteOrder);
  const files: InboxFile[] = [];
  for (const name of names) {
    const path = join(inbox, name);
    const st = await stat(path);
    if (!st.isFile()) continue;
    const fmt = formatOf(name);
    const claim = claimFor(claims, name);
    const entity = claim ? (ENTITIES.find((e) => e.name === claim.entity) ?? null) : entityFromName(name);
    files.push({ name, path, size: st.size, mtimeMs: st.mtimeMs, format: fmt?.format ?? 'csv', gzip: fmt?.gzip ?? false, entity: fmt ? entity : null, claim });
  }
  return files;
}

export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
