// SQL dialects: the model SQL is written once, in what DuckDB and PostgreSQL share, and the
// few constructs that differ are written as template helpers ({{asof_left_join(...)}} in a
// .sql file, or a Dialect method in the TypeScript that builds SQL). For DuckDB every helper
// expands to the DuckDB SQL the model would hold anyway, so the default engine runs exactly
// the SQL it ran before; for PostgreSQL it expands to an equivalent. Scalar functions
// PostgreSQL lacks (year, last_day, date_diff, ...) are not helpers: the PostgreSQL engine
// defines them with DuckDB's meaning (postgres/compat.sql). README, "Engines", lists both.

export type DialectName = 'duckdb' | 'postgres';

export interface Dialect {
  name: DialectName;
  /** `alias.*` without the named columns (DuckDB EXCLUDE; PostgreSQL keeps them: every caller names the columns it uses). */
  starExcept(alias: string, columns: readonly string[]): string;
  /** GROUP BY the first `keys` columns of the select list (DuckDB: GROUP BY ALL). */
  groupByAll(keys: number): string;
  /** `ASOF LEFT JOIN right ON on` after `FROM left` (see postgresAsofLeftJoin); `inner`: ASOF JOIN. */
  asofLeftJoin(left: string, right: string, on: string, inner?: boolean): string;
  /** Template helpers callable from .sql files as {{name(arg, ...)}}: SQL fragments in, SQL out. */
  helpers: Readonly<Record<string, (args: string[]) => string>>;
}

const argCount = (name: string, args: string[], min: number, max = min) => {
  if (args.length < min || args.length > max) {
    throw new Error(`{{${name}(...)}} takes ${min === max ? min : `${min} to ${max}`} arguments, got ${args.length}`);
  }
};

/** {{asof_left_join(left alias, right alias, condition)}}, {{asof_join(...)}} (inner) */
function asofHelper(dialect: Dialect, args: string[], inner = false): string {
  argCount(inner ? 'asof_join' : 'asof_left_join', args, 3);
  const [left, right, on] = args as [string, string, string];
  return dialect.asofLeftJoin(left, right, on, inner);
}

/** DuckDB's arg_min/arg_max: one key, or several compared in order (a struct key). */
function duckdbArgExtreme(fn: 'arg_min' | 'arg_max') {
  return (args: string[]) => {
    argCount(fn, args, 2, 9);
    const [value, ...keys] = args as [string, ...string[]];
    return `${fn}(${value}, ${keys.length === 1 ? keys[0] : `(${keys.join(', ')})`})`;
  };
}

/**
 * PostgreSQL has no arg_min/arg_max: the first element of the values ordered by the keys.
 * DuckDB skips rows whose value is NULL, and with one key rows whose key is NULL; a struct
 * of several keys is never NULL and orders a NULL part last, as PostgreSQL orders NULLs.
 */
function postgresArgExtreme(fn: 'arg_min' | 'arg_max') {
  return (args: string[]) => {
    argCount(fn, args, 2, 9);
    const [value, ...keys] = args as [string, ...string[]];
    const order = keys.map((k) => `${k}${fn === 'arg_max' ? ' DESC' : ''}`).join(', ');
    const skip = [`${value} IS NOT NULL`, ...(keys.length === 1 ? [`${keys[0]} IS NOT NULL`] : [])].join(' AND ');
    return `(array_agg(${value} ORDER BY ${order}) FILTER (WHERE ${skip}))[1]`;
  };
}

export const DUCKDB: Dialect = {
  name: 'duckdb',
  starExcept: (alias, columns) => `${alias}.* EXCLUDE (${columns.join(', ')})`,
  groupByAll: () => 'GROUP BY ALL',
  asofLeftJoin: (_left, right, on, inner) => `ASOF ${inner ? '' : 'LEFT '}JOIN ${right} ON ${on}`,
  helpers: {
    asof_left_join: (args) => asofHelper(DUCKDB, args),
    asof_join: (args) => asofHelper(DUCKDB, args, true),
    series(args) {
      argCount('series', args, 3);
      return `unnest(generate_series(${args.join(', ')}))`;
    },
    arg_min: duckdbArgExtreme('arg_min'),
    arg_max: duckdbArgExtreme('arg_max'),
  },
};

export const POSTGRES: Dialect = {
  name: 'postgres',
  starExcept: (alias) => `${alias}.*`,
  groupByAll: (keys) => `GROUP BY ${Array.from({ length: keys }, (_, i) => i + 1).join(', ')}`,
  asofLeftJoin: postgresAsofLeftJoin,
  helpers: {
    asof_left_join: (args) => asofHelper(POSTGRES, args),
    asof_join: (args) => asofHelper(POSTGRES, args, true),
    series(args) {
      argCount('series', args, 3);
      return `generate_series(${args.join(', ')})`;
    },
    arg_min: postgresArgExtreme('arg_min'),
    arg_max: postgresArgExtreme('arg_max'),
  },
};

export const DIALECTS: Record<DialectName, Dialect> = { duckdb: DUCKDB, postgres: POSTGRES };

/** `relation alias`, `(subquery) alias` (an optional AS) or a bare table name: the relation and its alias. */
export function splitFromItem(item: string): { relation: string; alias: string } {
  const text = item.trim();
  if (/^[a-z_][a-z0-9_]*$/i.test(text)) return { relation: text, alias: text };
  const m = /^([\s\S]*?)\s+(?:AS\s+)?([a-z_][a-z0-9_]*)$/i.exec(text);
  if (!m || !m[1]) throw new Error(`expected "relation alias", got ${JSON.stringify(item)}`);
  return { relation: m[1].trim(), alias: m[2] as string };
}

/** Splits at top-level occurrences of a separator (outside parentheses and quotes). */
export function splitTopLevel(text: string, separator: RegExp): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quote) {
      if (ch === quote) quote = null;
      continue;
    }
    if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (depth === 0) {
      const m = separator.exec(text.slice(i));
      if (m && m.index === 0) {
        parts.push(text.slice(start, i));
        i += m[0].length - 1;
        start = i + 1;
      }
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim());
}

const FLIP: Record<string, string> = { '<=': '>=', '<': '>', '>=': '<=', '>': '<' };

/**
 * DuckDB's ASOF [LEFT] JOIN for PostgreSQL, which has none: `left l ASOF LEFT JOIN right r ON
 * l.a = r.a AND ... AND <expr of l> <= r.t` takes, per left row, the right row with the
 * smallest r.t at or after the expression (the largest at or before it for >= and >).
 * Here the distinct (keys, expression) of the left relation are joined to the right on the
 * keys and the inequality, the nearest right row per group is kept (DISTINCT ON, ordered by
 * r.t) and joined back: one join and one sort, where a LATERAL subquery would scan the right
 * side once per left row. Every column of the right relation is offered under its alias.
 * `inner` (ASOF JOIN) drops the left rows without a match, as DuckDB does.
 */
export function postgresAsofLeftJoin(left: string, right: string, on: string, inner = false): string {
  const l = splitFromItem(left);
  const r = splitFromItem(right);
  const lRef = new RegExp(`\\b${l.alias}\\.`);
  const rCol = new RegExp(`^${r.alias}\\.([a-z_][a-z0-9_]*)$`, 'i');
  const keys: Array<{ left: string; right: string }> = [];
  let inequality: { left: string; op: string; column: string } | null = null;
  for (const term of splitTopLevel(on, /^\s+AND\s+/i)) {
    const m = /^([\s\S]+?)\s*(<=|>=|=|<|>)\s*([\s\S]+)$/.exec(term);
    if (!m) throw new Error(`asof_left_join: cannot read the condition ${JSON.stringify(term)}`);
    let [, a, op, b] = m as unknown as [string, string, string, string];
    // the right relation's column on the right-hand side
    if (rCol.test(a.trim()) && !rCol.test(b.trim())) {
      [a, b] = [b, a];
      op = op === '=' ? op : (FLIP[op] as string);
    }
    const column = rCol.exec(b.trim())?.[1];
    if (!column || !lRef.test(a)) {
      throw new Error(`asof_left_join: each condition compares an expression of ${l.alias} with a column of ${r.alias}, got ${JSON.stringify(term)}`);
    }
    if (op === '=') keys.push({ left: a.trim(), right: column });
    else if (inequality) throw new Error(`asof_left_join: exactly one inequality, got a second in ${JSON.stringify(on)}`);
    else inequality = { left: a.trim(), op, column };
  }
  if (!inequality) throw new Error(`asof_left_join: no inequality in ${JSON.stringify(on)}`);
  const nearest = `${r.alias}.${inequality.column}${inequality.op.startsWith('<') ? '' : ' DESC'}`;
  const k = keys.map((key, i) => ({ ...key, name: `_asof_k${i}` }));
  const lookupKeys = [...k.map((key) => `${key.left} AS ${key.name}`), `${inequality.left} AS _asof_v`];
  const groupKeys = [...k.map((key) => `_l.${key.name}`), '_l._asof_v'];
  const lookup = `SELECT DISTINCT ON (${groupKeys.join(', ')}) ${groupKeys.join(', ')}, ${r.alias}.*
    FROM (SELECT DISTINCT ${lookupKeys.join(', ')} FROM ${l.relation} ${l.alias}) _l
    JOIN ${r.relation} ${r.alias} ON ${[...k.map((key) => `${r.alias}.${key.right} = _l.${key.name}`), `_l._asof_v ${inequality.op} ${r.alias}.${inequality.column}`].join(' AND ')}
    ORDER BY ${groupKeys.join(', ')}, ${nearest}`;
  const back = [...k.map((key) => `${r.alias}.${key.name} = (${key.left})`), `${r.alias}._asof_v = (${inequality.left})`];
  return `${inner ? 'JOIN' : 'LEFT JOIN'} (\n    ${lookup}\n  ) ${r.alias} ON ${back.join(' AND ')}`;
}
