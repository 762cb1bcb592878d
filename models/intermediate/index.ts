// The intermediate layer (dbt's int_ models): facts shared by many metrics, built once per
// run from the staging tables, as temporary tables of the run's connection (person-level
// data, never published). Each model is one SELECT in ./<name>.sql, run on the run's engine
// (the DuckDB warehouse, or PostgreSQL: models/engines/).
import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlString } from '../duckdb.ts';
import { DUCKDB, type Dialect } from '../engines/dialect.ts';
import { asEngine, type SqlEngine } from '../engines/engine.ts';
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

export function intermediateSql(model: IntermediateModel, asOf: string, dialect: Dialect = DUCKDB): string {
  const url = new URL(`./${model}.sql`, import.meta.url);
  return renderSql(readSqlFile(url), modelVars(asOf), `${model}.sql`, dialect);
}

/** Builds every intermediate model (or those asked for); returns seconds per model. */
export async function buildIntermediate(target: SqlEngine | DuckDBConnection, opts: IntermediateOptions): Promise<Record<string, number>> {
  const engine = asEngine(target);
  for (const z of opts.restrictedZip3) {
    if (!/^\d{3}$/.test(z)) throw new Error(`restricted zip3 prefixes are 3 digits, got ${JSON.stringify(z)}`);
  }
  const zip3 = opts.restrictedZip3.length ? opts.restrictedZip3.map((z) => `(${sqlString(z)})`).join(', ') : '(NULL)';
  await engine.createTable('ref_restricted_zip3', `SELECT zip3::VARCHAR AS zip3 FROM (VALUES ${zip3}) AS v(zip3) WHERE zip3 IS NOT NULL`);
  const seconds: Record<string, number> = {};
  for (const model of INTERMEDIATE_MODELS) {
    if (opts.only && !opts.only.has(model)) continue;
    const started = performance.now();
    await engine.createTable(model, intermediateSql(model, opts.asOf, engine.dialect));
    seconds[model] = (performance.now() - started) / 1000;
  }
  return seconds;
}
