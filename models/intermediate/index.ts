// The intermediate layer (dbt's int_ models): facts shared by many metrics, built once per
// run from the staging tables, as temporary tables of the run's connection (person-level
// data, never published). Each model is one SELECT in ./<name>.sql.
import type { DuckDBConnection } from '@duckdb/node-api';
import { exec, sqlString } from '../duckdb.ts';
import { modelVars, readSqlFile, renderSql } from './sql.ts';

/** In dependency order. */
export const INTERMEDIATE_MODELS = [
  'int_spans',
  'int_periods',
  'int_coverage',
  'int_person_attributes',
  'int_referral_milestones',
  'int_positive_needs',
  'int_phq9_candidates',
  'int_phq9_episodes',
  'int_enrollment_windows',
] as const;
export type IntermediateModel = (typeof INTERMEDIATE_MODELS)[number];

export interface IntermediateOptions {
  asOf: string;
  /** 3-digit ZIP prefixes released as '000' (HHS list of restricted prefixes). */
  restrictedZip3: readonly string[];
  /** Build only these models (an incremental run's needs; they must include their inputs). */
  only?: ReadonlySet<IntermediateModel>;
}

export function intermediateSql(model: IntermediateModel, asOf: string): string {
  const url = new URL(`./${model}.sql`, import.meta.url);
  return renderSql(readSqlFile(url), modelVars(asOf), `${model}.sql`);
}

/** Builds every intermediate model (or those asked for); returns seconds per model. */
export async function buildIntermediate(conn: DuckDBConnection, opts: IntermediateOptions): Promise<Record<string, number>> {
  for (const z of opts.restrictedZip3) {
    if (!/^\d{3}$/.test(z)) throw new Error(`restricted zip3 prefixes are 3 digits, got ${JSON.stringify(z)}`);
  }
  await exec(conn, 'CREATE OR REPLACE TEMP TABLE ref_restricted_zip3 (zip3 VARCHAR)');
  if (opts.restrictedZip3.length > 0) {
    await exec(conn, `INSERT INTO ref_restricted_zip3 VALUES ${opts.restrictedZip3.map((z) => `(${sqlString(z)})`).join(', ')}`);
  }
  const seconds: Record<string, number> = {};
  for (const model of INTERMEDIATE_MODELS) {
    if (opts.only && !opts.only.has(model)) continue;
    const started = performance.now();
    await exec(conn, `CREATE OR REPLACE TEMP TABLE ${model} AS\n${intermediateSql(model, opts.asOf)}`);
    seconds[model] = (performance.now() - started) / 1000;
  }
  return seconds;
}
