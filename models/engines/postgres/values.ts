// The one place PostgreSQL values become JSON-safe JS values, the same as DuckDB's
// (models/duckdb.ts): BIGINT a number when it is a safe integer (counts always are), else
// the exact string; NUMERIC a number (our decimals are counts, money and ratios); DATE and
// timestamps the text PostgreSQL sends (YYYY-MM-DD for a date; never a JS Date, which would
// shift to local midnight); double precision a number (NaN and Infinity included).
import pg from 'pg';

const OID = { int8: 20, numeric: 1700, date: 1082, timestamp: 1114, timestamptz: 1184 } as const;

export function parseInt8(text: string): number | string {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : text;
}

export function parseNumeric(text: string): number {
  return Number(text);
}

const asText = (text: string) => text;

/** pg's type parsers with ours in their place, for a Client's `types` option. */
export const PG_TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (format !== 'binary') {
      if (oid === OID.int8) return parseInt8;
      if (oid === OID.numeric) return parseNumeric;
      if (oid === OID.date || oid === OID.timestamp || oid === OID.timestamptz) return asText;
    }
    return (pg.types.getTypeParser as (oid: number, format?: 'text' | 'binary') => (v: string) => unknown)(oid, format);
  },
} as pg.CustomTypesConfig;
