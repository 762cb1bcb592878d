import { generateDemo } from '../generate.ts';
const [people, out, seed] = [Number(process.argv[2] ?? 20000), process.argv[3] ?? '/tmp/demo', Number(process.argv[4] ?? 42)];
let last = process.cpuUsage();
const r = await generateDemo({ people, seed, outDir: out, log: (m) => { const d = process.cpuUsage(last); last = process.cpuUsage(); console.log(m, 'cpu', ((d.user + d.system) / 1e6).toFixed(2)); } });
console.log(JSON.stringify(r));
