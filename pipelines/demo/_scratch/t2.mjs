import { DuckDBInstance } from '@duckdb/node-api';
const inst = await DuckDBInstance.create(':memory:', { threads: '2' });
const c = await inst.connect();
const q = async (s) => { const r = await c.runAndReadAll(s); return r.getRowObjectsJson(); };
await c.run(`create macro mix(x) as hash(x::UBIGINT)`);
await c.run(`create macro k(seed, salt) as hash(xor(hash(seed::UBIGINT), salt::UBIGINT))`);
await c.run(`create macro u1(a, salt) as (hash(xor(a::UBIGINT, k(42, salt))) >> 11)::double / 9007199254740992.0`);
await c.run(`create macro u2(a, b, salt) as (hash(xor(hash(xor(a::UBIGINT, k(42, salt))), b::UBIGINT)) >> 11)::double / 9007199254740992.0`);
console.log(await q(`select avg(u) a, stddev(u) s, corr(u, v) c, corr(u,w) c2, corr(v,w) c3, corr(u, x) c4, corr(x,y) c5, corr(u*u, v) c6 from (select u1(i, 1) u, u1(i, 2) v, u1(i+1, 1) w, u2(i, 1, 1) x, u2(i, 2, 1) y from range(1000000) t(i))`));
// chi-square-ish uniformity of u2 over bins
console.log(await q(`select floor(u2(i // 24, i % 24, 7) * 10) b, count(*) n from range(2400000) t(i) group by 1 order by 1`));
console.log(await q(`select corr(a, b) from (select u2(p, m, 7) a, u2(p, m+1, 7) b from range(100000) t(p), range(24) s(m))`));
console.log(await q(`select corr(a, b) from (select u2(p, m, 7) a, u2(p+1, m, 7) b from range(100000) t(p), range(24) s(m))`));
console.log(await q(`select corr(a, b) from (select u2(p, m, 7) a, u2(m, p, 7) b from range(100000) t(p), range(24) s(m))`));
