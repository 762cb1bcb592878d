import { DuckDBInstance } from '@duckdb/node-api';
const inst = await DuckDBInstance.create(':memory:', { threads: '2' });
const c = await inst.connect();
await c.run(`create table a as select 1 x; create table b as select 2 y;`);
const r = await c.runAndReadAll(`select * from b`);
console.log(r.getRowObjectsJson());
const r2 = await c.runAndReadAll(`select current_setting('temp_directory') t, current_setting('memory_limit') m, current_setting('preserve_insertion_order') p`);
console.log(r2.getRowObjectsJson());
