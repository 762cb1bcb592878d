import { DuckDBInstance } from '@duckdb/node-api';
const inst = await DuckDBInstance.create(':memory:', { threads: '2' });
const c = await inst.connect();
const d = process.argv[2] ?? '/tmp/demo1m';
const r = await c.runAndReadAll(`
with s as (select distinct person_id from read_csv('${d}/screenings.csv', all_varchar=true))
select sex, count(*) n, avg((s.person_id is not null)::int) screened
from read_csv('${d}/people.csv', all_varchar=true) p left join s using (person_id) group by all order by n desc`);
console.table(r.getRowObjectsJson());
