// Issue 18, item 5: under umask 022 the person-level store was world-readable: the
// warehouse (person ids inside), runs.jsonl, hash-cache.json and the published files were
// 0644 in 0755 folders. The attacker is any other local account on the machine (a shared
// analytics server), holding nothing but a shell. Here the real binary runs a pipeline
// under umask 022, then users, sign-in and a download write the server's state files
// under the same umask; every folder of the store must be 0700 and every file 0600. An
// existing store with looser permissions gets a one-line warning from `closeloop run`.
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDemo } from '../../../pipelines/demo/generate.ts';
import { createApp } from '../../../server/app.ts';
import { usersCommand } from '../../../server/auth/cli.ts';
import { runCli } from '../../helpers/cli.ts';

let dir: string;
let store: string;
let inbox: string;

/** Every folder and file under the store, with its permission bits. */
function modes(root: string): Array<{ path: string; dir: boolean; mode: number }> {
  const out: Array<{ path: string; dir: boolean; mode: number }> = [];
  const walk = (p: string) => {
    const s = statSync(p);
    out.push({ path: relative(root, p) || '.', dir: s.isDirectory(), mode: s.mode & 0o777 });
    if (s.isDirectory()) for (const n of readdirSync(p)) walk(join(p, n));
  };
  walk(root);
  return out;
}

const octal = (m: number) => m.toString(8).padStart(4, '0');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'closeloop-perms-'));
  inbox = join(dir, 'inbox');
  store = join(dir, 'store');
  await generateDemo({ people: 60, seed: 7, outDir: inbox, months: 6 });
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('issue 18.5: the person-level store was world-readable', () => {
  it('under umask 022, a run, users and the server leave every folder of the store 0700 and every file 0600', async () => {
    const umask = process.umask(0o022); // the children inherit it
    try {
      const run = await runCli(['run', '--db', store, '--inbox', inbox]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).not.toMatch(/warning: the store/);
      // The server's state files (users, sessions, audit and access logs), written in this process under the same umask.
      const printed: string[] = [];
      expect(await usersCommand('add', undefined, { db: store, name: 'Perm Evaluator', role: 'evaluator' }, (l) => printed.push(l))).toBe(0);
      const token = printed.join('\n').match(/cl_[A-Za-z0-9_-]{43}/)![0];
      const app = createApp({ root: store, log: () => undefined });
      try {
        const signin = await request(app).post('/signin').type('form').send({ token });
        expect(signin.status).toBe(303);
        const cookie = (signin.headers['set-cookie'] as unknown as string[])[0]!.split(';')[0]!;
        expect((await request(app).get('/api/exports/metrics/closed_loop_rate.csv?grain=all').set('Cookie', cookie)).status).toBe(200);
      } finally {
        app.close();
        await app.security!.flush();
      }
    } finally {
      process.umask(umask);
    }
    const all = modes(store);
    const names = all.map((m) => m.path);
    for (const f of ['warehouse', 'published', 'state', 'current.json', 'state/runs.jsonl', 'state/hash-cache.json', 'state/users.json', 'state/sessions.json', 'state/audit.jsonl', 'state/access.jsonl', 'state/published-figures.duckdb']) expect(names).toContain(f);
    // the warehouse, the published generation, and the figures shown (models/disclosure/revisions.ts)
    expect(names.filter((n) => n.endsWith('.duckdb'))).toHaveLength(3);
    const loose = all.filter((m) => m.mode !== (m.dir ? 0o700 : 0o600)).map((m) => `${m.path} ${octal(m.mode)}`);
    expect(loose).toEqual([]);
  }, 90_000);

  it('`closeloop run` warns in one line when an existing store is open to other users', async () => {
    chmodSync(join(store, 'warehouse'), 0o755);
    chmodSync(join(store, 'state', 'runs.jsonl'), 0o644);
    chmodSync(join(store, 'current.json'), 0o640);
    const run = await runCli(['run', '--db', store, '--inbox', inbox]);
    expect(run.code, run.stderr).toBe(0);
    const warnings = `${run.stdout}${run.stderr}`.split('\n').filter((l) => /store .* open to other accounts/.test(l));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(store);
    expect(warnings[0]).toMatch(/warehouse\/ \(0755\)/);
    expect(warnings[0]).toMatch(/2 files/);
    expect(warnings[0]).toMatch(/chmod -R go-rwx/);
    // Left as it was (the operator decides), and the run's own new files are private.
    expect(statSync(join(store, 'warehouse')).mode & 0o777).toBe(0o755);
  }, 60_000);
});
