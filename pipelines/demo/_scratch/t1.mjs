import { DuckDBInstance } from '@duckdb/node-api';
const inst = await DuckDBInstance.create(':memory:', { threads: '2' });
const c = await inst.connect();
const q = async (s) => { const r = await c.runAndReadAll(s); return r.getRowObjectsJson(); };
console.log(await q(`select version() v, hash(1, 2, 3) h, typeof(hash(1,2)) t`));
console.log(await q(`select avg(u) a, stddev(u) s, corr(u, v) c, min(u), max(u) from (select (hash(42, 1, i) >> 11)::double / 9007199254740992.0 u, (hash(42, 2, i) >> 11)::double / 9007199254740992.0 v from range(1000000) t(i))`));
console.log(await q(`select corr(u, v) c from (select (hash(42, 1, i) >> 11)::double / 9007199254740992.0 u, (hash(42, 1, i+1) >> 11)::double / 9007199254740992.0 v from range(1000000) t(i))`));
console.log(await q(`select i, list_filter(range(1,6), d -> d % i = 0) l from range(1,4) t(i)`));
await c.run(`copy (select 'a,b' x, '' y, NULL::varchar z, 'q"t' w, DATE '2024-01-02' d, 12.5::DECIMAL(12,2) m) to '/tmp/t1.csv' (HEADER, DELIMITER ',')`);
