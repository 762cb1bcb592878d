// The check that certifies partners' views before a publish (issue 14, route 7). It reads
// what each partner is actually shown (the published rows, less what partner_withheld takes
// out of its view) rather than trusting the rule that chose partner_withheld (partners.ts),
// and runs the partner's attack on it with the true figures at hand:
//   the partner subtracts its own units; each domain row it is shown is a group whose
//   others' units it knows; all domains it is not shown form one more group, when it knows
//   the total (the `all` row, its periods, or every group of another one-way cut: their sum
//   is the total minus the shown domains). Another organisation X's figure is determined
//   when every group holding units (truth) that X serves is served by X alone among the
//   others; X's figure is then the sum of those groups.
// A domain's row counts as shown when its whole-span row is, when every period's row at some
// finer grain is (they add up to it), or when every cell of the domain in a two-way cut by
// domain is (they add up to it: the gap table's needs are unmet_need_rate's domain x county cells).
// The metrics it attacks: those cut by organisation (X's figure is its organisation row), and
// the need metrics a referral moves (partners.ts, NEED_METRICS_MOVED_BY_REFERRALS), whose part
// that belongs to X comes from the referrals (needUnitsSql below).
// Zero may be derived. A violation blocks the publish.
import type { DuckDBConnection } from '@duckdb/node-api';
import { intermediateSql } from '../intermediate/index.ts';
import { exec, rows, sqlString as str } from '../duckdb.ts';
import { ANY_OTHER_ORG, NEED_METRIC_PART, needMetricsCutByDomain, readDirectory } from './partners.ts';

export interface PartnerViolation {
  partner: string;
  metric_id: string;
  org_id: string;
  quantity: string;
  /** the area's figure over the groups that give X's away (the partner subtracts its own from it) */
  area: number;
}

export interface PartnerAuditOptions {
  /** The run's as-of date: the need metrics' windows (30 and 90 days) are measured against it. */
  asOf?: string;
}

const QUANTITIES = ['numerator', 'denominator', 'complement'] as const;
const KEY = { numerator: 'n', denominator: 'd', complement: 'c' } as const;

/**
 * One row per (metric, domain, unit, organisation) for each unit of a need metric's part (at the
 * whole span) and each organisation holding a referral that counts for it. Read from the
 * intermediate models the metrics are built on (int_positive_needs, int_referral_milestones).
 * What it assumes of the partner: it knows every unit for which it holds such a referral (a
 * need referred to it within 30 days of the screening, met by its closing within 90 days), and
 * may know more; so X holds a part of a domain whenever one of its referrals counts there (a
 * unit referred to two organisations is in both parts): X's part is never taken for zero where
 * the partner could find it is not. The windows mirror the metrics' SQL (fct_positive_needs.sql,
 * fct_sns_e_needs.sql); the check compares the units with the metrics' true figures by domain
 * before it trusts them (needParts).
 */
function needUnitsSql(asOf: string, metrics: readonly string[]): string {
  const asof = `DATE ${str(asOf)}`;
  const parts: Record<string, string> = {
    // a same-domain referral (any status) on days 0..30; need_referral_rate counts needs whose 30 days have passed
    need_referral_rate: `SELECT 'need_referral_rate', n.domain, n.unit, r.org_id FROM needs n JOIN refs r ON r.person_id = n.person_id AND r.domain = n.domain
      AND r.referred_on BETWEEN n.screened_on AND n.screened_on + 30 WHERE n.screened_on + 30 <= ${asof}`,
    // days_to_referral's events: every need, referred on days 0..30
    days_to_referral: `SELECT 'days_to_referral', n.domain, n.unit, r.org_id FROM needs n JOIN refs r ON r.person_id = n.person_id AND r.domain = n.domain
      AND r.referred_on BETWEEN n.screened_on AND n.screened_on + 30`,
    // met: a same-domain referral made on or after the screening and closed need_met by day 90, 90 days having passed
    unmet_need_rate: `SELECT 'unmet_need_rate', n.domain, n.unit, r.org_id FROM needs n JOIN refs r ON r.person_id = n.person_id AND r.domain = n.domain
      AND r.referred_on >= n.screened_on AND r.outcome = 'need_met' AND r.closed_on <= n.screened_on + 90 WHERE n.screened_on + 90 <= ${asof}`,
    // SNS-E at the whole span: a person's first positive screen in the domain, a referral that is not cancelled on days 0..30.
    // Its denominator's enrollment rules (continuous enrollment, hospice, death) are not applied:
    // these units are a superset of the metric's, which can only add parts.
    sns_e_intervention_rate: `SELECT 'sns_e_intervention_rate', s.domain, s.unit, r.org_id FROM sns_e s JOIN refs r ON r.person_id = s.person_id AND r.domain = s.domain
      AND r.referred_on BETWEEN s.first_on AND s.first_on + 30 AND r.status <> 'cancelled' WHERE s.first_on + 30 <= ${asof}`,
  };
  return `WITH refs AS (SELECT person_id, domain, referred_on, coalesce(target_org_id, 'unknown') AS org_id, status, outcome, closed_on FROM int_referral_milestones),
needs AS (SELECT row_number() OVER (ORDER BY screening_id, domain, person_id, screened_on) AS unit, person_id, domain, screened_on FROM int_positive_needs),
sns_e AS (SELECT row_number() OVER (ORDER BY person_id, domain) AS unit, person_id, domain, min(screened_on) AS first_on FROM int_positive_needs
  WHERE domain IN ('food', 'housing_instability', 'transportation') GROUP BY person_id, domain)
SELECT * FROM (${metrics.map((m) => parts[m]!).join('\nUNION ALL\n')}) u(metric_id, domain, unit, org_id)`;
}

const anyTable = async (conn: DuckDBConnection, t: string) =>
  ((await rows<{ n: number }>(conn, `SELECT count(*)::INTEGER AS n FROM duckdb_tables() WHERE table_name = ${str(t)} AND database_name IN (current_database(), 'temp')`))[0]?.n ?? 0) > 0;

/**
 * Each need metric's organisation parts (metric -> organisation -> units) at the whole span,
 * after checking that the units by domain are the metric's true part (truth, grain `all`): equal,
 * or for sns_e_intervention_rate (whose enrollment rules are not applied) at least as many. A
 * model that does not match the metric refuses the publish rather than certify on it.
 */
async function needParts(conn: DuckDBConnection, truth: string, metrics: readonly string[], asOf: string | undefined): Promise<Map<string, Map<string, number>>> {
  const parts = new Map<string, Map<string, number>>();
  if (!metrics.length) return parts;
  const staged = (await anyTable(conn, 'stg_screenings')) && (await anyTable(conn, 'stg_referrals'));
  const created: string[] = [];
  try {
    await exec(conn, 'CREATE OR REPLACE TEMP TABLE _partner_need_units (metric_id VARCHAR, domain VARCHAR, unit BIGINT, org_id VARCHAR)');
    if (staged) {
      if (!asOf) throw new Error(`partner check: the need metrics ${metrics.join(', ')} are published by domain, but without the run's as-of date their referrals cannot be counted: nothing published`);
      // the metric engine drops its intermediate models when done: built again here, from the staging tables
      for (const model of ['int_referral_milestones', 'int_positive_needs'] as const) {
        if (await anyTable(conn, model)) continue;
        await exec(conn, `CREATE OR REPLACE TEMP TABLE ${model} AS\n${intermediateSql(model, asOf)}`);
        created.push(model);
      }
      await exec(conn, `INSERT INTO _partner_need_units ${needUnitsSql(asOf, metrics)}`);
    }
    const q = (m: string) => `WHEN ${str(m)} THEN ${NEED_METRIC_PART[m] === 'complement' ? 'denominator - numerator' : NEED_METRIC_PART[m]}`;
    const mismatched = await rows<{ metric_id: string; domain: string; truth: number; units: number }>(conn, `
      WITH t AS (SELECT metric_id, group_value AS domain, CASE metric_id ${metrics.map(q).join(' ')} END::DOUBLE AS truth
        FROM ${truth} WHERE period_grain = 'all' AND dimension = 'domain' AND metric_id IN (${metrics.map(str).join(', ')})),
      u AS (SELECT metric_id, domain, count(DISTINCT unit)::DOUBLE AS units FROM _partner_need_units GROUP BY ALL)
      SELECT metric_id, domain, coalesce(t.truth, 0) AS truth, coalesce(u.units, 0) AS units FROM t FULL JOIN u USING (metric_id, domain)
      WHERE CASE WHEN metric_id = 'sns_e_intervention_rate' THEN coalesce(u.units, 0) < coalesce(t.truth, 0) ELSE coalesce(u.units, 0) <> coalesce(t.truth, 0) END
      ORDER BY metric_id, domain LIMIT 1`);
    if (mismatched.length) {
      const x = mismatched[0]!;
      throw new Error(`partner check: ${x.metric_id}'s ${NEED_METRIC_PART[x.metric_id]} in domain ${x.domain} is ${x.truth} in the results, but the referrals account for ${x.units}: the check's model of which organisation each unit belongs to does not match the metric (models/disclosure/partnerAudit.ts, needUnitsSql); nothing published`);
    }
    for (const r of await rows<{ metric_id: string; org_id: string; units: number }>(conn,
      'SELECT metric_id, org_id, count(DISTINCT unit)::DOUBLE AS units FROM _partner_need_units GROUP BY ALL ORDER BY ALL')) {
      if (!parts.has(r.metric_id)) parts.set(r.metric_id, new Map());
      parts.get(r.metric_id)!.set(r.org_id, r.units);
    }
  } finally {
    await exec(conn, 'DROP TABLE IF EXISTS _partner_need_units');
    for (const model of created) await exec(conn, `DROP TABLE IF EXISTS ${model}`);
  }
  return parts;
}

export async function auditPartnerViews(conn: DuckDBConnection, truth: string, published = 'metric_results', opts: PartnerAuditOptions = {}): Promise<PartnerViolation[]> {
  if (!(await anyTable(conn, 'partner_withheld'))) return [];
  const serving = await readDirectory(conn);
  if (!serving.size) return [];
  const orgMetrics = (await rows<{ m: string }>(conn, `SELECT DISTINCT metric_id AS m FROM ${truth} WHERE dimension = 'target_org_id' ORDER BY 1`)).map((r) => r.m);
  // need metrics the publication cuts by domain (one- or two-way)
  const needMetrics = (await needMetricsCutByDomain(conn, truth)).filter((m) => !orgMetrics.includes(m));
  const inScope = [...orgMetrics, ...needMetrics];
  if (!inScope.length) return [];
  const parts = await needParts(conn, truth, needMetrics, opts.asOf);
  // true figures at the whole span, and whether the partner knows each one (before partners'
  // withholding): its whole-span row is shown, or every period's row at some finer grain is
  // (the periods add up to the whole span), or (a domain) every cell of it in a two-way cut is
  const scope = `t.dimension IN ('all', 'domain', 'target_org_id') AND t.metric_id IN (${inScope.map(str).join(', ')})`;
  const domainPart = `CASE WHEN starts_with(t.dimension, 'domain*') THEN split_part(t.group_value, '*', 1) ELSE split_part(t.group_value, '*', 2) END`;
  const cells = await rows<{ metric_id: string; dimension: string; group_value: string; n: number; d: number; c: number; shown: boolean }>(conn, `
    WITH by_grain AS (
      SELECT t.metric_id, t.dimension, t.group_value, bool_and(coalesce(NOT p.suppressed, false)) AS every_period_shown
      FROM ${truth} t LEFT JOIN ${published} p USING (metric_id, period_grain, period_start, dimension, group_value)
      WHERE t.period_grain <> 'all' AND ${scope}
      GROUP BY t.metric_id, t.dimension, t.group_value, t.period_grain
    ), by_periods AS (SELECT metric_id, dimension, group_value, bool_or(every_period_shown) AS shown FROM by_grain GROUP BY ALL),
    by_cut AS (
      SELECT t.metric_id, ${domainPart} AS group_value, bool_and(coalesce(NOT p.suppressed, false)) AS every_cell_shown
      FROM ${truth} t LEFT JOIN ${published} p USING (metric_id, period_grain, period_start, dimension, group_value)
      WHERE t.period_grain = 'all' AND (starts_with(t.dimension, 'domain*') OR ends_with(t.dimension, '*domain'))
        AND t.metric_id IN (${inScope.map(str).join(', ')})
      GROUP BY t.metric_id, t.dimension, 2
    ), by_cuts AS (SELECT metric_id, 'domain' AS dimension, group_value, bool_or(every_cell_shown) AS shown FROM by_cut GROUP BY ALL)
    SELECT t.metric_id, t.dimension, t.group_value, coalesce(t.numerator, 0)::DOUBLE AS n, coalesce(t.denominator, 0)::DOUBLE AS d,
      CASE WHEN t.numerator IS NULL OR t.denominator IS NULL THEN 0 ELSE t.denominator - t.numerator END::DOUBLE AS c,
      coalesce(NOT p.suppressed, false) OR coalesce(b.shown, false) OR coalesce(w.shown, false) AS shown
    FROM ${truth} t LEFT JOIN ${published} p USING (metric_id, period_grain, period_start, dimension, group_value)
      LEFT JOIN by_periods b ON b.metric_id = t.metric_id AND b.dimension = t.dimension AND b.group_value = t.group_value
      LEFT JOIN by_cuts w ON w.metric_id = t.metric_id AND w.dimension = t.dimension AND w.group_value = t.group_value
    WHERE t.period_grain = 'all' AND ${scope}`);
  // a need metric's organisation "rows": X's part of the quantity a referral decides (the others stay 0: no organisation's)
  for (const [m, byOrg] of parts) {
    for (const [org, units] of byOrg) {
      const k = KEY[NEED_METRIC_PART[m]!];
      cells.push({ metric_id: m, dimension: 'target_org_id', group_value: org, n: 0, d: 0, c: 0, [k]: units, shown: false });
    }
  }
  // the area total is known too when every group of another one-way cut is shown (they add up to it)
  const totalByCut = new Set((await rows<{ metric_id: string }>(conn, `
    SELECT metric_id FROM (
      SELECT t.metric_id, bool_and(coalesce(NOT p.suppressed, false)) AS every_group_shown
      FROM ${truth} t LEFT JOIN ${published} p USING (metric_id, period_grain, period_start, dimension, group_value)
      WHERE t.period_grain = 'all' AND t.dimension NOT IN ('all', 'domain', 'target_org_id') AND t.dimension NOT LIKE '%*%'
        AND t.metric_id IN (${inScope.map(str).join(', ')})
      GROUP BY t.metric_id, t.dimension)
    GROUP BY metric_id HAVING bool_or(every_group_shown)`)).map((r) => r.metric_id));
  const withheld = await rows<{ org_id: string; metric_id: string; domain: string | null }>(conn, 'SELECT org_id, metric_id, domain FROM partner_withheld');
  const denied = new Set(withheld.map((w) => `${w.org_id}|${w.metric_id}|${w.domain ?? '*'}`));
  const partners = new Set<string>([ANY_OTHER_ORG, ...[...serving.values()].flatMap((s) => [...s])]);
  for (const c of cells) if (c.dimension === 'target_org_id' && c.group_value !== 'unknown') partners.add(c.group_value);
  const metrics = [...new Set(cells.map((c) => c.metric_id))].sort();
  const out: PartnerViolation[] = [];
  for (const p of [...partners].sort()) {
    for (const m of metrics) {
      if (denied.has(`${p}|${m}|*`)) continue;
      const mine = cells.filter((c) => c.metric_id === m);
      const total = mine.find((c) => c.dimension === 'all');
      const domains = mine.filter((c) => c.dimension === 'domain');
      const shown = domains.filter((c) => c.shown && !denied.has(`${p}|${m}|${c.group_value}`));
      const groups = shown.map((c) => [c]);
      const rest = domains.filter((c) => !shown.includes(c));
      if ((total?.shown || totalByCut.has(m)) && rest.length) groups.push(rest);
      // the other organisations a group mixes: those serving its domains with units (a domain
      // without units mixes nothing: its zero may be given away elsewhere, or by the metric's
      // definition, as SNS-E's three domains are)
      const others = (g: typeof domains, k: 'n' | 'd' | 'c') => new Set(g.filter((c) => c[k] > 0).flatMap((c) => [...(serving.get(c.group_value) ?? [])]).filter((o) => o !== p));
      for (const org of mine.filter((c) => c.dimension === 'target_org_id' && c.group_value !== p)) {
        for (const q of QUANTITIES) {
          const k = KEY[q];
          if (org[k] <= 0) continue;
          // the domains X serves that hold units and that no group the partner knows covers: X's figure is open there
          const loose = domains.filter((c) => c[k] > 0 && serving.get(c.group_value)?.has(org.group_value) && !groups.some((g) => g.includes(c)));
          if (loose.length) continue;
          const withX = groups.filter((g) => others(g, k).has(org.group_value));
          if (withX.length && withX.every((g) => others(g, k).size === 1)) {
            out.push({ partner: p, metric_id: m, org_id: org.group_value, quantity: q, area: withX.reduce((a, g) => a + g.reduce((s, c) => s + c[k], 0), 0) });
          }
        }
      }
    }
  }
  return out;
}
