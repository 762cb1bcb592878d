// The store (architecture.md, "Store (decided)"): warehouse and published DuckDB files
// per generation, a pointer switched atomically, and control state in plain files.
// DuckDB locks a file opened read-write against every other process, so the server
// only ever opens published files read-only and never shares a file with a run.
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

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

export async function ensureStore(p: StorePaths) {
  for (const d of [p.warehouseDir, p.publishedDir, p.stateDir]) await mkdir(d, { recursive: true });
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

/** Write to a temporary file, fsync it, rename over the target, fsync the folder. */
export async function writeFileAtomic(path: string, content: string) {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  await rename(tmp, path);
  fsyncDir(join(path, '..'));
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
  await writeFileAtomic(p.pointer, `${JSON.stringify(pointer, null, 2)}\n`);
}

/** Sortable, unique run ids: UTC time to the millisecond plus a random suffix. */
export function newRunId(now: Date): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace('.', '')}-${randomBytes(2).toString('hex')}`;
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
      await writeFile(path, body, { flag: 'wx' });
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
  const pointer = await readPointer(p);
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
      }
    }
  }
}

export async function fileExists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}
