#!/usr/bin/env node
// npm run bench: figures for the pipeline at demo sizes (pipelines/bench/bench.ts).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../pipelines/bench/bench.ts');
process.exitCode = await main(process.argv.slice(2));
