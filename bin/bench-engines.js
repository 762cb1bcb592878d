#!/usr/bin/env node
// npm run bench:engines: the metric engine on DuckDB, PostgreSQL and sharded PostgreSQL (pipelines/bench/engines.ts).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../pipelines/bench/engines.ts');
process.exitCode = await main(process.argv.slice(2));
