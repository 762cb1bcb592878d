// Issue 14, route 7 on the need metrics, through the real run (pipelines/run.ts, the function
// `closeloop run` calls): a publication whose partners' rule leaves the need metrics out fails
// the run with the partner check's message, and the last good publication stays the one served.
// The hole is made here, by wrapping the rule so that it deletes the need metrics' rows of
// partner_withheld after building it: nothing in the code opens it. The attacker it stands for:
// a partner, holding its view of the area's need metrics by domain, its own referrals and the
// directory (test/models/disclosure/partnerNeedAudit.test.ts works the attack out by hand).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const hole = vi.hoisted(() => ({ open: false }));
vi.mock('../../models/disclosure/partners.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../models/disclosure/partners.ts')>();
  const { exec } = await import('../../models/duckdb.ts');
  return {
    ...real,
    buildPartnerWithheld: async (conn: DuckDBConnection, truth: string) => {
      const n = await real.buildPartnerWithheld(conn, truth);
      if (hole.open) await exec(conn, `DELETE FROM partner_withheld WHERE metric_id IN (${real.NEED_METRICS_MOVED_BY_REFERRALS.map((m) => `'${m}'`).join(', ')})`);
      return n;
    },
  };
});

const { openDatabase, rows } = await import('../../models/duckdb.ts');
const { runPipeline } = await import('../../pipelines/run.ts');
const { readPointer, storePaths } = await import('../../pipelines/store.ts');
const { createApp } = await import('../../server/app.ts');
const { addTestUser } = await import('../helpers/auth.ts');
const { runCli } = await import('../helpers/cli.ts');

let root = '';
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'closeloop-partner-need-hole-'));
  expect((await runCli(['demo', '--people', '1500', '--out', join(root, 'inbox')])).code).toBe(0);
}, 60_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('a hole in the partners\' rule for the need metrics blocks the publish through the real run', () => {
  it('the good run publishes; the run with the hole fails naming the partner, the need metric, the organisation and the quantity; the good publication stays', async () => {
    const paths = storePaths(root);
    const good = await runPipeline({ root, trigger: 'test' });
    expect(good.status, good.message ?? '').toBe('published');
    const pointer = await readPointer(paths);
    const db = await openDatabase(join(paths.publishedDir, pointer!.published), { readOnly: true, memoryLimit: '256MB', threads: 1 });
    let published: number;
    try {
      // the rule withholds need-metric domains from partners: those are the rows the hole removes
      const need = await rows<{ n: number }>(db.conn, `SELECT count(*)::INTEGER AS n FROM partner_withheld WHERE metric_id IN ('need_referral_rate', 'days_to_referral', 'sns_e_intervention_rate', 'unmet_need_rate')`);
      expect(need[0]!.n).toBeGreaterThan(0);
      published = (await rows<{ n: number }>(db.conn, 'SELECT count(*)::INTEGER AS n FROM metric_results'))[0]!.n;
    } finally {
      db.close();
    }

    hole.open = true;
    try {
      const bad = await runPipeline({ root, fullRefresh: true, trigger: 'test' });
      expect(bad.status).toBe('failed');
      expect(bad.exit_code).toBe(1);
      expect(bad.message).toMatch(/disclosure control: \d+ figure\(s\) of an organisation a partner could derive from its view \(e\.g\. partner \S+: \S+'s (need_referral_rate|days_to_referral|sns_e_intervention_rate|unmet_need_rate) (numerator|complement), from an area figure of \d+ less its own\); nothing published/);
    } finally {
      hole.open = false;
    }

    // the last good publication is intact and is what the server serves
    expect(await readPointer(paths)).toEqual(pointer);
    const again = await openDatabase(join(paths.publishedDir, pointer!.published), { readOnly: true, memoryLimit: '256MB', threads: 1 });
    try {
      expect((await rows<{ n: number }>(again.conn, 'SELECT count(*)::INTEGER AS n FROM metric_results'))[0]!.n).toBe(published);
    } finally {
      again.close();
    }
    const app = createApp({ root, log: () => undefined });
    try {
      const evaluator = await addTestUser(root, 'evaluator');
      const r = await request(app).get('/api/metrics/need_referral_rate?grain=all').set('Authorization', `Bearer ${evaluator.token}`);
      expect(r.status).toBe(200);
      expect(r.body.rows.length).toBeGreaterThan(0);
    } finally {
      app.close();
    }
  }, 600_000);
});
