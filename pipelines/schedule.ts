// `closeloop schedule`: the server plus a node-cron schedule that starts pipeline runs.
//
// Each run is a child process (`closeloop run`), so the serving process never opens the
// warehouse (DuckDB locks a file opened read-write against every other process). No two
// runs overlap: a tick that finds a run going is skipped and recorded in the run
// history. Transient failures (the writer lock is busy, an I/O error, a crashed child)
// are retried with exponential backoff; a blocked quality gate or any other failure is not.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import cron, { type ScheduledTask } from 'node-cron';
import type { Config } from '../models/config.ts';
import type { FailureKind } from './run.ts';
import { appendHistory, storePaths } from './store.ts';

export interface AttemptResult {
  exitCode: number | null;
  signal: string | null;
  status: string | null;
  failure: FailureKind | null;
  message: string | null;
  runId: string | null;
}

export interface Clock {
  now(): Date;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = { now: () => new Date(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };

export interface SchedulerOptions {
  root: string;
  /** Inbox folder the runs read (default: the store's own inbox). */
  inbox?: string;
  schedule: Config['schedule'];
  /** Start one run and wait for it (default: a `closeloop run` child process). */
  runOnce?: (trigger: string, attempt: number) => Promise<AttemptResult>;
  clock?: Clock;
  log?: (line: string) => void;
}

export type TickOutcome = { started: false; reason: string } | { started: true; done: Promise<AttemptResult> };

/** Transient: worth another attempt after a pause. */
export function retryable(r: AttemptResult): boolean {
  if (r.signal) return true; // the child was killed (OOM killer, a restart): try again
  return r.exitCode === 1 && (r.failure === 'busy' || r.failure === 'io');
}

export class Scheduler {
  private current: { trigger: string; since: Date; done: Promise<AttemptResult> } | null = null;
  private readonly clock: Clock;
  private readonly log: (l: string) => void;
  private readonly runOnce: (trigger: string, attempt: number) => Promise<AttemptResult>;
  private task: ScheduledTask | null = null;

  constructor(private readonly opts: SchedulerOptions) {
    this.clock = opts.clock ?? realClock;
    this.log = opts.log ?? ((l) => console.log(l));
    this.runOnce = opts.runOnce ?? ((trigger, attempt) => runChild(opts.root, trigger, attempt, process.env, opts.inbox));
  }

  get running(): { trigger: string; since: string } | null {
    return this.current ? { trigger: this.current.trigger, since: this.current.since.toISOString() } : null;
  }

  /**
   * One tick (a cron firing, or a trigger from the CLI or the admin endpoint): start a run
   * with retries unless one is going, in which case the tick is skipped and recorded.
   */
  async tick(trigger: string): Promise<TickOutcome> {
    if (this.current) {
      const reason = `skipped: a run started by ${this.current.trigger} at ${this.current.since.toISOString()} is still going`;
      await this.recordSkip(trigger, reason);
      return { started: false, reason };
    }
    const since = this.clock.now();
    const done = this.withRetries(trigger).finally(() => {
      this.current = null;
    });
    this.current = { trigger, since, done };
    return { started: true, done };
  }

  async recordSkip(trigger: string, reason: string) {
    this.log(`${trigger} tick ${reason}`);
    const at = this.clock.now().toISOString();
    await appendHistory(storePaths(this.opts.root), {
      run_id: null, status: 'skipped', as_of: null, files: [], metrics_rows: 0, seconds: 0, message: reason, exit_code: null, phases: {}, quality: [],
      failure: null, trigger, attempt: null, started_at: at, finished_at: at,
    }).catch(() => undefined);
  }

  private async withRetries(trigger: string): Promise<AttemptResult> {
    const { retries, backoffSeconds } = this.opts.schedule;
    for (let attempt = 1; ; attempt++) {
      const r = await this.runOnce(trigger, attempt).catch((err: Error): AttemptResult => ({ exitCode: null, signal: null, status: 'failed', failure: 'error', message: err.message, runId: null }));
      const ok = r.exitCode === 0 || r.exitCode === 2;
      if (ok || !retryable(r) || attempt > retries) {
        this.log(`run (${trigger}, attempt ${attempt}): ${r.status ?? (r.signal ? `killed by ${r.signal}` : 'failed')}${r.message ? `: ${r.message}` : ''}`);
        return r;
      }
      const wait = backoffSeconds * 1000 * 2 ** (attempt - 1);
      this.log(`run (${trigger}, attempt ${attempt}) failed (${r.failure ?? r.signal}): ${r.message ?? ''}; retrying in ${Math.round(wait / 1000)} s`);
      await this.clock.sleep(wait);
    }
  }

  /** Start the cron schedule (time zone from the config). */
  start(): ScheduledTask {
    const { cron: expr, timezone } = this.opts.schedule;
    if (!cron.validate(expr)) throw new Error(`schedule.cron: "${expr}" is not a valid cron expression`);
    this.task = cron.schedule(expr, () => {
      void this.tick('schedule');
    }, { timezone, name: 'closeloop-run', noOverlap: true });
    // noOverlap guards the task body; our own guard covers runs triggered from elsewhere.
    this.task.on('execution:overlap', () => void this.recordSkip('schedule', 'skipped: the previous scheduled tick is still going'));
    this.task.on('execution:missed', (ctx) => this.log(`schedule: missed the tick of ${ctx.date.toISOString()} (the process was busy or asleep)`));
    return this.task;
  }

  nextRun(): Date | null {
    return this.task?.getNextRun() ?? null;
  }

  async stop() {
    await this.task?.stop();
    await this.task?.destroy();
    this.task = null;
  }
}

/** The next times a cron expression fires in a time zone (node-cron's own matcher). */
export function nextRuns(expr: string, timezone: string, count: number): Date[] {
  const task = cron.createTask(expr, () => undefined, { timezone });
  try {
    return task.getNextRuns(count);
  } finally {
    void task.destroy();
  }
}

const BIN = new URL('../bin/closeloop.js', import.meta.url).pathname;

/** The run-history record a process wrote (newest first), if any. */
export function historyRecordOf(root: string, pid: number): Record<string, unknown> | null {
  let text = '';
  try {
    text = readFileSync(join(storePaths(root).stateDir, 'runs.jsonl'), 'utf8');
  } catch {
    return null;
  }
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0 && i >= lines.length - 200; i--) {
    try {
      const r = JSON.parse(lines[i]!) as Record<string, unknown>;
      if (r.pid === pid) return r;
    } catch {
      // empty or torn line
    }
  }
  return null;
}

/** Run `closeloop run --db ROOT [--inbox DIR]` in a child process; its outcome is its run-history record. */
export function runChild(root: string, trigger: string, attempt: number, env: NodeJS.ProcessEnv = process.env, inbox?: string): Promise<AttemptResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'run', '--db', root, ...(inbox ? ['--inbox', inbox] : [])], {
      env: { ...env, CLOSELOOP_TRIGGER: trigger, CLOSELOOP_ATTEMPT: String(attempt) },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      const r = (child.pid && historyRecordOf(root, child.pid)) || {};
      resolve({
        exitCode: code, signal, status: (r.status as string) ?? null, failure: (r.failure as FailureKind) ?? null,
        message: (r.message as string) ?? null, runId: (r.run_id as string) ?? null,
      });
    });
  });
}

export interface ScheduleCommandOptions {
  root: string;
  inbox?: string;
  port?: number;
  host?: string;
  runNow: boolean;
  schedule: Config['schedule'];
  log?: (line: string) => void;
}

/**
 * `closeloop schedule`: serve the dashboards and start runs on the cron schedule, by
 * `--run-now` and by `POST /api/admin/run`. The same process serves every new
 * publication: the server follows the pointer between requests.
 */
export async function scheduleCommand(o: ScheduleCommandOptions): Promise<void> {
  const log = o.log ?? ((l: string) => console.log(l));
  if (!cron.validate(o.schedule.cron)) throw new Error(`schedule.cron: "${o.schedule.cron}" is not a valid cron expression (5 fields, or 6 with seconds first)`);
  const scheduler = new Scheduler({ root: o.root, inbox: o.inbox, schedule: o.schedule, log });
  const { setRunTrigger } = await import('../server/routes/ops.ts');
  setRunTrigger(async (by) => {
    const t = await scheduler.tick(by);
    return t.started ? { started: true } : { started: false, reason: t.reason };
  });
  const { serveCommand } = await import('../server/cli.ts');
  await serveCommand({ db: o.root, port: o.port, host: o.host, log, onStop: () => scheduler.stop() });
  scheduler.start();
  log(`Schedule "${o.schedule.cron}" (${o.schedule.timezone}): next run ${scheduler.nextRun()?.toISOString() ?? 'unknown'}; inbox ${o.inbox ?? storePaths(o.root).inbox}`);
  if (o.runNow) void scheduler.tick('cli');
}
