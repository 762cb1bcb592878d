import { readFile } from 'node:fs/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import { referenceSql } from '../referenceSql.ts';
import { renderSql, windowStart } from '../generate.ts';
const N = Number(process.argv[2] ?? 1000000);
const inst = await DuckDBInstance.create(':memory:', { threads: '2', memory_limit: '6GB', temp_directory: '/tmp/spill' });
const c = await inst.connect();
const params = { seed: 42, people: N, months: 24, end_date: '2026-10-31', start_date: windowStart('2026-10-31', 24), month_width: 2 };
let t = performance.now(); let cpu = process.cpuUsage();
const lap = (s: string) => { const d = process.cpuUsage(cpu); console.log(s, 'wall', ((performance.now() - t) / 1000).toFixed(2), 'cpu', ((d.user + d.system) / 1e6).toFixed(2)); t = performance.now(); cpu = process.cpuUsage(); };
await c.run(referenceSql(N));
for (const s of ['random','people','screenings','referrals','enrollments','phq9','encounters','services']) {
  await c.run(renderSql(await readFile(`pipelines/demo/sql/${s}.sql`, 'utf8'), params)); lap(s);
}
for (const q of process.argv.slice(3)) { await c.runAndReadAll(q); lap(q.slice(-60).replace(/\s+/g, " ")); }
