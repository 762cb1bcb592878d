// Operating it: requests hammering the API during a run (a child process, as under
// `closeloop schedule`) and across the publish all get complete, consistent answers;
// rollback switches the pointer and the server follows; /healthz, /readyz and the
// stale-data flag; `closeloop runs` shows the history.
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatHistory, readHistory, rollback, RollbackRefused } from '../../pipelines/ops.ts';
import { runChild } from '../../pipelines/schedule.ts';
import { readPointer, storePaths } from '../../pipelines/store.ts';
import { createApp } from '../../server/app.ts';
import { staleness } from '../../server/routes/ops.ts';
import { makeBase, type Base } from './faults/harness.ts';

let base: Base;
let root: string;
let configFile: string;
beforeAll(async () => {
  base = await makeBase();
  root = mkdtempSync(join(base.dir, 'op-'));
  cpSync(base.store, root, { recursive: true });
  configFile = join(base.dir, 'keep3.config.json');
  writeFileSync(configFile, JSON.stringify({ keepGenerations: 3 }));
}, 120_000);
afterAll(() => base?.cleanup());

describe('operating it', () => {
  it('requests during a run and across the publish get complete answers from one generation each', async () => {
    const app = createApp({ root, security: false, generation: { checkIntervalMs: 5, connections: 2 }, log: () => undefined });
    try {
      const before = (await readPointer(storePaths(root)))!;
      cpSync(base.extra, join(root, 'inbox', 'encounters.csv'));
      const prev = process.env.CLOSELOOP_CONFIG;
      process.env.CLOSELOOP_CONFIG = configFile;
      const run = runChild(root, 'test', 1);
      // (assigning undefined would leave the string "undefined" for the next file in this worker)
      if (prev === undefined) delete process.env.CLOSELOOP_CONFIG;
      else process.env.CLOSELOOP_CONFIG = prev;
      let done = false;
      void run.then(() => (done = true));
      const seen = new Set<string>();
      let answers = 0;
      const hammer = async (path: string) => {
        while (!done) {
          const r = await request(app).get(path);
          expect(r.status, `${path}: ${JSON.stringify(r.body)}`).toBe(200);
          const header = r.headers['x-closeloop-run'] as string | undefined;
          const id = (r.body.run_id as string | undefined) ?? header!;
          expect(id).toBeTruthy();
          if (header) expect(header).toBe(id);
          for (const row of (r.body.rows ?? []) as Array<{ run_id: string }>) expect(row.run_id).toBe(id);
          seen.add(id);
          answers++;
        }
      };
      await Promise.all([hammer('/api/metrics/closed_loop_rate?grain=all'), hammer('/api/metrics/positive_needs?grain=year'), hammer('/api/run'), hammer('/api/overview')]);
      const result = await run;
      expect(result).toMatchObject({ exitCode: 0, status: 'published' });
      const after = (await readPointer(storePaths(root)))!;
      expect(after.run_id).not.toBe(before.run_id);
      // A few more answers after the switch: all from the new generation.
      await new Promise((r) => setTimeout(r, 20));
      const last = await request(app).get('/api/metrics/closed_loop_rate?grain=all');
      expect(last.body.run_id).toBe(after.run_id);
      expect(last.body.rows.every((x: { run_id: string }) => x.run_id === after.run_id)).toBe(true);
      expect(seen.has(before.run_id)).toBe(true);
      expect(answers).toBeGreaterThan(10);
    } finally {
      app.close();
    }
  }, 120_000);

  it('rollback switches to the previous generation (and --to forward again); the server follows', async () => {
    const app = createApp({ root, security: false, generation: { checkIntervalMs: 5 }, log: () => undefined });
    try {
      const gens = await readHistory(root, 50);
      const current = (await readPointer(storePaths(root)))!;
      const r = await rollback(root);
      expect(r.from.run_id).toBe(current.run_id);
      expect(r.to.run_id < current.run_id).toBe(true);
      await new Promise((res) => setTimeout(res, 20));
      expect((await request(app).get('/api/run')).body.run_id).toBe(r.to.run_id);
      await expect(rollback(root)).rejects.toBeInstanceOf(RollbackRefused);
      const fwd = await rollback(root, current.run_id);
      expect(fwd.to.run_id).toBe(current.run_id);
      await new Promise((res) => setTimeout(res, 20));
      expect((await request(app).get('/api/run')).body.run_id).toBe(current.run_id);
      const h = await readHistory(root, 5);
      expect(h[0]).toMatchObject({ status: 'rollback', message: `rolled back from ${r.to.run_id} to ${current.run_id}` });
      const text = formatHistory(h, current.run_id);
      expect(text).toContain('ROLLBACK');
      expect(gens.length).toBeGreaterThan(0);
    } finally {
      app.close();
    }
  });

  it('a cut left out to protect small counts answers 400 saying so (issue 14), not as a typo', async () => {
    const app = createApp({ root, security: false, log: () => undefined });
    try {
      // 60 people: closed_loop_rate by race would show fewer than two groups in every period
      const r = await request(app).get('/api/metrics/closed_loop_rate?dimension=race_ethnicity');
      expect(r.status).toBe(400);
      expect(r.body.error).toMatch(/^closed_loop_rate by race_ethnicity \((all|year|quarter)\) is not published in this run to protect small counts: fewer than two groups/);
      expect((await request(app).get('/api/metrics/closed_loop_rate?dimension=racex')).body.error).toMatch(/^parameter 'dimension' must be one of/);
    } finally {
      app.close();
    }
  });

  it('/healthz, /readyz and the stale-data flag', async () => {
    const app = createApp({ root, security: false, log: () => undefined });
    try {
      expect((await request(app).get('/healthz')).body.ok).toBe(true);
      const ready = await request(app).get('/readyz');
      const fresh = await request(app).get('/api/freshness');
      // The demo data is as of 2026-10-29; whether that is stale depends on today's date.
      expect(ready.status).toBe(fresh.body.stale ? 503 : 200);
      if (fresh.body.stale) expect(ready.body.reason).toBe(fresh.body.reasons.join('; '));
      expect((await request(app).post('/api/admin/run')).status).toBe(503); // no scheduler in this process
    } finally {
      app.close();
    }
    const limits = { maxPublishedAgeHours: 36, maxAsOfAgeDays: 45 };
    const info = { run_id: 'r', as_of: '2026-10-31', published_at: '2026-11-01T02:10:00Z' };
    expect(staleness(info, limits, new Date('2026-11-01T12:00:00Z'))).toMatchObject({ stale: false, reasons: [] });
    const late = staleness(info, limits, new Date('2026-11-03T12:00:00Z'));
    expect(late.stale).toBe(true);
    expect(late.reasons[0]).toMatch(/^the last publish was 57\.8 hours ago \(limit 36 h\)/);
    expect(staleness(info, limits, new Date('2026-12-31T00:00:00Z')).reasons[1]).toMatch(/the data is as of 2026-10-31, 61 days ago/);
    expect(staleness(null, limits, new Date()).reasons).toEqual(['nothing is published yet']);
  });
});
