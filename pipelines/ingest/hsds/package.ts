// An HSDS tabular data package is a folder in the inbox (datapackage.json and its CSVs):
// its stamp and content hash cover every file in it, so the ledger sees a changed,
// added or removed CSV as new content, as it does a changed file.
import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ReadFailed, scanFile, type ScanResult } from '../scanFile.ts';

async function filesOf(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const out: string[] = [];
  for (const n of names) if ((await stat(join(dir, n)).catch(() => null))?.isFile()) out.push(n);
  return out;
}

/** The total size of the folder's files (the ledger's size of a package). */
export async function packageSize(dir: string): Promise<number> {
  let size = 0;
  for (const n of await filesOf(dir)) size += (await stat(join(dir, n))).size;
  return size;
}

/** The folder's stamp: its files' names and stamps (size, times, inode). */
export async function packageStamp(dir: string, stampOf: (path: string) => Promise<string | null>): Promise<string | null> {
  try {
    const parts = await Promise.all((await filesOf(dir)).map(async (n) => `${n}=${await stampOf(join(dir, n))}`));
    return `package:${parts.join(';')}`;
  } catch {
    return null;
  }
}

/** The folder's content hash: SHA-256 over each file's name and SHA-256, in byte order of names. */
export async function scanPackage(dir: string): Promise<ScanResult> {
  let names: string[];
  try {
    names = await filesOf(dir);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ReadFailed(e.code, e.message);
  }
  const hash = createHash('sha256');
  let size = 0;
  for (const n of names) {
    const s = await scanFile(join(dir, n), { text: false, gzip: false });
    hash.update(`${n}\0${s.sha256}\n`);
    size += s.size;
  }
  return { sha256: hash.digest('hex'), size, textProblem: null, headerText: null, records: 0, breakpoints: [], blankBreakpoints: [], leadingBlankLines: 0, flagged: [] };
}
