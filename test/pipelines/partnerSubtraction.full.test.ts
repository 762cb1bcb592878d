// Issue 14, route 7 (a partner subtracts its own units), through the real `closeloop run` on a
// demo drop and the real server. The attacker: each partner, with its own token, holding
// what the API gives it (area rows by need domain and the `all` row of every metric cut by
// organisation), its own records and the public directory. Its attack, written here
// without closeloop's code: for another organisation X, every group of domains the partner
// can tell apart (a shown domain row, or all withheld domains together as `all` minus the
// shown ones) that X serves either shows no units or is served by X alone among the others;
// then X's figure is the sum of those groups minus the partner's own. The demo's directory
// has seven domains served by one organisation and two by two: without the partners' rule,
// every partner pins several organisations this way (checked below on the evaluator's view,
// which shows every domain).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, rows } from '../../models/duckdb.ts';
import { readPointer, storePaths } from '../../pipelines/store.ts';
import { createApp, type App } from '../../server/app.ts';
import { addTestUser, type TestUser } from '../helpers/auth.ts';
import { runCli } from '../helpers/cli.ts';

let root = '';
let app: App;
let runOutput = '';
let serving = new Map<string, Set<string>>();
let metrics: string[] = [];
const users = new Map<string, TestUser>();
let evaluator: TestUser;

type Row = { dimension: string; group_value: string; numerator: number | null; denominator: number | null; suppressed: boolean; note: string | null };

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'closeloop-partner-attack-'));
  expect((await runCli(['demo', '--people', '600', '--out', join(root, 'inbox')])).code).toBe(0);
  const run = await runCli(['run', '--db', root], {}, 240_000);
  runOutput = run.stdout + run.stderr;
  expect(run.code, runOutput).toBe(0);
  const paths = storePaths(root);
  const db = await openDatabase(join(paths.publishedDir, (await readPointer(paths))!.published), { readOnly: true, memoryLimit: '256MB', threads: 1 });
  try {
    for (const r of await rows<{ org_id: string; domain: string }>(db.conn, 'SELECT DISTINCT org_id, domain FROM service_directory')) {
      if (!serving.has(r.domain)) serving.set(r.domain, new Set());
      serving.get(r.domain)!.add(r.org_id);
    }
    metrics = (await rows<{ m: string }>(db.conn, `SELECT DISTINCT metric_id AS m FROM metric_results WHERE dimension = 'target_org_id' ORDER BY 1`)).map((r) => r.m);
  } finally {
    db.close();
  }
  app = createApp({ root, log: () => undefined });
  evaluator = await addTestUser(root, 'evaluator');
  for (const org of new Set([...serving.values()].flatMap((s) => [...s]))) users.set(org, await addTestUser(root, 'partner', { org }));
}, 400_000);

afterAll(() => {
  app?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

async function view(u: TestUser, metric: string): Promise<Row[]> {
  const r = await request(app).get(`/api/metrics/${metric}?grain=all`).set('Authorization', `Bearer ${u.token}`);
  expect(r.status).toBe(200);
  return (r.body.rows as Row[]).filter((x) => ['all', 'domain', 'target_org_id'].includes(x.dimension));
}

/** Organisations whose figure (denominator) partner p pins from these rows. */
function pinned(p: string, rowsSeen: Row[], evaluatorRows: Row[]): string[] {
  const all = rowsSeen.find((r) => r.dimension === 'all');
  const domains = rowsSeen.filter((r) => r.dimension === 'domain');
  const shown = domains.filter((r) => !r.suppressed && r.denominator !== null);
  const groups: Array<{ domains: string[]; units: boolean }> = shown.map((r) => ({ domains: [r.group_value], units: r.denominator! > 0 }));
  const rest = domains.filter((r) => !shown.includes(r)).map((r) => r.group_value);
  if (rest.length && all && !all.suppressed) groups.push({ domains: rest, units: true });
  const covered = new Set(groups.flatMap((g) => g.domains));
  const others = (ds: string[]) => new Set(ds.flatMap((d) => [...(serving.get(d) ?? [])]).filter((o) => o !== p));
  const out: string[] = [];
  for (const x of new Set([...serving.values()].flatMap((s) => [...s]))) {
    if (x === p) continue;
    const own = evaluatorRows.find((r) => r.dimension === 'target_org_id' && r.group_value === x);
    if (own && own.denominator === 0) continue; // zero may be derived
    const mine = [...serving].filter(([, os]) => os.has(x)).map(([d]) => d);
    if (mine.some((d) => !covered.has(d))) continue; // a domain whose units the partner cannot count
    const withUnits = groups.filter((g) => g.units && g.domains.some((d) => mine.includes(d)));
    if (withUnits.length && withUnits.every((g) => others(g.domains).size === 1)) out.push(x);
  }
  return out;
}

describe('route 7 through the real run and server: no partner pins another organisation\'s figure', () => {
  it('the run says what partners\' views withhold', () => {
    expect(runOutput).toMatch(/partners' views: [\d,]+ \(organisation, metric/);
  });

  it('every partner, every metric cut by organisation: the subtraction attack pins no one', async () => {
    expect(metrics.length).toBeGreaterThan(3);
    expect(users.size).toBeGreaterThan(5);
    let open = 0;
    let checks = 0;
    for (const m of metrics) {
      const e = await view(evaluator, m);
      for (const [p, u] of users) {
        checks++;
        expect(pinned(p, await view(u, m), e), `partner ${p}, ${m}`).toEqual([]);
        // the same attack on the evaluator's rows (every domain the publication shows)
        open += pinned(p, e, e).length;
      }
    }
    expect(checks).toBeGreaterThan(50);
    // without the partners' rule the attack works: a partner shown the publication's domain rows pins someone
    expect(open).toBeGreaterThan(0);
  });
});
