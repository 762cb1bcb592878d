// Computes one slice of comparisons (comparisonBatch.ts) and hands the typed arrays back.
import { parentPort } from 'node:worker_threads';
import { compareBatch, type ComparisonBatch } from './comparisonBatch.ts';

parentPort?.once('message', (b: ComparisonBatch) => {
  const r = compareBatch(b);
  parentPort?.postMessage(r, [r.values.buffer as ArrayBuffer, r.flag.buffer as ArrayBuffer]);
});
