// Downloads: chart specs, data and images; the results table; the metric report workbook
// (cover, one sheet per group, definitions; typed cells; frozen headers; never past
// Excel's row limit; no count of 1..10); partner gap analyses (own figures beside the
// area's, never another named organization's); and the download hook that the audit
// trail hangs on, called before any byte is sent.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESULT_COLUMNS } from '../../models/results.ts';
import { createApp, type App } from '../../server/app.ts';
import type { DownloadInfo } from '../../server/exports/downloads.ts';
import { writeReport } from '../../server/exports/report.ts';
import { FIXTURE, publishedFixture, type PublishedFixture } from '../helpers/publishedFixture.ts';
import { addTestUser, binaryAs, getAs, type TestUser } from '../helpers/auth.ts';
import { unzipEntries } from '../helpers/zip.ts';

let fx: PublishedFixture;
let app: App;
let evaluator: TestUser;
const downloads: DownloadInfo[] = [];

beforeAll(async () => {
  fx = await publishedFixture();
  app = createApp({ root: fx.root, log: () => undefined, hooks: { onDownload: (_req, info) => void downloads.push(info) } });
  evaluator = await addTestUser(fx.root, 'evaluator');
});
afterAll(() => {
  app.close();
  fx.cleanup();
});

/** A binary download as the evaluator. */
const binary = (path: string) => binaryAs(app, evaluator, path);

async function workbook(buf: Buffer) {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(buf as unknown as ArrayBuffer);
  return wb;
}

/** Counts a disclosure-controlled figure may never show (metrics.md, Disclosure control). */
const smallCount = (v: unknown) => typeof v === 'number' && v >= 1 && v <= 10;

describe('charts', () => {
  it('GET /api/charts lists every chart', async () => {
    const r = await getAs(app, evaluator, '/api/charts');
    expect(r.body.charts.map((c: { id: string }) => c.id)).toEqual(expect.arrayContaining(['trend', 'funnel', 'km', 'scorecard', 'gap-heatmap', 'gap-map', 'demand-capacity', 'phq9', 'prepost', 'forest', 'quarantine', 'freshness']));
  });

  it('the chart JSON carries the spec and the table; its data equal the results rows', async () => {
    const r = await getAs(app, evaluator, '/api/charts/trend.json?metric=closed_loop_rate&grain=quarter');
    expect(r.status).toBe(200);
    expect(r.body.spec.$schema).toContain('vega-lite');
    const api = await getAs(app, evaluator, '/api/metrics/closed_loop_rate?grain=quarter&dimension=all');
    const drawn = r.body.spec.datasets.table.map((p: { period_start: string; value: number }) => [p.period_start, p.value]);
    expect(drawn).toEqual(api.body.rows.map((x: { period_start: string; value: number }) => [x.period_start, x.value]));
    expect(r.body.table.rows).toHaveLength(api.body.rows.length);
  });

  it('SVG, PNG and CSV downloads with descriptive names', async () => {
    const svg = await binary('/api/charts/trend.svg?metric=closed_loop_rate&grain=quarter');
    expect(svg.status).toBe(200);
    expect(svg.headers['content-type']).toBe('image/svg+xml');
    expect(svg.headers['content-disposition']).toBe('attachment; filename="closeloop-trend-closed_loop_rate-quarter-2026-10-31.svg"');
    expect(svg.body.toString('utf8')).toMatch(/^<svg/);
    const png = await binary('/api/charts/gap-map.png');
    expect(png.headers['content-type']).toBe('image/png');
    expect(png.body.subarray(1, 4).toString()).toBe('PNG');
    const csv = await getAs(app, evaluator, '/api/charts/forest.csv?metric=closed_loop_rate&dimension=race_ethnicity');
    expect(csv.headers['content-disposition']).toMatch(/filename="closeloop-forest-closed_loop_rate-race_ethnicity-all-2024-11-01-2026-10-31\.csv"/);
    expect(csv.text.split('\r\n')[0]).toBe('group,group_value,value,estimate,low,high,p_value,q_value,flagged,flagged_unadjusted,unreliable,status');
  });

  it('Kaplan-Meier CSV: survival at the published grid days and the cases behind each curve, no number at risk', async () => {
    const csv = await getAs(app, evaluator, '/api/charts/km.csv?metric=days_to_close&dimension=target_org_id');
    expect(csv.status).toBe(200);
    const [header, ...lines] = csv.text.trim().split('\r\n');
    expect(header).toBe('series,time,cases,survival,lower,upper');
    expect(lines.length).toBeGreaterThan(0);
  });

  it('every chart builds with its defaults', async () => {
    for (const [id, q] of [['trend', 'metric=ed_visits_per_1000_mm'], ['sparkline', 'metric=screening_rate'], ['funnel', ''], ['km', 'dimension=race_ethnicity'], ['scorecard', ''], ['gap-heatmap', 'measure=positive_needs'],
      ['gap-map', 'domain=food'], ['demand-capacity', ''], ['phq9', 'dimension=payer'], ['prepost', 'dimension=race_ethnicity'], ['forest', 'metric=ed_visits_per_1000_mm&dimension=payer&scale=difference'], ['quarantine', ''], ['freshness', '']]) {
      const r = await getAs(app, evaluator, `/api/charts/${id}.json?${q}`);
      expect(r.status, `${id}: ${r.body.error}`).toBe(200);
      expect(r.body.table.rows.length, id).toBeGreaterThan(0);
    }
  });

  it('trend with a breakdown, a subset, and refusals that explain themselves', async () => {
    const by = await getAs(app, evaluator, '/api/charts/trend.json?metric=closed_loop_rate&dimension=target_org_id&grain=year');
    expect(new Set(by.body.table.rows.map((r: { series: string }) => r.series)).size).toBe(FIXTURE.orgs.length);
    const sub = await getAs(app, evaluator, '/api/charts/trend.json?metric=closed_loop_rate&county=37183');
    expect(new Set(sub.body.table.rows.map((r: { series: string }) => r.series))).toEqual(new Set(['Wake County', 'Everyone']));
    const bad = await getAs(app, evaluator, '/api/charts/trend.json?metric=screening_rate&domain=food');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe("metric 'screening_rate' is not published by need domain");
    const snap = await getAs(app, evaluator, '/api/charts/trend.json?metric=stale_open_referrals');
    expect(snap.body.error).toMatch(/snapshot/);
    expect((await getAs(app, evaluator, '/api/charts/nope.json')).status).toBe(404);
    expect((await getAs(app, evaluator, '/api/charts/trend.exe')).body.error).toMatch(/^chart file must be <chart>\.<format>/);
    expect((await getAs(app, evaluator, '/api/charts/forest.json?metric=days_to_close&dimension=payer')).body.error).toMatch(/proportions and rates only/);
  });
});

describe('results exports', () => {
  it('CSV named after its filter, neutralised, same rows as the API', async () => {
    const r = await getAs(app, evaluator, '/api/exports/metrics/closed_loop_rate.csv?dimension=race_ethnicity&grain=quarter');
    expect(r.status).toBe(200);
    expect(r.headers['content-disposition']).toBe('attachment; filename="closeloop-closed_loop_rate-race_ethnicity-quarter-2026-10-31.csv"');
    const lines = r.text.trim().split('\n');
    expect(lines[0]).toBe([...RESULT_COLUMNS.map((c) => c.name), 'metric_title', 'dimension_label', 'group_label'].join(','));
    // issue 16: labels beside the codes (the codes stay in group_value)
    const black = lines.find((l) => l.includes(',race_ethnicity,black,'))!;
    expect(black.split(',').slice(-3)).toEqual(['Loop closed within 60 days', 'Race and ethnicity', 'Black or African American']);
    const api = await getAs(app, evaluator, '/api/metrics/closed_loop_rate?dimension=race_ethnicity&grain=quarter');
    expect(lines).toHaveLength(api.body.rows.length + 1);
    const prog = await getAs(app, evaluator, '/api/exports/metrics/closed_loop_rate.csv?dimension=program_id&grain=all');
    expect(prog.text).toContain(`"'=HYPERLINK(""x"")"`);
  });

  it('XLSX, Parquet, JSON and Arrow; everything with metric=all', async () => {
    const x = await binary('/api/exports/metrics/closed_loop_rate.xlsx?grain=year');
    const wb = await workbook(x.body);
    const ws = wb.getWorksheet('results')!;
    expect(ws.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    expect(typeof ws.getRow(2).getCell(9).value).toBe('number');
    for (const f of ['parquet', 'json', 'arrow']) expect((await binary(`/api/exports/metrics/closed_loop_rate.${f}?grain=all`)).status, f).toBe(200);
    const all = await getAs(app, evaluator, '/api/exports/metrics/all.csv?grain=all&dimension=payer');
    expect(all.headers['content-disposition']).toContain('closeloop-all-payer-all-2026-10-31.csv');
  });

  it('bad export requests', async () => {
    expect((await getAs(app, evaluator, '/api/exports/metrics/closed_loop_rate.docx')).body.error).toBe("parameter 'format' must be one of csv, xlsx, json, parquet, arrow (got 'docx')");
    expect((await getAs(app, evaluator, '/api/exports/metrics/nope.csv')).status).toBe(404);
    expect((await getAs(app, evaluator, '/api/exports/metrics/closed_loop_rate.csv?grain=fortnight')).status).toBe(400);
    expect((await getAs(app, evaluator, '/api/exports/metrics/..%2Fsecret.csv')).status).toBe(400);
  });
});

describe('the metric report workbook', () => {
  it('cover, one sheet per metric group, definitions; typed cells, frozen headers, no count of 1..10', async () => {
    const r = await binary('/api/exports/report.xlsx?grain=quarter');
    expect(r.status).toBe(200);
    expect(r.headers['content-disposition']).toBe('attachment; filename="closeloop-report-quarter-2026-10-31.xlsx"');
    const wb = await workbook(r.body);
    expect(wb.worksheets.map((w) => w.name)).toEqual(['Cover', 'Access', 'Closed loop', 'Service gaps', 'Outcomes', 'Definitions']);
    const cover = wb.getWorksheet('Cover')!;
    const coverText = cover.getSheetValues().flat().map(String).join(' ');
    expect(coverText).toContain('All attributed programs');
    expect(coverText).toContain(fx.runId);
    expect(coverText).toMatch(/fewer than 11/);
    const asOf = cover.getColumn(2).values.find((v) => v instanceof Date);
    expect(asOf).toEqual(new Date('2026-10-31T00:00:00Z'));
    const access = wb.getWorksheet('Access')!;
    expect(access.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    expect(access.getRow(1).values).toEqual([undefined, ...RESULT_COLUMNS.map((c) => c.name), 'metric_title', 'dimension_label', 'group_label']);
    const col = (name: string) => RESULT_COLUMNS.findIndex((c) => c.name === name) + 1;
    expect(access.getRow(2).getCell(col('period_start')).value).toBeInstanceOf(Date);
    let checked = 0;
    for (const name of ['Access', 'Closed loop', 'Service gaps', 'Outcomes']) {
      wb.getWorksheet(name)!.eachRow((row, i) => {
        if (i === 1) return;
        const metric = row.getCell(col('metric_id')).value as string;
        const suppressed = row.getCell(col('suppressed')).value;
        const num = row.getCell(col('numerator')).value;
        const den = row.getCell(col('denominator')).value;
        if (suppressed === true) expect([num, den, row.getCell(col('value')).value]).toEqual([null, null, null]);
        if (metric !== 'paid_pmpm') expect(smallCount(num), `${name} row ${i} numerator ${num}`).toBe(false);
        if (metric !== 'demand_capacity_ratio') expect(smallCount(den), `${name} row ${i} denominator ${den}`).toBe(false);
        if (typeof num === 'number' || num === null) checked += 1;
      });
    }
    expect(checked).toBeGreaterThan(1000);
    const defs = wb.getWorksheet('Definitions')!;
    expect(defs.getRow(1).getCell(1).value).toBe('metric_id');
    expect(defs.rowCount).toBeGreaterThan(20);
  });

  it('a program report has the program rows beside everyone\'s', async () => {
    const r = await binary('/api/exports/report.xlsx?grain=year&program=ACO-02');
    const wb = await workbook(r.body);
    const groups = new Set<string>();
    wb.getWorksheet('Closed loop')!.eachRow((row, i) => {
      if (i > 1) groups.add(`${row.getCell(5).value}:${row.getCell(6).value}`);
    });
    expect([...groups].sort()).toEqual(['all:all', 'program_id:ACO-02']);
    expect(r.headers['content-disposition']).toContain('closeloop-report-ACO-02-year-2026-10-31.xlsx');
    expect((await getAs(app, evaluator, '/api/exports/report.xlsx?program=ACO-09')).status).toBe(400);
    expect((await getAs(app, evaluator, '/api/exports/report.pdf')).status).toBe(400);
  });

  it('a group larger than one sheet is split, never past the row limit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'closeloop-report-'));
    const lease = await app.generations.acquire();
    try {
      const w = await writeReport(lease.gen, join(dir, 'r.xlsx'), { grain: 'month', maxSheetRows: 5001 });
      const wb = new ExcelJS.Workbook();
      await wb.xlsx.readFile(join(dir, 'r.xlsx'));
      const names = wb.worksheets.map((s) => s.name);
      expect(names).toContain('Access (1)');
      expect(names).toContain('Access (2)');
      for (const s of wb.worksheets) expect(s.rowCount).toBeLessThanOrEqual(5001);
      expect(w.sheets.reduce((t, s) => t + s.rows, 0)).toBe(w.rows);
    } finally {
      lease.release();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('report.csv: the same selection as CSV', async () => {
    const r = await getAs(app, evaluator, '/api/exports/report.csv?grain=year&dimension=payer');
    expect(r.status).toBe(200);
    const dims = new Set(r.text.trim().split('\n').slice(1).map((l) => l.split(',')[4]));
    expect([...dims].sort()).toEqual(['all', 'payer']);
  });
});

describe('partner gap analysis', () => {
  it('CSV: the gap table of the counties it serves, its figures beside the area\'s, nobody else\'s', async () => {
    const r = await getAs(app, evaluator, '/api/partners/ORG-04/gap-analysis.csv');
    expect(r.status).toBe(200);
    expect(r.headers['content-disposition']).toBe('attachment; filename="closeloop-ORG-04-gap-analysis-2026-10-31.csv"');
    const [header, ...lines] = r.text.trim().split('\r\n');
    const cols = header!.split(',');
    expect(cols).toEqual(expect.arrayContaining(['org_id', 'rank', 'domain', 'county_fips', 'unmet_needs', 'unmet_need_rate', 'partner_acceptance_rate', 'area_acceptance_rate', 'partner_closed_loop_rate', 'area_closed_loop_rate', 'partner_need_met_rate', 'area_need_met_rate', 'partner_median_days_to_close', 'area_median_days_to_close']));
    const county = cols.indexOf('county_fips');
    // ORG-04 serves Mecklenburg, Wake and Durham only
    expect(new Set(lines.map((l) => l.split(',')[county]))).toEqual(new Set(['37119', '37183', '37063']));
    for (const other of FIXTURE.orgs.filter((o) => o.id !== 'ORG-04')) {
      expect(r.text).not.toContain(other.id);
      expect(r.text).not.toContain(other.name.replace(/^=/, ''));
    }
    expect(r.text).not.toMatch(/reference_group|rate_ratio|p_value/);
  });

  it('XLSX: cover, referral figures, gap table', async () => {
    const r = await binary('/api/partners/ORG-01/gap-analysis.xlsx');
    const wb = await workbook(r.body);
    expect(wb.worksheets.map((w) => w.name)).toEqual(['Cover', 'Referral figures', 'Gap table']);
    const fig = wb.getWorksheet('Referral figures')!;
    expect(fig.getRow(2).getCell(1).value).toBe('Referral acceptance rate');
    expect(typeof fig.getRow(2).getCell(3).value).toBe('number');
    expect(typeof fig.getRow(2).getCell(8).value).toBe('number');
    const text = JSON.stringify(wb.worksheets.map((w) => w.getSheetValues()));
    for (const other of FIXTURE.orgs.filter((o) => o.id !== 'ORG-01')) expect(text).not.toContain(other.id);
  });

  it('unknown or malformed organizations', async () => {
    expect((await getAs(app, evaluator, '/api/partners/ORG-99/gap-analysis.csv')).status).toBe(404);
    expect((await getAs(app, evaluator, '/api/partners/ORG-01/gap-analysis.pdf')).status).toBe(400);
    expect((await getAs(app, evaluator, '/api/partners/%3Cscript%3E/gap-analysis.csv')).status).toBe(400);
  });
});

describe('issue 16: the gap table download', () => {
  it('gaps.csv is the ranked gap table the page shows, every row (it was gap-heatmap.csv: domain, county, value)', async () => {
    const r = await getAs(app, evaluator, '/api/gaps.csv');
    expect(r.status).toBe(200);
    expect(r.headers['content-disposition']).toBe('attachment; filename="closeloop-gap-table-2026-10-31.csv"');
    const [header, ...lines] = r.text.trim().split('\r\n');
    const cols = header!.split(',');
    // codes in the data columns, their labels beside them (server/labels.ts)
    expect(cols.slice(0, 5)).toEqual(['rank', 'domain', 'domain_label', 'county_fips', 'county_name']);
    expect(cols).toEqual(expect.arrayContaining(['positive_needs', 'unmet_needs', 'unmet_need_rate', 'capacity_note']));
    // the fixture's 6 domains x 6 counties, ranked 1..36 in order, as /api/gaps lists them
    expect(lines).toHaveLength(36);
    expect(lines.map((l) => Number(l.split(',')[0]))).toEqual(Array.from({ length: 36 }, (_, i) => i + 1));
    const api = (await getAs(app, evaluator, '/api/gaps')).body as { rows: Array<{ rank: number; domain: string; county_fips: string }> };
    expect(lines.map((l) => { const c = l.split(','); return `${c[0]},${c[1]},${c[3]}`; })).toEqual(api.rows.map((x) => `${x.rank},${x.domain},${x.county_fips}`));
    expect(downloads.at(-1)).toMatchObject({ kind: 'gap-table', rows: 36 });
  });

  it('gaps.csv keeps the page\'s filters, and ?bom=true starts it with a byte-order mark', async () => {
    const r = await binary('/api/gaps.csv?domain=food&bom=true');
    expect([...r.body.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = r.body.subarray(3).toString('utf8').trim().split('\r\n').slice(1);
    expect(lines).toHaveLength(6);
    expect(new Set(lines.map((l: string) => l.split(',').slice(1, 3).join(',')))).toEqual(new Set(['food,Food']));
    expect((await getAs(app, evaluator, '/api/gaps.csv?domain=nope')).status).toBe(400);
  });
});

describe('download hook', () => {
  it('receives name, rows, bytes and SHA-256 of every download before it is sent', async () => {
    downloads.length = 0;
    const r = await getAs(app, evaluator, '/api/partners/ORG-07/gap-analysis.csv');
    const info = downloads.at(-1)!;
    expect(info).toMatchObject({ kind: 'gap-analysis', filename: 'closeloop-ORG-07-gap-analysis-2026-10-31.csv', bytes: Buffer.byteLength(r.text), run_id: fx.runId });
    expect(info.sha256).toBe(createHash('sha256').update(r.text).digest('hex'));
    expect(info.rows).toBe(r.text.trim().split('\r\n').length - 1);
    const x = await binary('/api/exports/report.xlsx?grain=all');
    expect(downloads.at(-1)!.sha256).toBe(createHash('sha256').update(x.body).digest('hex'));
  });

  it('a hook that refuses stops the download (nothing sent)', async () => {
    const { HttpError } = await import('../../server/http.ts');
    const strict = createApp({ root: fx.root, log: () => undefined, hooks: { onDownload: () => { throw new HttpError(403, 'not allowed'); } } });
    const r = await getAs(strict, evaluator, '/api/exports/metrics/closed_loop_rate.csv');
    expect(r.status).toBe(403);
    expect(r.body).toEqual({ error: 'not allowed', status: 403 });
    strict.close();
  });
});

describe('issue 16: exports that carry their provenance', () => {
  const csvRows = (text: string) => {
    const [header, ...lines] = text.replace(/^\uFEFF/, '').trim().split('\n');
    const cols = header!.split(',');
    // report.csv's text cells here hold no commas (ids, codes, dates): a plain split is enough
    return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i]!, v])));
  };

  it('chart SVG and PNG downloads carry a footer: source, run id, as-of date, filters and "n<11 withheld"', async () => {
    const svg = (await binary('/api/charts/trend.svg?metric=closed_loop_rate&grain=quarter&program=ACO-02')).body.toString('utf8');
    const footer = /<g class="provenance"[^>]*>(.*?)<\/g>/.exec(svg)?.[1] ?? '';
    const lines = [...footer.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!.replaceAll('&lt;', '<')).join(' ');
    expect(lines).toContain(`Source: closeloop, run ${fx.runId}, as of 2026-10-31.`);
    expect(lines).toMatch(/Filters: .*metric=closed_loop_rate/);
    expect(lines).toContain('grain=quarter');
    expect(lines).toContain('program=ACO-02');
    expect(lines).toContain('n<11 withheld');
    // the footer sits below the chart: the image grew by it
    const [, width, height] = /^<svg[^>]*\swidth="([\d.]+)"\s+height="([\d.]+)"/.exec(svg)!.map(Number);
    const firstText = Number(/<g class="provenance".*?<text x="5" y="([\d.]+)"/.exec(svg)![1]);
    expect(firstText).toBeLessThan(height!);
    expect(firstText).toBeGreaterThan(height! - 4 * 13 - 10);
    // the PNG is that SVG rasterised at twice its size, footer included
    const png = (await binary('/api/charts/trend.png?metric=closed_loop_rate&grain=quarter&program=ACO-02')).body;
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([width! * 2, height! * 2]);
    // with no filter at all it says so
    const plain = (await binary('/api/charts/gap-map.svg')).body.toString('utf8');
    expect(plain).toMatch(/<text[^>]*>Filters: (none|[a-z_]+=)/);
  });

  it('the report workbook: autofilter on the header row, percentages for proportions, a typed published date-time, shared strings (no t="str")', async () => {
    const r = await binary('/api/exports/report.xlsx?grain=quarter');
    const files = unzipEntries(r.body);
    const sheets = [...files.keys()].filter((n) => /^xl\/worksheets\/sheet\d+\.xml$/.test(n));
    expect(sheets.length).toBe(6);
    for (const n of sheets) expect(files.get(n)!.toString('utf8'), n).not.toContain('t="str"');
    expect(files.has('xl/sharedStrings.xml')).toBe(true);
    const wb = await workbook(r.body);
    expect(RESULT_COLUMNS.length).toBe(28);
    const lastCol = 'AE'; // the 31st column: the spec's 28, then metric_title, dimension_label, group_label
    for (const name of ['Access', 'Closed loop', 'Service gaps', 'Outcomes']) {
      const ws = wb.getWorksheet(name)!;
      expect(ws.autoFilter, name).toBe(`A1:${lastCol}${ws.rowCount}`);
    }
    const col = (name: string) => RESULT_COLUMNS.findIndex((c) => c.name === name) + 1;
    const seen = { proportion: 0, rate: 0 };
    for (const name of ['Closed loop', 'Outcomes']) {
      wb.getWorksheet(name)!.eachRow((row, i) => {
        if (i === 1 || row.getCell(col('value')).value === null) return;
        const metric = row.getCell(col('metric_id')).value as string;
        if (metric === 'closed_loop_rate') {
          seen.proportion += 1;
          for (const c of ['value', 'ci_low', 'ci_high']) expect(row.getCell(col(c)).numFmt, `${metric} ${c}`).toBe('0.0%');
        }
        if (metric === 'ed_visits_per_1000_mm') {
          seen.rate += 1;
          expect(row.getCell(col('value')).numFmt).toBe('0.00');
        }
      });
    }
    expect(seen.proportion).toBeGreaterThan(10);
    expect(seen.rate).toBeGreaterThan(10);
    // the fixture's run_info says published 2026-11-01 06:04:12+00
    const cover = wb.getWorksheet('Cover')!;
    let published: ExcelJS.Cell | undefined;
    cover.eachRow((row) => {
      if (row.getCell(1).value === 'Published (UTC)') published = row.getCell(2);
    });
    expect(published?.value).toEqual(new Date('2026-11-01T06:04:12Z'));
    expect(published?.numFmt).toBe('yyyy-mm-dd hh:mm:ss');
  });

  it('report.csv writes counts as integers (394, not 394.0) and keeps fractions where a figure has them', async () => {
    const rows = csvRows((await getAs(app, evaluator, '/api/exports/report.csv?grain=year')).text);
    const counts = rows.flatMap((r) => [r.numerator!, r.denominator!]).filter((v) => v !== '');
    expect(counts.length).toBeGreaterThan(500);
    expect(counts.filter((v) => /\.0$/.test(v))).toEqual([]);
    expect(counts.filter((v) => /^\d+$/.test(v)).length).toBeGreaterThan(500);
    // dollars keep their cents
    expect(rows.filter((r) => r.metric_id === 'paid_pmpm' && /\.\d*[1-9]$/.test(r.numerator!)).length).toBeGreaterThan(0);
    // the same figures as the API: a closed-loop row's counts, as numbers
    const api = (await getAs(app, evaluator, '/api/metrics/closed_loop_rate?grain=all&dimension=all')).body.rows[0] as { numerator: number; denominator: number };
    const all = rows.find((r) => r.metric_id === 'closed_loop_rate' && r.period_grain === 'all' && r.dimension === 'all')!;
    expect([all.numerator, all.denominator]).toEqual([String(api.numerator), String(api.denominator)]);
  });

  it('report.csv?bom=true starts with a UTF-8 byte-order mark for Excel; without it, none; bom on the workbook is refused', async () => {
    const withBom = await binary('/api/exports/report.csv?grain=all&bom=true');
    expect(withBom.status).toBe(200);
    expect([...withBom.body.subarray(0, 4)]).toEqual([0xef, 0xbb, 0xbf, 'm'.charCodeAt(0)]);
    const without = await binary('/api/exports/report.csv?grain=all');
    expect(without.body.subarray(0, 9).toString()).toBe('metric_id');
    expect(withBom.body.subarray(3).equals(without.body)).toBe(true);
    const refused = await getAs(app, evaluator, '/api/exports/report.xlsx?bom=true');
    expect(refused.status).toBe(400);
    expect(refused.body.error).toContain("'bom' applies to report.csv only");
    expect((await getAs(app, evaluator, '/api/exports/report.csv?bom=yes')).status).toBe(400);
  });
});

describe('issue 16: automatic coarsening when most periods are withheld', () => {
  type Api = { rows: Array<{ period_start: string; suppressed: boolean; value: number | null }> };
  const api = async (q: string) => (await getAs(app, evaluator, `/api/metrics/phq9_remission_rate?dimension=all&${q}`)).body as Api;

  it('PHQ-9 remission by month (about 60 episodes a month, so 8-10 remissions: every month withheld) is drawn by quarter, and says so; its table and CSV are the quarters', async () => {
    // the premise, from the results API: most months withheld, most quarters shown
    const months = (await api('grain=month')).rows;
    const quarters = (await api('grain=quarter')).rows;
    expect(months.filter((r) => r.suppressed).length * 2).toBeGreaterThan(months.length);
    expect(quarters.filter((r) => r.suppressed).length * 2).toBeLessThanOrEqual(quarters.length);
    const r = await getAs(app, evaluator, '/api/charts/trend.json?metric=phq9_remission_rate&grain=month');
    expect(r.body.notes[0]).toBe(`Shown by quarter: most months are withheld (n<11), ${months.filter((x) => x.suppressed).length} of ${months.length}.`);
    // the note is in the image too (its subtitle), and the drawn data are the quarters
    expect(JSON.stringify(r.body.spec.title.subtitle)).toContain('Shown by quarter');
    expect(r.body.spec.datasets.table.map((p: { period_start: string }) => p.period_start)).toEqual(quarters.map((q) => q.period_start));
    expect(r.body.table.rows.map((p: { period_start: string; value: number | null }) => [p.period_start, p.value])).toEqual(quarters.map((q) => [q.period_start, q.value]));
    const csv = await getAs(app, evaluator, '/api/charts/trend.csv?metric=phq9_remission_rate&grain=month');
    expect(csv.headers['content-disposition']).toContain('-quarter');
    const lines = csv.text.trim().split('\r\n');
    expect(lines).toHaveLength(quarters.length + 1);
    expect(lines.slice(1).every((l) => /^Everyone,\d{4} Q[1-4],/.test(l))).toBe(true);
  });

  it('no coarsening when at most half the cells are withheld: PHQ-9 remission by quarter, closed loop by organization and month', async () => {
    const r = await getAs(app, evaluator, '/api/charts/trend.json?metric=phq9_remission_rate&grain=quarter');
    expect(r.body.notes).toEqual([]);
    expect(r.body.table.rows).toHaveLength((await api('grain=quarter')).rows.length);
    const orgs = await getAs(app, evaluator, '/api/charts/trend.json?metric=closed_loop_rate&grain=month&dimension=target_org_id');
    expect(orgs.body.notes).toEqual([]);
    expect(orgs.body.table.rows.every((p: { period_label: string }) => /^\d{4}-\d{2}$/.test(p.period_label))).toBe(true);
  });

  it('a From date inside a quarter keeps the quarter that holds it; the headline sparkline coarsens the same way', async () => {
    const r = await getAs(app, evaluator, '/api/charts/trend.json?metric=phq9_remission_rate&grain=month&from=2025-02-01&to=2025-08-01');
    expect(r.body.table.rows.map((p: { period_label: string }) => p.period_label)).toEqual(['2025 Q1', '2025 Q2', '2025 Q3']);
    const s = await getAs(app, evaluator, '/api/charts/sparkline.json?metric=phq9_remission_rate&grain=month');
    expect(s.body.notes[0]).toMatch(/^Shown by quarter: most months are withheld/);
    expect(s.body.spec.description).toContain('Shown by quarter');
  });
});
