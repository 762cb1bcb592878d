#!/usr/bin/env node
// The closeloop command. Sources are TypeScript run through tsx's loader, so the
// checkout runs as is, with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../pipelines/cli.ts');
process.exitCode = await main(process.argv.slice(2));
