// Test helpers: a throw-away store folder with an inbox, and read-only queries on the
// current warehouse or published generation.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, rows } from '../../models/duckdb.ts';
import { runPipeline, type RunOptions, type RunSummary } from '../../pipelines/run.ts';
import { readPointer, storePaths } from '../../pipelines/store.ts';

export interface TempStore {
  root: string;
  inbox: string;
  add(name: string, content: string | Buffer): string;
  copy(from: string, name?: string): void;
  run(opts?: Partial<RunOptions>): Promise<RunSummary>;
  warehouse<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  published<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  cleanup(): void;
}

export function tempStore(prefix = 'closeloop-test-'): TempStore {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const inbox = join(root, 'inbox');
  mkdirSync(inbox, { recursive: true });
  const query = async <T>(kind: 'warehouse' | 'published', sql: string): Promise<T[]> => {
    const p = await readPointer(storePaths(root));
    if (!p) throw new Error('nothing published yet');
    const dir = kind === 'warehouse' ? storePaths(root).warehouseDir : storePaths(root).publishedDir;
    const db = await openDatabase(join(dir, kind === 'warehouse' ? p.warehouse : p.published), { readOnly: true, memoryLimit: '1GB' });
    try {
      return await rows<T>(db.conn, sql);
    } finally {
      db.close();
    }
  };
  return {
    root,
    inbox,
    add(name, content) {
      const path = join(inbox, name);
      writeFileSync(path, content);
      return path;
    },
    copy(from, name) {
      cpSync(from, join(inbox, name ?? from.split('/').at(-1)!));
    },
    run: (opts = {}) => runPipeline({ root, mappingsDir: join(root, 'mappings'), now: () => new Date('2026-11-01T12:00:00Z'), ...opts }),
    warehouse: (sql) => query('warehouse', sql),
    published: (sql) => query('published', sql),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

export const FIXTURES = new URL('../fixtures/', import.meta.url).pathname;
