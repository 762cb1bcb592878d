// The server reads the published generation the pointer names, read-only; notices a new
// pointer (checked at most once per interval) and swaps between requests; a request
// keeps the generation it started with to the end (the old one closes when the last such
// request is done). Before anything is published, and with tables a run did not
// publish, it answers honestly.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../../server/app.ts';
import { GenerationManager } from '../../server/generation.ts';
import { publishedFixture, type PublishedFixture } from '../helpers/publishedFixture.ts';
import { addTestUser, getAs } from '../helpers/auth.ts';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

async function fixture(opts?: Parameters<typeof publishedFixture>[0]): Promise<PublishedFixture> {
  const fx = await publishedFixture(opts);
  cleanups.push(fx.cleanup);
  return fx;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('generation swap', () => {
  it('a new pointer is picked up between requests; a pinned request keeps its generation', async () => {
    const fx = await fixture();
    const m = new GenerationManager(fx.root, { checkIntervalMs: 50 });
    cleanups.push(() => m.close());
    const first = await m.acquire();
    expect(first.gen.runId).toBe(fx.runId);
    const before = await first.gen.query<{ v: number }>(`SELECT value AS v FROM metric_results WHERE metric_id = 'closed_loop_rate' AND period_grain = 'all' AND dimension = 'all'`);

    const second = await fx.publish({ shift: 0.1 });
    await sleep(80);
    const next = await m.acquire();
    expect(next.gen.runId).toBe(second.runId);
    expect(m.currentRunId).toBe(second.runId);
    // The first request still reads its own generation, unchanged, and it is still open.
    expect(first.gen.isClosed).toBe(false);
    const again = await first.gen.query<{ v: number; r: string }>(`SELECT value AS v, run_id AS r FROM metric_results WHERE metric_id = 'closed_loop_rate' AND period_grain = 'all' AND dimension = 'all'`);
    expect(again).toEqual([{ v: before[0]!.v, r: fx.runId }]);
    const now = await next.gen.query<{ v: number }>(`SELECT value AS v FROM metric_results WHERE metric_id = 'closed_loop_rate' AND period_grain = 'all' AND dimension = 'all'`);
    expect(now[0]!.v).not.toBe(before[0]!.v);
    // The old generation closes when its last request ends.
    first.release();
    expect(first.gen.isClosed).toBe(true);
    next.release();
    expect(next.gen.isClosed).toBe(false);
  });

  it('the pointer is not checked more often than the interval', async () => {
    const fx = await fixture();
    const m = new GenerationManager(fx.root, { checkIntervalMs: 60_000 });
    cleanups.push(() => m.close());
    (await m.acquire()).release();
    await fx.publish();
    const l = await m.acquire();
    expect(l.gen.runId).toBe(fx.runId);
    l.release();
  });

  it('over HTTP: responses switch to the new run, every row of one response from one run', async () => {
    const fx = await fixture();
    const app = createApp({ root: fx.root, log: () => undefined, generation: { checkIntervalMs: 20 } });
    cleanups.push(() => app.close());
    const user = await addTestUser(fx.root, 'evaluator');
    const a = await getAs(app, user, '/api/metrics/closed_loop_rate?grain=quarter');
    expect(new Set(a.body.rows.map((r: { run_id: string }) => r.run_id))).toEqual(new Set([fx.runId]));
    const second = await fx.publish({ shift: 0.05 });
    await sleep(40);
    const b = await getAs(app, user, '/api/metrics/closed_loop_rate?grain=quarter');
    expect(b.body.run_id).toBe(second.runId);
    expect(b.headers['x-closeloop-run']).toBe(second.runId);
    expect(new Set(b.body.rows.map((r: { run_id: string }) => r.run_id))).toEqual(new Set([second.runId]));
    expect((await getAs(app, user, '/api/run')).body.run_id).toBe(second.runId);
  });

  it('parameter checks remembered for one generation do not carry over to the next', async () => {
    const fx = await fixture();
    const app = createApp({ root: fx.root, log: () => undefined, generation: { checkIntervalMs: 20 } });
    cleanups.push(() => app.close());
    const user = await addTestUser(fx.root, 'evaluator');
    const path = '/api/metrics/closed_loop_rate?dimension=race_ethnicity&grain=quarter';
    for (let i = 0; i < 2; i++) expect((await getAs(app, user, path)).status).toBe(200);
    // A refused value stays refused, however often it is asked for and whatever passed before.
    for (let i = 0; i < 2; i++) {
      const bad = await getAs(app, user, '/api/metrics/closed_loop_rate?dimension=no_such_cut&grain=quarter');
      expect(bad.status).toBe(400);
      expect(bad.body).toMatchObject({ parameter: 'dimension' });
    }
    // The next generation has no results table: the same request is checked against it afresh.
    await fx.publish({ omit: ['metric_results'] });
    await sleep(40);
    const r = await getAs(app, user, path);
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ reason: 'not_available' });
  });

  it('keeps serving the current generation when the new pointer names a file that cannot be opened', async () => {
    const fx = await fixture();
    const logs: string[] = [];
    const m = new GenerationManager(fx.root, { checkIntervalMs: 10, log: (l) => logs.push(l) });
    cleanups.push(() => m.close());
    (await m.acquire()).release();
    const { writePointer, storePaths } = await import('../../pipelines/store.ts');
    await writePointer(storePaths(fx.root), { run_id: 'broken', as_of: '2026-10-31', warehouse: 'x.duckdb', published: 'missing.duckdb', published_at: new Date().toISOString() });
    await sleep(20);
    const l = await m.acquire();
    expect(l.gen.runId).toBe(fx.runId);
    l.release();
    expect(logs.some((x) => x.includes('could not open published generation missing.duckdb'))).toBe(true);
  });
});

describe('honest states', () => {
  it('nothing published: data endpoints 503 with a message, pages and run history still answer', async () => {
    const root = mkdtempSync(join(tmpdir(), 'closeloop-empty-'));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    const app = createApp({ root, log: () => undefined });
    cleanups.push(() => app.close());
    const user = await addTestUser(root, 'evaluator');
    const r = await getAs(app, user, '/api/overview');
    expect(r.status).toBe(503);
    expect(r.body.error).toMatch(/nothing is published yet/);
    expect((await getAs(app, user, '/api/health')).body).toEqual({ ok: true, run_id: null });
    expect((await getAs(app, user, '/api/runs')).body.runs).toEqual([]);
    expect((await getAs(app, user, '/')).status).toBe(200);
  });

  it('tables a run did not publish: "not available in this run", the rest works', async () => {
    const fx = await fixture({ omit: ['km_curves', 'gap_table', 'service_directory', 'prepost_summary', 'disparity_summary', 'load_report', 'entity_freshness'] });
    const app = createApp({ root: fx.root, log: () => undefined });
    cleanups.push(() => app.close());
    const user = await addTestUser(fx.root, 'evaluator');
    for (const path of ['/api/km', '/api/gaps', '/api/charts/km.json', '/api/charts/quarantine.json', '/api/charts/freshness.json']) {
      const r = await getAs(app, user, path);
      expect(r.status, path).toBe(404);
      expect(r.body).toMatchObject({ reason: 'not_available' });
      expect(r.body.error).toMatch(/not available in this run/);
    }
    expect((await getAs(app, user, '/api/partners/ORG-01/gap-analysis.csv')).status).toBe(404);
    // Derived from the results table alone:
    const d = await getAs(app, user, '/api/disparities?metric=closed_loop_rate&dimension=race_ethnicity');
    expect(d.body.summary_source).toBe('computed');
    expect(d.body.summary.groups_shown).toBe(4); // unknown left out
    const pp = await getAs(app, user, '/api/charts/prepost.json');
    expect(pp.body.notes[0]).toMatch(/not available/);
    expect((await getAs(app, user, '/api/quality')).body).toMatchObject({ files: null, freshness: null });
    expect((await getAs(app, user, '/api/overview')).status).toBe(200);
    expect((await getAs(app, user, '/api/partners')).body.partners.map((p: { org_name: string }) => p.org_name)).toContain('ORG-07');
  });

  it('no results table at all', async () => {
    const fx = await fixture({ omit: ['metric_results'] });
    const app = createApp({ root: fx.root, log: () => undefined });
    cleanups.push(() => app.close());
    const user = await addTestUser(fx.root, 'evaluator');
    expect((await getAs(app, user, '/api/metrics/closed_loop_rate')).body.error).toBe('the results table is not available in this run');
    const o = await getAs(app, user, '/api/overview');
    expect(o.status).toBe(200);
    expect(o.body.headlines.every((h: { available: boolean }) => !h.available)).toBe(true);
    expect((await getAs(app, user, '/api/exports/report.xlsx')).status).toBe(404);
  });
});
