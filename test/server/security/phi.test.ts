// Person-level data never leaves the warehouse (issue 7, item 5). The store here holds,
// beside the published aggregates, a warehouse file and an inbox full of person-level
// rows with recognisable person ids and PHQ-9 item 9 answers. Every endpoint, page and
// export (every format) is requested by every role; every response, every line of the
// audit and access logs, every control-state file and every server log line is searched
// for those person ids and for PHQ-9 item 9. None may appear. The server opens
// published files only, even when the pointer is tampered with.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, rows } from '../../../models/duckdb.ts';
import { storePaths, writePointer } from '../../../pipelines/store.ts';
import { createApp, type App } from '../../../server/app.ts';
import { GenerationManager } from '../../../server/generation.ts';
import { addTestUser, binaryAs, type TestUser } from '../../helpers/auth.ts';
import { FIXTURE, publishedFixture, type PublishedFixture } from '../../helpers/publishedFixture.ts';

const PERSON_IDS = Array.from({ length: 40 }, (_, i) => `PIDZQ${String(i * 7919).padStart(6, '0')}`);
/** Person ids, and PHQ-9 item 9 by name or by what it asks. */
const FORBIDDEN = [/PIDZQ\d{6}/, /item[_ \-]?9/i, /phq9?_?i9\b/i, /better off dead/i, /self[- ]harm/i, /suicid/i];

let fx: PublishedFixture;
let app: App;
const logs: string[] = [];
const users: TestUser[] = [];

async function plantPersonLevelData(root: string, runId: string) {
  const p = storePaths(root);
  mkdirSync(p.warehouseDir, { recursive: true });
  const db = await openDatabase(join(p.warehouseDir, `${runId}.duckdb`), { memoryLimit: '256MB', threads: 1 });
  try {
    await db.conn.run(`CREATE TABLE stg_people AS SELECT * FROM (VALUES ${PERSON_IDS.map((id, i) => `('${id}', DATE '1970-01-01' + ${i * 200}, '37183', 'medicaid')`).join(', ')}) t(person_id, birth_date, county_fips, payer)`);
    await db.conn.run(`CREATE TABLE stg_phq9 AS SELECT person_id, DATE '2026-01-05' AS administered_on, 14 AS total_score, 2 AS item_9 FROM stg_people`);
    await db.conn.run('CHECKPOINT');
  } finally {
    db.close();
  }
  mkdirSync(p.inbox, { recursive: true });
  writeFileSync(join(p.inbox, 'people.csv'), `person_id,birth_date\n${PERSON_IDS.map((id) => `${id},1980-02-03`).join('\n')}\n`);
  writeFileSync(join(p.inbox, 'phq9.csv'), `person_id,administered_on,item_9,total_score\n${PERSON_IDS.map((id) => `${id},2026-01-05,3,20`).join('\n')}\n`);
}

/** Every endpoint and page, every download format. */
const CRAWL = [
  '/', '/access', '/closed-loop', '/service-gaps', '/outcomes', '/evaluation', '/disparities', '/data-quality', '/dictionary', '/report', '/admin', '/signin',
  '/api', '/api/evaluation', '/api/health', '/api/run', '/api/metrics', '/api/filters', '/api/dictionary', '/api/dictionary?format=markdown', '/api/session', '/api/charts',
  '/api/overview', '/api/overview?program=ACO-01&grain=year', '/api/km', '/api/km?metric=days_to_close&dimension=target_org_id', '/api/scorecards', '/api/gaps',
  '/api/disparities?metric=closed_loop_rate&dimension=race_ethnicity', '/api/phq9?dimension=payer', '/api/phq9', '/api/prepost', '/api/quality', '/api/runs', '/api/partners',
  '/api/partners/ORG-04/scorecard', '/api/partners/ORG-04/gap-analysis.json', '/api/partners/ORG-04/gap-analysis.csv', '/api/partners/ORG-04/gap-analysis.xlsx',
  '/api/admin/users', '/api/admin/audit',
  ...FIXTURE.orgs.map((o) => `/api/partners/${o.id}/scorecard`),
  ...['phq9_follow_up_rate', 'phq9_response_rate', 'phq9_remission_rate', 'phq9_mean_change', 'closed_loop_rate'].map((m) => `/api/metrics/${m}`),
  ...['trend.json?metric=phq9_remission_rate', 'trend.csv?metric=phq9_remission_rate', 'phq9.json', 'phq9.csv', 'phq9.svg', 'prepost.csv', 'funnel.csv', 'km.csv?metric=days_to_close&dimension=target_org_id',
    'scorecard.csv', 'gap-heatmap.csv', 'gap-map.svg', 'demand-capacity.json', 'forest.csv?metric=closed_loop_rate&dimension=race_ethnicity', 'quarantine.csv', 'freshness.json', 'sparkline.csv?metric=screening_rate',
    'event-study.csv?outcome=ed_visits', 'evaluation-effect.csv', 'evaluation-balance.svg', 'evaluation-phq9.csv', 'evaluation-phq9-balance.csv'].map((c) => `/api/charts/${c}`),
  ...['csv', 'xlsx', 'json', 'parquet', 'arrow'].map((f) => `/api/exports/metrics/phq9_remission_rate.${f}?grain=year`),
  '/api/exports/metrics/all.csv', '/api/exports/metrics/all.parquet?grain=all', '/api/exports/report.csv?grain=year', '/api/exports/report.xlsx?grain=all',
];

/** A response as text: workbooks, Parquet and Arrow are read back, not searched as bytes. */
async function asText(path: string, type: string, body: Buffer): Promise<string> {
  if (type.includes('spreadsheetml')) {
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(body as unknown as ArrayBuffer);
    return JSON.stringify(wb.worksheets.map((w) => [w.name, w.getSheetValues()]));
  }
  if (type.includes('apache.arrow')) return JSON.stringify(tableFromIPC(body).toArray(), (_k, v) => (typeof v === 'bigint' ? String(v) : v));
  if (type.includes('parquet')) {
    const file = join(fx.root, 'crawl.parquet');
    writeFileSync(file, body);
    const db = await openDatabase(':memory:', { threads: 1, memoryLimit: '256MB' });
    try {
      return JSON.stringify(await rows(db.conn, `SELECT * FROM read_parquet('${file}')`));
    } finally {
      db.close();
    }
  }
  if (type.includes('image/png')) return '';
  expect(type, path).toMatch(/json|csv|html|markdown|svg|javascript|text/);
  return body.toString('utf8');
}

function scan(where: string, text: string) {
  for (const re of FORBIDDEN) expect(re.test(text), `${where} matches ${re}`).toBe(false);
}

beforeAll(async () => {
  fx = await publishedFixture();
  await plantPersonLevelData(fx.root, fx.runId);
  app = createApp({ root: fx.root, log: (l) => logs.push(l), security: { failureLimit: { max: 1000 } } });
  users.push(await addTestUser(fx.root, 'evaluator'), await addTestUser(fx.root, 'staff'), await addTestUser(fx.root, 'partner', { org: 'ORG-04' }), await addTestUser(fx.root, 'admin'));
});
afterAll(() => {
  app.close();
  fx.cleanup();
});

describe('person-level data never leaves the warehouse', () => {
  it('the planted person-level rows are really there (so the search below means something)', async () => {
    const inbox = readFileSync(join(storePaths(fx.root).inbox, 'phq9.csv'), 'utf8');
    expect(FORBIDDEN[0]!.test(inbox) && FORBIDDEN[1]!.test(inbox)).toBe(true);
  });

  it('no response of any endpoint, page or export, for any role, carries a person id or PHQ-9 item 9', async () => {
    let scanned = 0;
    let ok = 0;
    for (const u of [null, ...users]) {
      for (const path of CRAWL) {
        const r = await binaryAs(app, u, path);
        const body = Buffer.isBuffer(r.body) ? r.body : Buffer.from('');
        scan(`${u?.role ?? 'nobody'} ${path} (headers)`, JSON.stringify(r.headers));
        scan(`${u?.role ?? 'nobody'} ${path}`, await asText(path, String(r.headers['content-type'] ?? 'text/plain'), body));
        scanned += 1;
        if (r.status === 200) ok += 1;
      }
    }
    expect(scanned).toBe(CRAWL.length * 5);
    expect(ok).toBeGreaterThan(CRAWL.length * 2);
    // A request naming a person finds nothing, and its parameters go into no log (checked below).
    const r = await binaryAs(app, users[0]!, `/api/metrics/closed_loop_rate?group=${PERSON_IDS[0]}`);
    expect(JSON.parse(r.body.toString('utf8')).rows).toEqual([]);
  });

  it('no log line or control-state file carries one either', async () => {
    await app.security!.flush();
    const state = storePaths(fx.root).stateDir;
    const files = readdirSync(state);
    expect(files).toEqual(expect.arrayContaining(['audit.jsonl', 'access.jsonl', 'users.json', 'runs.jsonl']));
    for (const f of files) scan(`state/${f}`, readFileSync(join(state, f), 'utf8'));
    expect(readFileSync(join(state, 'audit.jsonl'), 'utf8')).toContain('"kind":"download"');
    for (const l of logs) scan('server log', l);
  });

  it('the server opens published files only: a pointer naming the warehouse is ignored', async () => {
    const logged: string[] = [];
    const m = new GenerationManager(fx.root, { checkIntervalMs: 0, log: (l) => logged.push(l) });
    const first = await m.acquire();
    expect(first.gen.file).toBe(join(storePaths(fx.root).publishedDir, `${fx.runId}.duckdb`));
    first.release();
    for (const published of [`../warehouse/${fx.runId}.duckdb`, join(storePaths(fx.root).warehouseDir, `${fx.runId}.duckdb`), '..%2fwarehouse.duckdb']) {
      await writePointer(storePaths(fx.root), { run_id: 'tampered', as_of: '2026-10-31', warehouse: `${fx.runId}.duckdb`, published, published_at: new Date().toISOString() });
      const l = await m.acquire();
      expect(l.gen.runId).toBe(fx.runId);
      expect(l.gen.file.startsWith(storePaths(fx.root).publishedDir)).toBe(true);
      const tables = await l.gen.query<{ t: string }>(`SELECT table_name AS t FROM duckdb_tables()`);
      expect(tables.map((t) => t.t)).not.toContain('stg_people');
      l.release();
    }
    expect(logged.some((x) => x.includes('not a file of'))).toBe(true);
    m.close();
  });
});
