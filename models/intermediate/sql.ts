// SQL models live in .sql files holding one SELECT each (dbt style); the runner wraps them in
// CREATE TABLE. Placeholders are {{name}}; an unknown one is an error, never left in the SQL.
import { readFileSync } from 'node:fs';
import { CORE_DOMAINS } from '../contracts/domains.ts';
import { sqlString } from '../duckdb.ts';

export type SqlVars = Record<string, string>;

export function renderSql(sql: string, vars: SqlVars, source = 'sql'): string {
  return sql.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (_, name: string) => {
    const v = vars[name];
    if (v === undefined) throw new Error(`${source}: no value for {{${name}}}`);
    return v;
  });
}

export function readSqlFile(url: URL): string {
  return readFileSync(url, 'utf8');
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The variables every model may use: the as-of date and the core domains. */
export function modelVars(asOf: string): SqlVars {
  if (!ISO_DATE.test(asOf) || Number.isNaN(Date.parse(`${asOf}T00:00:00Z`))) {
    throw new Error(`as-of date must be YYYY-MM-DD, got ${JSON.stringify(asOf)}`);
  }
  return {
    as_of: `DATE ${sqlString(asOf)}`,
    core_domains: CORE_DOMAINS.map(sqlString).join(', '),
  };
}
