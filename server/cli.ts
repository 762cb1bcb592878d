// `closeloop serve` (and the serving half of `npm start`): start the server on the store,
// print the URL, and shut down cleanly on SIGINT/SIGTERM (in-flight requests finish, the
// published generation is closed). pipelines/cli.ts calls serveCommand.
import { resolve } from 'node:path';
import { startServer, type RunningServer } from './serve.ts';

export interface ServeCommandOptions {
  /** Store folder (--db DIR). */
  db: string;
  port?: number;
  host?: string;
  log?: (line: string) => void;
}

export async function serveCommand(o: ServeCommandOptions): Promise<RunningServer> {
  const log = o.log ?? ((l: string) => console.log(l));
  const server = await startServer({ root: resolve(o.db), port: o.port ?? 8080, host: o.host ?? '127.0.0.1', log: (l) => console.error(l) });
  log(`closeloop dashboards: ${server.url}/  (API: ${server.url}/api)`);
  const stop = async (signal: string) => {
    log(`${signal}: stopping the server`);
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
