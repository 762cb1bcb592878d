// A size + modification-time cache of file hashes, so an unchanged inbox costs no
// hashing. Only a cache: the load ledger of truth (by SHA-256) is in the warehouse.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../store.ts';

type Cache = Record<string, string>;

const keyOf = (name: string, size: number, mtimeMs: number) => `${name}\u0000${size}\u0000${Math.round(mtimeMs)}`;

export class HashCache {
  private constructor(private readonly path: string, private entries: Cache) {}

  static async open(stateDir: string): Promise<HashCache> {
    const path = join(stateDir, 'hash-cache.json');
    const entries = await readFile(path, 'utf8').then((t) => JSON.parse(t) as Cache).catch(() => ({}));
    return new HashCache(path, entries);
  }

  get(name: string, size: number, mtimeMs: number): string | undefined {
    return this.entries[keyOf(name, size, mtimeMs)];
  }

  set(name: string, size: number, mtimeMs: number, sha: string) {
    this.entries[keyOf(name, size, mtimeMs)] = sha;
  }

  async save() {
    await writeFileAtomic(this.path, JSON.stringify(this.entries));
  }
}
