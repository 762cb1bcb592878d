// The evaluation (issue 22) through the real `closeloop run` on a small demo drop (full tier:
// about two minutes on this machine), then the
// API and the chart download a user reaches: at 3,000 people the referred and comparison
// groups are small, so the small-cell rule must hold in the real path (nothing of a group
// under 11 published), and the API must say why instead of failing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, rows } from '../../models/duckdb.ts';
import { readPointer, storePaths } from '../../pipelines/store.ts';
import { createApp, type App } from '../../server/app.ts';
import { addTestUser, getAs, type TestUser } from '../helpers/auth.ts';
import { runCli } from '../helpers/cli.ts';

let root: string;
let pub: string;
let app: App;
let evaluator: TestUser;
let partner: TestUser;

async function query<R>(sql: string): Promise<R[]> {
  const db = await openDatabase(pub, { readOnly: true, memoryLimit: '256MB', threads: 1 });
  try {
    return await rows<R>(db.conn, sql);
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'closeloop-evaluation-'));
  const demo = await runCli(['demo', '--people', '3000', '--out', join(root, 'inbox')]);
  expect(demo.code, demo.stderr).toBe(0);
  const run = await runCli(['run', '--db', root], {}, 240_000);
  expect(run.code, run.stdout + run.stderr).toBe(0);
  expect(run.stdout).toMatch(/evaluation: \d+ monthly cohort\(s\) of first referrals/);
  const paths = storePaths(root);
  pub = join(paths.publishedDir, (await readPointer(paths))!.published);
  app = createApp({ root, log: () => undefined });
  evaluator = await addTestUser(root, 'evaluator');
  partner = await addTestUser(root, 'partner', { org: 'ORG-01' });
}, 300_000);

afterAll(() => {
  app?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('evaluation through closeloop run', () => {
  it('publishes the evaluation tables with no group under 11 and no estimate of a withheld outcome', async () => {
    const summary = await query<{ domain: string; outcome: string; status: string; treated_people: number | null; comparison_people: number | null; att_per_1000: number | null }>(
      'SELECT domain, outcome, status, treated_people, comparison_people, att_per_1000 FROM evaluation_summary ORDER BY domain, outcome');
    expect(summary.filter((s) => s.domain === 'any').map((s) => s.outcome)).toEqual(['ed_visits', 'inpatient_admits']);
    expect(summary.length).toBeGreaterThan(2); // and the domains of first referrals
    for (const s of summary) {
      for (const n of [s.treated_people, s.comparison_people]) if (n !== null) expect(n).toBeGreaterThanOrEqual(11);
      if (s.status !== 'published') expect(s.att_per_1000).toBeNull();
    }
    // a month's estimate only for a selection whose groups are shown (11 or more people each)
    const months = await query<{ domain: string; outcome: string }>('SELECT DISTINCT domain, outcome FROM evaluation_event_study');
    for (const m of months) expect(summary.find((s) => s.domain === m.domain && s.outcome === m.outcome)!.treated_people).not.toBeNull();
    // no person-level table leaves the warehouse
    const tables = await query<{ name: string }>(`SELECT table_name AS name FROM duckdb_tables() WHERE table_name LIKE '%ev%' OR table_name LIKE '%ph%'`);
    expect(tables.map((t) => t.name).sort()).toEqual(['evaluation_balance', 'evaluation_event_study', 'evaluation_phq9', 'evaluation_phq9_balance', 'evaluation_summary']);
    // the PHQ-9 comparison: at 3,000 people its groups are far under 11, so only the status and why
    const phq9 = await query<Record<string, unknown>>('SELECT domain, status, change_difference, treated_people, comparison_people FROM evaluation_phq9');
    expect(phq9[0]!.domain).toBe('any'); // then the domains of first referrals
    for (const r of phq9) {
      expect(r.status).not.toBe('published');
      expect(r).toMatchObject({ change_difference: null, treated_people: null, comparison_people: null });
    }
    expect(await query('SELECT * FROM evaluation_phq9_balance')).toEqual([]);
  });

  it('GET /api/evaluation gives the published tables and the limits, to evaluators and partners (area-wide aggregates)', async () => {
    const published = await query<{ outcome: string; status: string; note: string }>(`SELECT outcome, status, note FROM evaluation_summary WHERE domain = 'any' ORDER BY outcome`);
    for (const user of [evaluator, partner]) {
      const r = await getAs(app, user, '/api/evaluation');
      expect(r.status, r.text).toBe(200);
      expect(r.body.summary.map((s: { outcome: string; status: string; note: string }) => ({ outcome: s.outcome, status: s.status, note: s.note }))).toEqual(published);
      expect(r.body.limits.join(' ')).toMatch(/unmeasured confounding/);
    }
    expect((await getAs(app, null, '/api/evaluation')).status).toBe(401);
    expect((await getAs(app, evaluator, '/api/evaluation?outcome=ed_visits')).status).toBe(400);
  });

  it('the event study downloads as CSV, and the page is served with its nav link', async () => {
    const csv = await getAs(app, evaluator, '/api/charts/event-study.csv?outcome=ed_visits');
    expect(csv.status, csv.text).toBe(200);
    expect(csv.text.split(/\r?\n/)[0]).toBe('rel_month,period,estimate,ci_low,ci_high');
    expect((await getAs(app, evaluator, '/api/charts/event-study.csv?outcome=phq9')).status).toBe(400);
    const page = await getAs(app, evaluator, '/evaluation');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<a href="/evaluation" aria-current="page">Evaluation</a>');
    expect(page.text).toContain('What this can and cannot show');
  });
});
