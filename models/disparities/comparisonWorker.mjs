// Worker thread entry for comparisonBatch.ts: the sources are TypeScript, loaded through
// tsx as bin/closeloop.js does.
import { register } from 'tsx/esm/api';

register();
await import('./comparisonWorker.ts');
