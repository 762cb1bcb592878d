import { readFileSync } from 'node:fs';
const qs: string[] = JSON.parse(readFileSync('/tmp/encq.json', 'utf8'));
process.argv.push(...qs);
await import('./t5.ts');
