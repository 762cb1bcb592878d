// Opening the current published generation: read-only, so any number of readers
// (server, CLI exports) share it while a run builds the next one.
import { join } from 'node:path';
import { openDatabase, type Database } from '../models/duckdb.ts';
import { readPointer, storePaths, type Pointer } from './store.ts';

export class NothingPublished extends Error {
  constructor(root: string) {
    super(`nothing is published in ${root} yet: run \`closeloop run\` first`);
  }
}

export async function openPublished(root: string): Promise<{ db: Database; pointer: Pointer }> {
  const paths = storePaths(root);
  const pointer = await readPointer(paths);
  if (!pointer) throw new NothingPublished(root);
  const db = await openDatabase(join(paths.publishedDir, pointer.published), { readOnly: true, memoryLimit: '1GB' });
  return { db, pointer };
}
