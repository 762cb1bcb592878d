// Issue 13 regression: `closeloop schedule`, `runs` and `rollback` were documented but the
// command line answered `unknown command`, so POST /api/admin/run was unreachable too.
// These cases drive the real binary as an operator would: a seconds-cron schedule
// publishes a file dropped into the inbox while it runs, and its own server serves the
// new run without a restart; `runs --json` lists both runs; an admin starts a run over
// HTTP; `rollback` switches what a running `serve` returns.
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDemo } from '../../pipelines/demo/generate.ts';
import { pollUntil, runCli, startCli, type CliProcess } from '../helpers/cli.ts';

let dir: string;
let store: string;
let inbox: string;
let drop: string;
let env: NodeJS.ProcessEnv;
const running: CliProcess[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'closeloop-schedule-e2e-'));
  drop = join(dir, 'drop');
  await generateDemo({ people: 60, seed: 7, outDir: drop, months: 6 });
  store = join(dir, 'store');
  inbox = join(dir, 'inbox');
  mkdirSync(inbox, { recursive: true });
  for (const f of readdirSync(drop)) if (f !== 'encounters.csv') cpSync(join(drop, f), join(inbox, f));
  const config = join(dir, 'closeloop.config.json');
  // node-cron's six-field form: a tick every 2 seconds.
  writeFileSync(config, JSON.stringify({ schedule: { cron: '*/2 * * * * *', timezone: 'UTC', retries: 0, backoffSeconds: 0 } }));
  env = { CLOSELOOP_CONFIG: config };
}, 60_000);

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop()));
  rmSync(dir, { recursive: true, force: true });
});

async function servedRun(url: string): Promise<string | null> {
  const r = await fetch(`${url}/readyz`);
  return ((await r.json()) as { run_id: string | null }).run_id;
}

interface RunRecord { run_id: string | null; status: string; trigger?: string }
async function history(): Promise<RunRecord[]> {
  const r = await runCli(['runs', '--json', '--limit', '500', '--db', store], env);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as RunRecord[];
}

let firstRun: string;
let secondRun: string;

describe('operating closeloop through the real binary', () => {
  it('schedule publishes on its cron, then publishes a file dropped while it runs, served without a restart', async () => {
    const sched = startCli(['schedule', '--db', store, '--inbox', inbox, '--port', '0'], env);
    running.push(sched);
    const url = (await sched.waitFor(/closeloop dashboards: (http:\/\/[^\s/]+)\//))[1]!;
    await sched.waitFor(/Schedule "\*\/2 \* \* \* \* \*" \(UTC\): next run/);
    firstRun = (await pollUntil(() => servedRun(url), (id) => id !== null, 'the first scheduled publish', 90_000))!;

    // The run says what it is doing while it computes (issue 13: half a minute of silence).
    expect(sched.output()).toMatch(/fct_referrals and its aggregations: \d+\.\d s {2}\[metrics \d+\.\d s\]/);
    expect(sched.output()).toMatch(/suppression: \d+\.\d s {2}\[metrics \d+\.\d s\]/);

    cpSync(join(drop, 'encounters.csv'), join(inbox, 'encounters.csv'));
    secondRun = (await pollUntil(() => servedRun(url), (id) => id !== null && id !== firstRun, 'the publish of the dropped file', 90_000))!;
    expect(secondRun > firstRun).toBe(true);

    const runs = await history();
    const published = runs.filter((r) => r.status === 'published').map((r) => r.run_id);
    expect(published).toEqual(expect.arrayContaining([firstRun, secondRun]));
    expect(runs.filter((r) => r.status === 'published').every((r) => r.trigger === 'schedule')).toBe(true);
    // Ticks with nothing new are recorded as such, not as failures.
    expect(runs.some((r) => r.status === 'failed')).toBe(false);

    // An admin starts a run over HTTP (202; 409 while a scheduled tick is going).
    const add = await runCli(['users', 'add', '--name', 'ops', '--role', 'admin', '--db', store], env);
    expect(add.code).toBe(0);
    const token = add.stdout.match(/\bcl_[A-Za-z0-9_-]{43}\b/)![0];
    const status = await pollUntil(
      async () => (await fetch(`${url}/api/admin/run`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } })).status,
      (s) => s === 202, 'POST /api/admin/run to be accepted', 30_000, 100);
    expect(status).toBe(202);
    await pollUntil(history, (rs) => rs.some((r) => r.trigger === 'admin' && r.status === 'unchanged'), 'the admin-started run in the history', 60_000, 500);
    await sched.stop();
  }, 240_000);

  it('runs prints the history as text, newest first, marking the published generation', async () => {
    const r = await runCli(['runs', '--limit', '200', '--db', store], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`PUBLISHED (current)  run ${secondRun}`);
    expect(r.stdout).toContain(`PUBLISHED  run ${firstRun}`);
    expect(r.stdout.indexOf(secondRun)).toBeLessThan(r.stdout.indexOf(`PUBLISHED  run ${firstRun}`));
  }, 60_000);

  it('rollback switches what a running serve returns, and --to rolls forward again', async () => {
    const serve = startCli(['serve', '--db', store, '--port', '0'], env);
    running.push(serve);
    const url = (await serve.waitFor(/closeloop dashboards: (http:\/\/[^\s/]+)\//))[1]!;
    expect(await servedRun(url)).toBe(secondRun);

    const back = await runCli(['rollback', '--db', store], env);
    expect(back.code).toBe(0);
    expect(back.stdout).toContain(`run ${firstRun}`);
    await pollUntil(() => servedRun(url), (id) => id === firstRun, 'the server to follow the rollback', 30_000);

    const forward = await runCli(['rollback', '--to', secondRun, '--db', store], env);
    expect(forward.code).toBe(0);
    await pollUntil(() => servedRun(url), (id) => id === secondRun, 'the server to follow the roll-forward', 30_000);

    const unknown = await runCli(['rollback', '--to', '20990101T000000000Z-1', '--db', store], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/closeloop rollback: generation 20990101T000000000Z-1 is not kept \(kept: /);
    expect((await history())[0]).toMatchObject({ status: 'rollback', run_id: secondRun });
    await serve.stop();
  }, 120_000);

  it('schedule refuses an inbox that does not exist (exit 1, one line, nothing published)', async () => {
    const missing = join(dir, 'no-such-inbox');
    const r = await runCli(['schedule', '--db', join(dir, 'other-store'), '--inbox', missing, '--port', '0'], env);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe(`closeloop schedule: inbox ${missing} does not exist`);
  }, 60_000);
});
