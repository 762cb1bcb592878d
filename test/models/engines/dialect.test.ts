// The dialect helpers the model SQL is written with: what each expands to on DuckDB (the SQL
// the models held before the engine boundary) and on PostgreSQL, and the errors that stop a
// helper from being misread. Their meaning on real servers is checked in compat.test.ts.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DUCKDB, POSTGRES, postgresAsofLeftJoin, splitTopLevel } from '../../../models/engines/dialect.ts';
import { modelVars, renderSql } from '../../../models/intermediate/sql.ts';

const flat = (s: string) => s.replace(/\s+/g, ' ').trim();

describe('template helpers in .sql files', () => {
  it('expand per dialect, with placeholders inside their arguments', () => {
    const sql = "SELECT {{series(date_trunc('month', d), {{as_of}}, INTERVAL '1 month')}} AS m, {{arg_min(v, k)}} AS a FROM t";
    const vars = modelVars('2026-10-31');
    expect(renderSql(sql, vars, 't.sql', DUCKDB)).toBe(
      "SELECT unnest(generate_series(date_trunc('month', d), DATE '2026-10-31', INTERVAL '1 month')) AS m, arg_min(v, k) AS a FROM t");
    expect(renderSql(sql, vars, 't.sql', POSTGRES)).toBe(
      "SELECT generate_series(date_trunc('month', d), DATE '2026-10-31', INTERVAL '1 month') AS m, (array_agg(v ORDER BY k) FILTER (WHERE v IS NOT NULL AND k IS NOT NULL))[1] AS a FROM t");
  });

  it('arg_max with several keys is a struct key on DuckDB and an ordered array on PostgreSQL', () => {
    expect(renderSql('{{arg_max(f.s, f.on, f.id)}}', {}, 't', DUCKDB)).toBe('arg_max(f.s, (f.on, f.id))');
    expect(renderSql('{{arg_max(f.s, f.on, f.id)}}', {}, 't', POSTGRES)).toBe('(array_agg(f.s ORDER BY f.on DESC, f.id DESC) FILTER (WHERE f.s IS NOT NULL))[1]');
  });

  it('keeps commas and parentheses inside quotes and nested calls in one argument', () => {
    expect(splitTopLevel("a(1, 2), 'x, (y', b", /^,/)).toEqual(['a(1, 2)', "'x, (y'", 'b']);
  });

  it('refuses an unknown helper, a wrong number of arguments and an unclosed call, naming the file', () => {
    expect(() => renderSql('{{nope(a)}}', {}, 'f.sql')).toThrow(/f\.sql: no dialect helper \{\{nope/);
    expect(() => renderSql('{{series(a, b)}}', {}, 'f.sql')).toThrow(/f\.sql: \{\{series\(\.\.\.\)\}\} takes 3 arguments, got 2/);
    expect(() => renderSql('{{series(a, b, c}}', {}, 'f.sql')).toThrow(/f\.sql: \{\{series\(\.\.\.\)\}\} is not closed/);
    expect(() => renderSql('{{ missing }}', {}, 'f.sql')).toThrow(/f\.sql: no value for \{\{missing\}\}/);
  });

  it('leaves no placeholder in any model file, on either dialect', () => {
    const vars = { ...modelVars('2026-10-31'), per: '', per_r: '', run_id: "'r'", screenings: 'SELECT person_id, domain, screened_on, result FROM stg_screenings' };
    for (const dir of ['../../../models/intermediate/', '../../../models/metrics/sql/']) {
      const url = new URL(dir, import.meta.url);
      for (const name of readdirSync(url).filter((n) => n.endsWith('.sql'))) {
        const text = readFileSync(new URL(name, url), 'utf8');
        for (const dialect of [DUCKDB, POSTGRES]) expect(renderSql(text, vars, name, dialect)).not.toMatch(/\{\{|\}\}/);
      }
    }
  });
});

describe('model SQL keeps to what both engines read', () => {
  // Regression: SQL merged from other branches arrived with DuckDB-only syntax (ANTI JOIN,
  // range(), INTERVAL 3 MONTH, a bare ASOF JOIN) that only a real PostgreSQL server caught.
  // This catches it where no server is installed.
  const DUCKDB_ONLY: Array<[RegExp, string]> = [
    [/\bASOF\b/i, '{{asof_left_join(...)}} / {{asof_join(...)}}'],
    [/\bGROUP BY ALL\b/i, 'an explicit GROUP BY'],
    [/\bEXCLUDE\s*\(/i, 'the columns by name'],
    [/\b(ANTI|SEMI)\s+JOIN\b/i, 'NOT EXISTS / IN (SELECT ...)'],
    [/\bINTERVAL\s+\d/i, "INTERVAL '1 month'"],
    [/\bFROM\s+range\s*\(/i, 'generate_series(a, b) AS g(x)'],
    [/\b(arg_min|arg_max)\s*\(/i, '{{arg_min(...)}} / {{arg_max(...)}}'],
    [/\bunnest\s*\(/i, '{{series(...)}}'],
    [/\blist_[a-z_]+\s*\(|\bstruct_[a-z_]+\s*\(/i, 'a dialect helper'],
    [/::(HUGEINT|UBIGINT|UINTEGER)\b/i, 'BIGINT or DECIMAL'],
  ];
  it('no DuckDB-only construct outside the dialect helpers, in any model file', () => {
    const found: string[] = [];
    for (const dir of ['../../../models/intermediate/', '../../../models/metrics/sql/']) {
      const url = new URL(dir, import.meta.url);
      for (const name of readdirSync(url).filter((n) => n.endsWith('.sql'))) {
        // comments and the helpers' own arguments aside
        const text = readFileSync(new URL(name, url), 'utf8').replace(/--[^\n]*/g, '').replace(/\{\{\s*(arg_min|arg_max|series)\(/g, '{{helper(');
        for (const [re, instead] of DUCKDB_ONLY) if (re.test(text)) found.push(`${name}: ${re.source} (write ${instead})`);
      }
    }
    expect(found).toEqual([]);
  });
});

describe('ASOF LEFT JOIN', () => {
  it('is DuckDB syntax on DuckDB', () => {
    expect(DUCKDB.asofLeftJoin('needs n', 'refs r', 'n.p = r.p AND n.d <= r.d')).toBe('ASOF LEFT JOIN refs r ON n.p = r.p AND n.d <= r.d');
  });

  it('is a keyed lookup of the nearest match on PostgreSQL: distinct left keys, the nearest right row per key, joined back', () => {
    expect(flat(postgresAsofLeftJoin('needs n', '(SELECT p, dom, d FROM refs) r', 'n.p = r.p AND n.dom = r.dom AND n.d <= r.d'))).toBe(flat(`
LEFT JOIN (
  SELECT DISTINCT ON (_l._asof_k0, _l._asof_k1, _l._asof_v) _l._asof_k0, _l._asof_k1, _l._asof_v, r.*
  FROM (SELECT DISTINCT n.p AS _asof_k0, n.dom AS _asof_k1, n.d AS _asof_v FROM needs n) _l
  JOIN (SELECT p, dom, d FROM refs) r ON r.p = _l._asof_k0 AND r.dom = _l._asof_k1 AND _l._asof_v <= r.d
  ORDER BY _l._asof_k0, _l._asof_k1, _l._asof_v, r.d
) r ON r._asof_k0 = (n.p) AND r._asof_k1 = (n.dom) AND r._asof_v = (n.d)`));
  });

  it('takes the last match at or before for >= (either side written first), and expressions of the left side', () => {
    const sql = flat(postgresAsofLeftJoin('c c', 'c n', 'n.person_id = c.person_id AND n.on >= c.on + 366'));
    expect(sql).toContain('(SELECT DISTINCT c.person_id AS _asof_k0, c.on + 366 AS _asof_v FROM c c)');
    expect(sql).toContain('_l._asof_v <= n.on');
    expect(sql).toContain('ORDER BY _l._asof_k0, _l._asof_v, n.on )');
    const before = flat(postgresAsofLeftJoin('a a', 'b b', 'a.k = b.k AND a.t >= b.t'));
    expect(before).toContain('ORDER BY _l._asof_k0, _l._asof_v, b.t DESC )');
    expect(before).toContain('_l._asof_v >= b.t');
  });

  it('ASOF JOIN (inner) is the same lookup joined without LEFT', () => {
    expect(renderSql('{{asof_join(f f, c c, f.p = c.p AND f.d >= c.d)}}', {}, 't', DUCKDB)).toBe('ASOF JOIN c c ON f.p = c.p AND f.d >= c.d');
    expect(flat(renderSql('{{asof_join(f f, c c, f.p = c.p AND f.d >= c.d)}}', {}, 't', POSTGRES))).toMatch(/^JOIN \( SELECT DISTINCT ON/);
  });

  it('accepts a bare table name as the right side (its own alias)', () => {
    expect(flat(postgresAsofLeftJoin('int_person_attributes pa', 'th', 'pa.birth_key <= th.t'))).toContain('JOIN th th ON _l._asof_v <= th.t');
  });

  it('refuses conditions it cannot translate faithfully', () => {
    expect(() => postgresAsofLeftJoin('l l', 'r r', 'l.k = r.k')).toThrow(/no inequality/);
    expect(() => postgresAsofLeftJoin('l l', 'r r', 'l.a <= r.a AND l.b <= r.b')).toThrow(/exactly one inequality/);
    expect(() => postgresAsofLeftJoin('l l', 'r r', 'l.a <= r.a + 1')).toThrow(/compares an expression of l with a column of r/);
    expect(() => postgresAsofLeftJoin('l l', 'r r', 'x.a <= r.a')).toThrow(/compares an expression of l/);
  });
});

describe('SELECT-list helpers', () => {
  it('EXCLUDE and GROUP BY ALL', () => {
    expect(DUCKDB.starExcept('f', ['person_id'])).toBe('f.* EXCLUDE (person_id)');
    expect(POSTGRES.starExcept('f', ['person_id'])).toBe('f.*');
    expect(DUCKDB.groupByAll(3)).toBe('GROUP BY ALL');
    expect(POSTGRES.groupByAll(3)).toBe('GROUP BY 1, 2, 3');
  });
});

describe('the equivalence check itself', () => {
  it('counts must match exactly, other numbers to a relative 1e-9, and a missing row is a difference', async () => {
    const { compareSnapshots, sameValue } = await import('../../../pipelines/bench/engines.ts');
    expect(sameValue(11, 11)).toBe(true);
    expect(sameValue(11, 11.000000000001)).toBe(false);
    expect(sameValue(0.1 + 0.2, 0.3)).toBe(true);
    expect(sameValue(0.3, 0.3000001)).toBe(false);
    expect(sameValue('2024-01-01', '2024-01-01')).toBe(true);
    expect(sameValue(null, 0)).toBe(false);
    const a = { t: [{ k: 'x', n: 3, v: 0.25 }, { k: 'y', n: 4, v: 0.5 }] };
    expect(compareSnapshots(a, { t: [{ k: 'x', n: 3, v: 0.25 }, { k: 'y', n: 4, v: 0.5 }] }).differences).toEqual([]);
    expect(compareSnapshots(a, { t: [{ k: 'x', n: 3, v: 0.25 }, { k: 'y', n: 5, v: 0.5 }] }).differences).toEqual([{ table: 't', row: 1, column: 'n', a: 4, b: 5 }]);
    expect(compareSnapshots(a, { t: [{ k: 'x', n: 3, v: 0.25 }] }).differences[0]).toMatchObject({ column: '(rows)', a: 2, b: 1 });
  });
});
