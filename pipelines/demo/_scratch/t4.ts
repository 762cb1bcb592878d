import { readFile } from 'node:fs/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import { referenceSql } from '../referenceSql.ts';
import { renderSql, windowStart } from '../generate.ts';
const N = 1000000;
const inst = await DuckDBInstance.create(':memory:', { threads: '2' });
const c = await inst.connect();
const params = { seed: 42, people: N, months: 24, end_date: '2026-10-31', start_date: windowStart('2026-10-31', 24) };
await c.run(referenceSql(N));
await c.run(renderSql(await readFile(`pipelines/demo/sql/random.sql`, 'utf8'), params));
const qs = [
 `select sum(u1(p, 101)) from range(1, ${N}+1) r(p)`,
 `select sum(pick_index(county_cum(), u1(p, 101))) from range(1, ${N}+1) r(p)`,
 `select sum(list_sum(list_transform(range(1, 13), d -> CASE WHEN u2(p, d, 123) < need_share(d) THEN (1::BIGINT << d) ELSE 0::BIGINT END))) from range(1, ${N}+1) r(p)`,
 `select sum(age_lo()[1 + (p % 9)::INTEGER]) from range(1, ${N}+1) r(p)`,
 `select count(*) from (select (DATE '2026-10-31' - to_years((p % 90)::INTEGER))::DATE - 3 d from range(1, ${N}+1) r(p))`,
];
for (const q of qs) { const t = performance.now(); await c.runAndReadAll(q); console.log(((performance.now() - t)/1000).toFixed(2), q.slice(0, 90)); }
