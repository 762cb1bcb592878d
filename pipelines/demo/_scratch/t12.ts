import { readFile } from 'node:fs/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import { referenceSql } from '../referenceSql.ts';
import { renderSql, windowStart } from '../generate.ts';
const N = Number(process.argv[2] ?? 1000000);
const inst = await DuckDBInstance.create(':memory:', { threads: '2' });
const c = await inst.connect();
const params = { seed: 42, people: N, months: 24, end_date: '2026-10-31', start_date: windowStart('2026-10-31', 24), month_width: 2 };
await c.run(referenceSql(N));
for (const s of ['random', 'people', 'screenings']) await c.run(renderSql(await readFile(`pipelines/demo/sql/${s}.sql`, 'utf8'), params));
// run referrals.sql statement by statement
const sql = renderSql(await readFile(`pipelines/demo/sql/${process.argv[3] ?? 'referrals'}.sql`, 'utf8'), params);
const stmts = sql.replace(/--.*$/gm, '').split(/;\s*\n/).map((s) => s.trim()).filter(Boolean);
for (const s of stmts) {
  const t = performance.now(); const cpu = process.cpuUsage();
  await c.run(s);
  const d = process.cpuUsage(cpu);
  console.log('wall', ((performance.now() - t) / 1000).toFixed(2), 'cpu', ((d.user + d.system) / 1e6).toFixed(2), s.replace(/--.*$/gm, '').trim().slice(0, 60).replace(/\s+/g, ' '));
}
