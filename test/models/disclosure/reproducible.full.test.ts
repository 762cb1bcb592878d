// Reproducible runs (issue 14 review): the same drop published twice, once on one DuckDB
// thread and once on two, must give the same published tables. It did not: the attacker
// audit read the published rows and the co-occurring groups in scan order and gave its MIP
// checks a time limit, so runs of one 20,000-person drop withheld 7,103 to 7,200 rows.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'closeloop-reproducible-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every published table's rows, sorted, without the run's own ids and clock times. */
async function published(store: string): Promise<Record<string, string[]>> {
  const folder = join(store, 'published');
  const file = join(folder, readdirSync(folder).filter((f) => f.endsWith('.duckdb')).sort().at(-1)!);
  const db = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
  const conn = await db.connect();
  const out: Record<string, string[]> = {};
  try {
    const tables = (await conn.runAndReadAll(`SELECT table_name FROM duckdb_tables() WHERE table_name NOT IN ('run_info', 'load_report') ORDER BY 1`)).getRows().map((r) => String(r[0]));
    for (const t of tables) {
      const cols = (await conn.runAndReadAll(`SELECT column_name FROM duckdb_columns() WHERE table_name = '${t}' AND column_name NOT LIKE '%run_id' AND data_type NOT LIKE 'TIMESTAMP%' ORDER BY column_index`)).getRows().map((r) => `"${String(r[0])}"`);
      const rows = (await conn.runAndReadAll(`SELECT ${cols.join(', ')} FROM "${t}"`)).getRowsJson().map((r) => JSON.stringify(r));
      out[t] = rows.sort();
    }
  } finally {
    conn.closeSync();
    db.closeSync();
  }
  return out;
}

describe('one drop, two runs, one DuckDB thread and two: the same publication', () => {
  it('publishes identical tables', async () => {
    const drop = join(dir, 'drop');
    const demo = await runCli(['demo', '--people', '3000', '--seed', '2718', '--out', drop], {}, 300_000);
    expect(demo.code, demo.stderr).toBe(0);
    const a = await runCli(['run', '--inbox', drop, '--db', join(dir, 'a')], { CLOSELOOP_THREADS: '1' }, 900_000);
    expect(a.code, a.stdout + a.stderr).toBe(0);
    const b = await runCli(['run', '--inbox', drop, '--db', join(dir, 'b')], { CLOSELOOP_THREADS: '2' }, 900_000);
    expect(b.code, b.stdout + b.stderr).toBe(0);
    const [ta, tb] = [await published(join(dir, 'a')), await published(join(dir, 'b'))];
    expect(Object.keys(ta)).toEqual(Object.keys(tb));
    expect(ta.metric_results!.length).toBeGreaterThan(1000);
    for (const t of Object.keys(ta)) expect(tb[t], `table ${t}`).toEqual(ta[t]);
  }, 1_800_000);
});
