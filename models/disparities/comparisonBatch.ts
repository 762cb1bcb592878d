// Group-vs-reference statistics for many comparisons at once, in typed arrays so a batch
// can be split across worker threads (comparisonWorker.ts). The statistics are the
// R-checked models/stats functions via compareGroups; a rate comparison costs ~0.1-0.5 ms
// (the exact binomial p-value and Clopper-Pearson interval of poisson.test), so a results
// table of ~1M rows is worth the cores.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { compareGroups, type ComparisonKind } from './compare.ts';

export const KIND_CODES: readonly ComparisonKind[] = ['proportion', 'rate', 'dollar_rate'];
export const DIRECTION_CODES = ['higher_better', 'lower_better'] as const;
/** Statistic slots per comparison in ComparisonResults.values (NaN = empty). */
export const VALUE_FIELDS = ['rate_difference', 'rd_ci_low', 'rd_ci_high', 'rate_ratio', 'rr_ci_low', 'rr_ci_high', 'p_value'] as const;

export interface ComparisonBatch {
  /** index into KIND_CODES / DIRECTION_CODES */
  kind: Uint8Array;
  direction: Uint8Array;
  x1: Float64Array;
  n1: Float64Array;
  x2: Float64Array;
  n2: Float64Array;
  /** 1 = compare this row with its reference */
  active: Uint8Array;
}

export interface ComparisonResults {
  /** VALUE_FIELDS.length values per row */
  values: Float64Array;
  /** disparity_flag: -1 empty, 0 false, 1 true */
  flag: Int8Array;
}

export function compareBatch(b: ComparisonBatch): ComparisonResults {
  const n = b.active.length;
  const width = VALUE_FIELDS.length;
  const values = new Float64Array(n * width).fill(Number.NaN);
  const flag = new Int8Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    if (!b.active[i]) continue;
    const s = compareGroups({
      kind: KIND_CODES[b.kind[i] as number] as ComparisonKind,
      direction: DIRECTION_CODES[b.direction[i] as number] ?? 'higher_better',
      x1: b.x1[i] as number,
      n1: b.n1[i] as number,
      x2: b.x2[i] as number,
      n2: b.n2[i] as number,
    });
    VALUE_FIELDS.forEach((f, k) => {
      const v = s[f];
      values[i * width + k] = v === null ? Number.NaN : v;
    });
    flag[i] = s.disparity_flag === null ? -1 : s.disparity_flag ? 1 : 0;
  }
  return { values, flag };
}

function slice(b: ComparisonBatch, from: number, to: number): ComparisonBatch {
  return {
    kind: b.kind.slice(from, to), direction: b.direction.slice(from, to), x1: b.x1.slice(from, to), n1: b.n1.slice(from, to),
    x2: b.x2.slice(from, to), n2: b.n2.slice(from, to), active: b.active.slice(from, to),
  };
}

/** Below this many comparisons the workers' start-up (~0.5 s) is not worth it. */
const PARALLEL_FROM = 20_000;

/**
 * compareBatch over worker threads (one per core, at most 4); a worker that fails to start
 * or dies leaves its share to this thread, so the result never depends on workers.
 */
export async function compareAll(b: ComparisonBatch, opts: { workers?: number } = {}): Promise<ComparisonResults> {
  let active = 0;
  for (let i = 0; i < b.active.length; i++) active += b.active[i] as number;
  const workers = Math.min(opts.workers ?? availableParallelism(), 4);
  if (active < PARALLEL_FROM || workers < 2) return compareBatch(b);
  const n = b.active.length;
  const bounds = Array.from({ length: workers + 1 }, (_, k) => Math.round((k * n) / workers));
  const parts = await Promise.all(bounds.slice(0, -1).map((from, k) => inWorker(slice(b, from, bounds[k + 1] as number))));
  const width = VALUE_FIELDS.length;
  const values = new Float64Array(n * width);
  const flag = new Int8Array(n);
  parts.forEach((p, k) => {
    values.set(p.values, (bounds[k] as number) * width);
    flag.set(p.flag, bounds[k] as number);
  });
  return { values, flag };
}

function inWorker(b: ComparisonBatch): Promise<ComparisonResults> {
  return new Promise((resolve) => {
    let settled = false;
    const fallback = () => {
      if (settled) return;
      settled = true;
      resolve(compareBatch(b));
    };
    let worker: Worker;
    try {
      worker = new Worker(new URL('./comparisonWorker.mjs', import.meta.url));
    } catch {
      fallback();
      return;
    }
    worker.once('message', (r: ComparisonResults) => {
      settled = true;
      resolve(r);
      void worker.terminate();
    });
    worker.once('error', () => {
      fallback();
      void worker.terminate();
    });
    worker.once('exit', fallback);
    worker.postMessage(b);
  });
}
