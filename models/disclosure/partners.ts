// What each partner organisation's views withhold on top of the publication (issue 14,
// route 7: partner self-subtraction).
//
// The attacker: a partner P. It holds everything its role is served (area figures of every
// metric by every dimension but organisation, its own organisation's row), its own records
// (so its own contribution to every cell: it can subtract it), the public service
// directory (which organisation serves which need domain) and this code.
// What it must not learn: another organisation's figures (a numerator, denominator or
// complement of a metric cut by organisation), exactly or as a proven interval.
//
// Why the directory is the whole question. A referral metric's units each belong to one
// organisation. The only published facts that separate organisations are the directory's
// organisation x domain pairs (a referral goes to an organisation that serves its domain:
// 3,133 of 3,134 referrals in the 3,000-person demo). Every other cut (periods, counties,
// population groups, other metrics sharing a count) splits units by person, the same way
// for every organisation. So once P subtracts its own units, what it knows about the other
// organisations is, per group G of domains it can tell apart, s_G = the other
// organisations' units in G, where the split of s_G between the organisations serving G is
// free. Organisation X's figure then lies in [sum of s_G over groups served only by X
// (among the others), sum of s_G over groups X serves]: it is proven (exactly, or inside
// 1..10) only if some group with s_G > 0 is served by X alone. So:
//   - a domain whose units (among organisations other than P) can only be X's is withheld
//     from P, in every cut by domain of every metric cut by organisation, at every grain;
//   - the withheld domains form one group (`all` minus the shown domains gives its sum),
//     which must itself be served by two or more other organisations: if not, one more
//     domain served by another organisation joins it (complementary withholding);
//   - a metric whose units can come from one other organisation only (its domains with
//     units are served, besides P, by X alone: e.g. a metric counting only the domains
//     two organisations serve) is withheld from P whole, curves included.
// s_G > 0 is judged from the area's true figures (not the others' part, which needs P's own
// split by domain): that can only withhold more. Zero may be derived.
//
// Need metrics whose counts a referral moves (NEED_METRICS_MOVED_BY_REFERRALS) are not cut
// by organisation, but a partner knows its own part of them: they are withheld in the same
// domains.
//
// Not covered (README, "Not yet done"): a directory tie by county (98% of the demo's
// referrals go to a program serving the person's county: an approximate tie, not a proof).
import type { DuckDBConnection } from '@duckdb/node-api';
import { exec, rows, sqlString as str } from '../duckdb.ts';

export interface PartnerWithheld {
  org_id: string;
  metric_id: string;
  /** null: the whole metric */
  domain: string | null;
  reason: string;
}

export interface PartnerFigures {
  /** metric -> organisation -> quantity -> true count at the whole span */
  orgs: Map<string, Map<string, number[]>>;
  /** metric -> domain -> quantity -> true count at the whole span */
  domains: Map<string, Map<string, number[]>>;
  /** domain -> organisations the public directory lists as serving it */
  directory: Map<string, Set<string>>;
  /** Need metrics a referral moves that the publication cuts by domain (NEED_METRICS_MOVED_BY_REFERRALS); their figures by domain, where known, are in `domains`. */
  needMetrics?: readonly string[];
}

/**
 * The rows partner_withheld holds for any organisation the rule does not know (not in the
 * directory, no referral in the run): a partner credential can name any organisation id, and
 * such a partner subtracts nothing, so it is withheld what an organisation with no units is.
 */
export const ANY_OTHER_ORG = '*';

export const SOLE_DOMAIN = 'its units can come from only one other organisation';
export const COMPLEMENT_DOMAIN = 'withheld with the domains above, so that their sum mixes two or more organisations';
export const SOLE_METRIC = 'its units can come from only one other organisation';
export const SOLE_NEED = 'the referrals that move these needs can come from only one other organisation';

/**
 * Need metrics whose counts a referral moves: a need referred within 30 days
 * (need_referral_rate, days_to_referral, sns_e_intervention_rate), or closed as met within 90
 * (unmet_need_rate, and the gap table's needs met). A partner knows which of those needs
 * were referred to it, so in a domain whose other referrals can only be one other
 * organisation's, the area's figure minus its own is that organisation's count of needs it
 * was referred or met. They are withheld from the partner in the same domains as the
 * referral metrics.
 */
export const NEED_METRICS_MOVED_BY_REFERRALS: readonly string[] = ['need_referral_rate', 'days_to_referral', 'sns_e_intervention_rate', 'unmet_need_rate'];

/** The need metrics a referral moves that the results (truth) cut by domain, one- or two-way. */
export async function needMetricsCutByDomain(conn: DuckDBConnection, truth: string): Promise<string[]> {
  return (await rows<{ m: string }>(conn, `SELECT DISTINCT metric_id AS m FROM ${truth}
     WHERE list_contains(string_split(dimension, '*'), 'domain') AND metric_id IN (${NEED_METRICS_MOVED_BY_REFERRALS.map(str).join(', ')}) ORDER BY 1`)).map((r) => r.m);
}

/**
 * The part of each of those metrics that a referral decides, and so the quantity a partner
 * knows its own share of: the needs (or, for SNS-E, people x domain) referred within 30 days,
 * and the needs met within 90 days (unmet_need_rate's complement; the gap table's needs met).
 * Their denominators and the other complements (not referred, not met) are no organisation's.
 */
export const NEED_METRIC_PART: Readonly<Record<string, 'numerator' | 'complement'>> = {
  need_referral_rate: 'numerator', days_to_referral: 'numerator', sns_e_intervention_rate: 'numerator', unmet_need_rate: 'complement',
};
const NEED_PART_INDEX = { numerator: 0, complement: 2 } as const;

/**
 * The partner rule on the true figures (pure: the tests hand it tables worked out by hand).
 * Quantities are numerator, denominator and complement where the metric has them.
 */
export function decidePartnerWithholding(f: PartnerFigures): PartnerWithheld[] {
  const partners = new Set<string>([ANY_OTHER_ORG]);
  for (const orgs of f.directory.values()) for (const o of orgs) partners.add(o);
  for (const byOrg of f.orgs.values()) for (const o of byOrg.keys()) if (o !== 'unknown') partners.add(o);
  const serving = (d: string, p: string) => [...(f.directory.get(d) ?? [])].filter((o) => o !== p);
  const out: PartnerWithheld[] = [];
  for (const p of [...partners].sort()) {
    const hidden = new Set<string>();
    const whole = new Set<string>();
    for (const [m, byOrg] of f.orgs) {
      const areas = f.domains.get(m) ?? new Map<string, number[]>();
      const quantities = Math.max(...[...byOrg.values()].map((q) => q.length), 0);
      for (let q = 0; q < quantities; q++) {
        const positive = (o: string) => (byOrg.get(o)?.[q] ?? 0) > 0;
        const withUnits = [...areas].filter(([, v]) => (v[q] ?? 0) > 0).map(([d]) => d);
        // without a cut by domain, every domain with units of any organisation could hold them
        const domains = withUnits.length || areas.size ? withUnits : [...f.directory.keys()];
        const others = new Set(domains.flatMap((d) => serving(d, p)));
        if (others.size === 1 && positive([...others][0]!)) whole.add(m);
        for (const d of withUnits) {
          const s = serving(d, p);
          if (s.length === 1 && positive(s[0]!)) hidden.add(d);
        }
      }
    }
    // Complementary withholding, per metric and quantity: the withheld domains holding units of
    // the metric are one group (`all` minus the shown domains), which must mix two or more other
    // organisations. A domain without units mixes nothing (its zero may be given away by another
    // table, or by the metric's definition: SNS-E counts three domains), so a metric with units
    // in fewer withheld domains than the others needs its own complement. The candidates are
    // taken in one order for every metric (the domain most metrics have units in first), so
    // metrics that share a count withhold the same domains.
    const units = (d: string) => [...f.domains.values()].filter((a) => (a.get(d) ?? []).some((v) => v > 0)).length;
    const order = [...f.directory.keys()].sort((a, b) => units(b) - units(a) || a.localeCompare(b));
    const complements = new Map<string, Set<string>>();
    if (hidden.size) {
      for (const m of [...f.orgs.keys(), ...(f.needMetrics ?? [])]) {
        if (whole.has(m)) continue;
        const areas = f.domains.get(m);
        // a need metric given without its figures by domain: every domain may hold its units
        const has = (d: string, q: number) => !areas || (areas.get(d)?.[q] ?? 0) > 0;
        const added = new Set<string>();
        for (const q of f.orgs.has(m) ? [0, 1, 2] : [NEED_PART_INDEX[NEED_METRIC_PART[m] ?? 'numerator']]) {
          const group = [...hidden, ...added].filter((d) => has(d, q));
          if (!group.length) continue;
          const mixers = new Set(group.flatMap((d) => serving(d, p)));
          if (mixers.size >= 2) continue;
          const next = order.find((d) => !hidden.has(d) && !added.has(d) && has(d, q) && serving(d, p).some((o) => !mixers.has(o)));
          if (next === undefined) {
            whole.add(m);
            break;
          }
          added.add(next);
        }
        if (added.size && !whole.has(m)) complements.set(m, added);
      }
    }
    for (const m of [...f.orgs.keys()].sort()) {
      if (whole.has(m)) out.push({ org_id: p, metric_id: m, domain: null, reason: SOLE_METRIC });
      else {
        for (const d of [...hidden].sort()) out.push({ org_id: p, metric_id: m, domain: d, reason: SOLE_DOMAIN });
        for (const d of [...(complements.get(m) ?? [])].sort()) out.push({ org_id: p, metric_id: m, domain: d, reason: COMPLEMENT_DOMAIN });
      }
    }
    // Need metrics a referral moves: the same domains (and their complement). When every
    // referral metric is withheld whole (one other organisation with units in all), so are they.
    const needWhole = f.orgs.size > 0 && [...f.orgs.keys()].every((m) => whole.has(m));
    for (const m of [...(f.needMetrics ?? [])].sort()) {
      if (needWhole || whole.has(m)) out.push({ org_id: p, metric_id: m, domain: null, reason: SOLE_NEED });
      else {
        for (const d of [...hidden].sort()) out.push({ org_id: p, metric_id: m, domain: d, reason: SOLE_NEED });
        for (const d of [...(complements.get(m) ?? [])].sort()) out.push({ org_id: p, metric_id: m, domain: d, reason: COMPLEMENT_DOMAIN });
      }
    }
  }
  // a whole metric withheld makes its domain rows moot
  const wholeKeys = new Set(out.filter((w) => w.domain === null).map((w) => `${w.org_id}|${w.metric_id}`));
  return out.filter((w) => w.domain === null || !wholeKeys.has(`${w.org_id}|${w.metric_id}`));
}

/**
 * Builds `partner_withheld` from the true figures (`truth`: the results before suppression,
 * with fixed frames) and the staged directory. Metrics cut by organisation are the ones
 * the rule is about.
 */
export async function buildPartnerWithheld(conn: DuckDBConnection, truth: string): Promise<number> {
  await exec(conn, 'CREATE OR REPLACE TABLE partner_withheld (org_id VARCHAR, metric_id VARCHAR, domain VARCHAR, reason VARCHAR)');
  const needMetrics = await needMetricsCutByDomain(conn, truth);
  // the need metrics' figures by domain too: their complement is chosen on the domains holding their units
  const figures = await rows<{ metric_id: string; dimension: string; group_value: string; n: number | null; d: number | null }>(conn,
    `SELECT metric_id, dimension, group_value, sum(numerator)::DOUBLE AS n, sum(denominator)::DOUBLE AS d FROM ${truth}
     WHERE period_grain = 'all' AND dimension IN ('target_org_id', 'domain')
       AND (metric_id IN (SELECT DISTINCT metric_id FROM ${truth} WHERE dimension = 'target_org_id')
         OR (dimension = 'domain' AND metric_id IN (${needMetrics.length ? needMetrics.map(str).join(', ') : 'NULL'})))
     GROUP BY ALL`);
  if (!figures.some((r) => r.dimension === 'target_org_id')) return 0;
  const quantities = (n: number | null, d: number | null) => [n ?? 0, d ?? 0, n !== null && d !== null ? d - n : 0];
  const f: PartnerFigures = { orgs: new Map(), domains: new Map(), directory: await readDirectory(conn), needMetrics };
  for (const r of figures) {
    const into = r.dimension === 'target_org_id' ? f.orgs : f.domains;
    if (!into.has(r.metric_id)) into.set(r.metric_id, new Map());
    into.get(r.metric_id)!.set(r.group_value, quantities(r.n, r.d));
  }
  const withheld = decidePartnerWithholding(f);
  for (let i = 0; i < withheld.length; i += 1000) {
    await exec(conn, `INSERT INTO partner_withheld VALUES ${withheld.slice(i, i + 1000)
      .map((w) => `(${str(w.org_id)}, ${str(w.metric_id)}, ${w.domain === null ? 'NULL' : str(w.domain)}, ${str(w.reason)})`).join(', ')}`);
  }
  return withheld.length;
}

/** The staged public directory: domain -> the organisations serving it (empty without stg_services). */
export async function readDirectory(conn: DuckDBConnection): Promise<Map<string, Set<string>>> {
  const directory = new Map<string, Set<string>>();
  const staged = await rows<{ n: number }>(conn, `SELECT count(*)::INTEGER AS n FROM duckdb_tables() WHERE table_name = 'stg_services' AND schema_name = 'main' AND database_name = current_database()`);
  if (!staged[0]?.n) return directory;
  for (const r of await rows<{ domain: string; org_id: string }>(conn, 'SELECT DISTINCT domain, org_id FROM stg_services')) {
    if (!directory.has(r.domain)) directory.set(r.domain, new Set());
    directory.get(r.domain)!.add(r.org_id);
  }
  return directory;
}
