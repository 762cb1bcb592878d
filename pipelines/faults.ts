// Fault injection for the crash-safety tests (README, "Operating it", "Fault injection").
//
// Every step of a run that changes the store passes a named point. With
//   CLOSELOOP_KILL_AT=load:after-people[,pointer:after-rename ...]
// the process kills itself (SIGKILL: no cleanup, no finally blocks, exactly like a
// power cut of the process) the first time it reaches one of the named points. With
//   CLOSELOOP_FAIL_AT=publish:after-attach[=ENOSPC|EIO|throw]
// the point throws instead (an injected write error: ENOSPC by default), which the run
// must treat like any other failure. Unset, a point costs one Set lookup.

/** Every named point, in the order a run passes them. */
export const FAULT_POINTS = [
  'run:after-lock',
  'discover:after-scan',
  'discover:after-cache-save',
  'copy:before',
  'copy:after',
  'load:after-ddl',
  'load:after-file',
  'load:after-people',
  'load:after-coverage',
  'load:after-services',
  'load:after-screenings',
  'load:after-referrals',
  'load:after-enrollments',
  'load:after-phq9',
  'load:after-encounters',
  'load:after-rejects',
  'quality:after-checks',
  'metrics:after-compute',
  'metrics:after-suppression',
  'metrics:after-audit',
  'publish:before-checkpoint-warehouse',
  'publish:after-checkpoint-warehouse',
  'publish:after-attach',
  'publish:mid-tables',
  'publish:after-tables',
  'publish:after-checkpoint-published',
  'publish:after-detach',
  'publish:after-close',
  'switch:after-fsync-warehouse',
  'switch:after-fsync-published',
  'switch:after-rename-warehouse',
  'switch:after-rename-published',
  'switch:after-fsync-dirs',
  'pointer:after-write-tmp',
  'pointer:after-fsync-tmp',
  'pointer:after-rename',
  'pointer:after-fsync-dir',
  'switch:after-pointer',
  'prune:before',
  'prune:mid',
  'prune:after',
  'history:before-append',
  'history:after-append',
] as const;

export type FaultPoint = (typeof FAULT_POINTS)[number];

/** Points at or after which the new generation is already the published one. */
export const POINTS_AFTER_SWITCH: ReadonlySet<FaultPoint> = new Set(FAULT_POINTS.slice(FAULT_POINTS.indexOf('pointer:after-rename')));

function parseList(v: string | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const item of (v ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const [name, mode] = item.split('=');
    m.set(name!, mode ?? 'ENOSPC');
  }
  return m;
}

let kills: Map<string, string> | null = null;
let fails: Map<string, string> | null = null;

/** Re-read the environment (tests that set it in-process). */
export function resetFaults() {
  kills = parseList(process.env.CLOSELOOP_KILL_AT);
  fails = parseList(process.env.CLOSELOOP_FAIL_AT);
  for (const name of [...kills.keys(), ...fails.keys()]) {
    if (!(FAULT_POINTS as readonly string[]).includes(name)) throw new Error(`CLOSELOOP_KILL_AT/CLOSELOOP_FAIL_AT: unknown fault point "${name}"; known: ${FAULT_POINTS.join(', ')}`);
  }
}

/** A named point of a run: kill or fail here when the environment asks for it. */
export function faultPoint(name: FaultPoint) {
  if (!kills || !fails) resetFaults();
  if (kills!.size === 0 && fails!.size === 0) return;
  if (kills!.has(name)) {
    if (process.env.CLOSELOOP_FAULT_LOG) process.stderr.write(`fault: SIGKILL at ${name}\n`);
    process.kill(process.pid, 'SIGKILL');
  }
  const mode = fails!.get(name);
  if (mode !== undefined) {
    if (mode === 'throw') throw new Error(`injected failure at ${name}`);
    const err = new Error(`${mode}: injected write error at ${name}${mode === 'ENOSPC' ? ': no space left on device' : ''}`) as NodeJS.ErrnoException;
    err.code = mode;
    throw err;
  }
}
