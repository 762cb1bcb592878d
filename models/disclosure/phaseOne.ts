// Issue 19, incremental runs: the first phase of the disclosure rounds (finalise.ts: this
// publication made safe on its own, before the previous publication joins the attacker's
// system) is a function of its inputs alone: the true figures, the ties found in the data,
// the groups earlier publications showed in open-ended frames, the rules (threshold,
// person-time, the reference rule) and the code. A run whose inputs are all the same as the
// previous run's ends its first phase where that run did, so it takes that run's end state
// (rows withheld, cuts removed, certificates, strikes, the round reached) instead of
// running the rounds again, and goes on to the second phase (the changes since the
// previous publication) as a full rebuild would. That is a run whose changed extract moves
// no true figure: copies of rows already loaded under new ids, corrections to fields no
// metric reads. Any other change moves the key, and the rounds run. The first run after a
// first publication takes it only when no cut has an open-ended frame (counties, ZIP3,
// languages, programs, organisations): the groups earlier publications showed there are
// an input, and a first publication has none.
//
// The state is kept in the warehouse (table `audit_phase_one`, never published: it names
// withheld rows), like the audit's memo; a full refresh starts a new warehouse without it.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import type { DuckDBConnection } from '@duckdb/node-api';
import { exec, rows, sqlIdent, tableExists } from '../duckdb.ts';
import { stageTable } from './columnar.ts';

/** Where the first phase ended: what the rounds after it start from. */
export interface PhaseOneState {
  /** Rows withheld (keys), everything the first phase withheld included. */
  forced: string[];
  /** Cuts removed, with the reason. */
  coarsened: Array<[string, string]>;
  /** Candidates shown safe by a certificate. */
  settled: string[];
  /** widen.ts's strikes per disclosed count. */
  strikes: Array<[string, number]>;
  /** The round the second phase starts at. */
  phaseStart: number;
  /** The memo's entries the first phase decided or took (the run that takes this state keeps them). */
  memo: string[];
}

/**
 * The code the first phase runs (this folder, the attacker, the metric catalog, the HiGHS
 * build): a state saved by other code is not taken.
 */
const CODE = (() => {
  const h = createHash('sha256');
  for (const folder of ['./', './attacker/', '../metrics/', '../disparities/']) {
    const dir = new URL(folder, import.meta.url);
    for (const name of readdirSync(dir).filter((n) => /\.(ts|js)$/.test(n)).sort()) h.update(`${folder}${name}\0`).update(readFileSync(new URL(name, dir)));
  }
  // the SQL helpers the rounds read and write through, and the engines under them
  h.update(readFileSync(new URL('../duckdb.ts', import.meta.url)));
  for (const pkg of ['highs', '@duckdb/node-api']) h.update(`${pkg}@${packageVersion(pkg)}\0`);
  h.update(process.version);
  return h.digest('hex');
})();

/** An installed package's version: the nearest package.json of that name above its entry point. */
function packageVersion(pkg: string): string {
  for (let dir = dirname(createRequire(import.meta.url).resolve(pkg)); dir !== dirname(dir); dir = dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === pkg) return manifest.version ?? 'unknown';
    } catch {
      // no package.json here: one folder up
    }
  }
  return 'unknown';
}

/**
 * The key of the first phase's inputs, in the order the rounds see them (an order that
 * could change a decision changes the key too). The true figures are digested in DuckDB (every
 * column but the run id, rows in order; 0.06-0.1 s for 198,504 rows); the rest are small.
 */
export async function phaseOneKey(conn: DuckDBConnection, truthTable: string, inputs: Record<string, unknown>): Promise<string> {
  const cols = (await rows<{ c: string }>(conn, `SELECT column_name AS c FROM duckdb_columns() WHERE table_name = '${truthTable}' AND column_name <> 'run_id' ORDER BY column_index`)).map((r) => r.c);
  // \N for NULL: never the text of a value (concat_ws would skip a NULL and shift the columns)
  const row = `concat_ws(chr(31), ${cols.map((c) => `coalesce(${sqlIdent(c)}::VARCHAR, '\\N')`).join(', ')})`;
  const digest = await rows<{ d: string | null }>(conn, `SELECT sha256(string_agg(r, chr(30) ORDER BY r)) AS d FROM (SELECT ${row} AS r FROM ${truthTable})`);
  return createHash('sha256').update(`${CODE}\0${digest[0]?.d ?? ''}\0${JSON.stringify(inputs)}`).digest('hex');
}

export async function readPhaseOne(conn: DuckDBConnection): Promise<{ key: string; state: PhaseOneState } | null> {
  if (!(await tableExists(conn, 'audit_phase_one'))) return null;
  const r = await rows<{ k: string; state: string }>(conn, 'SELECT k, state FROM audit_phase_one LIMIT 1');
  return r[0] ? { key: r[0].k, state: JSON.parse(r[0].state) as PhaseOneState } : null;
}

/** Keeps this run's end of the first phase (or none, when its first phase did not end clean). */
export async function writePhaseOne(conn: DuckDBConnection, saved: { key: string; state: PhaseOneState } | null): Promise<void> {
  if (!saved) {
    await exec(conn, 'DROP TABLE IF EXISTS audit_phase_one');
    return;
  }
  await stageTable(conn, '_audit_phase_one', 1, [{ name: 'k', type: 'VARCHAR', values: [saved.key] }, { name: 'state', type: 'VARCHAR', values: [JSON.stringify(saved.state)] }]);
  await exec(conn, 'CREATE OR REPLACE TABLE audit_phase_one AS SELECT k, state FROM _audit_phase_one; DROP TABLE _audit_phase_one');
}
