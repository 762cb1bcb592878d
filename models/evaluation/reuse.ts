// Incremental runs (issue 19): an evaluation part (the event study, the PHQ-9 comparison)
// reads a few staging tables. An incremental run works on a copy of the previous
// generation's warehouse, so that generation's published evaluation tables are at hand.
// When none of the entities the part reads changed, and the as-of date, the small-cell
// threshold and the evaluation's code are the same (the fingerprint), those tables are
// this run's answer: they are kept as they are and restamped with this run's id. The same
// inputs give the same tables, so a reused part is what computing it again would write.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';
import { exec, rows, sqlString } from '../duckdb.ts';
import { readSqlFile } from '../intermediate/sql.ts';
import { sqlReads } from '../metrics/dependencies.ts';

export const EVALUATION_PARTS = {
  event_study: { sql: 'event_study.sql', tables: ['evaluation_summary', 'evaluation_event_study', 'evaluation_balance'] },
  phq9: { sql: 'phq9.sql', tables: ['evaluation_phq9', 'evaluation_phq9_balance'] },
} as const;
export type EvaluationPart = keyof typeof EVALUATION_PARTS;

export interface EvaluationReuse {
  /** Entities loaded or superseded by this run; undefined on a full refresh (nothing is reused). */
  changed?: ReadonlySet<string>;
  asOf: string;
  threshold: number;
}

const META = 'evaluation_cache_meta';

/** The entities a part reads: its SQL, the covered runs it shares, and the intermediate models they use. */
export function evaluationReads(part: EvaluationPart): Set<string> {
  const text = ['covered_runs.sql', EVALUATION_PARTS[part].sql].map((f) => readSqlFile(new URL(`./${f}`, import.meta.url))).join('\n');
  return sqlReads(text).entities;
}

/** Everything besides the data that shapes a part's tables: the settings and the code that computes and publishes them. */
function fingerprint(part: EvaluationPart, o: EvaluationReuse): string {
  const h = createHash('sha256').update(JSON.stringify({ part, asOf: o.asOf, threshold: o.threshold }));
  const files = ['../metrics/bulk.ts', '../duckdb.ts'];
  for (const dir of ['./', '../stats/', '../intermediate/']) {
    for (const name of readdirSync(new URL(dir, import.meta.url)).filter((n) => /\.(ts|sql)$/.test(n)).sort()) files.push(`${dir}${name}`);
  }
  for (const f of files) h.update(`${f}\0`).update(readFileSync(new URL(f, import.meta.url)));
  return h.digest('hex');
}

/**
 * Keeps the previous generation's tables of `part` when they can be reused (see above),
 * restamped with `runId`; false when the part must be computed.
 */
export async function reuseEvaluation(conn: DuckDBConnection, part: EvaluationPart, runId: string, o: EvaluationReuse): Promise<boolean> {
  if (!o.changed || [...evaluationReads(part)].some((e) => o.changed!.has(e))) return false;
  const tables = EVALUATION_PARTS[part].tables;
  const present = await rows<{ n: number }>(conn, `SELECT count(*)::INTEGER AS n FROM duckdb_tables() WHERE NOT temporary AND schema_name = 'main' AND table_name IN (${[META, ...tables].map(sqlString).join(', ')})`);
  if (present[0]?.n !== tables.length + 1) return false;
  const meta = await rows<{ fingerprint: string; run_id: string | null }>(conn, `SELECT fingerprint, run_id FROM ${META} WHERE part = ${sqlString(part)}`);
  if (meta[0]?.fingerprint !== fingerprint(part, o) || !meta[0].run_id) return false;
  // The tables are the ones recorded: a version that computes them without this record (a
  // downgrade, then an upgrade) leaves its own run id in them and the earlier record in place.
  const other = await rows<{ n: number }>(conn, `SELECT count(*)::INTEGER AS n FROM (${tables.map((t) => `SELECT run_id FROM ${t}`).join(' UNION ALL ')}) WHERE run_id IS DISTINCT FROM ${sqlString(meta[0].run_id)}`);
  if (other[0]?.n !== 0) return false;
  for (const t of tables) await exec(conn, `UPDATE ${t} SET run_id = ${sqlString(runId)}`);
  await exec(conn, `UPDATE ${META} SET run_id = ${sqlString(runId)} WHERE part = ${sqlString(part)}`);
  return true;
}

/** The record's table: per part, its fingerprint and the run whose id its tables carry. */
async function ensureMeta(conn: DuckDBConnection): Promise<void> {
  await exec(conn, `CREATE TABLE IF NOT EXISTS ${META} (part VARCHAR PRIMARY KEY, fingerprint VARCHAR NOT NULL, run_id VARCHAR)`);
}

/** Forgets what the part's tables were computed from: called before computing them again. */
export async function forgetEvaluation(conn: DuckDBConnection, part: EvaluationPart): Promise<void> {
  await ensureMeta(conn);
  await exec(conn, `DELETE FROM ${META} WHERE part = ${sqlString(part)}`);
}

/** Records what the part's tables were computed from, and the run whose id they carry, for the next run's reuseEvaluation. */
export async function recordEvaluation(conn: DuckDBConnection, part: EvaluationPart, o: EvaluationReuse, runId: string): Promise<void> {
  await ensureMeta(conn);
  await exec(conn, `INSERT OR REPLACE INTO ${META} (part, fingerprint, run_id) VALUES (${sqlString(part)}, ${sqlString(fingerprint(part, o))}, ${sqlString(runId)})`);
}
