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
const ppl = renderSql(await readFile(`pipelines/demo/sql/people.sql`, 'utf8'), params);
const create = ppl.slice(ppl.indexOf('CREATE MACRO need_bit'), ppl.indexOf('-- When a need starts'));
await c.run(create.slice(0, create.indexOf('CREATE TABLE person AS')));
const sel = create.slice(create.indexOf('CREATE TABLE person AS') + 'CREATE TABLE person AS'.length).trim().replace(/;$/, '');
const ctes = ['base', 'demo', 'roster', 'enrolled', 'spans', 'traits', 'with_needs'];
for (const cte of ctes) {
  const i = sel.indexOf(`\n${ctes[ctes.indexOf(cte) + 1] ?? 'SELECT\n  w.*'}${ctes[ctes.indexOf(cte) + 1] ? ' AS (' : ''}`);
  const q = sel.slice(0, i).replace(/,\s*$/, '') + `\nSELECT * FROM ${cte}`;
  const t = performance.now();
  await c.run(`CREATE OR REPLACE TABLE tmp AS ${q}`);
  console.log(cte, ((performance.now() - t) / 1000).toFixed(2));
}
