// The JSON API against a hand-built published generation (test/helpers/publishedFixture):
// every endpoint, its filters, and bad parameters (a 400 that names the parameter and the
// values it accepts).
import { get as httpGet, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESULT_COLUMNS } from '../../models/results.ts';
import { createApp, type App } from '../../server/app.ts';
import { vendor } from '../../server/routes/assets.ts';
import { FIXTURE, publishedFixture, type PublishedFixture } from '../helpers/publishedFixture.ts';
import { openDatabase, rows } from '../../models/duckdb.ts';
import { addTestUser, type TestUser } from '../helpers/auth.ts';

let fx: PublishedFixture;
let app: App;
let evaluator: TestUser;
/** Rows straight from the fixture's published file, to compare with what the API says. */
async function published<T = Record<string, unknown>>(sql: string): Promise<T[]> {
  const db = await openDatabase(`${fx.root}/published/${fx.runId}.duckdb`, { readOnly: true, memoryLimit: '256MB' });
  try {
    return await rows<T>(db.conn, sql);
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  fx = await publishedFixture();
  app = createApp({ root: fx.root, log: () => undefined });
  evaluator = await addTestUser(fx.root, 'evaluator');
});
afterAll(() => {
  app.close();
  fx.cleanup();
});

/** Every request as a signed-in evaluator (the role that sees every aggregate view). */
const get = (path: string) => request(app).get(path).set('Authorization', `Bearer ${evaluator.token}`);

describe('run and catalog', () => {
  it('GET /api lists the endpoints; /api/health answers', async () => {
    expect((await get('/api')).body.endpoints.length).toBeGreaterThan(10);
    expect((await get('/api/health')).body).toEqual({ ok: true, run_id: expect.anything() });
  });

  it('GET /api/run: the generation being served', async () => {
    const r = await get('/api/run');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ run_id: fx.runId, as_of: '2026-10-31' });
    expect(r.body.tables).toContain('metric_results');
    expect(r.body.tables).not.toContain('load_report');
  });

  it('GET /api/metrics: the catalog with what this run publishes', async () => {
    const r = await get('/api/metrics');
    expect(r.status).toBe(200);
    const m = r.body.metrics.find((x: { id: string }) => x.id === 'closed_loop_rate');
    expect(m).toMatchObject({ title: expect.any(String), definition: expect.any(String), unit: expect.any(String), direction: 'higher_better', available: true });
    expect(m.dimensions).toContain('target_org_id');
    expect(m.grains).toEqual(expect.arrayContaining(['all', 'year', 'quarter', 'month']));
    expect(m).not.toHaveProperty('sql');
  });

  it('GET /api/dictionary as JSON and markdown', async () => {
    expect((await get('/api/dictionary')).body.groups).toHaveLength(4);
    const md = await get('/api/dictionary?format=markdown');
    expect(md.type).toBe('text/markdown');
    expect(md.text).toContain('# Metric dictionary');
  });

  it('GET /api/filters: options for the page filters', async () => {
    const r = await get('/api/filters');
    expect(r.body.programs.map((p: { id: string }) => p.id)).toEqual(expect.arrayContaining([...FIXTURE.programs]));
    expect(r.body.counties.find((c: { id: string }) => c.id === '37183').label).toBe('Wake (37183)');
    expect(r.body.periods.quarter[0]).toBe('2024-10-01');
    expect(r.body.orgs.map((o: { id: string }) => o.id)).toContain('ORG-07');
  });
});

describe('GET /api/metrics/:id', () => {
  it('returns the results table rows, same columns, plus run_id and as_of', async () => {
    const r = await get('/api/metrics/closed_loop_rate?dimension=race_ethnicity&grain=quarter');
    expect(r.status).toBe(200);
    expect(r.body.run_id).toBe(fx.runId);
    expect(r.body.as_of).toBe('2026-10-31');
    expect(r.body.columns).toEqual(RESULT_COLUMNS.map((c) => c.name));
    expect(Object.keys(r.body.rows[0])).toEqual(RESULT_COLUMNS.map((c) => c.name));
    const expected = await published<{ n: number }>(`SELECT count(*) AS n FROM metric_results WHERE metric_id = 'closed_loop_rate' AND dimension = 'race_ethnicity' AND period_grain = 'quarter'`);
    expect(r.body.rows).toHaveLength(expected[0]!.n);
    expect(r.body.rows.every((x: { period_grain: string; dimension: string }) => x.period_grain === 'quarter' && x.dimension === 'race_ethnicity')).toBe(true);
  });

  it('suppressed rows come with empty figures, never zeros', async () => {
    const r = await get(`/api/metrics/closed_loop_rate?dimension=race_ethnicity&grain=all`);
    const s = r.body.rows.find((x: { group_value: string }) => x.group_value === FIXTURE.suppressedGroup.group);
    expect(s).toMatchObject({ suppressed: true, numerator: null, denominator: null, value: null, ci_low: null, rate_ratio: null });
  });

  it('filters by period_start, a period range and one group', async () => {
    const one = await get('/api/metrics/closed_loop_rate?grain=quarter&period_start=2026-04-01&dimension=all');
    expect(one.body.rows).toHaveLength(1);
    expect(one.body.rows[0].period_start).toBe('2026-04-01');
    const range = await get('/api/metrics/closed_loop_rate?grain=quarter&from=2025-01-01&to=2025-12-01&dimension=all');
    expect(range.body.rows.map((x: { period_start: string }) => x.period_start)).toEqual(['2025-01-01', '2025-04-01', '2025-07-01', '2025-10-01']);
    const group = await get('/api/metrics/closed_loop_rate?grain=all&dimension=program_id&group=ACO-02');
    expect(group.body.rows).toHaveLength(1);
  });

  it('bad parameters: 400 naming the parameter and the allowed values', async () => {
    const grain = await get('/api/metrics/closed_loop_rate?grain=weekly');
    expect(grain.status).toBe(400);
    expect(grain.body.error).toBe("parameter 'grain' must be one of all, year, quarter, month (got 'weekly')");
    expect(grain.body.parameter).toBe('grain');
    const dim = await get('/api/metrics/screening_rate?dimension=target_org_id');
    expect(dim.status).toBe(400);
    expect(dim.body.error).toMatch(/^parameter 'dimension' must be one of .*race_ethnicity.* \(got 'target_org_id'\)$/);
    const date = await get('/api/metrics/closed_loop_rate?period_start=2026-02-30');
    expect(date.status).toBe(400);
    expect(date.body.error).toMatch(/period_start/);
    const unknown = await get('/api/metrics/closed_loop_rate?dimenson=payer');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toBe("unknown query parameter 'dimenson'");
    const twice = await get('/api/metrics/closed_loop_rate?grain=all&grain=month');
    expect(twice.status).toBe(400);
    expect(twice.body.error).toMatch(/grain.*more than once/);
    const bad = await get('/api/metrics/closed%20loop');
    expect(bad.status).toBe(400);
  });

  it('unknown metric: 404 listing the known ones', async () => {
    const r = await get('/api/metrics/no_such_metric');
    expect(r.status).toBe(404);
    expect(r.body.error).toMatch(/^unknown metric 'no_such_metric'; known metrics: screening_rate, /);
  });
});

describe('overview and views', () => {
  it('GET /api/overview: headline figures with trends in one response', async () => {
    const r = await get('/api/overview?grain=quarter');
    expect(r.status).toBe(200);
    expect(r.body.headlines.map((h: { metric: { id: string } }) => h.metric.id)).toEqual([
      'screening_rate', 'connected_60d_rate', 'closed_loop_rate', 'need_met_rate', 'phq9_remission_rate', 'ed_visits_per_1000_mm',
    ]);
    const h = r.body.headlines.find((x: { metric: { id: string } }) => x.metric.id === 'closed_loop_rate');
    // issue 15: the latest FINAL quarter. 2026 Q4 is cut short by the as-of date (2026-10-31) and
    // 2026 Q3 ends on 09-30, whose 60-day windows run to 11-29: both provisional.
    expect(h.latest.period_start).toBe('2026-04-01');
    expect(h.latest.period_status).toBe('final');
    expect(h.previous.period_start).toBe('2026-01-01');
    expect(h.provisional_periods).toBe(2);
    expect(h.change.difference).toBeCloseTo(h.latest.value - h.previous.value, 12);
    expect(['better', 'worse', 'no_significant_change', 'no_change']).toContain(h.change.verdict);
    if (h.change.verdict === 'better' || h.change.verdict === 'worse') expect(h.change.p).toBeLessThan(0.05);
    else expect(h.change.p === null || h.change.p >= 0.05).toBe(true);
    expect(h.trend.length).toBe(9);
    expect(h.trend.at(-1)).toMatchObject({ status: 'provisional', provisional: true });
    expect(h.trend[0]).toMatchObject({ status: 'partial', partial: true }); // 2024 Q4: the data start on 2024-11-01
    expect(h.whole_span.period_grain).toBe('all');
  });

  it('overview for one program, and bad combinations', async () => {
    const r = await get('/api/overview?program=ACO-01&grain=year');
    expect(r.body.subset).toMatchObject({ dimension: 'program_id', group: 'ACO-01' });
    expect(r.body.headlines[0].latest.group_value).toBe('ACO-01');
    expect((await get('/api/overview?program=ACO-01&county=37183')).status).toBe(400);
    const p = await get('/api/overview?program=ACO-99');
    expect(p.status).toBe(400);
    expect(p.body.error).toBe("parameter 'program' must be one of =HYPERLINK(\"x\"), ACO-01, ACO-02, ACO-03 (got 'ACO-99')");
    expect((await get('/api/overview?grain=all')).body.error).toBe("parameter 'grain' must be one of year, quarter, month (got 'all')");
  });

  it('GET /api/km: survival at the published grid days with the cases behind each curve, no number at risk, events or censored', async () => {
    const r = await get('/api/km?metric=days_to_close&dimension=target_org_id');
    expect(r.status).toBe(200);
    expect(r.body.rows.length).toBeGreaterThan(10);
    expect(r.body).not.toHaveProperty('min_at_risk');
    expect(Object.keys(r.body.rows[0]).sort()).toEqual(['cases', 'dimension', 'group_value', 'lower', 'metric_id', 'period_grain', 'period_start', 'survival', 'time', 'upper']);
    // cases: each curve's results row denominator
    const dens = await published<{ g: string; d: number }>(`SELECT group_value AS g, denominator AS d FROM metric_results
      WHERE metric_id = 'days_to_close' AND period_grain = 'all' AND dimension = 'target_org_id'`);
    for (const row of r.body.rows as Array<{ group_value: string; cases: number | null }>) expect(row.cases).toBe(dens.find((x) => x.g === row.group_value)?.d ?? null);
    expect(r.body.rows.some((x: { cases: number | null }) => (x.cases ?? 0) > 0)).toBe(true);
    expect((await get('/api/km?metric=days_to_nothing')).status).toBe(400);
  });

  it('GET /api/scorecards: every partner, four measures, area figures', async () => {
    const r = await get('/api/scorecards');
    expect(r.status).toBe(200);
    expect(r.body.measures.map((m: { id: string }) => m.id)).toEqual(['referral_acceptance_rate', 'closed_loop_rate', 'days_to_close', 'stale_open_referrals']);
    expect(new Set(r.body.cells.map((c: { org_id: string }) => c.org_id)).size).toBe(FIXTURE.orgs.length);
    expect(r.body.cells.find((c: { org_id: string }) => c.org_id === 'ORG-01').org).toBe('Carolina Harvest Food Network');
  });

  it('GET /api/gaps: the ranked gap table, filtered by domain and county', async () => {
    const all = await get('/api/gaps');
    expect(all.body.rows).toHaveLength(36);
    expect(all.body.rows[0].rank).toBe(1);
    expect(all.body.rows[0].county_name).toBe('Mecklenburg');
    const food = await get('/api/gaps?domain=food&county=37183');
    expect(food.body.rows).toHaveLength(1);
    expect((await get('/api/gaps?domain=jobs')).status).toBe(400);
    const noProvider = all.body.rows.find((x: { domain: string; county_fips: string }) => x.domain === FIXTURE.noProvider.domain && x.county_fips === FIXTURE.noProvider.county);
    expect(noProvider).toMatchObject({ serving_programs: 0, programs: null, capacity_note: 'no provider' });
  });

  it('GET /api/gaps: every empty figure of the gap table is explained in the note (issue 16), and a full row has none', async () => {
    const rows = (await get('/api/gaps')).body.rows as Array<Record<string, unknown>>;
    const figures = [['unmet_need_rate', 'Unmet need rate'], ['capacity_rejection_share', 'Closed for no capacity'], ['demand_capacity_ratio', 'Needs per capacity-month']] as const;
    for (const r of rows) {
      const empty = figures.filter(([k]) => r[k] === null);
      if (empty.length === 0) expect(r.note, `${r.domain} ${r.county_fips}`).toBeNull();
      for (const [, title] of empty) expect(r.note, `${r.domain} ${r.county_fips}`).toMatch(new RegExp(`${title}: [a-z]`));
    }
    const cell = (d: string, c: string) => rows.find((x) => x.domain === d && x.county_fips === c)!;
    expect(cell(FIXTURE.noProvider.domain, FIXTURE.noProvider.county).note).toContain('Needs per capacity-month: no provider (no directory program serves this need here)');
    // interpersonal safety: its one program reports no capacity
    expect(cell('interpersonal_safety', '37119').note).toBe('Needs per capacity-month: capacity unknown (a serving program did not report its capacity).');
    const withheld = rows.filter((x) => x.suppressed === true);
    expect(withheld.length).toBeGreaterThan(0);
    for (const r of withheld) expect(r.note).toContain('withheld (n<11)');
    // "withheld" exactly where the results table withholds the cell's figure, by the results API
    const results = (await get('/api/metrics/capacity_rejection_share?dimension=domain*county_fips&grain=all')).body.rows as Array<{ group_value: string; suppressed: boolean }>;
    const suppressedCells = new Set(results.filter((x) => x.suppressed).map((x) => x.group_value));
    expect(suppressedCells.size).toBeGreaterThan(0);
    for (const r of rows.filter((x) => x.capacity_rejection_share === null)) {
      const said = /Closed for no capacity: withheld \(n<11\)/.test(String(r.note));
      expect(said, `${r.domain}*${r.county_fips}: ${r.note}`).toBe(suppressedCells.has(`${r.domain}*${r.county_fips}`) || (r.suppressed === true && r.closed_not_met_referrals === null));
    }
  });

  it('GET /api/disparities: groups against the reference, flags, summary measures', async () => {
    const r = await get('/api/disparities?metric=closed_loop_rate&dimension=race_ethnicity');
    expect(r.status).toBe(200);
    expect(r.body.reference_group).toBe('white');
    // unknown is left out of the summary and reported as its share of everyone (data completeness)
    expect(r.body.summary).toMatchObject({ reference_group: 'white', groups_shown: 4 });
    expect(r.body.summary.unknown_share).toBeGreaterThan(0);
    expect(r.body.summary_source).toBe('published');
    expect(r.body.rows.some((x: { disparity_flag: boolean }) => x.disparity_flag)).toBe(true);
    const q = await get('/api/disparities?metric=closed_loop_rate&dimension=race_ethnicity&grain=quarter&period_start=2026-04-01');
    expect(q.body.period_start).toBe('2026-04-01');
    expect((await get('/api/disparities?metric=closed_loop_rate')).body.error).toBe("parameter 'dimension' is required");
    expect((await get('/api/disparities?metric=closed_loop_rate&dimension=race_ethnicity&grain=quarter&period_start=2019-01-01')).status).toBe(400);
  });

  it('GET /api/phq9 and /api/prepost', async () => {
    const p = await get('/api/phq9?dimension=payer');
    expect(p.body.rows.map((x: { label: string }) => x.label)).toContain('Remission');
    const pp = await get('/api/prepost');
    expect(pp.body.rows.length).toBe(4);
    expect(pp.body.ratios.length).toBeGreaterThan(0);
    expect(pp.body.rows[0].note).toMatch(/post\/pre/);
  });

  it('GET /api/quality and /api/runs: operational counts and run history', async () => {
    const q = await get('/api/quality');
    expect(q.body.files.find((f: { file: string }) => f.file === 'people.csv')).toMatchObject({ rows_read: 20000, rows_quarantined: 12, top_reasons: [{ rule: 'bad_date', column: 'birth_date', count: 7 }, expect.anything()] });
    expect(q.body.freshness.find((f: { entity: string }) => f.entity === 'enrollments').days_behind_as_of).toBe(3);
    const r = await get('/api/runs');
    expect(r.body.runs.map((x: { status: string }) => x.status)).toEqual(['published', 'failed']);
    expect(r.body.runs[0]).toMatchObject({ run_id: fx.runId, files: 7, files_rejected: 1, rows_quarantined: 90 });
    expect(r.body.current_run_id).toBe(fx.runId);
    expect((await get('/api/runs?limit=1')).body.runs).toHaveLength(1);
    // issue 16: the quality gates of each run (a run that recorded none says so with null)
    expect(r.body.runs.map((x: { quality_counts: unknown }) => x.quality_counts)).toEqual([{ pass: 1, warn: 1, block: 0, skip: 1 }, null]);
    expect(r.body.runs[0].quality_findings).toEqual([{ status: 'warn', message: 'referrals.target_org_in_directory: 1,000 of 13,977 rows (7.15%) break the rule (limit 5.00%)' }]);
    // and the published run's gates in full, blocking and warning ones first
    expect(q.body.checks.map((c: { check_id: string; status: string }) => [c.check_id, c.status])).toEqual([
      ['referrals.target_org_in_directory', 'warn'], ['referrals.person_exists', 'pass'], ['referrals.incoming_volume_drop', 'skip'],
    ]);
    expect(q.body.checks[0]).toMatchObject({ severity: 'warn', observed: 0.0715, threshold: 0.05, violations: 1000, rows_checked: 13977 });
    expect((await get('/api/runs?limit=zero')).status).toBe(400);
  });

  it('GET /api/partners and a partner scorecard (own and area figures, no comparison statistics)', async () => {
    const list = await get('/api/partners');
    expect(list.body.partners.map((p: { org_id: string }) => p.org_id)).toEqual(FIXTURE.orgs.map((o) => o.id));
    const s = await get('/api/partners/ORG-07/scorecard');
    expect(s.status).toBe(200);
    const cl = s.body.figures.find((f: { metric_id: string }) => f.metric_id === 'closed_loop_rate');
    expect(cl.org).toMatchObject({ period_grain: 'all', suppressed: false });
    expect(cl.area.value).toBeGreaterThan(cl.org.value);
    expect(JSON.stringify(s.body)).not.toMatch(/reference_group|rate_ratio|p_value|ORG-01/);
    expect((await get('/api/partners/ORG-99/scorecard')).status).toBe(404);
    expect((await get('/api/partners/..%2F..%2Fetc/scorecard')).status).toBe(400);
  });
});

describe('errors', () => {
  it('unknown API path: JSON 404', async () => {
    const r = await get('/api/nothing/here');
    expect(r.status).toBe(404);
    expect(r.type).toBe('application/json');
    expect(r.body.error).toBe('no such API endpoint: GET /api/nothing/here; see GET /api for the list');
  });

  it('unknown page: JSON 404; no X-Powered-By; strict CSP on pages', async () => {
    const r = await get('/nope');
    expect(r.status).toBe(404);
    const page = await get('/');
    expect(page.headers['x-powered-by']).toBeUndefined();
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).not.toContain('unsafe');
  });

  it('in production an internal error says nothing about the stack or paths', async () => {
    const prod = createApp({ root: fx.root, production: true, log: () => undefined, hooks: { routes: (a) => a.get('/api/boom', () => { throw new Error(`failed at ${fx.root}/secret.duckdb`); }) } });
    const r = await request(prod).get('/api/boom').set('Authorization', `Bearer ${evaluator.token}`);
    expect(r.status).toBe(500);
    expect(r.body).toEqual({ error: 'internal error', status: 500 });
    prod.close();
  });
});

describe('pages and assets', () => {
  it('every page is an HTML shell with no inline script or style', async () => {
    for (const path of ['/', '/access', '/closed-loop', '/service-gaps', '/outcomes', '/disparities', '/data-quality', '/dictionary', '/report']) {
      const r = await get(path);
      expect(r.status, path).toBe(200);
      expect(r.type).toBe('text/html');
      expect(r.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(r.text).not.toMatch(/\sstyle=/);
      expect(r.text).not.toMatch(/\son[a-z]+=/);
    }
  });

  it('the dictionary page carries every definition', async () => {
    const r = await get('/dictionary');
    const m = (await get('/api/metrics')).body.metrics as Array<{ id: string }>;
    for (const x of m) expect(r.text).toContain(`id="${x.id}"`);
  });

  it('vendored chart libraries and the CSP-safe interpreter are served locally, under hashed names cached as immutable', async () => {
    const v = vendor();
    for (const f of Object.values(v)) {
      expect(f.url).toMatch(/^\/vendor\/[a-z-]+\.[0-9a-f]{12}\.(min\.)?js$/);
      const r = await get(f.url);
      expect(r.status, f.url).toBe(200);
      expect(r.type).toBe('text/javascript');
      expect(r.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect((await get(f.url).set('If-None-Match', r.headers.etag!)).status, `${f.url} revalidated`).toBe(304);
    }
    expect((await get(v.interpreter.url)).text).toContain(`from '${v.shim.url}'`);
    // the old unhashed names are gone (a browser could cache them forever under one name)
    expect((await get('/vendor/vega.min.js')).status).toBe(404);
    expect((await get('/static/js/app.js')).status).toBe(200);
    expect([400, 404]).toContain((await get('/static/../package.json')).status);
    expect([400, 404]).toContain((await get('/static/%2e%2e/%2e%2e/package.json')).status);
    expect([400, 404]).toContain((await get('/static/..%2f..%2fpackage.json')).status);
  });

  it('a page loads the chart libraries by their hashed names, and only when it draws a chart', async () => {
    const v = vendor();
    const overview = (await get('/')).text;
    for (const f of [v.vega, v.vegaLite, v.vegaEmbed]) expect(overview).toContain(`<script src="${f.url}" defer></script>`);
    expect(overview).toContain(`data-interpreter="${v.interpreter.url}"`);
    const dictionary = (await get('/dictionary')).text;
    expect(dictionary).not.toContain('/vendor/');
  });

  it('compresses what it serves (brotli or gzip, as the client accepts), and not what is compressed already', async () => {
    // node:http, not supertest: superagent undoes the compression before a test sees it
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as AddressInfo).port;
    const raw = (path: string, encoding: string) => new Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      httpGet({ host: '127.0.0.1', port, path, headers: { Authorization: `Bearer ${evaluator.token}`, 'Accept-Encoding': encoding } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      }).on('error', reject);
    });
    const vega = vendor().vega;
    const br = await raw(vega.url, 'gzip, deflate, br');
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.vary).toMatch(/Accept-Encoding/i);
    expect(brotliDecompressSync(br.body).equals(vega.body)).toBe(true);
    expect(br.body.length).toBeLessThan(vega.body.length * 0.4);
    for (const path of ['/', '/static/css/app.css', '/api/metrics', '/api/overview']) {
      const gz = await raw(path, 'gzip');
      expect(gz.headers['content-encoding'], path).toBe('gzip');
      expect(gunzipSync(gz.body).length, path).toBeGreaterThan(gz.body.length);
      const plain = await raw(path, 'identity');
      expect(plain.headers['content-encoding'], path).toBeUndefined();
    }
    // a workbook is a zip file already: sent as it is
    const xlsx = await raw('/api/exports/report.xlsx', 'gzip, br');
    expect(xlsx.status).toBe(200);
    expect(xlsx.headers['content-encoding']).toBeUndefined();
    expect(xlsx.body.subarray(0, 2).toString()).toBe('PK');
    await new Promise((r) => server.close(r));
  });
});
