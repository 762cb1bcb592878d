// The full fault-injection suite (full tier: `npm run test:full`, or `npm run test:faults`
// alone; CI runs it in the full tier): SIGKILL at
// every named point of a run, at random times, a run that throws in each phase, injected
// write errors, and a real full disk (a small tmpfs, when this process may mount one).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAULT_POINTS } from '../../../pipelines/faults.ts';
import { runPipeline } from '../../../pipelines/run.ts';
import { CONFIG, makeBase, runCase, type Base } from './harness.ts';

let base: Base;
const results: string[] = [];
beforeAll(async () => {
  base = await makeBase();
}, 180_000);
afterAll(() => {
  base?.cleanup();
  if (results.length) console.log(`fault suite:\n${results.join('\n')}`);
});

describe('crash-safe publication: every kill point', () => {
  for (const point of FAULT_POINTS) {
    it(`SIGKILL at ${point}`, async () => {
      const r = await runCase(base, { kill: point });
      results.push(`  kill ${point.padEnd(38)} ${r.published ? 'new generation published' : 'old generation kept   '}  ${r.responses} responses during the run, next run ${r.nextStatus}  ${(r.ms / 1000).toFixed(1)} s`);
    }, 180_000);
  }
});

describe('crash-safe publication: random kills, throws, write errors', () => {
  // Deterministic "random" times spread over a run (0.2 to 3.7 s after the start: a small run takes 3-8 s here).
  let seed = 20261123;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < 8; i++) {
    const ms = Math.round(200 + rand() * 3500);
    it(`SIGKILL from outside after ${ms} ms`, async () => {
      const r = await runCase(base, { killAfterMs: ms });
      results.push(`  kill after ${String(ms).padStart(5)} ms ${' '.repeat(24)} ${r.published ? 'new generation published' : 'old generation kept   '}  ${r.responses} responses, exit ${r.signal ?? r.code}, next run ${r.nextStatus}`);
    }, 180_000);
  }
  for (const point of ['load:after-referrals', 'quality:after-checks', 'metrics:after-suppression', 'publish:mid-tables', 'switch:after-rename-published', 'prune:mid'] as const) {
    it(`a run that throws at ${point}`, async () => {
      const r = await runCase(base, { fail: `${point}=throw` });
      // A throw after the pointer switch (prune) is only logged: the run stands published.
      expect(r.code).toBe(point === 'prune:mid' ? 0 : 1);
      results.push(`  throw at ${point.padEnd(35)} exit ${r.code}, ${r.published ? 'published' : 'old generation kept'}`);
    }, 180_000);
  }
  for (const point of ['copy:after', 'publish:after-attach', 'switch:after-fsync-published', 'pointer:after-write-tmp', 'pointer:after-fsync-tmp'] as const) {
    it(`an injected ENOSPC at ${point}`, async () => {
      const r = await runCase(base, { fail: `${point}=ENOSPC` });
      expect(r.code).toBe(1);
      results.push(`  ENOSPC at ${point.padEnd(34)} exit ${r.code}, old generation kept`);
    }, 180_000);
  }

  it('a real full disk (tmpfs) fails the run cleanly; with space again the next run publishes', async () => {
    const mnt = join(base.dir, 'tmpfs');
    mkdirSync(mnt);
    const size = Number(execFileSync('du', ['-sb', base.store]).toString().split('\t')[0]);
    const extra = statSync(base.extra).size;
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size + extra + 1024 * 1024}`, 'tmpfs', mnt], { stdio: 'ignore' });
    } catch {
      results.push('  full disk: cannot mount a tmpfs here; covered by the injected ENOSPC cases');
      return;
    }
    try {
      const root = join(mnt, 'store');
      cpSync(base.store, root, { recursive: true });
      const r = await runCase(base, { root, noNextRun: true });
      expect(r.code).toBe(1);
      expect(r.published).toBe(false);
      const last = readFileSync(join(root, 'state', 'runs.jsonl'), 'utf8').trim().split('\n').at(-1)!;
      expect(JSON.parse(last).message).toMatch(/space|ENOSPC|disk|write/i);
      // Make room (remount bigger) and run again.
      execFileSync('mount', ['-o', `remount,size=${size * 4}`, mnt]);
      const next = await runPipeline({ root, config: CONFIG, trigger: 'test' });
      expect(next.status).toBe('published');
      results.push(`  full disk (tmpfs of ${(size / 1e6).toFixed(1)} MB + 1 MB): run failed with "${JSON.parse(last).message.slice(0, 90)}", old generation kept; after making room the next run published`);
    } finally {
      execFileSync('umount', [mnt]);
      rmSync(mnt, { recursive: true, force: true });
    }
  }, 180_000);
});
