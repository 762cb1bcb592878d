// A signed-in Chromium profile for a role on a dashboard session's server: a user made as
// `closeloop users add` makes it, signed in with its link as a person would (the session
// cookie serves every page after). The evaluator uses the session's own profile.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import type { Role } from '../../server/auth/credentials.ts';
import { addTestUser, type TestUser } from './auth.ts';
import { CHROMIUM, FLAGS, type DashboardSession } from './chromium.ts';

export interface SignedIn {
  user: TestUser;
  context: BrowserContext;
  close(): Promise<void>;
}

export async function signIn(session: DashboardSession, role: Role, o: { org?: string; name?: string; ownProfile?: boolean } = {}): Promise<SignedIn> {
  const user = await addTestUser(session.fx.root, role, { org: o.org, name: o.name });
  let context = session.browser;
  let dir: string | null = null;
  if (o.ownProfile) {
    const { chromium } = await import('playwright-core');
    dir = mkdtempSync(join(tmpdir(), `closeloop-chromium-${role}-`));
    context = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1360, height: 900 } });
  }
  const page = await context.newPage();
  await page.goto(`${session.server.url}/signin#token=${user.token}`);
  await page.waitForURL((u) => !u.pathname.startsWith('/signin'));
  await page.close();
  return {
    user,
    context,
    async close() {
      if (!dir) return;
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
