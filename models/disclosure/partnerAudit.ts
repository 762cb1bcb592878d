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
// Zero may be derived. A violation blocks the publish.
import type { DuckDBConnection } from '@duckdb/node-api';
import { rows } from '../duckdb.ts';
import { ANY_OTHER_ORG, readDirectory } from './partners.ts';

export interface PartnerViolation {
  partner: string;
  metric_id: string;
  org_id: string;
  quantity: string;
  /** the area's figure over the groups that give X's away (the partner subtracts its own from it) */
  area: number;
}

const QUANTITIES = ['numerator', 'denominator', 'complement'] as const;

export async function auditPartnerViews(conn: DuckDBConnection, truth: string, published = 'metric_results'): Promise<PartnerViolation[]> {
  const has = async (t: string) => ((await rows<{ n: number }>(conn, `SELECT count(*)::INTEGER AS n FROM duckdb_tables() WHERE table_name = '${t}' AND schema_name = 'main' AND database_name = current_database()`))[0]?.n ?? 0) > 0;
  if (!(await has('partner_withheld'))) return [];
  const serving = await readDirectory(conn);
  if (!serving.size) return [];
  // true figures at the whole span, and whether the partner knows each one (before partners'
  // withholding): its whole-span row is shown, or every period's row at some finer grain is
  // (the periods add up to the whole span)
  const scope = `t.dimension IN ('all', 'domain', 'target_org_id') AND t.metric_id IN (SELECT DISTINCT metric_id FROM ${truth} WHERE dimension = 'target_org_id')`;
  const cells = await rows<{ metric_id: string; dimension: string; group_value: string; n: number; d: number; c: number; shown: boolean }>(conn, `
    WITH by_grain AS (
      SELECT t.metric_id, t.dimension, t.group_value, bool_and(coalesce(NOT p.suppressed, false)) AS every_period_shown
      FROM ${truth} t LEFT JOIN ${published} p USING (metric_id, period_grain, period_start, dimension, group_value)
      WHERE t.period_grain <> 'all' AND ${scope}
      GROUP BY t.metric_id, t.dimension, t.group_value, t.period_grain
    ), by_periods AS (SELECT metric_id, dimension, group_value, bool_or(every_period_shown) AS shown FROM by_grain GROUP BY ALL)
    SELECT t.metric_id, t.dimension, t.group_value, coalesce(t.numerator, 0)::DOUBLE AS n, coalesce(t.denominator, 0)::DOUBLE AS d,
      CASE WHEN t.numerator IS NULL OR t.denominator IS NULL THEN 0 ELSE t.denominator - t.numerator END::DOUBLE AS c,
      coalesce(NOT p.suppressed, false) OR coalesce(b.shown, false) AS shown
    FROM ${truth} t LEFT JOIN ${published} p USING (metric_id, period_grain, period_start, dimension, group_value)
      LEFT JOIN by_periods b ON b.metric_id = t.metric_id AND b.dimension = t.dimension AND b.group_value = t.group_value
    WHERE t.period_grain = 'all' AND ${scope}`);
  // the area total is known too when every group of another one-way cut is shown (they add up to it)
  const totalByCut = new Set((await rows<{ metric_id: string }>(conn, `
    SELECT metric_id FROM (
      SELECT t.metric_id, bool_and(coalesce(NOT p.suppressed, false)) AS every_group_shown
      FROM ${truth} t LEFT JOIN ${published} p USING (metric_id, period_grain, period_start, dimension, group_value)
      WHERE t.period_grain = 'all' AND t.dimension NOT IN ('all', 'domain', 'target_org_id') AND t.dimension NOT LIKE '%*%'
        AND t.metric_id IN (SELECT DISTINCT metric_id FROM ${truth} WHERE dimension = 'target_org_id')
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
      const others = (g: typeof domains) => new Set(g.flatMap((c) => [...(serving.get(c.group_value) ?? [])]).filter((o) => o !== p));
      for (const org of mine.filter((c) => c.dimension === 'target_org_id' && c.group_value !== p)) {
        for (const q of QUANTITIES) {
          const k = q === 'numerator' ? 'n' : q === 'denominator' ? 'd' : 'c';
          if (org[k] <= 0) continue;
          // the domains X serves that hold units and that no group the partner knows covers: X's figure is open there
          const loose = domains.filter((c) => c[k] > 0 && serving.get(c.group_value)?.has(org.group_value) && !groups.some((g) => g.includes(c)));
          if (loose.length) continue;
          const withX = groups.filter((g) => g.some((c) => c[k] > 0) && others(g).has(org.group_value));
          if (withX.length && withX.every((g) => others(g).size === 1)) {
            out.push({ partner: p, metric_id: m, org_id: org.group_value, quantity: q, area: withX.reduce((a, g) => a + g.reduce((s, c) => s + c[k], 0), 0) });
          }
        }
      }
    }
  }
  return out;
}
