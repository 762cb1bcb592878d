// Runs the real `closeloop` command (bin/closeloop.js) in a child process, as a user
// does. `unprivileged` runs it as nobody when the tests run as root, so file
// permissions (EACCES, a read-only store) apply as they would to an operator.
import { spawn } from 'node:child_process';

export const BIN = new URL('../../bin/closeloop.js', import.meta.url).pathname;

export const IS_ROOT = process.getuid?.() === 0;
/** The user the unprivileged runs use when the tests run as root (nobody). */
export const NOBODY = 65534;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function closeloop(args: string[], o: { unprivileged?: boolean; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<CliResult> {
  const ids = o.unprivileged && IS_ROOT ? { uid: NOBODY, gid: NOBODY } : {};
  const child = spawn(process.execPath, [BIN, ...args], { ...ids, cwd: o.cwd ?? '/tmp', env: { ...process.env, ...o.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
