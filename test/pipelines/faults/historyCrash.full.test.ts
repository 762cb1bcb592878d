// The store's history of figures (state/published-figures.duckdb, models/disclosure/revisions.ts)
// across a crash at the switch. The audit compares each publication with the figures users
// last saw, so the history must hold exactly the publications that happened. Before, the
// run renamed the history's next version into place before switching the pointer: killed
// between the two, the store kept the old publication while the history held figures no
// one ever saw (in place of the ones they did). Now the next version waits, with its run's
// id beside it, until the pointer names that run; a run that finds it after a crash puts it
// in place if its run was published, and drops it if not.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, rows } from '../../../models/duckdb.ts';
import { historyPath, storePaths } from '../../../pipelines/store.ts';
import { runCli } from '../../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'closeloop-history-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const drop = join(dir, 'drop');
const first = join(dir, 'first');

/** The run ids of the history file's figures (a row this publication does not show keeps the figures last shown, of an older run). */
async function historyRuns(store: string): Promise<string[]> {
  const db = await openDatabase(':memory:', { memoryLimit: '256MB', threads: 1 });
  try {
    await db.conn.run(`ATTACH '${stateFile(store)}' AS h (READ_ONLY)`);
    return (await rows<{ run_id: string }>(db.conn, `SELECT DISTINCT run_id FROM h.figures WHERE note IS DISTINCT FROM 'pending revision' ORDER BY 1`)).map((r) => r.run_id);
  } finally {
    db.close();
  }
}
const pointerRun = (store: string) => (JSON.parse(readFileSync(join(store, 'current.json'), 'utf8')) as { run_id: string }).run_id;

/** Copies of the last 30 referrals under new ids: a second publication with other figures. */
function addReferrals() {
  const file = join(drop, 'referrals.csv');
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  writeFileSync(file, [...lines, ...lines.slice(-30).map((l, k) => l.replace(/^([^,]+)/, `$1-X${k}`))].join('\n') + '\n');
}

/** A file of the store's state folder: the history, `.tmp` its next version, `.tmp.run` that version's run. */
const stateFile = (store: string, suffix = '') => `${historyPath(storePaths(store))}${suffix}`;

/** A copy of the first publication's store, and a run on it with these fault-injection settings. */
async function runOnCopy(name: string, env: Record<string, string>) {
  const store = join(dir, name);
  cpSync(first, store, { recursive: true });
  return { store, run: await runCli(['run', '--inbox', drop, '--db', store], env, 300_000) };
}
/** The next run on a store, killed before it computes anything (it settles the history first). */
const settleOnly = (store: string) => runCli(['run', '--inbox', drop, '--db', store], { CLOSELOOP_KILL_AT: 'copy:before' }, 300_000);

describe('the history across a crash at the switch', () => {
  let run1 = '';
  beforeAll(async () => {
    expect((await runCli(['demo', '--people', '400', '--seed', '77', '--out', drop], {}, 300_000)).code).toBe(0);
    const r = await runCli(['run', '--inbox', drop, '--db', first], {}, 300_000);
    expect(r.code, r.stderr).toBe(0);
    run1 = pointerRun(first);
    expect(await historyRuns(first)).toEqual([run1]);
    addReferrals();
  }, 600_000);

  it('killed after the pointer names the new run: the next run puts the history of that publication in place', async () => {
    const { store, run: killed } = await runOnCopy('after-pointer', { CLOSELOOP_KILL_AT: 'switch:after-pointer' });
    expect(killed.code).not.toBe(0);
    const run2 = pointerRun(store);
    expect(run2).not.toBe(run1);
    // the publication happened; its history waits beside the old one
    expect(readFileSync(stateFile(store, '.tmp.run'), 'utf8')).toBe(run2);
    expect(await historyRuns(store)).toEqual([run1]);
    await settleOnly(store);
    expect(await historyRuns(store)).toContain(run2);
    expect(existsSync(stateFile(store, '.tmp.run'))).toBe(false);
  }, 600_000);

  it('killed before the pointer moved: the publication never happened, and its history is dropped', async () => {
    const { store, run: killed } = await runOnCopy('before-pointer', { CLOSELOOP_KILL_AT: 'switch:after-rename-published' });
    expect(killed.code).not.toBe(0);
    expect(pointerRun(store)).toBe(run1);
    expect(existsSync(stateFile(store, '.tmp.run'))).toBe(true);
    await settleOnly(store);
    expect(await historyRuns(store)).toEqual([run1]);
    expect(existsSync(stateFile(store, '.tmp'))).toBe(false);
    expect(existsSync(stateFile(store, '.tmp.run'))).toBe(false);
  }, 600_000);

  it('a failure after the pointer moved (an injected throw) leaves it for the next run, which puts it in place', async () => {
    const { store, run: r } = await runOnCopy('throw-after-pointer', { CLOSELOOP_FAIL_AT: 'switch:after-pointer=throw' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/the history of this publication stays beside the last one until the next run: injected failure/);
    const run2 = pointerRun(store);
    expect(readFileSync(stateFile(store, '.tmp.run'), 'utf8')).toBe(run2);
    await runCli(['run', '--inbox', drop, '--db', store], {}, 300_000);
    expect(await historyRuns(store)).toContain(run2);
  }, 600_000);

  it('a rollback right after such a crash puts that publication\'s history in place before it moves the pointer back', async () => {
    const { store } = await runOnCopy('rollback-after-crash', { CLOSELOOP_KILL_AT: 'switch:after-pointer' });
    const run2 = pointerRun(store);
    const back = await runCli(['rollback', '--db', store]);
    expect(back.code, back.stderr).toBe(0);
    expect(pointerRun(store)).toBe(run1);
    expect(await historyRuns(store)).toContain(run2);
  }, 600_000);
});
