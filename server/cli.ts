// `closeloop serve` (and the serving half of `npm start`): start the server on the store,
// print the URL (and, for the demo, a sign-in link), and shut down cleanly on
// SIGINT/SIGTERM (in-flight requests finish, the published generation is closed).
// pipelines/cli.ts calls serveCommand.
//
// Settings from the environment (README, "Security model"):
//   CLOSELOOP_SESSION_IDLE_MINUTES  idle time after which a browser session ends (default 30)
//   CLOSELOOP_SESSION_MAX_HOURS     absolute session lifetime (default 12)
//   CLOSELOOP_TRUST_PROXY           Express `trust proxy` (e.g. loopback, 1, 10.0.0.0/8) behind a TLS proxy
//   CLOSELOOP_SECURE_COOKIES        "true" to always mark the session cookie Secure (default: when the request is https)
// and from closeloop.config.json ($CLOSELOOP_CONFIG): exports.maxConcurrentPerUser.
import { resolve } from 'node:path';
import { configPath, loadConfig, type Config } from '../models/config.ts';
import type { SecurityOptions } from './auth/security.ts';
import { startServer, type RunningServer } from './serve.ts';

export interface ServeCommandOptions {
  /** Store folder (--db DIR). */
  db: string;
  port?: number;
  host?: string;
  log?: (line: string) => void;
  /** A token to print as a sign-in link once the server listens (the demo evaluator's). */
  signInToken?: string;
  env?: NodeJS.ProcessEnv;
  /** Called on SIGINT/SIGTERM before the server closes (the schedule stops its timer). */
  onStop?: () => Promise<void> | void;
}

function positiveNumber(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  if (!/^\d+(\.\d+)?$/.test(v) || Number(v) <= 0) throw new Error(`${name} must be a number above 0, got "${v}"`);
  return Number(v);
}

/** Security and proxy settings from the environment. */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): { security: SecurityOptions; trustProxy: boolean | number | string } {
  const idle = positiveNumber(env, 'CLOSELOOP_SESSION_IDLE_MINUTES');
  const max = positiveNumber(env, 'CLOSELOOP_SESSION_MAX_HOURS');
  const tp = env.CLOSELOOP_TRUST_PROXY;
  const trustProxy = tp === undefined || tp === '' || tp === 'false' ? false : tp === 'true' ? true : /^\d+$/.test(tp) ? Number(tp) : tp;
  const sc = env.CLOSELOOP_SECURE_COOKIES;
  return {
    security: {
      session: { ...(idle ? { idleMs: idle * 60_000 } : {}), ...(max ? { maxAgeMs: max * 3600_000 } : {}) },
      secureCookies: sc === 'true' ? true : 'auto',
    },
    trustProxy,
  };
}

/** The server's settings: the environment's, and the per-user export limit from closeloop.config.json. */
export function serverSettings(env: NodeJS.ProcessEnv, config: Config): ReturnType<typeof settingsFromEnv> {
  const s = settingsFromEnv(env);
  return { ...s, security: { ...s.security, exportsPerUser: config.exports.maxConcurrentPerUser } };
}

export async function serveCommand(o: ServeCommandOptions): Promise<RunningServer> {
  const log = o.log ?? ((l: string) => console.log(l));
  const env = o.env ?? process.env;
  const settings = serverSettings(env, await loadConfig(configPath(env)));
  const server = await startServer({ root: resolve(o.db), port: o.port ?? 8080, host: o.host ?? '127.0.0.1', log: (l) => console.error(l), ...settings });
  log(`closeloop dashboards: ${server.url}/  (API: ${server.url}/api, with Authorization: Bearer <token>)`);
  // The token travels in the fragment: browsers never send it to the server, so it reaches no log.
  if (o.signInToken) log(`Sign in as the demo evaluator: ${server.url}/signin#token=${o.signInToken}`);
  const stop = async (signal: string) => {
    log(`${signal}: stopping the server`);
    await o.onStop?.();
    await server.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  return server;
}

/** Parse a --port value: a whole number 0..65535 (0 = any free port). */
export function parsePort(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  if (!/^\d{1,5}$/.test(s) || Number(s) > 65535) throw new Error(`--port must be a whole number from 0 to 65535, got "${s}"`);
  return Number(s);
}
