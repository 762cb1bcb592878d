import { readFile } from 'node:fs/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import { referenceSql } from '../referenceSql.ts';
import { renderSql, windowStart } from '../generate.ts';
const N = 1000000;
const inst = await DuckDBInstance.create(':memory:', { threads: '2' });
const c = await inst.connect();
const params = { seed: 42, people: N, months: 24, end_date: '2026-10-31', start_date: windowStart('2026-10-31', 24), month_width: 2 };
await c.run(referenceSql(N));
await c.run(renderSql(await readFile(`pipelines/demo/sql/random.sql`, 'utf8'), params));
await c.run(`CREATE TABLE b AS SELECT p::INTEGER p, pick_county(u1(p, 101)) AS ci, pick_age_band(u1(p, 102)) AS band FROM range(1, ${N}+1) r(p)`);
const qs = process.argv.slice(2);
for (const q of qs) { const t = performance.now(); await c.run(`CREATE OR REPLACE TABLE tmp AS ${q}`); console.log(((performance.now() - t) / 1000).toFixed(2), q.slice(0, 120)); }
