// A partner's view of a generation: every query a partner's request runs reads the
// results, the curves and the gap table through the partner's withholding
// (models/disclosure/partners.ts, table partner_withheld), so no route can forget it.
// pinGeneration hands this view to every request of a partner principal, with the rows of
// partner_withheld that apply to it (partnerWithheldAs: its own, or `*`'s for an
// organisation the rule did not decide for).
//
// In the view:
//   - metric_results: a row of a withheld (metric, domain) or a withheld whole metric, and a
//     row of another organisation, keeps its keys (frames stay fixed) with every figure (its
//     reliability flag too) and comparison emptied, `suppressed` true and the note PARTNER_NOTE; a row compared with a
//     withheld reference group loses its comparison. The partner's own rows pass.
//   - km_curves: the curves of a withheld whole metric, and other organisations' curves, are gone.
//   - gap_table: the referral figures (closed for no capacity) of a withheld domain are emptied,
//     and its needs met (and unmet) where unmet_need_rate is withheld; the rank (by unmet needs) is
//     taken again on what the view shows.
// The view also keeps its own cache (memo keys carry the organisation), and refuses raw
// connections (exports and reports are not a partner's).
import { GAP_RANK } from '../../models/disclosure/otherTables.ts';
import { ANY_OTHER_ORG } from '../../models/disclosure/partners.ts';
import type { Generation } from '../generation.ts';
import { HttpError } from '../http.ts';

export const PARTNER_NOTE = 'withheld from partner views: another organisation could be singled out';

// unreliable goes with the figures: on a row that is not a small cell, true says 11..19
const FIGURES = ['numerator', 'denominator', 'value', 'ci_low', 'ci_high', 'unreliable'];
const COMPARISONS = ['reference_group', 'rate_difference', 'rd_ci_low', 'rd_ci_high', 'rate_ratio', 'rr_ci_low', 'rr_ci_high', 'p_value', 'q_value', 'disparity_flag', 'disparity_flag_unadjusted'];
const GAP_REFERRAL_FIGURES = ['no_capacity_referrals', 'closed_not_met_referrals', 'capacity_rejection_share'];
// needs met within 90 days, and what follows from them: withheld with unmet_need_rate (partners.ts, NEED_METRICS_MOVED_BY_REFERRALS)
const GAP_NEED_FIGURES = ['needs_met', 'unmet_needs', 'unmet_need_rate', 'unmet_ci_low', 'unmet_ci_high'];

const lit = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** The part of a group value (or reference group) for one dimension of a (possibly two-way) cut. */
const partOf = (dim: string, value: string, name: string) =>
  `CASE WHEN ${dim} = '${name}' THEN ${value} WHEN starts_with(${dim}, '${name}*') THEN split_part(${value}, '*', 1) WHEN ends_with(${dim}, '*${name}') THEN split_part(${value}, '*', 2) END`;

function resultsView(gen: Generation, org: string, withheldAs: string): string {
  const cols = gen.tables.get('metric_results') ?? [];
  const withheld = gen.hasTable('partner_withheld');
  const o = lit(org);
  const w = lit(withheldAs);
  const ownOrOther = `(${partOf('r.dimension', 'r.group_value', 'target_org_id')})`;
  const otherOrg = `coalesce(${ownOrOther} <> ${o}, false)`;
  const hid = withheld
    ? `(${otherOrg} OR (coalesce(${ownOrOther}, '') <> ${o} AND EXISTS (SELECT 1 FROM partner_withheld h WHERE h.org_id = ${w} AND h.metric_id = r.metric_id
        AND (h.domain IS NULL OR h.domain = ${partOf('r.dimension', 'r.group_value', 'domain')}))))`
    : otherOrg;
  const refHid = withheld && cols.includes('reference_group')
    ? `(coalesce(${partOf('r.dimension', 'r.reference_group', 'target_org_id')} <> ${o}, false) OR EXISTS (SELECT 1 FROM partner_withheld h WHERE h.org_id = ${w} AND h.metric_id = r.metric_id
        AND h.domain = ${partOf('r.dimension', 'r.reference_group', 'domain')}))`
    : 'false';
  const select = cols.map((c) => {
    const q = `y."${c}"`;
    if (FIGURES.includes(c)) return `CASE WHEN y.__hid THEN NULL ELSE ${q} END AS "${c}"`;
    if (COMPARISONS.includes(c)) return `CASE WHEN y.__hid OR y.__ref_hid THEN NULL ELSE ${q} END AS "${c}"`;
    if (c === 'suppressed') return `(${q} OR y.__hid) AS "${c}"`;
    if (c === 'note') return `CASE WHEN y.__hid THEN ${lit(PARTNER_NOTE)} ELSE ${q} END AS "${c}"`;
    return `${q} AS "${c}"`;
  });
  return `(SELECT ${select.join(', ')} FROM (SELECT r.*, ${hid} AS __hid, ${refHid} AS __ref_hid FROM metric_results r) y)`;
}

function curvesView(gen: Generation, org: string, withheldAs: string): string {
  const o = lit(org);
  const whole = gen.hasTable('partner_withheld')
    ? ` AND NOT EXISTS (SELECT 1 FROM partner_withheld h WHERE h.org_id = ${lit(withheldAs)} AND h.metric_id = k.metric_id AND h.domain IS NULL)`
    : '';
  return `(SELECT k.* FROM km_curves k WHERE coalesce(${partOf('k.dimension', 'k.group_value', 'target_org_id')} = ${o}, true)${whole})`;
}

function gapView(gen: Generation, withheldAs: string): string {
  const cols = gen.tables.get('gap_table') ?? [];
  if (!gen.hasTable('partner_withheld')) return '(SELECT * FROM gap_table)';
  const hidFor = (metric: string) => `EXISTS (SELECT 1 FROM partner_withheld h WHERE h.org_id = ${lit(withheldAs)} AND h.metric_id = '${metric}' AND (h.domain IS NULL OR h.domain = g.domain))`;
  const hid = hidFor('capacity_rejection_share');
  const needHid = hidFor('unmet_need_rate');
  const select = cols.map((c) => (GAP_REFERRAL_FIGURES.includes(c) ? `CASE WHEN ${hid} THEN NULL ELSE g."${c}" END AS "${c}"`
    : GAP_NEED_FIGURES.includes(c) ? `CASE WHEN ${needHid} THEN NULL ELSE g."${c}" END AS "${c}"`
    : c === 'suppressed' ? `(g."${c}" OR ${hid} OR ${needHid}) AS "${c}"` : `g."${c}"`));
  const view = `(SELECT ${select.join(', ')} FROM gap_table g)`;
  // the published rank orders cells by unmet needs: ranked again on what the partner sees, or
  // a cell whose needs it withholds would sit between the shown cells that bound them
  return cols.includes('rank') && cols.includes('unmet_needs') && cols.includes('unmet_need_rate')
    ? `(SELECT * REPLACE (${GAP_RANK} AS rank) FROM ${view} v)` : view;
}

// A read of a narrowed table: FROM or JOIN, then the name, bare or quoted, maybe qualified
// (`main.metric_results`, `"main"."metric_results"`).
const NARROWED = String.raw`(metric_results|km_curves|gap_table)`;
const READ = new RegExp(String.raw`\b(FROM|JOIN)(\s+)(?:(?:"[^"]*"|\w+)\s*\.\s*){0,2}("?)${NARROWED}\3(?![\w"])`, 'gi');
const MENTION = new RegExp(String.raw`\b${NARROWED}\b`, 'i');
const STRING_LITERAL = /'(?:[^']|'')*'/g;

/**
 * The SQL with every table a partner's view narrows read through that view. Any other mention
 * of those tables (after a comma, after a comment, as a column's qualifier) is refused rather
 * than guessed at: it would read around the view.
 */
export function partnerSql(gen: Generation, org: string, sql: string, withheldAs = org): string {
  const views: Record<string, () => string> = {
    metric_results: () => resultsView(gen, org, withheldAs),
    km_curves: () => curvesView(gen, org, withheldAs),
    gap_table: () => gapView(gen, withheldAs),
  };
  const unread = sql.replace(STRING_LITERAL, "''").replace(READ, ' ');
  const left = MENTION.exec(unread);
  if (left) throw new Error(`partner view: the query names ${left[1]} other than as FROM/JOIN ${left[1]}, which the view cannot rewrite: refused`);
  return sql.replace(READ, (_m, kw: string, sp: string, _q: string, t: string) => `${kw}${sp}${views[t.toLowerCase()]!()}`);
}

/**
 * Whose rows of partner_withheld apply to partner `org`: its own, or, for an organisation the
 * rule did not decide for (not in the directory, no referral in the run), those of any
 * organisation it does not know (ANY_OTHER_ORG).
 */
export function partnerWithheldAs(gen: Generation, org: string): Promise<string> {
  if (!gen.hasTable('partner_withheld')) return Promise.resolve(org);
  // `unknown` is the organisation cut's group of referrals with no target: no organisation
  if (org === 'unknown') return Promise.resolve(ANY_OTHER_ORG);
  return gen.memo(`partner-withheld-as:${org}`, async () => {
    const known = [`EXISTS (SELECT 1 FROM partner_withheld WHERE org_id = $org)`,
      `EXISTS (SELECT 1 FROM metric_results WHERE dimension = 'target_org_id' AND group_value = $org)`];
    if (gen.hasTable('service_directory')) known.push(`EXISTS (SELECT 1 FROM service_directory WHERE org_id = $org)`);
    const r = await gen.query<{ known: boolean }>(`SELECT ${known.join(' OR ')} AS known`, { org });
    return r[0]?.known ? org : ANY_OTHER_ORG;
  });
}

/** The generation as partner `org` may read it (`withheldAs`: partnerWithheldAs). */
export function partnerView(gen: Generation, org: string, withheldAs = org): Generation {
  return new Proxy(gen, {
    get(target, prop, receiver) {
      if (prop === 'query') return (sql: string, params?: Record<string, unknown> | unknown[]) => target.query(partnerSql(target, org, sql, withheldAs), params);
      if (prop === 'memo') return (key: string, compute: () => Promise<unknown>, sizeOf?: (v: unknown) => number) => target.memo(`${key}@org:${org}`, compute, sizeOf);
      if (prop === 'withConnection') return () => Promise.reject(new HttpError(403, 'not available to partners', { reason: 'forbidden' }));
      if (prop === 'partnerOrg') return org;
      if (prop === 'partnerWithheldAs') return withheldAs;
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/** The rows of partner_withheld that apply to this view (none for other principals). */
export function partnerWithheldRows(gen: Generation): Promise<Array<{ metric_id: string; domain: string | null }>> {
  const as = (gen as Generation & { partnerWithheldAs?: string }).partnerWithheldAs;
  if (as === undefined || !gen.hasTable('partner_withheld')) return Promise.resolve([]);
  return gen.memo('partner-withheld-rows', () => gen.query<{ metric_id: string; domain: string | null }>(
    'SELECT metric_id, domain FROM partner_withheld WHERE org_id = ?', [as]));
}

/** The metrics a partner's view withholds something of (none for other principals). */
export async function partnerWithheldMetrics(gen: Generation): Promise<Set<string>> {
  return new Set((await partnerWithheldRows(gen)).map((r) => r.metric_id));
}

/** The chart note of a partner's view that withholds figures of the chart's metric. */
export const PARTNER_CHART_NOTE = 'Some figures here are withheld from partner views because another organisation could be singled out by subtracting your own figures (need domains served by one other organisation): they are marked like small cells, and may hold more than 10.';
