// Downloads: chart specs, data and images; the results table in five formats; the metric
// report; partner gap analyses. Every file goes out through exports/downloads.ts (file
// name, SHA-256 and row count to the download hook first).
import { readFile, rm } from 'node:fs/promises';
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { sqlString as str } from '../../models/duckdb.ts';
import { PERIOD_GRAINS } from '../../models/results.ts';
import { buildChart, chartParams, CHARTS, CHART_IDS, findChart } from '../charts/registry.ts';
import { renderPng, renderSvg } from '../charts/render.ts';
import { availability, findMetric, metricIds } from '../data/catalog.ts';
import { gapTable, partnerGapAnalysis } from '../data/gaps.ts';
import { checkFilter, oneOf } from '../data/results.ts';
import { toCsv } from '../exports/csv.ts';
import { type ExportFolder, prependBom, safeName, sendBuffer } from '../exports/downloads.ts';
import { EXPORT_FORMATS, ExportRefused, exportResults, exportWhere } from '../exports/exportResults.ts';
import { gapAnalysisCsv, gapAnalysisXlsx, gapColumnOrder } from '../exports/gapAnalysis.ts';
import { writeReport } from '../exports/report.ts';
import { pinGeneration, type GenerationManager } from '../generation.ts';
import { cachedJson } from './api.ts';
import { HttpError, isoDate, notFound, parseParams, token } from '../http.ts';
import { resultsResource, type Grant, type Resource, type ServerHooks } from '../hooks.ts';
import { scopeKey } from '../data/scope.ts';

export interface DownloadContext {
  generations: GenerationManager;
  hooks: ServerHooks;
  folder: ExportFolder;
}

const CHART_FORMATS = ['json', 'vl.json', 'svg', 'png', 'csv'] as const;
const CHART_FILE = /^([a-z0-9-]+)\.(json|vl\.json|svg|png|csv)$/;
const OPERATIONAL_CHARTS = new Set(['quarantine', 'freshness']);
const NARROWABLE_CHARTS = new Set(['scorecard', 'trend', 'km', 'gap-heatmap', 'demand-capacity']);

// Parameter schemas, built once (zod compiles each schema on its first use: never per request).
const NoParams = z.strictObject({});
const ChartPath = z.strictObject({ file: z.string().max(80) });
const ExportPath = z.strictObject({ file: z.string().max(120) });
const ReportPath = z.strictObject({ file: z.enum(['report.xlsx', 'report.csv']) });
const GapAnalysisPath = z.strictObject({ org: token(), file: z.enum(['gap-analysis.csv', 'gap-analysis.xlsx']) });

export function downloadsRouter(ctx: DownloadContext): Router {
  const r = Router();
  const gen = (res: Response) => pinGeneration(res, ctx.generations);
  const authorize = async (req: Request, resource: Resource, params?: Record<string, unknown>, org?: string, narrowable?: boolean): Promise<Grant> =>
    (await ctx.hooks.authorize?.(req, { resource, params, org, narrowable })) ?? {};

  r.get('/charts', async (req, res) => {
    parseParams(NoParams, req.query);
    await authorize(req, 'meta');
    res.json({ charts: CHARTS.map((c) => ({ id: c.id, title: c.title, formats: CHART_FORMATS })) });
  });

  r.get('/charts/:file', async (req, res) => {
    const { file } = parseParams(ChartPath, req.params, 'path');
    const m = CHART_FILE.exec(file);
    if (!m) throw new HttpError(400, `chart file must be <chart>.<format> with format one of ${CHART_FORMATS.join(', ')} (got '${file.slice(0, 80)}')`, { parameter: 'chart' });
    const [, id, format] = m as unknown as [string, string, (typeof CHART_FORMATS)[number]];
    if (!findChart(id)) throw notFound(`unknown chart '${id}'; charts: ${CHART_IDS.join(', ')}`, { parameter: 'chart' });
    const query = chartParams(id, req.query);
    const dimension = typeof query.dimension === 'string' ? query.dimension : undefined;
    const resource: Resource = OPERATIONAL_CHARTS.has(id) ? 'operational' : id === 'scorecard' ? 'partner_comparison' : resultsResource(dimension);
    // Scorecards, trends and survival curves can be narrowed to one organization; the forest plot (a comparison) cannot.
    const grant = await authorize(req, resource, { chart: id, ...query }, undefined, NARROWABLE_CHARTS.has(id));
    // Operational counts (quarantine, freshness) are drawn on the data-quality page, never exported (spec; issue 14)
    if (OPERATIONAL_CHARTS.has(id) && format !== 'json' && format !== 'vl.json') {
      throw new HttpError(403, `the ${id} chart shows operational counts: drawn on the data-quality page, never exported`, { reason: 'forbidden' });
    }
    const g = await gen(res);
    const chart = await buildChart(g, id, query, grant.narrowTo);
    const scoped = `${JSON.stringify(query)}${scopeKey(grant.narrowTo)}`;
    const base = { params: { chart: id, ...query }, run_id: g.runId };
    // Images carry their source, run, as-of date and filters (a partner's: narrowed to its organization).
    const filters = Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => [k, String(v)]));
    const provenance = { runId: g.runId, asOf: g.asOf, filters: grant.narrowTo ? { ...filters, organization: `${grant.narrowTo} only` } : filters };
    switch (format) {
      case 'json':
        await cachedJson(req, res, g, `chart:${id}:${scoped}`, async () => ({
          id, title: chart.title, run_id: g.runId, as_of: g.asOf, spec: chart.spec, table: chart.table, notes: chart.notes, empty: chart.empty ?? null,
        }));
        return;
      case 'vl.json':
        res.type('application/json').send(JSON.stringify(chart.spec));
        return;
      case 'csv': {
        const csv = toCsv(chart.table.columns.map((c) => ({ key: c.key })), chart.table.rows);
        await sendBuffer(req, res, ctx.hooks.onDownload, csv, { kind: 'chart-data', filename: safeName([id, ...chart.nameParts, g.asOf], 'csv'), rows: chart.table.rows.length, ext: 'csv', ...base });
        return;
      }
      case 'svg': {
        const svg = await g.memo(`svg:${id}:${scoped}`, () => renderSvg(chart.spec, undefined, provenance));
        await sendBuffer(req, res, ctx.hooks.onDownload, svg, { kind: 'chart-image', filename: safeName([id, ...chart.nameParts, g.asOf], 'svg'), rows: 0, ext: 'svg', ...base });
        return;
      }
      case 'png': {
        const png = await g.memo(`png:${id}:${scoped}`, () => renderPng(chart.spec, undefined, 2, provenance));
        await sendBuffer(req, res, ctx.hooks.onDownload, png, { kind: 'chart-image', filename: safeName([id, ...chart.nameParts, g.asOf], 'png'), rows: 0, ext: 'png', ...base });
        return;
      }
    }
  });

  // The results table: /api/exports/metrics/closed_loop_rate.csv?dimension=race_ethnicity&grain=quarter
  const ResultsQuery = z.strictObject({ dimension: token().optional(), grain: z.enum(PERIOD_GRAINS).optional() });
  r.get('/exports/metrics/:file', async (req, res) => {
    const { file } = parseParams(ExportPath, req.params, 'path');
    const m = /^([a-z0-9_]+)\.([a-z]+)$/.exec(file);
    if (!m) throw new HttpError(400, `export file must be <metric>.<format> with format one of ${EXPORT_FORMATS.join(', ')} (got '${file.slice(0, 80)}')`, { parameter: 'file' });
    const [, metric, format] = m as unknown as [string, string, string];
    oneOf('format', format, EXPORT_FORMATS);
    const q = parseParams(ResultsQuery, req.query);
    await authorize(req, 'export', { metric, format, ...q });
    if (resultsResource(q.dimension) === 'partner_comparison') await authorize(req, 'partner_comparison', { metric, ...q });
    const g = await gen(res);
    if (metric !== 'all') {
      if (!findMetric(metric)) throw notFound(`unknown metric '${metric}'; known metrics: all, ${metricIds().join(', ')}`, { parameter: 'metric' });
      await checkFilter(g, { metric, ...q });
    } else {
      const a = await availability(g);
      if (q.dimension) oneOf('dimension', q.dimension, [...new Set([...a.dimensions.values()].flatMap((s) => [...s]))].sort());
    }
    if (!g.hasTable('metric_results')) throw new HttpError(404, 'the results table is not available in this run', { reason: 'not_available' });
    const out = ctx.folder.newFile(format);
    try {
      const written = await g.withConnection((conn) => exportResults(conn, { metric, dimension: q.dimension, grain: q.grain }, format as (typeof EXPORT_FORMATS)[number], out.path));
      await ctx.folder.send(req, res, ctx.hooks.onDownload, out.name, {
        kind: 'results', filename: safeName([metric, q.dimension ?? '', q.grain ?? '', g.asOf], format), rows: written.rows, ext: format, params: { metric, format, ...q }, run_id: g.runId,
      });
    } catch (err) {
      if (err instanceof ExportRefused) {
        throw new HttpError(422, err.message.replace('--metric, --dimension or --grain', 'the dimension or grain parameters'), {
          alternatives: ['csv', 'parquet'].map((f) => `/api/exports/metrics/${metric}.${f}${req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : ''}`),
        });
      }
      throw err;
    }
  });

  const ReportQuery = z.strictObject({
    grain: z.enum(PERIOD_GRAINS).default('quarter'),
    from: isoDate.optional(),
    to: isoDate.optional(),
    program: token().optional(),
    dimension: token().optional(),
    /** report.csv only: start the file with a UTF-8 byte-order mark, so Excel reads it as UTF-8. */
    bom: z.enum(['true', 'false']).optional(),
  });
  r.get('/exports/:file', async (req, res) => {
    const { file } = parseParams(ReportPath, req.params, 'path');
    const { bom, ...q } = parseParams(ReportQuery, req.query);
    if (bom && file !== 'report.csv') throw new HttpError(400, `parameter 'bom' applies to report.csv only (a workbook has no byte-order mark)`, { parameter: 'bom' });
    await authorize(req, 'report', { file, ...q });
    if (resultsResource(q.dimension) === 'partner_comparison') await authorize(req, 'partner_comparison', q);
    const g = await gen(res);
    if (!g.hasTable('metric_results')) throw new HttpError(404, 'the results table is not available in this run', { reason: 'not_available' });
    const a = await availability(g);
    if (q.program) oneOf('program', q.program, a.groups.get('program_id') ?? []);
    if (q.dimension) oneOf('dimension', q.dimension, [...new Set([...a.dimensions.values()].flatMap((s) => [...s]))].sort());
    if (q.program && q.dimension) throw new HttpError(400, `parameters 'program' and 'dimension' cannot be combined (a program's report shows its rows beside everyone's)`, { parameter: 'dimension' });
    const ext = file === 'report.xlsx' ? 'xlsx' : 'csv';
    const nameParts = ['report', q.program ?? '', q.dimension ?? '', q.grain, g.asOf];
    if (ext === 'xlsx') {
      // A workbook takes seconds to write; the generation never changes, so keep it (bounded by the cache).
      const report = await g.memo(`report:${JSON.stringify(q)}`, async () => {
        const target = ctx.folder.newFile('xlsx');
        try {
          const w = await writeReport(g, target.path, q);
          return { buffer: await readFile(target.path), rows: w.rows };
        } finally {
          await rm(target.path, { force: true });
        }
      }, (v) => v.buffer.length);
      await sendBuffer(req, res, ctx.hooks.onDownload, report.buffer, { kind: 'report', filename: safeName(nameParts, 'xlsx'), rows: report.rows, ext, params: { file, ...q }, run_id: g.runId });
      return;
    }
    const out = ctx.folder.newFile(ext);
    const where = [
      q.grain === 'all' ? `period_grain = 'all'` : `(period_grain = 'all' OR (period_grain = ${str(q.grain)}${q.from ? ` AND period_start >= DATE ${str(q.from)}` : ''}${q.to ? ` AND period_start <= DATE ${str(q.to)}` : ''}))`,
      q.program ? `(dimension = 'all' OR (dimension = 'program_id' AND group_value = ${str(q.program)}))` : q.dimension ? `dimension IN ('all', ${str(q.dimension)})` : 'TRUE',
    ].join(' AND ');
    const w = await g.withConnection((conn) => exportWhere(conn, where, 'csv', out.path));
    if (bom === 'true') await prependBom(out.path);
    await ctx.folder.send(req, res, ctx.hooks.onDownload, out.name, { kind: 'report', filename: safeName(nameParts, 'csv'), rows: w.rows, ext, params: { file, ...q, ...(bom ? { bom } : {}) }, run_id: g.runId });
  });

  // The ranked gap table as the Service gaps page shows it (every row, every column), for the
  // same filters: /api/gaps.csv?domain=food&county=37063. A partner gets it as /api/gaps
  // gives it: without the column naming other organizations' programs.
  const GapsCsvQuery = z.strictObject({ domain: token().optional(), county: token(8).optional(), bom: z.enum(['true', 'false']).optional() });
  r.get('/gaps.csv', async (req, res) => {
    const { bom, ...q } = parseParams(GapsCsvQuery, req.query);
    const grant = await authorize(req, 'aggregate', q);
    const g = await gen(res);
    const a = await availability(g);
    if (q.domain) oneOf('domain', q.domain, a.groups.get('domain') ?? []);
    if (q.county) oneOf('county', q.county, a.groups.get('county_fips') ?? []);
    const all = await gapTable(g, q);
    const rows = grant.narrowTo === undefined ? all : all.map(({ programs: _p, ...rest }) => rest);
    const csv = toCsv(gapColumnOrder(rows).map((key) => ({ key })), rows);
    const body = bom === 'true' ? `\uFEFF${csv}` : csv;
    await sendBuffer(req, res, ctx.hooks.onDownload, body, { kind: 'gap-table', filename: safeName(['gap-table', q.domain ?? '', q.county ?? '', g.asOf], 'csv'), rows: rows.length, ext: 'csv', params: { ...q, ...(bom ? { bom } : {}) }, run_id: g.runId });
  });

  r.get('/partners/:org/:file', async (req, res) => {
    const p = parseParams(GapAnalysisPath, req.params, 'path');
    parseParams(NoParams, req.query);
    await authorize(req, 'partner', { file: p.file }, p.org);
    const g = await gen(res);
    const analysis = await partnerGapAnalysis(g, p.org);
    const name = (ext: string) => safeName([p.org, 'gap-analysis', g.asOf], ext);
    if (p.file.endsWith('.csv')) {
      const { csv, rows } = gapAnalysisCsv(analysis);
      await sendBuffer(req, res, ctx.hooks.onDownload, csv, { kind: 'gap-analysis', filename: name('csv'), rows, ext: 'csv', params: { org: p.org }, run_id: g.runId });
    } else {
      const { buffer, rows } = await gapAnalysisXlsx(analysis);
      await sendBuffer(req, res, ctx.hooks.onDownload, buffer, { kind: 'gap-analysis', filename: name('xlsx'), rows, ext: 'xlsx', params: { org: p.org }, run_id: g.runId });
    }
  });

  return r;
}
