import { readFile } from 'node:fs/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import { referenceSql } from '../referenceSql.ts';
import { renderSql, windowStart } from '../generate.ts';
const N = Number(process.argv[2] ?? 20000);
const steps = (process.argv[3] ?? 'random,people').split(',');
const queries = process.argv.slice(4);
const inst = await DuckDBInstance.create(':memory:', { threads: '2' });
const c = await inst.connect();
const params = { seed: 42, people: N, months: 24, end_date: '2026-10-31', start_date: windowStart('2026-10-31', 24), month_width: 2 };
let t = performance.now();
await c.run(referenceSql(N));
for (const s of steps) {
  await c.run(renderSql(await readFile(`pipelines/demo/sql/${s}.sql`, 'utf8'), params));
  console.log(s, ((performance.now() - t) / 1000).toFixed(2)); t = performance.now();
}
for (const q of queries) { const r = await c.runAndReadAll(q); console.table(r.getRowObjectsJson()); }
