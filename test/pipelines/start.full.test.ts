// `npm start` as a newcomer meets it (full tier: about half a minute): on an empty store it
// writes the 20,000-person demo, runs the pipeline with a progress line per step, serves,
// and prints a sign-in link that signs the demo evaluator in.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startCli } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'closeloop-start-'));
const start = startCli(['start', '--db', dir, '--port', '0']);
afterAll(async () => {
  await start.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('closeloop start (npm start)', () => {
  it('writes the demo, reports each step, serves and prints a working sign-in link', async () => {
    const [, url, token] = await start.waitFor(/Sign in as the demo evaluator: (http:\/\/[^\s/]+)\/signin#token=(cl_[A-Za-z0-9_-]+)/, 170_000);
    const out = start.output();
    expect(out).toMatch(/Writing a demo drop of 20,000 people/);
    expect(out).toMatch(/intermediate models \(\d+\): \d+\.\d s {2}\[metrics/);
    expect(out).toMatch(/audit: \d+\.\d s {2}\[metrics/);
    expect(out).toMatch(/Published run \S+ as of 2026-10-31/);
    const signin = await fetch(`${url}/signin`, {
      method: 'POST', redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: url!, 'Sec-Fetch-Site': 'same-origin' },
      body: `token=${token}`,
    });
    expect(signin.status).toBe(303);
    const cookie = signin.headers.get('set-cookie')!.split(';')[0]!;
    const overview = await fetch(`${url}/api/metrics`, { headers: { Cookie: cookie, 'Sec-Fetch-Site': 'same-origin' } });
    expect(overview.status).toBe(200);
  }, 180_000);
});
