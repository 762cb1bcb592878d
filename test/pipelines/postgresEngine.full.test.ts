// `closeloop run --engine postgres --pg URL` through the real binary, against a throwaway
// PostgreSQL 15 cluster: the same demo drop published by a DuckDB run and by a PostgreSQL run
// gives identical published tables (every table, row for row; counts exact, other numbers to
// 1e-9), the run leaves nothing on the server, and a server that cannot be reached fails the
// run cleanly without printing the password. The attacker of the last test: another login
// on the same PostgreSQL server while a run holds person-level rows there. Without
// PostgreSQL installed these tests report themselves skipped.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../models/duckdb.ts';
import { PostgresEngine } from '../../models/engines/postgres/engine.ts';
import { generateDemo } from '../../pipelines/demo/generate.ts';
import { localPostgresMissing, startLocalCluster, type LocalCluster } from '../../pipelines/postgres/localCluster.ts';
import { readPointer, storePaths } from '../../pipelines/store.ts';
import { runCli } from '../helpers/cli.ts';
import { compareSnapshots, publishedSnapshot } from '../../pipelines/bench/engines.ts';

const missing = localPostgresMissing();

describe.skipIf(missing)(`closeloop run --engine postgres${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let cluster: LocalCluster;
  let dir: string;
  let duck: { code: number | null; stdout: string };
  let post: { code: number | null; stdout: string; stderr: string };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'closeloop-pg-run-'));
    cluster = await startLocalCluster({ name: 'run' });
    await generateDemo({ people: 60, seed: 7, outDir: join(dir, 'inbox'), months: 6 });
    const inbox = ['--inbox', join(dir, 'inbox')];
    [duck, post] = await Promise.all([
      runCli(['run', ...inbox, '--db', join(dir, 'duck')]),
      runCli(['run', ...inbox, '--db', join(dir, 'pg'), '--engine', 'postgres', '--pg', cluster.url, '--explain', join(dir, 'plans.txt')]),
    ]);
  }, 300_000);
  afterAll(async () => {
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('publishes exactly what the DuckDB run publishes', async () => {
    expect(duck.code, duck.stdout).toBe(0);
    expect(post.code, `${post.stdout}\n${post.stderr}`).toBe(0);
    expect(post.stdout).toMatch(/engine: PostgreSQL 15\.\d+ at 127\.0\.0\.1:\d+\/postgres, schema closeloop_\w+/);
    expect(post.stdout).toMatch(/staging copied to PostgreSQL \(8 tables, [\d,]+ rows\)/);
    const file = async (root: string) => join(storePaths(root).publishedDir, (await readPointer(storePaths(root)))?.published ?? 'none');
    const a = await publishedSnapshot(await file(join(dir, 'duck')));
    const b = await publishedSnapshot(await file(join(dir, 'pg')));
    expect(Object.keys(b)).toEqual(Object.keys(a));
    expect(a.metric_results?.length).toBeGreaterThan(500);
    expect(a.metric_results?.some((r) => r.suppressed === false && typeof r.numerator === 'number' && r.numerator >= 11)).toBe(true);
    const { differences } = compareSnapshots(a, b);
    expect(differences).toEqual([]);
  });

  it('drops its schema: no person-level row stays on the server after the run', async () => {
    const c = new pg.Client({ connectionString: cluster.url });
    await c.connect();
    try {
      const r = await c.query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'closeloop%'`);
      expect(r.rows).toEqual([]);
    } finally {
      await c.end();
    }
  });

  it('--explain writes the plan of every statement PostgreSQL ran', async () => {
    const { readFile } = await import('node:fs/promises');
    const plans = await readFile(join(dir, 'plans.txt'), 'utf8');
    expect(plans).toMatch(/^-- int_person_attributes$/m);
    expect(plans).toMatch(/^-- fct_referrals$/m);
    expect(plans).toMatch(/GroupAggregate|HashAggregate|MixedAggregate/);
  });

  it('fails cleanly when the server cannot be reached, naming it and never the password', async () => {
    const root = join(dir, 'refused');
    const r = await runCli(['run', '--inbox', join(dir, 'inbox'), '--db', root, '--pg', 'postgresql://closeloop:s3cret-pw@127.0.0.1:1/closeloop']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/Run failed: run failed: PostgreSQL server at 127\.0\.0\.1:1\/closeloop: .*ECONNREFUSED/);
    expect(`${r.stdout}${r.stderr}`).not.toContain('s3cret-pw');
    expect(await readPointer(storePaths(root))).toBeNull();
  });

  it('takes the engine from closeloop.config.json when no flag names one, and validates it', async () => {
    const { writeFileSync } = await import('node:fs');
    const config = join(dir, 'closeloop.config.json');
    writeFileSync(config, JSON.stringify({ engine: { kind: 'postgres', url: 'postgresql://closeloop@127.0.0.1:1/from_config' } }));
    const r = await runCli(['run', '--inbox', join(dir, 'inbox'), '--db', join(dir, 'configured')], { CLOSELOOP_CONFIG: config });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/PostgreSQL server at 127\.0\.0\.1:1\/from_config/);
    writeFileSync(config, JSON.stringify({ engine: { kind: 'postgres', url: 'mysql://x' } }));
    const bad = await runCli(['run', '--db', join(dir, 'configured')], { CLOSELOOP_CONFIG: config });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/engine\.url: a postgresql:\/\/ URL/);
  });

  it('refuses --pg without the postgres engine, and an unknown engine', async () => {
    const a = await runCli(['run', '--db', join(dir, 'x'), '--engine', 'duckdb', '--pg', cluster.url]);
    expect(a.code).toBe(1);
    expect(a.stderr).toMatch(/--pg and --pg-worker go with --engine postgres/);
    const b = await runCli(['run', '--db', join(dir, 'x'), '--engine', 'sqlite']);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/--engine must be duckdb or postgres, got "sqlite"/);
    const c = await runCli(['run', '--db', join(dir, 'x'), '--engine', 'postgres']);
    expect(c.stderr).toMatch(/--engine postgres needs --pg postgresql:/);
  });

  it('never drops a schema it did not make (a name taken already is an error, the schema stays)', async () => {
    const admin = new pg.Client({ connectionString: cluster.url });
    await admin.connect();
    try {
      await admin.query('CREATE SCHEMA closeloop_taken; CREATE TABLE closeloop_taken.keep (x int)');
      await expect(PostgresEngine.open({ url: cluster.url, runId: 'taken', scratchDir: dir })).rejects.toThrow(/schema "closeloop_taken" already exists/);
      const r = await admin.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'closeloop_taken'`);
      expect(r.rows[0].n).toBe(1);
    } finally {
      await admin.query('DROP SCHEMA IF EXISTS closeloop_taken CASCADE');
      await admin.end();
    }
  });

  it('another login on the same server cannot read the run schema while the run holds it', async () => {
    // the attacker: a role that can log in to the same database (another team's analyst)
    const admin = new pg.Client({ connectionString: cluster.url });
    await admin.connect();
    await admin.query(`CREATE ROLE snoop LOGIN`);
    const warehouseDir = storePaths(join(dir, 'pg')).warehouseDir;
    const pointer = await readPointer(storePaths(join(dir, 'pg')));
    const warehouse = await openDatabase(join(warehouseDir, pointer?.warehouse ?? 'none'), { readOnly: true });
    const engine = await PostgresEngine.open({ url: cluster.url, runId: 'attack-test', scratchDir: mkdtempSync(join(dir, 'scratch-')) });
    const snoop = new pg.Client({ connectionString: cluster.url.replace('postgres@', 'snoop@') });
    try {
      await engine.loadStaging(warehouse.conn);
      await snoop.connect();
      await expect(snoop.query(`SELECT count(*) FROM ${engine.schema}.stg_people`)).rejects.toThrow(/permission denied for schema/);
      await expect(snoop.query(`SELECT * FROM ${engine.schema}.stg_phq9`)).rejects.toThrow(/permission denied/);
    } finally {
      await snoop.end().catch(() => undefined);
      await engine.close();
      warehouse.close();
      await admin.end();
    }
  });
});
