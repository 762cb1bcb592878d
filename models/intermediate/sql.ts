// SQL models live in .sql files holding one SELECT each (dbt style); the runner wraps them in
// CREATE TABLE. Placeholders are {{name}}; an unknown one is an error, never left in the SQL.
// Dialect helpers are {{name(arg, ...)}} (models/engines/dialect.ts): arguments are SQL
// fragments, split at top-level commas, and may hold placeholders themselves.
import { readFileSync } from 'node:fs';
import { CORE_DOMAINS } from '../contracts/domains.ts';
import { sqlString } from '../duckdb.ts';
import { DUCKDB, splitTopLevel, type Dialect } from '../engines/dialect.ts';

export type SqlVars = Record<string, string>;

export function renderSql(sql: string, vars: SqlVars, source = 'sql', dialect: Dialect = DUCKDB): string {
  const withVars = sql.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (_, name: string) => {
    const v = vars[name];
    if (v === undefined) throw new Error(`${source}: no value for {{${name}}}`);
    return v;
  });
  return renderHelpers(withVars, dialect, source);
}

/** Expands each {{helper(args)}}, innermost first. */
function renderHelpers(sql: string, dialect: Dialect, source: string): string {
  let out = '';
  let at = 0;
  for (;;) {
    const open = sql.indexOf('{{', at);
    if (open < 0) return out + sql.slice(at);
    const m = /^\{\{\s*([a-z_]+)\s*\(/.exec(sql.slice(open));
    if (!m) throw new Error(`${source}: unreadable placeholder at ${JSON.stringify(sql.slice(open, open + 40))}`);
    const name = m[1] as string;
    const helper = dialect.helpers[name];
    if (!helper) throw new Error(`${source}: no dialect helper {{${name}(...)}}`);
    // the matching parenthesis, outside quotes, then }}
    let depth = 0;
    let quote: string | null = null;
    let close = -1;
    for (let i = open + m[0].length - 1; i < sql.length; i++) {
      const ch = sql[i];
      if (quote) {
        if (ch === quote) quote = null;
      } else if (ch === "'" || ch === '"') quote = ch;
      else if (ch === '(') depth++;
      else if (ch === ')' && --depth === 0) {
        close = i;
        break;
      }
    }
    const end = close < 0 ? -1 : sql.slice(close + 1).search(/\S/);
    if (close < 0 || sql.slice(close + 1 + end, close + 3 + end) !== '}}') {
      throw new Error(`${source}: {{${name}(...)}} is not closed by ")}}"`);
    }
    const inner = renderHelpers(sql.slice(open + m[0].length, close), dialect, source);
    try {
      out += sql.slice(at, open) + helper(splitTopLevel(inner, /^,/));
    } catch (err) {
      throw new Error(`${source}: ${(err as Error).message}`);
    }
    at = close + 3 + end;
  }
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
