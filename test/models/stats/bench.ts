// Micro-benchmark of the models/stats functions on the hot path of
// models/disparities/computeComparisons.ts. Not a test (no .test.ts suffix).
//   npx tsx test/models/stats/bench.ts [N=100000] [statsDir]
// statsDir (default models/stats) lets an older copy of the module be timed the same way.
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const N = Number(process.argv[2] ?? 100_000);
const dir = path.resolve(process.argv[3] ?? new URL('../../../models/stats', import.meta.url).pathname);
const load = async (file: string) => import(pathToFileURL(path.join(dir, file)).href);
const dist = await load('distributions.ts');
const bt = await load('binomialTest.ts');
const pois = await load('poisson.ts');
const pc = await load('proportionComparison.ts');
const wil = await load('wilson.ts');

// deterministic inputs (mulberry32)
let seed = 12345;
const rand = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
// counts spread log-uniformly over 0..200,000 (small groups are common, big ones exist)
const count = (max = 200_000) => Math.min(max, Math.floor(Math.exp(rand() * Math.log(max + 1))) - (rand() < 0.05 ? 1 : 0));
const prop = () => {
  const n = Math.max(1, count());
  const x = Math.floor(rand() * (n + 1));
  return [x, n] as const;
};
// rate comparisons: events 0..200k, member-months ~ events / rate with rate 0.001..0.5
const rate = () => {
  const e = Math.max(0, count());
  const t = Math.max(1, Math.round((e + 1) / (0.001 + rand() * 0.5)));
  return [e, t] as const;
};

type Case = { name: string; make: () => unknown[]; fn: (...a: never[]) => unknown };
const cases: Case[] = [
  { name: 'normalQuantile(0.975)', make: () => [0.975], fn: dist.normalQuantile },
  { name: 'wilsonInterval', make: () => [...prop()], fn: wil.wilsonInterval },
  { name: 'newcombeDifference', make: () => [...prop(), ...prop()], fn: pc.newcombeDifference },
  { name: 'katzRatio', make: () => [...prop(), ...prop()], fn: pc.katzRatio },
  { name: 'pooledZP', make: () => [...prop(), ...prop()], fn: pc.pooledZP },
  {
    // Fisher is only used when an expected cell is < 5: rare outcomes or tiny groups
    name: 'fisherExactP (small expected)',
    make: () => {
      const n1 = Math.max(1, count());
      const n2 = Math.max(1, count());
      const x1 = Math.floor(rand() * Math.min(n1 + 1, 8));
      const x2 = Math.floor(rand() * Math.min(n2 + 1, 8));
      return [x1, n1, x2, n2];
    },
    fn: pc.fisherExactP,
  },
  { name: 'fisherExactP (any table)', make: () => [...prop(), ...prop()], fn: pc.fisherExactP },
  { name: 'comparisonP', make: () => [...prop(), ...prop()], fn: pc.comparisonP },
  { name: 'clopperPearsonInterval', make: () => { const [x, n] = prop(); return [x, n]; }, fn: bt.clopperPearsonInterval },
  {
    name: 'binomialTestP',
    make: () => { const [x, n] = prop(); return [x, n, 0.05 + 0.9 * rand()]; },
    fn: bt.binomialTestP,
  },
  { name: 'poissonExactInterval', make: () => [...rate()], fn: pois.poissonExactInterval },
  { name: 'poissonRateRatio', make: () => [...rate(), ...rate()], fn: pois.poissonRateRatio },
  { name: 'moverRateDifference', make: () => [...rate(), ...rate()], fn: pois.moverRateDifference },
];

const only = process.env.BENCH_ONLY;
console.log(`stats dir: ${dir}; ${N} calls each`);
for (const c of cases) {
  if (only && !c.name.includes(only)) continue;
  seed = 12345;
  const inputs = Array.from({ length: N }, c.make);
  const fn = c.fn as (...a: unknown[]) => unknown;
  for (let i = 0; i < Math.min(N, 200); i++) fn(...(inputs[i] as unknown[])); // warm-up
  let sink = 0;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const r = fn(...(inputs[i] as unknown[]));
    sink += typeof r === 'number' ? r : r === null ? 0 : 1;
  }
  const ms = performance.now() - t0;
  console.log(`${c.name.padEnd(32)} ${(ms / 1000).toFixed(3).padStart(8)} s total  ${((ms * 1000) / N).toFixed(2).padStart(9)} µs/call  (${Number.isFinite(sink) ? 'ok' : 'sink'})`);
}
