// The store (architecture.md, "Store (decided)"): warehouse and published DuckDB files
// per generation, a pointer switched atomically, and control state in plain files.
// DuckDB locks a file opened read-write against every other process, so the server
// only ever opens published files read-only and never shares a file with a run.
// Everything closeloop writes into the store is private to the account that runs it
// (folders 0700, files 0600, whatever the umask): the warehouse holds person-level data.
import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { z } from 'zod';
import { faultPoint } from './faults.ts';

export interface StorePaths {
  root: string;
  warehouseDir: string;
  publishedDir: string;
  stateDir: string;
  pointer: string;
  inbox: string;
  mappings: string;
}

export function storePaths(root: string): StorePaths {
  return {
    root,
    warehouseDir: join(root, 'warehouse'),
    publishedDir: join(root, 'published'),
    stateDir: join(root, 'state'),
    pointer: join(root, 'current.json'),
    inbox: join(root, 'inbox'),
    mappings: join(root, 'mappings'),
  };
}

/** Modes of what closeloop creates in the store (a umask can only take bits away from these). */
export const PRIVATE_DIR = 0o700;
export const PRIVATE_FILE = 0o600;

/**
 * The store's folders, created private. With `log`, an existing store that other accounts
 * can read or write is reported in one line; what exists is left as it is (the operator
 * may have meant it), but everything written from now on is private.
 */
export async function ensureStore(p: StorePaths, log?: (line: string) => void) {
  if (log) {
    const warning = await loosePermissions(p);
    if (warning) log(warning);
  }
  for (const d of [p.root, p.warehouseDir, p.publishedDir, p.stateDir]) await mkdir(d, { recursive: true, mode: PRIVATE_DIR });
}

/** A one-line warning naming the store's folders and files that other accounts may use, or null. */
export async function loosePermissions(p: StorePaths): Promise<string | null> {
  const mode = async (path: string) => ((await stat(path).catch(() => null))?.mode ?? 0) & 0o777;
  const octal = (m: number) => m.toString(8).padStart(4, '0');
  const dirs: string[] = [];
  const files: string[] = [];
  for (const d of [p.warehouseDir, p.publishedDir, p.stateDir]) {
    const m = await mode(d);
    if (m & 0o077) dirs.push(`${relative(p.root, d)}/ (${octal(m)})`);
    for (const n of await readdir(d).catch(() => [] as string[])) {
      const f = await mode(join(d, n));
      if (f & 0o077) files.push(`${relative(p.root, join(d, n))} ${octal(f)}`);
    }
  }
  const pointer = await mode(p.pointer);
  if (pointer & 0o077) files.push(`${relative(p.root, p.pointer)} ${octal(pointer)}`);
  if (!dirs.length && !files.length) return null;
  const what = [...dirs, ...(files.length ? [`${files.length} file${files.length === 1 ? '' : 's'} (e.g. ${files[0]})`] : [])].join(', ');
  return `warning: the store ${p.root} is open to other accounts: ${what}; new files are made private, existing ones are left as they are: run chmod -R go-rwx ${[p.warehouseDir, p.publishedDir, p.stateDir, p.pointer].join(' ')}`;
}

export const PointerSchema = z.object({
  run_id: z.string(),
  as_of: z.string(),
  warehouse: z.string(),
  published: z.string(),
  published_at: z.string(),
});
export type Pointer = z.infer<typeof PointerSchema>;

export async function readPointer(p: StorePaths): Promise<Pointer | null> {
  let text: string;
  try {
    text = await readFile(p.pointer, 'utf8');
  } catch {
    return null;
  }
  return PointerSchema.parse(JSON.parse(text));
}

/**
 * Write to a temporary file, fsync it, rename over the target, fsync the folder.
 * `faults` names the fault points passed between the steps (the pointer's: 'pointer').
 */
export async function writeFileAtomic(path: string, content: string, faults?: 'pointer') {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', PRIVATE_FILE);
  try {
    fchmodSync(fd, PRIVATE_FILE); // a leftover temporary file of a killed process keeps its old mode otherwise
    writeSync(fd, content);
    if (faults) faultPoint('pointer:after-write-tmp');
    fsyncSync(fd);
    if (faults) faultPoint('pointer:after-fsync-tmp');
  } catch (err) {
    closeSync(fd);
    await rm(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  await rename(tmp, path);
  if (faults) faultPoint('pointer:after-rename');
  fsyncDir(join(path, '..'));
  if (faults) faultPoint('pointer:after-fsync-dir');
}

export function fsyncDir(dir: string) {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function fsyncFile(path: string) {
  const fd = openSync(path, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export async function writePointer(p: StorePaths, pointer: Pointer) {
  await writeFileAtomic(p.pointer, `${JSON.stringify(pointer, null, 2)}\n`, 'pointer');
}

/** Sortable, unique run ids: UTC time to the millisecond plus a random suffix. */
export function newRunId(now: Date): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace('.', '')}-${randomBytes(2).toString('hex')}`;
}

/** The time a run id was made (its start), or null for an id of another shape. */
export function runIdTime(runId: string): string | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z/.exec(runId);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7]}Z` : null;
}

export class WriterBusy extends Error {}

/**
 * Only one process may write. The lock file is created exclusively and holds the
 * owner's PID; a lock whose PID is gone is stale and taken over.
 */
export async function acquireWriterLock(p: StorePaths, purpose: string): Promise<() => Promise<void>> {
  const path = join(p.stateDir, 'writer.lock');
  const body = JSON.stringify({ pid: process.pid, purpose, since: new Date().toISOString() });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, body, { flag: 'wx', mode: PRIVATE_FILE });
      return async () => {
        await unlink(path).catch(() => undefined);
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = await readFile(path, 'utf8').then((t) => JSON.parse(t) as { pid: number; purpose: string; since: string }).catch(() => null);
      if (holder && pidAlive(holder.pid)) {
        throw new WriterBusy(`another closeloop process is writing (pid ${holder.pid}, ${holder.purpose} since ${holder.since}); try again when it ends`);
      }
      await unlink(path).catch(() => undefined); // stale
    }
  }
  throw new WriterBusy('could not take the writer lock');
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Keep the newest `keep` generations (and whatever the pointer names); remove the rest and leftovers of dead runs. */
export async function pruneGenerations(p: StorePaths, keep: number) {
  faultPoint('prune:before');
  const pointer = await readPointer(p);
  let removed = 0;
  for (const dir of [p.warehouseDir, p.publishedDir]) {
    const names = (await readdir(dir).catch(() => [] as string[])).sort();
    const done = names.filter((n) => n.endsWith('.duckdb'));
    const keepSet = new Set(done.slice(-keep));
    if (pointer) keepSet.add(dir === p.warehouseDir ? pointer.warehouse : pointer.published);
    for (const n of names) {
      if (keepSet.has(n) || keepSet.has(n.replace(/\.wal$/, ''))) continue;
      if (n.endsWith('.duckdb') || n.endsWith('.tmp') || n.endsWith('.wal')) {
        // A .tmp of a run still under way is protected by the writer lock: prune runs only while holding it.
        await rm(join(dir, n), { force: true });
        if (++removed === 1) faultPoint('prune:mid');
      }
    }
  }
  faultPoint('prune:after');
}

export interface GenerationFiles {
  run_id: string;
  published: string;
  warehouse: string;
  /** Both files are there (a generation that can be rolled back to). */
  complete: boolean;
}

/** Finished generations on disk, oldest first (run ids sort by time). */
export async function listGenerations(p: StorePaths): Promise<GenerationFiles[]> {
  const pub = (await readdir(p.publishedDir).catch(() => [] as string[])).filter((n) => n.endsWith('.duckdb'));
  const wh = new Set((await readdir(p.warehouseDir).catch(() => [] as string[])).filter((n) => n.endsWith('.duckdb')));
  return pub.sort().map((n) => ({ run_id: n.replace(/\.duckdb$/, ''), published: n, warehouse: n, complete: wh.has(n) }));
}

/** The store's history of figures (models/disclosure/revisions.ts): outside the generations, so it survives pruning and rollback. */
export const historyPath = (p: StorePaths) => join(p.stateDir, 'published-figures.duckdb');

/**
 * The store's history of figures (state/published-figures.duckdb; models/disclosure/
 * revisions.ts) waits beside the last one, with its run's id, until the pointer names that
 * run. A run killed in between leaves both: the next run, or a rollback (before it moves the
 * pointer away), puts it in place when the pointer names its run. Any other is a run that
 * never published: removeLeftovers (run.ts) drops it.
 */
export async function settleHistory(p: StorePaths, currentRunId: string | null): Promise<void> {
  const history = historyPath(p);
  const runOfNext = await readFile(`${history}.tmp.run`, 'utf8').catch(() => null);
  if (runOfNext === null || runOfNext !== currentRunId) return;
  try {
    await rename(`${history}.tmp`, history);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await rm(`${history}.tmp.run`, { force: true });
  fsyncDir(p.stateDir);
}

/** Run ids that were published at some point (run history), for telling a finished generation from one a dead run never switched to. */
export async function publishedRunIds(p: StorePaths): Promise<Set<string>> {
  const out = new Set<string>();
  const text = await readFile(join(p.stateDir, 'runs.jsonl'), 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    if (!line.includes('"published"')) continue;
    try {
      const r = JSON.parse(line) as { run_id?: string; status?: string };
      if (r.status === 'published' && r.run_id) out.add(r.run_id);
    } catch {
      // a torn last line of a run that was killed while appending
    }
  }
  return out;
}

/** Append one record to the run history (JSON Lines; one write per record). */
export async function appendHistory(p: StorePaths, record: Record<string, unknown>) {
  const { appendFile, open } = await import('node:fs/promises');
  const path = join(p.stateDir, 'runs.jsonl');
  // A process killed while appending leaves a torn last line: start on a fresh line.
  let lead = '';
  const fh = await open(path, 'r').catch(() => null);
  if (fh) {
    try {
      const { size } = await fh.stat();
      if (size > 0) {
        const b = Buffer.alloc(1);
        await fh.read(b, 0, 1, size - 1);
        if (b[0] !== 0x0a) lead = '\n';
      }
    } finally {
      await fh.close();
    }
  }
  await appendFile(path, `${lead}${JSON.stringify(record)}\n`, { mode: PRIVATE_FILE });
}

/** Failures worth another attempt a little later: the writer lock is busy, or an I/O error. */
export function isTransient(err: unknown): boolean {
  if (err instanceof WriterBusy) return true;
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && ['ENOSPC', 'EIO', 'EAGAIN', 'EBUSY', 'EMFILE', 'ENFILE', 'ETIMEDOUT', 'EDQUOT'].includes(code);
}

export async function fileExists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}
