import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import { referenceSql } from '../referenceSql.ts';
import { renderSql, windowStart } from '../generate.ts';
const N = 20000;
const inst = await DuckDBInstance.create(':memory:', { threads: '2' });
const c = await inst.connect();
const params = { seed: 42, people: N, months: 24, end_date: '2026-10-31', start_date: windowStart('2026-10-31', 24), month_width: 2 };
await c.run(referenceSql(N));
for (const s of ['random','people','screenings','referrals','enrollments','phq9','encounters','services']) await c.run(renderSql(await readFile(`pipelines/demo/sql/${s}.sql`, 'utf8'), params));
const qs: string[] = JSON.parse(readFileSync('/tmp/encq.json', 'utf8'));
for (const q of qs) { const r = await c.runAndReadAll(q); console.log(r.getRowObjectsJson().map((x) => x['explain_value']).join('\n')); }
