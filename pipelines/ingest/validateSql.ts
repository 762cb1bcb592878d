// Turns the contract into one SQL statement that normalises every column and lists,
// per row, every rule it breaks, in column order. Set-based: DuckDB checks millions
// of rows in one pass; no row crosses into JS.
import { contractColumns, type ContractColumn, type EntityContract } from '../../models/contracts/index.ts';
import { ISO_639_1, LANGUAGE_NAMES } from '../../models/contracts/languages.ts';
import { sqlType } from '../../models/staging/tables.ts';
import { sqlIdent as id, sqlString as str } from '../../models/duckdb.ts';

export const DEFAULT_DATE_FORMAT = '%Y-%m-%d';

/**
 * Whitespace around a value: what trim() strips (the Unicode space separators: space,
 * U+00A0, U+1680, U+2000..U+200A, U+202F, U+205F, U+3000) plus tab, LF, VT, FF and CR.
 */
const WHITESPACE = [9, 10, 11, 12, 13, 0x20, 0xa0, 0x1680, ...Array.from({ length: 11 }, (_, i) => 0x2000 + i), 0x202f, 0x205f, 0x3000]
  .map((c) => `chr(${c})`).join(' || ');
export const trimWs = (e: string) => `trim(${e}, ${WHITESPACE})`;

/**
 * trimWs for every cell of a file: trimming with a character list costs about 2.5 times
 * trim(), so it runs only on values that start or end with whitespace (an anchored
 * regular expression, about as cheap as trim()).
 */
const trimCell = (e: string) => `CASE WHEN regexp_matches(${e}, '^[\\s\\x{0B}\\p{Zs}]|[\\s\\x{0B}\\p{Zs}]$') THEN ${trimWs(e)} ELSE ${e} END`;

/** SQL list of the placeholder tokens that mean "missing", or null for none. */
export const placeholderList = (tokens: readonly string[]) => (tokens.length ? tokens.map(str).join(', ') : null);

const stripped = (c: string) => `w_${c}`;
const trimmed = (c: string) => `t_${c}`;
const parsed = (c: string) => `v_${c}`;

/** Short, quoted rendering of the offending value for messages. */
const shown = (c: string) => `'''' || left(${id(trimmed(c))}, 60) || ''''`;

function normalised(col: ContractColumn, dateFormat: string): string {
  const t = id(trimmed(col.name));
  switch (col.kind) {
    case 'id':
    case 'text':
    case 'digits5':
      return t;
    case 'language':
      return languageCode(t);
    case 'enum': {
      const v = `CASE WHEN lower(${t}) IN (${(col.values ?? []).map(str).join(', ')}) THEN lower(${t}) END`;
      return col.emptyAs ? `CASE WHEN ${t} IS NULL THEN ${str(col.emptyAs)} ELSE ${v} END` : v;
    }
    case 'date':
      return dateFormat === DEFAULT_DATE_FORMAT
        ? `CASE WHEN regexp_full_match(${t}, '\\d{4}-\\d{2}-\\d{2}') THEN try_strptime(${t}, '%Y-%m-%d')::DATE END`
        : `try_strptime(${t}, ${str(dateFormat)})::DATE`;
    case 'int':
      return `CASE WHEN regexp_full_match(${t}, '[+-]?\\d{1,9}') THEN ${t}::INTEGER END`;
    case 'decimal':
      return `CASE WHEN regexp_full_match(${t}, '[+-]?(\\d{1,14}(\\.\\d{0,4})?|\\.\\d{1,4})') THEN TRY_CAST(${t} AS DECIMAL(18,4)) END`;
  }
}

/**
 * A language value as its code (models/contracts/languages.ts): a name or code in the
 * table, an ISO 639-1 code, or a tag whose language part is one; 'unknown' when empty;
 * NULL (unknown_enum) when it is none of these.
 */
function languageCode(t: string): string {
  const names = `MAP {${Object.entries(LANGUAGE_NAMES).map(([k, v]) => `${str(k)}: ${str(v)}`).join(', ')}}`;
  const iso = `(${ISO_639_1.map(str).join(', ')})`;
  const x = `replace(lower(${t}), '_', '-')`;
  const primary = `split_part(${x}, '-', 1)`;
  return `CASE WHEN ${t} IS NULL THEN 'unknown'
    WHEN ${x} IN ${iso} THEN ${x}
    WHEN ${names}[${x}] IS NOT NULL THEN ${names}[${x}]
    WHEN regexp_full_match(${x}, '[a-z]{2,3}(-[a-z0-9]{1,8})*') THEN
      CASE WHEN ${primary} IN ${iso} THEN ${primary} WHEN ${names}[${primary}] IS NOT NULL THEN ${names}[${primary}] WHEN length(${primary}) = 3 THEN ${primary} END
    END`;
}

/** One rule on a row: the condition that breaks it, and the error it then adds. */
interface Check {
  cond: string;
  error: string;
}

function err(cond: string, rule: string, column: string, message: string): Check {
  return { cond, error: `CASE WHEN ${cond} THEN {'rule': ${str(rule)}, 'column': ${str(column)}, 'message': ${message}} END` };
}

function columnChecks(col: ContractColumn, dateFormat: string, runDate: string): Check[] {
  const c = col.name;
  const t = id(trimmed(c));
  const v = id(parsed(c));
  const checks: Check[] = [];
  if (col.required) checks.push(err(`${t} IS NULL`, 'missing_required', c, str(`${c} is required but empty`)));
  switch (col.kind) {
    case 'id':
      checks.push(err(`length(${t}) > 64`, 'too_long', c, `${str(`${c} is longer than 64 characters (`)} || length(${t}) || ')'`));
      break;
    case 'language':
      checks.push(err(`${t} IS NOT NULL AND ${v} IS NULL`, 'unknown_enum', c,
        `${str(`${c} `)} || ${shown(c)} || ' is not an ISO 639 language code, a tag such as en-US, or a language name closeloop knows (closeloop contract lists them)'`));
      break;
    case 'date':
      checks.push(err(`${t} IS NOT NULL AND ${v} IS NULL`, 'bad_date', c,
        `${str(`${c} `)} || ${shown(c)} || ${str(` is not a date (expected ${dateFormat === DEFAULT_DATE_FORMAT ? 'YYYY-MM-DD' : dateFormat})`)}`));
      if (col.notFuture) checks.push(err(`${v} > DATE ${str(runDate)}`, 'future_date', c, `${str(`${c} `)} || ${v} || ' is in the future'`));
      if (col.notBefore) checks.push(err(`${v} < DATE ${str(col.notBefore)}`, `before_${col.notBefore.slice(0, 4)}`, c, `${str(`${c} `)} || ${v} || ${str(` is before ${col.notBefore}`)}`));
      break;
    case 'int':
    case 'decimal': {
      const rule = col.kind === 'int' ? 'not_an_int' : 'not_a_number';
      checks.push(err(`${t} IS NOT NULL AND ${v} IS NULL`, rule, c, `${str(`${c} `)} || ${shown(c)} || ${str(col.kind === 'int' ? ' is not a whole number' : ' is not a number')}`));
      const range = [col.min !== undefined ? `${v} < ${col.min}` : null, col.max !== undefined ? `${v} > ${col.max}` : null].filter(Boolean).join(' OR ');
      const bounds = col.max !== undefined ? `${col.min}..${col.max}` : `>= ${col.min}`;
      if (range) checks.push(err(range, 'out_of_range', c, `${str(`${c} `)} || ${v} || ${str(` is outside ${bounds}`)}`));
      break;
    }
    case 'enum':
      checks.push(err(`${t} IS NOT NULL AND ${v} IS NULL`, 'unknown_enum', c,
        `${str(`${c} `)} || ${shown(c)} || ${str(` is not one of: ${(col.values ?? []).join(', ')}`)}`));
      break;
    case 'digits5':
      checks.push(err(`${t} IS NOT NULL AND NOT regexp_full_match(${t}, '\\d{5}')`, 'not_5_digits', c, `${str(`${c} `)} || ${shown(c)} || ' is not exactly 5 digits'`));
      break;
    case 'text':
      break;
  }
  return checks;
}

function crossChecks(e: EntityContract, column: string): Check[] {
  const out: Check[] = [];
  for (const r of e.crossRules) {
    if (r.column !== column) continue;
    const v = (c: string) => id(parsed(c));
    if (r.rule === 'date_order') {
      out.push(err(`${v(r.column)} < ${v(r.notBefore)}`, 'date_order', r.column,
        `${str(`${r.column} `)} || ${v(r.column)} || ${str(` is before ${r.notBefore} `)} || ${v(r.notBefore)}`));
    } else if (r.rule === 'missing_required') {
      const cond = r.in ? `${v(r.when)} IN (${r.in.map(str).join(', ')})` : `${v(r.when)} IS NOT NULL`;
      const why = r.in ? `when ${r.when} is ${r.in.join(', ')}` : `when ${r.when} is set`;
      out.push(err(`${id(trimmed(r.column))} IS NULL AND ${cond}`, 'missing_required', r.column, str(`${r.column} is required ${why}`)));
    } else {
      const all = r.items.map((i) => `${v(i)} IS NOT NULL`).join(' AND ');
      const sum = r.items.map(v).join(' + ');
      out.push(err(`${all} AND ${v(r.column)} IS NOT NULL AND ${sum} <> ${v(r.column)}`, 'items_do_not_sum', r.column,
        `'the nine items sum to ' || (${sum}) || ${str(`, not ${r.column} `)} || ${v(r.column)}`));
    }
  }
  return out;
}

/**
 * SELECT over `source` (contract-named VARCHAR columns plus _line, _map_errors and any
 * raw columns) giving every contract column typed and normalised, plus `_errors`: the
 * list of {rule, column, message} the row breaks, in column order (mapping errors first),
 * or NULL for a clean row. The list is built only for rows that break a rule: building a
 * list of structs for each of millions of clean rows was most of the validation's cost.
 */
export function validationSelect(e: EntityContract, source: string, opts: { dateFormat?: string; runDate: string; missingValues: readonly string[] }): string {
  const cols = contractColumns(e);
  const dateFormat = opts.dateFormat ?? DEFAULT_DATE_FORMAT;
  const untrims = cols.map((c) => `${trimCell(id(c.name))} AS ${id(stripped(c.name))}`).join(',\n    ');
  // Empty, or a placeholder token (NULL, N/A, ...), is missing. Comparing the length
  // first spares the list for the many longer values.
  const missing = placeholderList(opts.missingValues);
  const longest = Math.max(0, ...opts.missingValues.map((m) => Buffer.byteLength(m)));
  const trims = cols.map((c) => {
    const w = id(stripped(c.name));
    return `${missing ? `CASE WHEN strlen(${w}) <= ${longest} AND (${w} = '' OR ${w} IN (${missing})) THEN NULL ELSE ${w} END` : `NULLIF(${w}, '')`} AS ${id(trimmed(c.name))}`;
  }).join(',\n    ');
  const parses = cols.map((c) => `${normalised(c, dateFormat)} AS ${id(parsed(c.name))}`).join(',\n    ');
  const checks = cols.flatMap((c) => [...columnChecks(c, dateFormat, opts.runDate), ...crossChecks(e, c.name)]);
  const typed = cols.map((c) => `${id(parsed(c.name))}::${sqlType(c.kind)} AS ${id(c.name)}`).join(',\n  ');
  return `WITH w AS (
  SELECT *,
    ${untrims}
  FROM ${source}
), t AS (
  SELECT *,
    ${trims}
  FROM w
), v AS (
  SELECT *,
    ${parses}
  FROM t
)
SELECT
  ${typed},
  _rowid,
  _line,
  CASE WHEN len(_map_errors) > 0
    OR ${checks.length ? checks.map((c) => `(${c.cond})`).join('\n    OR ') : 'false'}
  THEN list_concat(_map_errors, list_filter([
    ${checks.map((c) => c.error).join(',\n    ')}
  ], x -> x IS NOT NULL)) END AS _errors
FROM v`;
}
