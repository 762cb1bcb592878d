// Browser tests: Debian's Chromium driven by playwright-core against a server on the
// published test fixture. Where Chromium is missing a suite reports itself skipped with the
// reason (`missingChromium`), never passing silently.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { startServer, type RunningServer } from '../../server/serve.ts';
import { publishedFixture, type PublishedFixture } from './publishedFixture.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const SHOTS = new URL('../../test-output/screenshots/', import.meta.url).pathname;

/** Why browser tests cannot run here, or null. */
export const missingChromium: string | null = existsSync(CHROMIUM) ? null : `${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium) to run the browser tests`;

export interface DashboardSession {
  fx: PublishedFixture;
  server: RunningServer;
  browser: BrowserContext;
  close(): Promise<void>;
}

/**
 * The published fixture served on a free port (freshness limits generous: the fixture was
 * published on 2026-11-01) and a fresh Chromium profile; `close` undoes all of it.
 */
export async function dashboardSession(tag: string, context: { acceptDownloads?: boolean } = {}): Promise<DashboardSession> {
  const { chromium } = await import('playwright-core');
  const fx = await publishedFixture();
  const server = await startServer({ root: fx.root, port: 0, log: () => undefined, freshness: { maxPublishedAgeHours: 1e6, maxAsOfAgeDays: 1e6 } });
  const profile = mkdtempSync(join(tmpdir(), `closeloop-chromium-${tag}-`));
  const browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1360, height: 900 }, ...context });
  return {
    fx, server, browser,
    async close() {
      await browser.close();
      await server.close();
      fx.cleanup();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
