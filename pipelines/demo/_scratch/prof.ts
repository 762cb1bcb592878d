import { readFile } from 'node:fs/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import { referenceSql } from '../referenceSql.ts';
import { renderSql, windowStart } from '../generate.ts';
const N = Number(process.argv[2] ?? 1000000);
const inst = await DuckDBInstance.create(':memory:', { threads: '2', memory_limit: '6GB', temp_directory: '/tmp/spill' });
const c = await inst.connect();
const params = { seed: 42, people: N, months: 24, end_date: '2026-10-31', start_date: windowStart('2026-10-31', 24), month_width: 2 };
let t = performance.now();
const lap = (s: string) => { console.log(s, ((performance.now() - t) / 1000).toFixed(2)); t = performance.now(); };
await c.run(referenceSql(N));
for (const s of ['random','people','screenings','referrals','enrollments','phq9','encounters','services']) {
  await c.run(renderSql(await readFile(`pipelines/demo/sql/${s}.sql`, 'utf8'), params)); lap(s);
}
for (const e of ['people','screenings','referrals','enrollments','phq9','encounters']) {
  await c.run(`COPY (SELECT * EXCLUDE (s1,s2,s3) FROM ${e}_out ORDER BY s1,s2,s3) TO '/tmp/prof_${e}.csv' (HEADER)`); lap('copy ' + e);
}
