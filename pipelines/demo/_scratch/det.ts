import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { generateDemo } from '../generate.ts';
const N = Number(process.argv[2] ?? 200000);
const a = await generateDemo({ people: N, seed: 99, outDir: '/tmp/detA', threads: 2 });
const b = await generateDemo({ people: N, seed: 99, outDir: '/tmp/detB', threads: 1 });
for (const f of a.files) {
  const h = (d: string) => createHash('sha256').update(readFileSync(`${d}/${f.file}`)).digest('hex').slice(0, 16);
  console.log(f.file, h('/tmp/detA'), h('/tmp/detB'), h('/tmp/detA') === h('/tmp/detB') ? 'same' : 'DIFFERENT');
}
console.log(a.seconds, b.seconds);
