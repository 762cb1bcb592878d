// A run blocked by a data-quality gate publishes nothing, but what it quarantined must
// stay readable (`closeloop quarantine`): its quarantine table is copied into
// warehouse/blocked/<run_id>.duckdb (person-level, so under the warehouse folder),
// replacing an earlier blocked run's, and removed when a later run publishes.
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { exec, sqlString as str } from '../../models/duckdb.ts';
import { fsyncDir, fsyncFile, type StorePaths } from '../store.ts';

export const blockedQuarantineDir = (paths: StorePaths) => join(paths.warehouseDir, 'blocked');

export async function keepBlockedQuarantine(conn: DuckDBConnection, paths: StorePaths, runId: string) {
  const dir = blockedQuarantineDir(paths);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `${runId}.duckdb.tmp`);
  await exec(conn, `ATTACH ${str(tmp)} AS blocked_q`);
  try {
    await exec(conn, 'CREATE TABLE blocked_q.quarantine AS SELECT * FROM quarantine');
  } finally {
    await exec(conn, 'DETACH blocked_q');
  }
  fsyncFile(tmp);
  await rename(tmp, join(dir, `${runId}.duckdb`));
  fsyncDir(dir);
}

/** A later run published: the blocked run's quarantine is out of date. */
export async function dropBlockedQuarantine(paths: StorePaths) {
  await rm(blockedQuarantineDir(paths), { recursive: true, force: true });
}
