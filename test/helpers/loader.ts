// Loads files straight through the ingestion steps (scan, read, validate, quarantine,
// upsert) into an in-memory warehouse, without computing metrics: for loader tests
// that run many times.
import { join } from 'node:path';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { entityFromName, formatOf } from '../../pipelines/ingest/discover.ts';
import type { LoadedClaim } from '../../pipelines/ingest/mapping.ts';
import { loadFile, type FileReport } from '../../pipelines/ingest/loadFile.ts';
import { scanFile } from '../../pipelines/ingest/scanFile.ts';
import { WAREHOUSE_DDL } from '../../pipelines/ingest/warehouseSchema.ts';
import { openDatabase, rows, type Database } from '../../models/duckdb.ts';

export interface MemoryWarehouse {
  db: Database;
  /** Load one file (CSV, .csv.gz or Parquet by its name), claimed by a mapping's claim if given. */
  load(name: string, content: string | Buffer, claim?: LoadedClaim): Promise<FileReport>;
  /** Path a file of this name would have (to write Parquet there first). */
  path(name: string): string;
  query<T>(sql: string): Promise<T[]>;
  close(): void;
}

export async function memoryWarehouse(): Promise<MemoryWarehouse> {
  const db = await openDatabase(':memory:', { memoryLimit: '1GB', threads: 1 });
  for (const ddl of WAREHOUSE_DDL) await db.conn.run(ddl);
  const dir = mkdtempSync(join(tmpdir(), 'closeloop-loader-'));
  return {
    db,
    async load(name, content, claim) {
      const path = join(dir, name);
      writeFileSync(path, content);
      const entity = claim ? entityFromName(claim.entity) : entityFromName(name);
      if (!entity) throw new Error(`${name}: no entity`);
      const { format, gzip } = formatOf(name) ?? { format: 'csv' as const, gzip: false };
      const scan = await scanFile(path, { text: format === 'csv', gzip });
      return loadFile(db.conn, { path, entity, claim, scan, format, gzip, runId: 'test-run', runDate: '2026-11-01' });
    },
    path: (name) => join(dir, name),
    query: (sql) => rows(db.conn, sql),
    close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
