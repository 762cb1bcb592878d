// The audit's worker thread (ranges.ts, solveAll): decides the components it is sent.
// Plain JavaScript, as a worker thread does not inherit the main thread's TypeScript
// loader: it registers tsx, then loads the solver.
import { parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { decideComponent } = await import('./ranges.ts');
parentPort.on('message', async ({ id, job }) => {
  const t0 = performance.now();
  try {
    const decided = await decideComponent(job);
    parentPort.postMessage({ id, decided, seconds: (performance.now() - t0) / 1000 });
  } catch (err) {
    parentPort.postMessage({ id, error: err instanceof Error ? err.message : String(err), seconds: 0 });
  }
});
