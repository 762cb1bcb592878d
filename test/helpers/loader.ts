// Loads files straight through the ingestion steps (scan, read, validate, quarantine,
// upsert) into an in-memory warehouse, without computing metrics: for loader tests
// that run many times.
import { join } from 'node:path';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { entityFromName } from '../../pipelines/ingest/discover.ts';
import { loadFile, type FileReport } from '../../pipelines/ingest/loadFile.ts';
import { scanFile } from '../../pipelines/ingest/scanFile.ts';
import { WAREHOUSE_DDL } from '../../pipelines/ingest/warehouseSchema.ts';
import { openDatabase, rows, type Database } from '../../models/duckdb.ts';

export interface MemoryWarehouse {
  db: Database;
  load(name: string, content: string): Promise<FileReport>;
  query<T>(sql: string): Promise<T[]>;
  close(): void;
}

export async function memoryWarehouse(): Promise<MemoryWarehouse> {
  const db = await openDatabase(':memory:', { memoryLimit: '1GB', threads: 1 });
  for (const ddl of WAREHOUSE_DDL) await db.conn.run(ddl);
  const dir = mkdtempSync(join(tmpdir(), 'closeloop-loader-'));
  return {
    db,
    async load(name, content) {
      const path = join(dir, name);
      writeFileSync(path, content);
      const entity = entityFromName(name);
      if (!entity) throw new Error(`${name}: no entity`);
      const scan = await scanFile(path, { text: true, gzip: false });
      return loadFile(db.conn, { path, entity, scan, format: 'csv', gzip: false, runId: 'test-run', runDate: '2026-11-01' });
    },
    query: (sql) => rows(db.conn, sql),
    close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
