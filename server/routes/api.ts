// The JSON API (outputs.md, "HTTP"). Every parameter is validated with zod (strict: an
// unknown parameter is an error, never silently ignored); every response is built from
// the generation pinned to the request and cached for that generation's life.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { metricDictionaryMarkdown } from '../../models/metrics/catalog.ts';
import { PERIOD_GRAINS } from '../../models/results.ts';
import { availability, dimensionLabel, GROUP_TITLES, METRICS, publicMetric } from '../data/catalog.ts';
import { groupLabel } from '../labels.ts';
import { story } from '../data/story.ts';
import { kmCurves, scorecards } from '../data/closedLoop.ts';
import { disparities } from '../data/disparities.ts';
import { gapTable, organizations, partnerFigures, partnerGapAnalysis, requireOrg } from '../data/gaps.ts';
import { HEADLINE_METRICS, overview } from '../data/overview.ts';
import { phq9Outcomes, prePost } from '../data/outcomes.ts';
import { evaluation } from '../data/evaluation.ts';
import { freshness, loadReport, qualityChecks, runHistory } from '../data/quality.ts';
import { checkFilter, checkSubset, oneOf, requireMetric, RESULT_COLUMN_NAMES, resultRows } from '../data/results.ts';
import { pinGeneration, type Generation, type GenerationManager } from '../generation.ts';
import { countyLabel } from '../geo.ts';
import { HttpError, isoDate, parseParams, token } from '../http.ts';
import { involvesOrg, resultsResource, type AccessRequest, type Grant, type ServerHooks } from '../hooks.ts';
import { narrowOrgs, narrowResultRows, scopeKey } from '../data/scope.ts';

export interface ApiContext {
  root: string;
  generations: GenerationManager;
  hooks: ServerHooks;
}

const none = z.strictObject({});
const subset = { program: token().optional(), county: token(8).optional(), domain: token().optional() };

/**
 * Send a JSON body computed once per generation and key, with its ETag and a gzipped copy
 * made once too (a published generation never changes, so neither does the body).
 */
export async function cachedJson(req: Request, res: Response, gen: Generation, key: string, compute: () => Promise<unknown>) {
  const cached = await gen.memo(`json:${key}`, async () => {
    const body = Buffer.from(JSON.stringify(await compute()), 'utf8');
    return {
      body,
      gzip: body.length > 1024 ? gzipSync(body, { level: 6 }) : null,
      etag: `W/"${gen.runId}-${createHash('sha1').update(body).digest('base64url').slice(0, 20)}"`,
    };
  }, (c) => c.body.length + (c.gzip?.length ?? 0));
  res.setHeader('X-Closeloop-Run', gen.runId);
  res.setHeader('ETag', cached.etag);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Vary', 'Accept-Encoding');
  if (cached.gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? '')) && !req.fresh) {
    res.setHeader('Content-Encoding', 'gzip');
    res.send(cached.gzip);
    return;
  }
  res.send(cached.body);
}

export function apiRouter(ctx: ApiContext): Router {
  const r = Router();
  const gen = (res: Response) => pinGeneration(res, ctx.generations);
  const authorize = async (req: Request, access: AccessRequest): Promise<Grant> => (await ctx.hooks.authorize?.(req, access)) ?? {};

  r.get('/', async (req, res) => {
    parseParams(none, req.query);
    await authorize(req, { resource: 'meta' });
    res.json({
      endpoints: [
        'GET /api/run', 'GET /api/metrics', 'GET /api/metrics/:id?dimension=&grain=&period_start=&from=&to=&group=', 'GET /api/filters', 'GET /api/overview?grain=&from=&to=&program=&county=&domain=', 'GET /api/story',
        'GET /api/km?metric=&dimension=&group=&period_start=', 'GET /api/scorecards?grain=&period_start=', 'GET /api/gaps?domain=&county=', 'GET /api/gaps.csv?domain=&county=&bom=', 'GET /api/disparities?metric=&dimension=&grain=&period_start=',
        'GET /api/phq9?dimension=&grain=&period_start=', 'GET /api/prepost?dimension=', 'GET /api/evaluation?domain=', 'GET /api/quality', 'GET /api/runs?limit=', 'GET /api/partners', 'GET /api/partners/:org/scorecard',
        'GET /api/partners/:org/gap-analysis.json|.csv|.xlsx', 'GET /api/dictionary', 'GET /api/charts', 'GET /api/charts/:chart.json|.vl.json|.svg|.png|.csv',
        'GET /api/exports/metrics/:metric.csv|.xlsx|.json|.parquet|.arrow?dimension=&grain=', 'GET /api/exports/report.xlsx|.csv?grain=&from=&to=&program=&dimension=',
        'GET /api/session', 'GET /api/admin/users', 'GET /api/admin/audit?since=&user=&kind=&limit=',
      ],
    });
  });

  r.get('/health', async (req, res) => {
    parseParams(none, req.query);
    const runId = await gen(res).then((g) => g.runId, () => null);
    res.json({ ok: true, run_id: runId });
  });

  r.get('/run', async (req, res) => {
    parseParams(none, req.query);
    await authorize(req, { resource: 'meta' });
    const g = await gen(res);
    res.json({ ...g.runInfo, tables: [...g.tables.keys()].filter((t) => t !== 'load_report').sort() });
  });

  r.get('/metrics', async (req, res) => {
    parseParams(none, req.query);
    await authorize(req, { resource: 'meta' });
    const g = await gen(res);
    await cachedJson(req, res, g, 'metrics', async () => {
      const a = await availability(g);
      return {
        run_id: g.runId,
        as_of: g.asOf,
        groups: Object.entries(GROUP_TITLES).map(([id, title]) => ({ id, title })),
        metrics: METRICS.map((m) => ({
          ...publicMetric(m),
          available: a.metrics.has(m.id),
          grains: [...(a.periods.get(m.id)?.keys() ?? [])],
          published_dimensions: [...(a.dimensions.get(m.id) ?? [])].sort(),
        })),
      };
    });
  });

  const MetricQuery = z.strictObject({
    dimension: token().optional(),
    grain: z.enum(PERIOD_GRAINS).optional(),
    period_start: isoDate.optional(),
    from: isoDate.optional(),
    to: isoDate.optional(),
    group: z.string().min(1).max(200).optional(),
  });
  const MetricPath = z.strictObject({ id: token() });
  r.get('/metrics/:id', async (req, res) => {
    const { id } = parseParams(MetricPath, req.params, 'path');
    const q = parseParams(MetricQuery, req.query);
    // Without a dimension every cut is returned, the organization cut included: narrowable.
    const grant = await authorize(req, { resource: resultsResource(q.dimension), params: { metric: id, ...q }, narrowable: true });
    const g = await gen(res);
    const m = await requireMetric(g, id);
    await checkFilter(g, { metric: id, ...q });
    if (grant.narrowTo !== undefined && q.group !== undefined && !involvesOrg(q.dimension)) await refuseOtherOrg(g, q.group, grant.narrowTo);
    await cachedJson(req, res, g, `metric:${id}:${JSON.stringify(q)}${scopeKey(grant.narrowTo)}`, async () => ({
      metric: publicMetric(m),
      run_id: g.runId,
      as_of: g.asOf,
      columns: RESULT_COLUMN_NAMES,
      rows: narrowResultRows(await resultRows(g, { metric: id, ...q }), grant.narrowTo),
    }));
  });

  r.get('/filters', async (req, res) => {
    parseParams(none, req.query);
    const grant = await authorize(req, { resource: 'meta' });
    const g = await gen(res);
    await cachedJson(req, res, g, `filters${scopeKey(grant.narrowTo)}`, async () => {
      const a = await availability(g);
      const orgs = narrowOrgs(await organizations(g), grant.narrowTo);
      const km: Record<string, string[]> = {};
      if (g.hasTable('km_curves')) {
        for (const r of await g.query<{ m: string; d: string }>(`SELECT DISTINCT metric_id AS m, dimension AS d FROM km_curves ORDER BY 1, 2`)) {
          (km[r.m] ??= []).push(r.d);
        }
      }
      return {
        run_id: g.runId,
        as_of: g.asOf,
        grains: PERIOD_GRAINS,
        periods: Object.fromEntries(a.allPeriods),
        // A partner is offered no breakdown by organization (it sees its own figures on its scorecard).
        dimensions: [...new Set([...a.dimensions.values()].flatMap((s) => [...s]))].filter((d) => grant.narrowTo === undefined || !involvesOrg(d)).sort().map((d) => ({ id: d, label: dimensionLabel(d) })),
        programs: (a.groups.get('program_id') ?? []).map((p) => ({ id: p, label: p })),
        counties: (a.groups.get('county_fips') ?? []).map((c) => ({ id: c, label: c === 'unknown' ? 'unknown' : countyLabel(c) })),
        domains: (a.groups.get('domain') ?? []).map((d) => ({ id: d, label: groupLabel('domain', d) })),
        orgs: orgs.map((o) => ({ id: o.org_id, label: `${o.org_name}` })),
        metrics: METRICS.filter((m) => a.metrics.has(m.id)).map((m) => ({ id: m.id, label: m.title, group: m.group, kind: m.kind, disparities: m.disparities, dimensions: [...(a.dimensions.get(m.id) ?? [])].sort() })),
        headline_metrics: HEADLINE_METRICS,
        /** Published tables (what the pages can show) and the Kaplan-Meier curves there are. */
        tables: [...g.tables.keys()].sort(),
        km,
      };
    });
  });

  const OverviewQuery = z.strictObject({ grain: z.enum(['year', 'quarter', 'month']).default('quarter'), from: isoDate.optional(), to: isoDate.optional(), ...subset });
  r.get('/overview', async (req, res) => {
    const q = parseParams(OverviewQuery, req.query);
    await authorize(req, { resource: 'aggregate', params: q });
    const g = await gen(res);
    const s = await checkSubset(g, q);
    await cachedJson(req, res, g, `overview:${JSON.stringify(q)}`, () => overview(g, { grain: q.grain, from: q.from, to: q.to, subset: s }));
  });

  // The overview's story (server/data/story.ts): whole area, whole span, area aggregates only.
  r.get('/story', async (req, res) => {
    parseParams(none, req.query);
    await authorize(req, { resource: 'aggregate' });
    const g = await gen(res);
    await cachedJson(req, res, g, 'story', () => story(g));
  });

  const KmQuery = z.strictObject({ metric: z.enum(['days_to_close', 'days_to_service', 'days_to_referral']).default('days_to_close'), dimension: token().default('all'), group: z.string().min(1).max(200).optional(), period_start: isoDate.optional() });
  r.get('/km', async (req, res) => {
    const q = parseParams(KmQuery, req.query);
    const grant = await authorize(req, { resource: resultsResource(q.dimension), params: q, narrowable: true });
    const g = await gen(res);
    await cachedJson(req, res, g, `km:${JSON.stringify(q)}${scopeKey(grant.narrowTo)}`, async () => ({
      run_id: g.runId,
      as_of: g.asOf,
      rows: narrowResultRows(await kmCurves(g, { ...q, grain: 'all' }), grant.narrowTo),
    }));
  });

  const PeriodQuery = z.strictObject({ grain: z.enum(PERIOD_GRAINS).default('all'), period_start: isoDate.optional() });
  r.get('/scorecards', async (req, res) => {
    const q = parseParams(PeriodQuery, req.query);
    // A partner sees its own row and the area's figures, never another organization's.
    const grant = await authorize(req, { resource: 'partner_comparison', params: q, narrowable: true });
    const g = await gen(res);
    await cachedJson(req, res, g, `scorecards:${JSON.stringify(q)}${scopeKey(grant.narrowTo)}`, async () => {
      const s = await scorecards(g, q);
      return { run_id: g.runId, as_of: g.asOf, grain: q.grain, ...s, cells: grant.narrowTo === undefined ? s.cells : s.cells.filter((c) => c.org_id === grant.narrowTo) };
    });
  });

  const GapsQuery = z.strictObject({ domain: token().optional(), county: token(8).optional() });
  r.get('/gaps', async (req, res) => {
    const q = parseParams(GapsQuery, req.query);
    const grant = await authorize(req, { resource: 'aggregate', params: q });
    const g = await gen(res);
    const a = await availability(g);
    if (q.domain) oneOf('domain', q.domain, a.groups.get('domain') ?? []);
    if (q.county) oneOf('county', q.county, a.groups.get('county_fips') ?? []);
    await cachedJson(req, res, g, `gaps:${JSON.stringify(q)}${scopeKey(grant.narrowTo)}`, async () => {
      const rows = await gapTable(g, q);
      // The programs column names other organizations: a partner gets the counts only.
      return { run_id: g.runId, as_of: g.asOf, rows: grant.narrowTo === undefined ? rows : rows.map(({ programs: _p, ...rest }) => rest) };
    });
  });

  const DisparityQuery = z.strictObject({ metric: token(), dimension: token(), grain: z.enum(PERIOD_GRAINS).default('all'), period_start: isoDate.optional() });
  r.get('/disparities', async (req, res) => {
    const q = parseParams(DisparityQuery, req.query);
    await authorize(req, { resource: resultsResource(q.dimension), params: q });
    const g = await gen(res);
    await checkFilter(g, { metric: q.metric, dimension: q.dimension, grain: q.grain });
    if (q.period_start) oneOf('period_start', q.period_start, (await availability(g)).periods.get(q.metric)?.get(q.grain) ?? []);
    await cachedJson(req, res, g, `disparities:${JSON.stringify(q)}`, async () => ({ run_id: g.runId, as_of: g.asOf, ...(await disparities(g, q)) }));
  });

  const Phq9Query = z.strictObject({ dimension: token().default('all'), grain: z.enum(PERIOD_GRAINS).default('all'), period_start: isoDate.optional() });
  r.get('/phq9', async (req, res) => {
    const q = parseParams(Phq9Query, req.query);
    await authorize(req, { resource: resultsResource(q.dimension), params: q });
    const g = await gen(res);
    await checkFilter(g, { metric: 'phq9_remission_rate', dimension: q.dimension, grain: q.grain });
    await cachedJson(req, res, g, `phq9:${JSON.stringify(q)}`, async () => ({ run_id: g.runId, as_of: g.asOf, rows: await phq9Outcomes(g, q) }));
  });

  const PrePostQuery = z.strictObject({ dimension: token().default('all') });
  r.get('/prepost', async (req, res) => {
    const q = parseParams(PrePostQuery, req.query);
    await authorize(req, { resource: resultsResource(q.dimension), params: q });
    const g = await gen(res);
    await checkFilter(g, { metric: 'ed_visits_pre_referral_per_1000_mm', dimension: q.dimension });
    await cachedJson(req, res, g, `prepost:${JSON.stringify(q)}`, async () => ({ run_id: g.runId, as_of: g.asOf, ...(await prePost(g, q)) }));
  });

  // The evaluation (issue 22): area-wide aggregates, published under the small-cell rule.
  r.get('/evaluation', async (req, res) => {
    const q = parseParams(z.strictObject({ domain: token().optional() }), req.query);
    await authorize(req, { resource: 'aggregate' });
    const g = await gen(res);
    await cachedJson(req, res, g, `evaluation:${q.domain ?? ''}`, async () => ({ run_id: g.runId, as_of: g.asOf, ...(await evaluation(g, q.domain)) }));
  });

  r.get('/quality', async (req, res) => {
    parseParams(none, req.query);
    await authorize(req, { resource: 'operational' });
    const g = await gen(res);
    await cachedJson(req, res, g, 'quality', async () => ({ run: g.runInfo, files: await loadReport(g), checks: await qualityChecks(g), freshness: await freshness(g) }));
  });

  const RunsQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(1000).default(100) });
  r.get('/runs', async (req, res) => {
    const q = parseParams(RunsQuery, req.query);
    await authorize(req, { resource: 'operational', params: q });
    res.json({ current_run_id: ctx.generations.currentRunId, runs: await runHistory(ctx.root, q.limit) });
  });

  r.get('/partners', async (req, res) => {
    parseParams(none, req.query);
    const grant = await authorize(req, { resource: 'partner_comparison', narrowable: true });
    const g = await gen(res);
    await cachedJson(req, res, g, `partners${scopeKey(grant.narrowTo)}`, async () => ({ run_id: g.runId, as_of: g.asOf, partners: narrowOrgs(await organizations(g), grant.narrowTo) }));
  });

  const OrgPath = z.strictObject({ org: token() });
  r.get('/partners/:org/scorecard', async (req, res) => {
    const { org } = parseParams(OrgPath, req.params, 'path');
    const q = parseParams(PeriodQuery, req.query);
    await authorize(req, { resource: 'partner', org, params: q });
    const g = await gen(res);
    const o = await requireOrg(g, org);
    await cachedJson(req, res, g, `partner-scorecard:${org}:${JSON.stringify(q)}`, async () => ({
      run_id: g.runId,
      as_of: g.asOf,
      org: o,
      figures: await partnerFigures(g, org, q.grain, q.period_start),
    }));
  });

  r.get('/partners/:org/gap-analysis.json', async (req, res) => {
    const { org } = parseParams(OrgPath, req.params, 'path');
    parseParams(none, req.query);
    await authorize(req, { resource: 'partner', org });
    const g = await gen(res);
    await cachedJson(req, res, g, `gap-analysis:${org}`, () => partnerGapAnalysis(g, org));
  });

  const DictionaryQuery = z.strictObject({ format: z.enum(['json', 'markdown']).default('json') });
  r.get('/dictionary', async (req, res) => {
    const q = parseParams(DictionaryQuery, req.query);
    await authorize(req, { resource: 'meta' });
    if (q.format === 'markdown') {
      res.type('text/markdown; charset=utf-8').send(metricDictionaryMarkdown());
      return;
    }
    res.json({ groups: Object.entries(GROUP_TITLES).map(([id, title]) => ({ id, title, metrics: METRICS.filter((m) => m.group === id).map(publicMetric) })) });
  });

  return r;
}

/** A partner naming another organization as a group (without the organization cut) is refused too. */
async function refuseOtherOrg(g: Generation, group: string, own: string) {
  const orgs = await organizations(g);
  if (group !== own && orgs.some((o) => o.org_id === group)) throw new HttpError(403, 'not allowed: another organization\'s figures', { reason: 'forbidden' });
}

