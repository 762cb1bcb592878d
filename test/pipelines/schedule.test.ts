// The scheduler with a fake clock and a fake run: overlapping ticks are skipped and
// recorded, transient failures retried with exponential backoff (blocked gates are not),
// and the cron time zone is honoured.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nextRuns, Scheduler, type AttemptResult, type Clock } from '../../pipelines/schedule.ts';
import { ensureStore, storePaths } from '../../pipelines/store.ts';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
async function root() {
  const d = mkdtempSync(join(tmpdir(), 'closeloop-sched-'));
  dirs.push(d);
  await ensureStore(storePaths(d));
  return d;
}
const history = (r: string) => readFileSync(join(r, 'state', 'runs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));

function fakeClock(start = '2026-11-02T07:00:00Z') {
  let t = Date.parse(start);
  const sleeps: number[] = [];
  const clock: Clock = { now: () => new Date(t), sleep: async (ms) => { sleeps.push(ms); t += ms; } };
  return { clock, sleeps };
}
const ok: AttemptResult = { exitCode: 0, signal: null, status: 'published', failure: null, message: null, runId: 'r1' };
const busy: AttemptResult = { exitCode: 1, signal: null, status: 'failed', failure: 'busy', message: 'another closeloop process is writing', runId: null };
const blocked: AttemptResult = { exitCode: 1, signal: null, status: 'blocked', failure: 'blocked', message: 'blocked by 1 data-quality gate', runId: 'r2' };
const SCHEDULE = { cron: '0 2 * * *', timezone: 'America/New_York', retries: 3, backoffSeconds: 60 };

describe('scheduler', () => {
  it('a tick while a run is going is skipped and recorded', async () => {
    const r = await root();
    let finish!: () => void;
    const s = new Scheduler({ root: r, schedule: SCHEDULE, clock: fakeClock().clock, log: () => undefined, runOnce: () => new Promise((res) => (finish = () => res(ok))) });
    const first = await s.tick('schedule');
    expect(first.started).toBe(true);
    const second = await s.tick('schedule');
    const third = await s.tick('admin');
    expect(second).toMatchObject({ started: false, reason: expect.stringMatching(/^skipped: a run started by schedule at 2026-11-02T07:00:00.000Z is still going/) });
    expect(third.started).toBe(false);
    finish();
    if (first.started) expect(await first.done).toEqual(ok);
    expect((await s.tick('schedule')).started).toBe(true);
    expect(history(r).map((h) => [h.status, h.trigger])).toEqual([['skipped', 'schedule'], ['skipped', 'admin']]);
  });

  it('transient failures are retried with exponential backoff, up to the limit', async () => {
    const r = await root();
    const { clock, sleeps } = fakeClock();
    const results = [busy, { ...busy, failure: 'io' as const }, { exitCode: null, signal: 'SIGKILL', status: null, failure: null, message: null, runId: null }, ok];
    const attempts: number[] = [];
    const s = new Scheduler({ root: r, schedule: SCHEDULE, clock, log: () => undefined, runOnce: async (_t, a) => (attempts.push(a), results.shift()!) });
    const t = await s.tick('schedule');
    expect(t.started && (await t.done)).toEqual(ok);
    expect(attempts).toEqual([1, 2, 3, 4]);
    expect(sleeps).toEqual([60_000, 120_000, 240_000]);

    const always = new Scheduler({ root: r, schedule: { ...SCHEDULE, retries: 2 }, clock, log: () => undefined, runOnce: async () => busy });
    const t2 = await always.tick('schedule');
    expect(t2.started && (await t2.done)).toEqual(busy);
  });

  it('a blocked gate (or any non-transient failure) is not retried', async () => {
    const r = await root();
    const { clock, sleeps } = fakeClock();
    let n = 0;
    const s = new Scheduler({ root: r, schedule: SCHEDULE, clock, log: () => undefined, runOnce: async () => (n++, blocked) });
    const t = await s.tick('schedule');
    expect(t.started && (await t.done)).toEqual(blocked);
    expect(n).toBe(1);
    expect(sleeps).toEqual([]);
  });

  it('the cron expression is read in the configured time zone', () => {
    const from = new Date();
    const ny = nextRuns('0 2 * * *', 'America/New_York', 3);
    const tokyo = nextRuns('0 2 * * *', 'Asia/Tokyo', 3);
    const hourIn = (d: Date, tz: string) => Number(new Intl.DateTimeFormat('en-US', { timeZone: tz, hour: 'numeric', hourCycle: 'h23' }).format(d));
    for (const d of ny) {
      expect(hourIn(d, 'America/New_York')).toBe(2);
      expect(d.getTime()).toBeGreaterThan(from.getTime());
    }
    for (const d of tokyo) expect(hourIn(d, 'Asia/Tokyo')).toBe(2);
    // 02:00 in New York is 06:00 or 07:00 UTC depending on daylight saving; in Tokyo 17:00 UTC.
    expect(ny.every((d) => [6, 7].includes(d.getUTCHours()))).toBe(true);
    expect(tokyo.every((d) => d.getUTCHours() === 17)).toBe(true);
  });
});
