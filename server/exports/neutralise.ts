// Formula-injection protection for spreadsheet exports (OWASP "CSV injection"): a
// text cell starting with = + - @ tab or CR is prefixed with a single quote so
// Excel and LibreOffice show it as text. Numbers stay numbers.
const TRIGGER = /^[=+\-@\t\r]/;

export function neutraliseText(s: string): string {
  return TRIGGER.test(s) ? `'${s}` : s;
}

/** The same rule as a DuckDB SQL expression over a VARCHAR expression. */
export function neutraliseSql(expr: string): string {
  return `CASE WHEN regexp_matches(${expr}, '^[=+\\-@\\t\\r]') THEN '''' || ${expr} ELSE ${expr} END`;
}
