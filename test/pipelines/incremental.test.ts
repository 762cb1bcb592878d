// An incremental run recomputes only the facts a changed extract can move, and publishes
// exactly what a full rebuild of the same inbox publishes (the oracle: a second store
// loaded from scratch).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDemo } from '../../pipelines/demo/generate.ts';
import { tempStore, type TempStore } from '../helpers/store.ts';

const TABLES: Record<string, string> = {
  metric_results: 'metric_id, period_grain, period_start, dimension, group_value',
  km_curves: 'metric_id, period_grain, period_start, dimension, group_value, time',
  gap_table: 'ALL',
  prepost_summary: 'ALL',
};

/** Every published aggregate row but its run id, in a stable order. */
async function published(store: TempStore): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const [t, order] of Object.entries(TABLES)) {
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
function appendRows(path: string, n: number, suffix: string) {
  const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
  const extra = lines.slice(-n).map((l) => l.replace(/^([^,]+)/, `$1${suffix}`));
  writeFileSync(path, `${[...lines, ...extra].join('\n')}\n`);
}

describe('incremental run', () => {
  let incremental: TempStore;
  let full: TempStore;
  const logs: string[] = [];

  beforeAll(async () => {
    incremental = tempStore('closeloop-incr-');
    full = tempStore('closeloop-full-');
    await generateDemo({ people: 1500, seed: 7, outDir: incremental.inbox });
    expect((await incremental.run()).status).toBe('published');
  }, 120_000);
  afterAll(() => {
    incremental.cleanup();
    full.cleanup();
  });

  async function rebuildAndCompare() {
    // the oracle: the same inbox, loaded from scratch into a fresh store
    full.cleanup();
    full = tempStore('closeloop-full-');
    for (const f of ['people.csv', 'coverage.csv', 'services.csv', 'screenings.csv', 'referrals.csv', 'enrollments.csv', 'phq9.csv', 'encounters.csv']) {
      full.copy(join(incremental.inbox, f));
    }
    expect((await full.run()).status).toBe('published');
    const [a, b] = [await published(incremental), await published(full)];
    for (const t of Object.keys(TABLES)) {
      expect(a[t]!.length, t).toBeGreaterThan(0);
      const diffs = diffRows(a[t]!, b[t]!);
      expect(diffs.slice(0, 5), t).toEqual([]);
    }
  }

  it('a changed PHQ-9 extract recomputes the PHQ-9 facts only, and publishes what a full rebuild does', async () => {
    appendRows(join(incremental.inbox, 'phq9.csv'), 40, 'B');
    logs.length = 0;
    const s = await incremental.run({ log: (l) => logs.push(l) });
    expect(s.status).toBe('published');
    const line = logs.find((l) => l.includes('metric rows computed')) ?? '';
    expect(line).toMatch(/facts recomputed; reused from the previous run/);
    expect(line).toMatch(/reused from the previous run, which read nothing that changed: .*fct_referrals/);
    expect(line.split('which read nothing that changed:')[1]).not.toMatch(/phq9/);
    await rebuildAndCompare();
  }, 180_000);

  it('a changed roster recomputes everything (people and their spans feed every population dimension)', async () => {
    appendRows(join(incremental.inbox, 'people.csv'), 5, 'N');
    logs.length = 0;
    expect((await incremental.run({ log: (l) => logs.push(l) })).status).toBe('published');
    const line = logs.find((l) => l.includes('metric rows computed')) ?? '';
    expect(line).not.toMatch(/reused/);
    await rebuildAndCompare();
  }, 180_000);

  it('a changed referrals extract keeps the PHQ-9 and utilization facts', async () => {
    appendRows(join(incremental.inbox, 'referrals.csv'), 30, 'C');
    logs.length = 0;
    expect((await incremental.run({ log: (l) => logs.push(l) })).status).toBe('published');
    const reused = (logs.find((l) => l.includes('metric rows computed')) ?? '').split('which read nothing that changed:')[1] ?? '';
    expect(reused).toMatch(/fct_phq9_episodes/);
    expect(reused).not.toMatch(/fct_referrals|fct_prepost|fct_connected_people/);
    await rebuildAndCompare();
  }, 180_000);
});
