// A cache of file hashes keyed on what an edit cannot keep (the file's stamp: size,
// modification and inode-change times, inode; see discover.ts), so an unchanged inbox
// costs no hashing. Only a cache: the load ledger of truth (by SHA-256) is in the
// warehouse. Only entries for files seen in this run are saved.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../store.ts';

type Cache = Record<string, string>;

const keyOf = (name: string, stamp: string) => `${name}\u0000${stamp}`;

export class HashCache {
  private readonly seen: Cache = {};

  private constructor(private readonly path: string, private readonly entries: Cache) {}

  static async open(stateDir: string): Promise<HashCache> {
    const path = join(stateDir, 'hash-cache.json');
    const entries = await readFile(path, 'utf8').then((t) => JSON.parse(t) as Cache).catch(() => ({}));
    return new HashCache(path, entries);
  }

  get(name: string, stamp: string): string | undefined {
    const key = keyOf(name, stamp);
    const sha = this.entries[key];
    if (sha !== undefined) this.seen[key] = sha;
    return sha;
  }

  set(name: string, stamp: string, sha: string) {
    this.seen[keyOf(name, stamp)] = sha;
  }

  async save() {
    await writeFileAtomic(this.path, JSON.stringify(this.seen));
  }
}
