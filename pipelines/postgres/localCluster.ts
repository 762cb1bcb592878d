// Throwaway PostgreSQL clusters on this machine, for the engine's tests, the engine bench and
// trying `--engine postgres` out (npm run pg:local): Debian's postgresql-15 binaries, initdb
// into a temporary folder, pg_ctl start on a free loopback port, trust authentication for
// the local postgres role only, fsync off (a test cluster holds nothing worth a crash-safe
// write). As root, initdb refuses to run: the cluster then belongs to the `postgres` account
// Debian's package creates, and its commands run through `runuser -u postgres`.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const isRoot = () => process.getuid?.() === 0;

/** Where Debian's postgresql-15 puts its programs; CLOSELOOP_PG_BIN overrides. */
export const PG_BIN = process.env.CLOSELOOP_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** Why local clusters cannot be started here, or null when they can. */
export function localPostgresMissing(): string | null {
  if (!existsSync(join(PG_BIN, 'initdb')) || !existsSync(join(PG_BIN, 'pg_ctl'))) {
    return `PostgreSQL 15 is not installed (${PG_BIN}/initdb not found): apt-get install -y postgresql-15`;
  }
  if (isRoot() && !existsSync('/usr/sbin/runuser')) return 'running as root without runuser to start PostgreSQL as the postgres account';
  return null;
}

export interface LocalCluster {
  /** postgresql://postgres@127.0.0.1:PORT/postgres */
  url: string;
  port: number;
  dir: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Settings for a throwaway cluster; `settings` adds or overrides postgresql.conf lines. */
export async function startLocalCluster(opts: { settings?: Record<string, string>; name?: string } = {}): Promise<LocalCluster> {
  const missing = localPostgresMissing();
  if (missing) throw new Error(missing);
  const root = isRoot();
  const dir = await mkdtemp(join(tmpdir(), `closeloop-pg-${opts.name ?? 'cluster'}-`));
  const data = join(dir, 'data');
  const as = async (cmd: string, args: string[]) => {
    const [file, argv] = root ? ['runuser', ['-u', 'postgres', '--', join(PG_BIN, cmd), ...args]] : [join(PG_BIN, cmd), args];
    try {
      return await run(file, argv, { timeout: 60_000 });
    } catch (err) {
      const e = err as Error & { stderr?: string };
      throw new Error(`${cmd} ${args.slice(0, 2).join(' ')}: ${e.stderr?.trim() || e.message}`);
    }
  };
  try {
    if (root) {
      const pg = await run('id', ['-u', 'postgres']).catch(() => {
        throw new Error('running as root: the postgres account (made by apt-get install postgresql-15) is needed to own the cluster');
      });
      const uid = Number(pg.stdout.trim());
      await chown(dir, uid, Number((await run('id', ['-g', 'postgres'])).stdout.trim()));
    }
    await chmod(dir, 0o700);
    await as('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']);
    const settings: Record<string, string> = {
      listen_addresses: "'127.0.0.1'",
      unix_socket_directories: `'${dir}'`,
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      shared_buffers: "'256MB'",
      max_connections: '40',
      ...opts.settings,
    };
    // a port someone else takes between the probe and the start: try again
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const conf = Object.entries({ ...settings, port: String(port) }).map(([k, v]) => `-c ${k}=${v}`).join(' ');
      try {
        await as('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-o', conf, '-w', '-t', '60', 'start']);
      } catch (err) {
        if (attempt < 3) continue;
        throw err;
      }
      return {
        url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
        port,
        dir,
        async stop() {
          await as('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
          await rm(dir, { recursive: true, force: true });
        },
      };
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** `npm run pg:local [-- --workers N]`: clusters until Ctrl-C, with the flags that use them. */
export async function main(args: string[]): Promise<number> {
  const i = args.indexOf('--workers');
  const workers = i >= 0 ? Number(args[i + 1]) : 0;
  if (!Number.isInteger(workers) || workers < 0 || workers > 8) {
    console.error('usage: npm run pg:local [-- --workers N]   (N from 0 to 8)');
    return 1;
  }
  const missing = localPostgresMissing();
  if (missing) {
    console.error(missing);
    return 1;
  }
  const clusters = [await startLocalCluster({ name: 'coordinator' })];
  for (let w = 0; w < workers; w++) clusters.push(await startLocalCluster({ name: `worker${w + 1}` }));
  const [server, ...rest] = clusters as [LocalCluster, ...LocalCluster[]];
  console.log(`PostgreSQL running as ${isRoot() ? 'the postgres account' : userInfo().username}, data in temporary folders (removed on exit):`);
  console.log(`  npx closeloop run --engine postgres --pg ${server.url}${rest.map((c) => ` --pg-worker ${c.url}`).join('')}`);
  console.log('Ctrl-C stops them.');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    process.once('SIGHUP', resolve);
  });
  for (const c of clusters) await c.stop();
  return 0;
}
