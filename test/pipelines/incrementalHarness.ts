// Shared by the incremental-run tests (fast tier: one changed extract; full tier: the
// rest): an incremental store, and the oracle, the same store as it was before the run
// (its previous publication included: consecutive publications hold back small changes,
// models/disclosure/revisions.ts) reloaded from scratch with the same inbox
// (--full-refresh), compared row for row.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { generateDemo } from '../../pipelines/demo/generate.ts';
import { tempStore, type TempStore } from '../helpers/store.ts';
const TABLES: Record<string, string> = {
  metric_results: 'metric_id, period_grain, period_start, dimension, group_value',
  km_curves: 'metric_id, period_grain, period_start, dimension, group_value, time',
  gap_table: 'ALL',
  prepost_summary: 'ALL',
  // (its event study and balance are empty on drops this small: withheld by the small-cell rule)
  evaluation_summary: 'ALL',
  evaluation_phq9: 'ALL',
};
// compared too, and allowed to be empty (a drop this small withholds them)
const MAYBE_EMPTY: Record<string, string> = { evaluation_event_study: 'ALL', evaluation_balance: 'ALL', evaluation_phq9_balance: 'ALL' };

/** Every published aggregate row but its run id, in a stable order. */
async function published(store: TempStore): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const [t, order] of Object.entries({ ...TABLES, ...MAYBE_EMPTY })) {
    out[t] = await store.published(`SELECT * EXCLUDE (run_id) FROM ${t} ORDER BY ${order === 'ALL' ? 'ALL' : order}`).catch(async () =>
      store.published(`SELECT * FROM ${t} ORDER BY ALL`));
  }
  return out;
}

function diffRows(a: unknown[], b: unknown[]): string[] {
  const out: string[] = [];
  if (a.length !== b.length) out.push(`row counts ${a.length} vs ${b.length}`);
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i] as Record<string, unknown>;
    const y = b[i] as Record<string, unknown>;
    for (const k of Object.keys(x)) if (!Object.is(x[k], y[k]) && JSON.stringify(x[k]) !== JSON.stringify(y[k])) out.push(`row ${i} ${JSON.stringify(x).slice(0, 160)}: ${k} ${x[k]} vs ${y[k]}`);
  }
  return out;
}

/** Append copies of a file's last rows under new ids (first column), as a later extract would. */
export function appendRows(path: string, n: number, suffix: string) {
  const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
  const extra = lines.slice(-n).map((l) => l.replace(/^([^,]+)/, `$1${suffix}`));
  writeFileSync(path, `${[...lines, ...extra].join('\n')}\n`);
}


export interface IncrementalCase {
  incremental: TempStore;
  /** Run the incremental store; returns the line that says which facts were recomputed. */
  run(): Promise<string>;
  /** Every line the last run() logged. */
  logs(): string[];
  /** Load the same inbox from scratch and compare every published table row for row. */
  rebuildAndCompare(): Promise<void>;
  cleanup(): void;
}

export async function incrementalCase(people: number): Promise<IncrementalCase> {
  const incremental = tempStore('closeloop-incr-');
  let full: TempStore | null = null;
  let before: string | null = null;
  let last: string[] = [];
  await generateDemo({ people, seed: 7, outDir: incremental.inbox });
  expect((await incremental.run()).status).toBe('published');
  return {
    incremental,
    async run() {
      // the store as it is before this run: the oracle starts from it
      if (before) rmSync(before, { recursive: true, force: true });
      before = mkdtempSync(join(tmpdir(), 'closeloop-before-'));
      cpSync(incremental.root, before, { recursive: true });
      const logs: string[] = [];
      last = logs;
      expect((await incremental.run({ log: (l) => logs.push(l) })).status).toBe('published');
      return logs.find((l) => l.includes('metric rows computed')) ?? '';
    },
    logs: () => last,
    async rebuildAndCompare() {
      full?.cleanup();
      full = tempStore('closeloop-full-');
      cpSync(before!, full.root, { recursive: true });
      expect((await full.run({ fullRefresh: true })).status).toBe('published');
      const [a, b] = [await published(incremental), await published(full)];
      for (const t of [...Object.keys(TABLES), ...Object.keys(MAYBE_EMPTY)]) {
        if (t in TABLES) expect(a[t]!.length, t).toBeGreaterThan(0);
        const diffs = diffRows(a[t]!, b[t]!);
        expect(diffs.slice(0, 5), t).toEqual([]);
      }
    },
    cleanup() {
      incremental.cleanup();
      full?.cleanup();
      if (before) rmSync(before, { recursive: true, force: true });
    },
  };
}
