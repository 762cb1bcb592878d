// Service gaps: the published gap table (domain x county cells ranked by unmet positive
// needs), the service directory, and a partner's gap analysis: the gap table for the
// counties it serves with its own referral figures beside the area's. A partner's output
// never carries another named organization's figures, nor statistics comparing it with
// one (the reference group of the target_org_id cut is another organization).
import type { Row } from '../../models/duckdb.ts';
import type { PeriodGrain } from '../../models/results.ts';
import type { Generation } from '../generation.ts';
import { countyLabel, countyName } from '../geo.ts';
import { groupLabel } from '../labels.ts';
import { HttpError, notFound } from '../http.ts';
import { availability, findMetric } from './catalog.ts';
import { PARTNER_NOTE, partnerWithheldRows } from './partnerView.ts';
import { resultRowsFor } from './results.ts';

export const notAvailable = (what: string) => new HttpError(404, `${what} is not available in this run`, { reason: 'not_available' });

export interface GapFilter {
  domain?: string;
  county?: string;
  counties?: string[];
}

/** Gap table rows, ranked, with county names. Columns pass through as published. */
export async function gapTable(gen: Generation, f: GapFilter = {}): Promise<Row[]> {
  if (!gen.hasTable('gap_table')) throw notAvailable('the gap table');
  const where: string[] = [];
  const params: string[] = [];
  if (f.domain) {
    where.push('domain = ?');
    params.push(f.domain);
  }
  if (f.county) {
    where.push('county_fips = ?');
    params.push(f.county);
  }
  if (f.counties) {
    if (f.counties.length === 0) return [];
    where.push(`county_fips IN (${f.counties.map(() => '?').join(', ')})`);
    params.push(...f.counties);
  }
  const order = gen.hasColumns('gap_table', 'rank') ? 'rank' : gen.hasColumns('gap_table', 'unmet_needs') ? 'unmet_needs DESC NULLS LAST, domain, county_fips' : 'domain, county_fips';
  const columns = (gen.tables.get('gap_table') ?? []).filter((c) => c !== 'run_id' && c !== 'as_of').map((c) => `"${c}"`);
  const rows = await gen.query(`SELECT ${columns.join(', ')} FROM gap_table${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order}`, params);
  const withheld = await withheldGapFigures(gen);
  const partnerHidden = await partnerWithheldDomains(gen);
  return rows.map((r) => ({
    ...r, domain_label: groupLabel('domain', String(r.domain)), county_name: countyName(String(r.county_fips)),
    note: gapNote(r, (metric) => withheld.has(`${metric}|${r.domain}*${r.county_fips}`),
      (metric) => partnerHidden.has(`${metric}|${r.domain}`) || partnerHidden.has(`${metric}|*`)),
  }));
}

/** "metric|domain*county" of every whole-span domain x county result withheld by the publish. */
function withheldGapFigures(gen: Generation): Promise<Set<string>> {
  return gen.memo('gap-withheld', async () => {
    if (!gen.hasTable('metric_results')) return new Set<string>();
    const rows = await gen.query<{ k: string }>(`SELECT metric_id || '|' || group_value AS k FROM metric_results
      WHERE period_grain = 'all' AND dimension = 'domain*county_fips' AND suppressed
        AND metric_id IN ('unmet_need_rate', 'capacity_rejection_share', 'demand_capacity_ratio')`);
    return new Set(rows.map((r) => r.k));
  });
}

/** For a partner's view (server/data/partnerView.ts): the domains whose referral figures it withholds ('*': all of them). */
async function partnerWithheldDomains(gen: Generation): Promise<Set<string>> {
  return new Set((await partnerWithheldRows(gen)).filter((r) => r.metric_id === 'capacity_rejection_share' || r.metric_id === 'unmet_need_rate')
    .map((r) => `${r.metric_id}|${r.domain ?? '*'}`));
}

const CAPACITY_NOTES: Record<string, string> = {
  'no provider': 'no provider (no directory program serves this need here)',
  'capacity unknown': 'capacity unknown (a serving program did not report its capacity)',
  'zero capacity': 'zero capacity (the serving programs report a capacity of 0)',
};

/**
 * Why a gap-table row has an empty figure, in words (issue 16: no empty cell unexplained):
 * withheld to protect small counts (its result withheld, or its counts nulled with the row's),
 * no positive need whose 90 days have passed, no referral closed without the need met, or the
 * directory's reason for having no capacity ratio. Null when every figure is there.
 */
export function gapNote(r: Row, resultWithheld: (metric: string) => boolean, partnerWithheld: (metric: string) => boolean = () => false): string | null {
  const notes: string[] = [];
  const withheld = (metric: string, count: string) => resultWithheld(metric) || (r.suppressed === true && r[count] === null);
  const empty = (k: string) => r[k] === null || r[k] === undefined;
  if (empty('unmet_need_rate')) {
    notes.push(`Unmet need rate: ${partnerWithheld('unmet_need_rate') ? PARTNER_NOTE
      : withheld('unmet_need_rate', 'needs_measurable') ? 'withheld (n<11)' : 'no positive need has reached day 90 yet'}`);
  }
  if (empty('capacity_rejection_share')) {
    notes.push(`Closed for no capacity: ${partnerWithheld('capacity_rejection_share') ? PARTNER_NOTE
      : withheld('capacity_rejection_share', 'closed_not_met_referrals') ? 'withheld (n<11)' : 'no referral here was closed without the need met'}`);
  }
  if (empty('demand_capacity_ratio')) {
    const reason = CAPACITY_NOTES[String(r.capacity_note)];
    notes.push(`Needs per capacity-month: ${reason ?? (withheld('demand_capacity_ratio', 'capacity_months') ? 'withheld (n<11)' : 'no capacity figure')}`);
  }
  return notes.length ? `${notes.join('. ')}.` : null;
}

export interface Org {
  org_id: string;
  org_name: string;
}

/** Organizations: the directory's, and any that received referrals. */
export function organizations(gen: Generation): Promise<Org[]> {
  return gen.memo('organizations', async () => {
    const named = gen.hasTable('service_directory')
      ? await gen.query<Org>(`SELECT org_id, any_value(org_name) AS org_name FROM service_directory GROUP BY org_id ORDER BY org_id`)
      : [];
    const a = await availability(gen);
    const ids = new Set(named.map((o) => o.org_id));
    const extra = (a.groups.get('target_org_id') ?? []).filter((id) => !ids.has(id) && id !== 'unknown').map((id) => ({ org_id: id, org_name: id }));
    return [...named, ...extra].sort((x, y) => x.org_id.localeCompare(y.org_id));
  });
}

/** Organization id -> directory name, for labels (server/labels.ts). */
export async function orgNames(gen: Generation): Promise<Map<string, string>> {
  return new Map((await organizations(gen)).map((o) => [o.org_id, o.org_name]));
}

export async function requireOrg(gen: Generation, org: string): Promise<Org> {
  const o = (await organizations(gen)).find((x) => x.org_id === org);
  if (!o) throw notFound(`unknown organization '${org}'`, { parameter: 'org' });
  return o;
}

/** Counties where the organization's directory programs serve (from the published service directory). */
export async function countiesServed(gen: Generation, org: string): Promise<string[]> {
  if (!gen.hasTable('service_directory')) throw notAvailable('the service directory (needed to know which counties an organization serves)');
  const r = await gen.query<{ c: string }>(`SELECT DISTINCT county_fips AS c FROM service_directory WHERE org_id = ? ORDER BY 1`, [org]);
  return r.map((x) => x.c);
}

/** The measures of a partner scorecard / gap analysis, in display order. */
export const PARTNER_MEASURES = ['referral_acceptance_rate', 'closed_loop_rate', 'need_met_rate', 'days_to_close', 'stale_open_referrals'] as const;

/** Figures a partner may see: its own and the area's, without comparison statistics. */
const FIGURE_COLUMNS = ['period_grain', 'period_start', 'period_end', 'numerator', 'denominator', 'value', 'ci_low', 'ci_high', 'suppressed', 'note'] as const;

export interface PartnerFigure {
  metric_id: string;
  title: string;
  kind: string;
  unit: string;
  org: Record<string, unknown> | null;
  area: Record<string, unknown> | null;
}

export async function partnerFigures(gen: Generation, org: string, grain: PeriodGrain = 'all', periodStart?: string): Promise<PartnerFigure[]> {
  const a = await availability(gen);
  const metrics = PARTNER_MEASURES.filter((m) => a.metrics.has(m));
  const rows = [
    ...(await resultRowsFor(gen, metrics, { dimension: 'target_org_id', group: org, grain, period_start: periodStart })),
    ...(await resultRowsFor(gen, metrics, { dimension: 'all', grain, period_start: periodStart })),
  ];
  const pick = (r: Row | undefined) => (r ? Object.fromEntries(FIGURE_COLUMNS.map((c) => [c, r[c] ?? null])) : null);
  // Snapshot metrics (stale open referrals) exist for grain 'all' only.
  const latest = (rs: Row[]) => rs.sort((x, y) => String(y.period_start).localeCompare(String(x.period_start)))[0];
  return PARTNER_MEASURES.map((id) => {
    const m = findMetric(id)!;
    const mine = rows.filter((r) => r.metric_id === id);
    return {
      metric_id: id,
      title: m.title,
      kind: m.kind,
      unit: m.unit,
      org: pick(latest(mine.filter((r) => r.dimension === 'target_org_id'))),
      area: pick(latest(mine.filter((r) => r.dimension === 'all'))),
    };
  });
}

export async function partnerGapAnalysis(gen: Generation, orgId: string) {
  const org = await requireOrg(gen, orgId);
  const counties = await countiesServed(gen, orgId);
  const gaps = await gapTable(gen, { counties });
  const directory = gen.hasTable('service_directory')
    ? await gen.query<{ domain: string; county_fips: string; program_name: string }>(`SELECT domain, county_fips, program_name FROM service_directory WHERE org_id = ?`, [orgId])
    : [];
  const served = (d: string, c: string) => directory.filter((x) => x.domain === d && x.county_fips === c).map((x) => x.program_name);
  // Other organizations' programs are counted, not named, in a partner's download.
  const cells = gaps.map((g) => {
    const { programs: _names, ...rest } = g;
    void _names;
    const yours = served(String(g.domain), String(g.county_fips));
    const serving = typeof g.serving_programs === 'number' ? g.serving_programs : null;
    return { ...rest, your_programs: yours.join('; '), other_providers: serving === null ? null : serving - yours.length };
  });
  return {
    org,
    counties: counties.map((c) => ({ county_fips: c, county: countyLabel(c) })),
    figures: await partnerFigures(gen, orgId),
    gaps: cells,
    run: gen.runInfo,
  };
}
