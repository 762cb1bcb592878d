import { readFile } from 'node:fs/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import { renderSql, windowStart } from '../generate.ts';
const inst = await DuckDBInstance.create(':memory:', { threads: '2' });
const c = await inst.connect();
const params = { seed: 42, people: 1000000, months: 24, end_date: '2026-10-31', start_date: windowStart('2026-10-31', 24), month_width: 2 };
await c.run(renderSql(await readFile(`pipelines/demo/sql/random.sql`, 'utf8'), params));
await c.run(`CREATE TABLE ev AS SELECT (range // 6)::INTEGER p, (range % 24)::INTEGER m, (range % 3)::INTEGER i, 0 j, DATE '2025-01-01' + (range % 600)::INTEGER AS start_date, ['ed','inpatient','primary_care'][1 + (range % 3)::INTEGER] encounter_type FROM range(6000000)`);
for (const q of process.argv.slice(2)) {
  const t = performance.now(); const cpu = process.cpuUsage();
  await c.run(`CREATE OR REPLACE TABLE tmp AS ${q}`);
  const d = process.cpuUsage(cpu);
  console.log('wall', ((performance.now() - t) / 1000).toFixed(2), 'cpu', ((d.user + d.system) / 1e6).toFixed(2), q.slice(0, 110));
}
