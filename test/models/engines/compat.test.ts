// DuckDB and PostgreSQL give the same answers to the SQL the models are written in: the
// functions the PostgreSQL engine defines with DuckDB's meaning (compat.sql) and the dialect
// helpers (ASOF joins, arg_min/arg_max, series), each run on both engines over the same
// generated values (month ends, leap days, NULLs, ties on the join keys) and compared. Needs a
// real PostgreSQL 15 (a throwaway cluster); without one the tests report themselves skipped.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, rows, type Database, type Row } from '../../../models/duckdb.ts';
import { DUCKDB, POSTGRES, type Dialect } from '../../../models/engines/dialect.ts';
import { PostgresEngine } from '../../../models/engines/postgres/engine.ts';
import { parseInt8 } from '../../../models/engines/postgres/values.ts';
import { renderSql } from '../../../models/intermediate/sql.ts';
import { localPostgresMissing, startLocalCluster, type LocalCluster } from '../../../pipelines/postgres/localCluster.ts';

const missing = localPostgresMissing();

/** A small deterministic generator (the same values on every run). */
function random(seed: number) {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  return { int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)), chance: (p: number) => next() < p };
}

const iso = (d: Date) => d.toISOString().slice(0, 10);
function dates(n: number, seed: number): string[] {
  const r = random(seed);
  const out = ['2000-02-28', '2000-02-29', '2000-03-01', '2001-02-28', '1999-12-31', '2000-01-31', '2000-12-31', '2024-02-29', '2024-03-31'];
  while (out.length < n) out.push(iso(new Date(Date.UTC(1999, 0, 1) + r.int(0, 3 * 366) * 86_400_000)));
  return out;
}

const values = (tuples: Array<Array<string | number | null>>) =>
  tuples.map((t) => `(${t.map((v) => (v === null ? 'NULL' : typeof v === 'number' ? String(v) : `'${v}'`)).join(', ')})`).join(', ');

describe.skipIf(missing)(`DuckDB and PostgreSQL agree on the models' SQL${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let cluster: LocalCluster;
  let pg: PostgresEngine;
  let duck: Database;
  let scratch: string;

  beforeAll(async () => {
    cluster = await startLocalCluster({ name: 'compat' });
    scratch = mkdtempSync(join(tmpdir(), 'closeloop-compat-'));
    pg = await PostgresEngine.open({ url: cluster.url, runId: 'compat-test', scratchDir: scratch });
    duck = await openDatabase(':memory:', { threads: 1 });
  });
  afterAll(async () => {
    duck?.close();
    await pg?.close();
    await cluster?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  /** The same templated SELECT on both engines. */
  async function both(sql: string): Promise<{ duckdb: Row[]; postgres: Row[] }> {
    const on = (d: Dialect) => renderSql(sql, {}, 'test.sql', d);
    return { duckdb: await rows(duck.conn, on(DUCKDB)), postgres: await pg.rows(on(POSTGRES)) };
  }

  it('year, month, day, last_day and date_diff by day, month, quarter and year', async () => {
    const ds = dates(120, 1);
    const pairs = ds.map((a, i) => [a, ds[(i * 7 + 3) % ds.length] as string]);
    const r = await both(`SELECT a, b, year(a) AS y, month(a) AS m, day(a) AS d, last_day(a) AS last,
  date_diff('day', a, b) AS days, date_diff('month', a, b) AS months, date_diff('quarter', a, b) AS quarters, date_diff('year', a, b) AS years,
  (date_diff('day', a, last_day(a)) + 1) / day(last_day(a))::DOUBLE AS month_share
FROM (SELECT CAST(a AS DATE) AS a, CAST(b AS DATE) AS b FROM (VALUES ${values(pairs)}) AS v(a, b)) AS t ORDER BY a, b`);
    expect(r.postgres).toEqual(r.duckdb);
    expect(r.duckdb.find((x) => x.a === '2000-02-29')).toMatchObject({ last: '2000-02-29', d: 29 });
  });

  it('the same of a date plus an interval (a timestamp), make_date of year() and any_value', async () => {
    const ds = dates(60, 5);
    const r = await both(`SELECT a, day(a + INTERVAL '18 years') AS d18, year(a + INTERVAL '1 month') AS y1, month(a + INTERVAL '1 month') AS m1,
  last_day(a + INTERVAL '1 month') AS last1, make_date(year(a), 1, 1) AS jan1,
  CASE WHEN day(a + INTERVAL '18 years') <> day(a) THEN a + INTERVAL '18 years' + INTERVAL '1 day' ELSE a + INTERVAL '18 years' END::DATE AS adult_on
FROM (SELECT CAST(a AS DATE) AS a FROM (VALUES ${values(ds.map((d) => [d]))}) AS v(a)) AS t ORDER BY a`);
    expect(r.postgres).toEqual(r.duckdb);
    // 29 February: the 18th birthday is taken as 1 March
    expect(r.duckdb.find((x) => x.a === '2000-02-29')).toMatchObject({ adult_on: '2018-03-01', d18: 28 });
    const any = await both(`SELECT g, any_value(v) AS v, y::INTEGER AS y FROM (VALUES (1, NULL), (1, 'a'), (2, 'b')) AS t(g, v),
  generate_series(2023, 2024) AS s(y) GROUP BY g, y ORDER BY g, y`);
    expect(any.postgres).toEqual(any.duckdb);
    expect(any.duckdb).toEqual([{ g: 1, v: 'a', y: 2023 }, { g: 1, v: 'a', y: 2024 }, { g: 2, v: 'b', y: 2023 }, { g: 2, v: 'b', y: 2024 }]);
  });

  it('an unsupported date_diff part is an error on PostgreSQL, not a NULL', async () => {
    await expect(pg.rows(`SELECT date_diff('week', DATE '2024-01-01', DATE '2024-02-01')`)).rejects.toThrow(/date_diff\('week', \.\.\.\) is not supported/);
  });

  it('arg_min and arg_max with one key and with two, NULL values and NULL keys included', async () => {
    const r = random(2);
    const tuples: Array<Array<string | number | null>> = [];
    for (let g = 0; g < 40; g++) {
      const used = new Set<string>();
      for (let i = r.int(1, 6); i > 0; i--) {
        const k1 = r.chance(0.15) ? null : r.int(1, 5);
        const k2 = r.chance(0.15) ? null : r.int(1, 9);
        if (used.has(`${k1}/${k2}`)) continue; // no ties: arg_min picks any of tied rows
        used.add(`${k1}/${k2}`);
        tuples.push([g, r.chance(0.2) ? null : r.int(0, 27), k1, k2]);
      }
    }
    const one = await both(`SELECT g, {{arg_min(v, k1)}} AS lo, {{arg_max(v, k1)}} AS hi
FROM (VALUES ${values(tuples)}) AS t(g, v, k1, k2)
WHERE g IN (SELECT g FROM (VALUES ${values(tuples)}) AS u(g, v, k1, k2) GROUP BY g HAVING count(DISTINCT k1) = count(k1)) GROUP BY g ORDER BY g`);
    expect(one.postgres).toEqual(one.duckdb);
    const two = await both(`SELECT g, {{arg_min(v, k1, k2)}} AS lo, {{arg_max(v, k1, k2)}} AS hi FROM (VALUES ${values(tuples)}) AS t(g, v, k1, k2) GROUP BY g ORDER BY g`);
    expect(two.postgres).toEqual(two.duckdb);
    expect(two.duckdb.some((x) => x.hi === null)).toBe(true);
  });

  it('ASOF LEFT JOIN: the first match at or after (<=, <) and the last at or before (>=, >), keys with NULLs', async () => {
    const r = random(3);
    const ds = dates(60, 4);
    const left = Array.from({ length: 150 }, (_, i) => [i, r.chance(0.1) ? null : `p${r.int(1, 12)}`, r.chance(0.1) ? null : r.int(1, 3), ds[r.int(0, ds.length - 1)] as string]);
    const right = Array.from({ length: 120 }, () => [r.chance(0.05) ? null : `p${r.int(1, 12)}`, r.int(1, 3), ds[r.int(0, ds.length - 1)] as string]);
    for (const op of ['<=', '<', '>=', '>']) {
      const res = await both(`WITH l AS (SELECT id, p, k, CAST(d AS DATE) AS d FROM (VALUES ${values(left)}) AS v(id, p, k, d)),
r AS (SELECT p, k, CAST(d AS DATE) AS d FROM (VALUES ${values(right)}) AS v(p, k, d))
SELECT l.id, r.d AS matched FROM l
{{asof_left_join(l l, r r, l.p = r.p AND l.k = r.k AND l.d + 7 ${op} r.d)}}
ORDER BY l.id`);
      expect(res.postgres, op).toEqual(res.duckdb);
      expect(res.duckdb.filter((x) => x.matched !== null).length, op).toBeGreaterThan(10);
    }
  });

  it('ASOF JOIN (inner) drops the unmatched left rows and offers every column of the matched right row', async () => {
    const r = random(6);
    const ds = dates(40, 7);
    const left = Array.from({ length: 100 }, (_, i) => [i, `p${r.int(1, 15)}`, ds[r.int(0, ds.length - 1)] as string]);
    // one right row per (p, d): which of tied rows ASOF picks is arbitrary on both engines
    const seen = new Set<string>();
    const right = Array.from({ length: 80 }, (_, i) => [`p${r.int(1, 15)}`, ds[r.int(0, ds.length - 1)] as string, `x${i}`])
      .filter(([p, d]) => !seen.has(`${p}/${d}`) && seen.add(`${p}/${d}`));
    const res = await both(`WITH l AS (SELECT id, p, CAST(d AS DATE) AS d FROM (VALUES ${values(left)}) AS v(id, p, d)),
r AS (SELECT p, CAST(d AS DATE) AS d, x FROM (VALUES ${values(right)}) AS v(p, d, x))
SELECT l.id, r.d AS matched, r.x FROM l
{{asof_join(l l, r r, l.p = r.p AND l.d >= r.d)}}
ORDER BY l.id`);
    expect(res.postgres).toEqual(res.duckdb);
    expect(res.duckdb.length).toBeGreaterThan(10);
    expect(res.duckdb.length).toBeLessThan(100);
  });

  it('series of months between dates, each month once', async () => {
    const r = await both(`SELECT id, {{series(date_trunc('month', a), date_trunc('month', b), INTERVAL '1 month')}}::DATE AS m
FROM (SELECT id, CAST(a AS DATE) AS a, CAST(b AS DATE) AS b FROM (VALUES (1, '2023-11-30', '2024-03-01'), (2, '2024-02-29', '2024-02-29'), (3, '2024-05-01', '2024-04-01')) AS v(id, a, b)) AS t
ORDER BY id, m`);
    expect(r.postgres).toEqual(r.duckdb);
    expect(r.duckdb.map((x) => x.m)).toEqual(['2023-11-01', '2023-12-01', '2024-01-01', '2024-02-01', '2024-03-01', '2024-02-01']);
  });

  it('BIGINT beyond 2^53 stays an exact string, counts are numbers, DATE stays text (the value boundary)', async () => {
    expect(parseInt8('9007199254740993')).toBe('9007199254740993');
    const [row] = await pg.rows<Row>(`SELECT count(*) AS n, sum(x) AS s, 2.50::numeric AS d, DATE '2024-02-29' AS day, 9007199254740993::bigint AS big
FROM (VALUES (1), (2)) AS v(x)`);
    expect(row).toEqual({ n: 2, s: 3, d: 2.5, day: '2024-02-29', big: '9007199254740993' });
  });
});
