#!/usr/bin/env node
// npm run pg:local: throwaway PostgreSQL clusters for trying --engine postgres (pipelines/postgres/localCluster.ts).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../pipelines/postgres/localCluster.ts');
process.exitCode = await main(process.argv.slice(2));
