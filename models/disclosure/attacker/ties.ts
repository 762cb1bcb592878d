// Relations between published rows that their keys alone do not show, found in the data
// (issue 14, routes 2 and 3). The attacker may know them from the definitions or the public
// directory; the audit assumes it knows every one that holds.
//
//  - shared counts: one count published by two metrics where they are equal, e.g.
//    need_referral_rate's denominator and positive_needs once 30 days have passed, or
//    capacity_rejection_share's denominator and need_met_rate's complement. Found per
//    period: two metrics' counts (an atom, or a proportion's denominator) that agree on
//    every group both publish in that period, one of them non-zero.
//  - tied dimensions: two cuts of the same units whose groups nest or overlap in blocks,
//    e.g. limited_english `no` = preferred_language `en`, a ZIP3 inside one county, an
//    organisation that alone serves a domain. For each pair of dimensions, the groups
//    that ever occur together form connected blocks; within each block the two cuts add
//    up to the same count.
// Each relation is checked against the true figures in system.ts before use.
import type { DuckDBConnection } from '@duckdb/node-api';
import { rows } from '../../duckdb.ts';
import type { MetricMeta } from '../metricMeta.ts';
import { atomsOf, atomValues, type AtomType } from './atoms.ts';
import { cellKey, type AuditCell, type ExtraRelation } from './system.ts';

type Expr = AtomType | 'D';

/** Counts equal across two metrics in a period (true figures if known, else shown ones). */
export function sharedCountTies(cells: readonly AuditCell[], metas: Map<string, MetricMeta>): ExtraRelation[] {
  // period -> metric|expr -> group key -> value
  const periods = new Map<string, Map<string, Map<string, number>>>();
  // period -> metric -> every group it publishes (shown or withheld): an equality the
  // shown groups establish holds for the withheld ones too (the attacker's assumption; with
  // the truth at hand system.ts drops a tie that does not hold)
  const present = new Map<string, Map<string, Set<string>>>();
  for (const c of cells) {
    const meta = metas.get(c.metric_id);
    if (!meta) continue;
    const at = `${c.period_grain}\u001f${c.period_start}`;
    let byMetric = present.get(at);
    if (!byMetric) present.set(at, (byMetric = new Map()));
    let groups = byMetric.get(c.metric_id);
    if (!groups) byMetric.set(c.metric_id, (groups = new Set()));
    groups.add(`${c.dimension}\u001f${c.group_value}`);
    const figures = c.truth ?? c.shown;
    if (!figures) continue;
    const { atoms, total } = atomsOf(meta.kind, meta.dollarNumerator);
    const values = atomValues(meta.kind, meta.dollarNumerator, figures);
    const exprs: Array<[Expr, number | null]> = atoms.map((a, k) => [a.type, values[k] ?? null]);
    if (total && values[0] != null && values[1] != null) exprs.push(['D', (values[0] as number) + (values[1] as number)]);
    const period = `${c.period_grain}\u001f${c.period_start}`;
    let byExpr = periods.get(period);
    if (!byExpr) periods.set(period, (byExpr = new Map()));
    for (const [e, v] of exprs) {
      if (v === null || e === 'T') continue; // person-time sums are never exactly equal across metrics by chance alone
      const k = `${c.metric_id}\u001f${e}`;
      let m = byExpr.get(k);
      if (!m) byExpr.set(k, (m = new Map()));
      m.set(`${c.dimension}\u001f${c.group_value}`, v);
    }
  }
  // Equal pairs per period, then kept where the equality is structural: every period of a
  // grain, or the earliest periods of a grain up to the first one where the counts differ
  // (a window that has elapsed for old periods: need_referral_rate's denominator is
  // positive_needs once 30 days have passed). An equality that comes and goes is a
  // coincidence, not something a reader can know; it is not used.
  const equalIn = new Map<string, Set<string>>(); // pair -> periods where equal
  const pairsOf = new Map<string, { a: string; b: string }>();
  for (const [period, byExpr] of periods) {
    const list = [...byExpr.entries()];
    for (let a = 0; a < list.length; a++) {
      const [ka, va] = list[a]!;
      const ma = ka.split('\u001f')[0];
      for (let b = a + 1; b < list.length; b++) {
        const [kb, vb] = list[b]!;
        if (kb.split('\u001f')[0] === ma) continue;
        const [small, large] = va.size <= vb.size ? [va, vb] : [vb, va];
        let common = 0;
        let nonzero = false;
        let equal = true;
        for (const [g, x] of small) {
          const y = large.get(g);
          if (y === undefined) continue;
          if (Math.abs(x - y) > 1e-9 * Math.max(1, Math.abs(x))) {
            equal = false;
            break;
          }
          common++;
          if (x !== 0) nonzero = true;
        }
        if (!equal || !nonzero || common === 0) continue;
        const pair = `${ka}\u001e${kb}`;
        pairsOf.set(pair, { a: ka, b: kb });
        const set = equalIn.get(pair) ?? new Set<string>();
        set.add(period);
        equalIn.set(pair, set);
      }
    }
  }
  // the periods of each grain, oldest first
  const byGrain = new Map<string, string[]>();
  for (const period of periods.keys()) {
    const grain = period.split('\u001f')[0]!;
    byGrain.set(grain, [...(byGrain.get(grain) ?? []), period]);
  }
  for (const list of byGrain.values()) list.sort();
  const out: ExtraRelation[] = [];
  for (const [pair, equal] of equalIn) {
    const { a: ka, b: kb } = pairsOf.get(pair)!;
    const [metricA, exprA] = ka.split('\u001f') as [string, Expr];
    const [metricB, exprB] = kb.split('\u001f') as [string, Expr];
    for (const [, list] of byGrain) {
      // the structural periods: a prefix of the grain's periods where both publish
      const both = list.filter((p) => periods.get(p)!.has(ka) && periods.get(p)!.has(kb));
      const prefix: string[] = [];
      for (const p of both) {
        if (!equal.has(p)) break;
        prefix.push(p);
      }
      for (const period of prefix) {
        const [grain, start] = period.split('\u001f') as [string, string];
        const ga = present.get(period)!.get(metricA)!;
        const gb = present.get(period)!.get(metricB)!;
        for (const g of ga) {
          if (!gb.has(g)) continue;
          const [dimension, group] = g.split('\u001f') as [string, string];
          const key = (metric: string) => cellKey({ metric_id: metric, period_grain: grain, period_start: start, dimension, group_value: group });
          out.push({ relation: 'tie', terms: [{ key: key(metricA), atom: exprA, coef: 1 }, { key: key(metricB), atom: exprB, coef: -1 }] });
        }
      }
    }
  }
  return out;
}

/** Pairs of groups of two dimensions that occur together in the data. */
export interface Cooccurrence {
  d1: string;
  d2: string;
  pairs: Array<[string, string]>;
}

/**
 * Which groups of two dimensions occur together, from the warehouse: people's attributes
 * (int_person_attributes, rebuilt by the caller), referrals and the directory (organisation
 * x domain), referrals and positive screens joined to people (organisation or domain x a
 * person attribute). Dimensions a table lacks are skipped.
 */
export async function readCooccurrence(conn: DuckDBConnection, populationDimensions: readonly string[]): Promise<Cooccurrence[]> {
  const columns = new Set((await rows<{ c: string }>(conn, `SELECT column_name AS c FROM duckdb_columns() WHERE table_name = 'int_person_attributes'`)).map((r) => r.c));
  const pop = populationDimensions.filter((d) => columns.has(d) && d !== 'age_band');
  const out: Cooccurrence[] = [];
  const pairsOf = async (sql: string) => (await rows<{ a: string; b: string }>(conn, `SELECT a, b FROM (${sql}) ORDER BY a, b`)).map((r) => [String(r.a), String(r.b)] as [string, string]);
  for (let i = 0; i < pop.length; i++) {
    for (let j = i + 1; j < pop.length; j++) {
      out.push({ d1: pop[i]!, d2: pop[j]!, pairs: await pairsOf(`SELECT DISTINCT ${pop[i]}::VARCHAR AS a, ${pop[j]}::VARCHAR AS b FROM int_person_attributes`) });
    }
  }
  const hasTable = async (t: string) => ((await rows<{ n: number }>(conn, `SELECT count(*)::INTEGER AS n FROM duckdb_tables() WHERE table_name = '${t}'`))[0]?.n ?? 0) > 0;
  if (await hasTable('stg_referrals')) {
    const directory = (await hasTable('stg_services')) ? `UNION SELECT DISTINCT org_id, domain FROM stg_services` : '';
    out.push({ d1: 'target_org_id', d2: 'domain', pairs: await pairsOf(`SELECT DISTINCT target_org_id AS a, need_domain AS b FROM stg_referrals ${directory}`) });
    for (const d of pop) {
      out.push({ d1: 'target_org_id', d2: d, pairs: await pairsOf(`SELECT DISTINCT r.target_org_id AS a, p.${d}::VARCHAR AS b FROM stg_referrals r JOIN int_person_attributes p USING (person_id)`) });
      out.push({ d1: 'domain', d2: d, pairs: await pairsOf(`SELECT DISTINCT r.need_domain AS a, p.${d}::VARCHAR AS b FROM stg_referrals r JOIN int_person_attributes p USING (person_id)
        UNION SELECT DISTINCT s.domain, p.${d}::VARCHAR FROM stg_screenings s JOIN int_person_attributes p USING (person_id) WHERE s.result = 'positive'`) });
    }
  }
  return out;
}

/**
 * For every metric cut by both dimensions of a pair and every published period: within each
 * block of groups that occur together, the groups of one dimension add up to those of the
 * other. A pair whose groups form one block says nothing new (both add up to `all`).
 */
export function cooccurrenceTies(cells: readonly AuditCell[], metas: Map<string, MetricMeta>, cooc: readonly Cooccurrence[]): ExtraRelation[] {
  // metric|grain|start|dimension -> groups published
  const cuts = new Map<string, string[]>();
  for (const c of cells) {
    if (c.dimension.includes('*')) continue;
    const k = `${c.metric_id}\u001f${c.period_grain}\u001f${c.period_start}\u001f${c.dimension}`;
    const list = cuts.get(k);
    if (list) list.push(c.group_value);
    else cuts.set(k, [c.group_value]);
  }
  const periodsOf = new Map<string, Set<string>>(); // metric|dimension -> grain|start
  for (const k of cuts.keys()) {
    const [m, g, s, d] = k.split('\u001f') as [string, string, string, string];
    const mk = `${m}\u001f${d}`;
    let set = periodsOf.get(mk);
    if (!set) periodsOf.set(mk, (set = new Set()));
    set.add(`${g}\u001f${s}`);
  }
  const out: ExtraRelation[] = [];
  for (const { d1, d2, pairs } of cooc) {
    const blocks = connectedBlocks(pairs);
    if (blocks.length < 2) continue;
    for (const meta of metas.values()) {
      if (!meta.groupsSumToAll(d1) || !meta.groupsSumToAll(d2)) continue;
      const periods1 = periodsOf.get(`${meta.id}\u001f${d1}`);
      const periods2 = periodsOf.get(`${meta.id}\u001f${d2}`);
      if (!periods1 || !periods2) continue;
      const { atoms } = atomsOf(meta.kind, meta.dollarNumerator);
      for (const p of periods1) {
        if (!periods2.has(p)) continue;
        const [grain, start] = p.split('\u001f') as [string, string];
        const key = (d: string, g: string) => cellKey({ metric_id: meta.id, period_grain: grain, period_start: start, dimension: d, group_value: g });
        for (const b of blocks) {
          for (const a of atoms) {
            out.push({ relation: 'tie', terms: [...b.left.map((g) => ({ key: key(d1, g), atom: a.type, coef: 1 })), ...b.right.map((g) => ({ key: key(d2, g), atom: a.type, coef: -1 }))] });
          }
        }
      }
    }
  }
  return out;
}

function connectedBlocks(pairs: ReadonlyArray<[string, string]>): Array<{ left: string[]; right: string[] }> {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let r = x;
    while (parent.get(r) !== r) r = parent.get(r)!;
    parent.set(x, r);
    return r;
  };
  const add = (x: string) => {
    if (!parent.has(x)) parent.set(x, x);
  };
  for (const [a, b] of pairs) {
    const l = `L${a}`;
    const r = `R${b}`;
    add(l);
    add(r);
    const ra = find(l);
    const rb = find(r);
    if (ra !== rb) parent.set(ra, rb);
  }
  const blocks = new Map<string, { left: string[]; right: string[] }>();
  for (const node of parent.keys()) {
    const root = find(node);
    let b = blocks.get(root);
    if (!b) blocks.set(root, (b = { left: [], right: [] }));
    (node.startsWith('L') ? b.left : b.right).push(node.slice(1));
  }
  return [...blocks.values()];
}

/**
 * Counts two metrics publish by definition (the metric dictionary says so, so the attacker
 * knows them): equal once a window (days after the period's end) has elapsed by the as-of
 * date, or one a subset of the other's units (`le`). Quantities: n numerator (events,
 * count), d denominator (cases), c complement. The same list as an outside attacker reads
 * off the definitions (test/attacker). With the truth, every equality is offered and
 * system.ts keeps those the true figures satisfy; without it (an exported file), those
 * whose window has elapsed by the published as-of date. Every entry was checked against
 * the definitions in models/metrics/catalog.ts and a published 3,000-person demo (two that
 * the outside attacker's list has do not hold under these definitions: need_met_rate's
 * denominator counts referrals 90 days old, closed or not, not closed cases).
 */
export const DEFINITIONAL_TIES: ReadonlyArray<readonly [string, Quantity, string, Quantity, number, 'eq' | 'le']> = [
  ['need_referral_rate', 'd', 'positive_needs', 'n', 30, 'eq'],
  ['unmet_need_rate', 'd', 'positive_needs', 'n', 90, 'eq'],
  ['days_to_referral', 'd', 'positive_needs', 'n', 0, 'eq'],
  ['days_to_referral', 'n', 'need_referral_rate', 'n', 30, 'eq'],
  ['referral_acceptance_rate', 'd', 'days_to_close', 'd', 14, 'eq'],
  ['closed_loop_rate', 'd', 'days_to_close', 'd', 60, 'eq'],
  ['days_to_service', 'd', 'days_to_close', 'd', 0, 'eq'],
  ['phq9_response_rate', 'd', 'phq9_follow_up_rate', 'd', 0, 'eq'],
  ['phq9_remission_rate', 'd', 'phq9_follow_up_rate', 'd', 0, 'eq'],
  ['phq9_mean_change', 'd', 'phq9_follow_up_rate', 'n', 0, 'eq'],
  ['demand_capacity_ratio', 'n', 'positive_needs', 'n', 0, 'eq'],
  ['enrollment_after_referral_rate', 'd', 'days_to_close', 'd', 90, 'le'],
  ['phq9_response_rate', 'n', 'phq9_follow_up_rate', 'n', 0, 'le'],
  ['phq9_remission_rate', 'n', 'phq9_response_rate', 'n', 0, 'le'],
  ['closed_loop_rate', 'n', 'days_to_close', 'n', 0, 'le'],
  ['need_met_rate', 'd', 'days_to_close', 'd', 0, 'le'],
  ['need_met_rate', 'n', 'days_to_close', 'n', 0, 'le'],
  ['enrollment_after_referral_rate', 'd', 'need_met_rate', 'd', 0, 'le'],
  ['capacity_rejection_share', 'd', 'need_met_rate', 'c', 0, 'le'],
  ['capacity_rejection_share', 'd', 'days_to_close', 'n', 0, 'le'],
];
type Quantity = 'n' | 'd' | 'c';

/** The atom (or D) a quantity of a metric is, or null when it is not a protected count. */
function atomOfQuantity(meta: MetricMeta, q: Quantity): Expr | null {
  const { atoms, total } = atomsOf(meta.kind, meta.dollarNumerator);
  if (meta.kind === 'mean') return q === 'd' ? 'n' : null;
  if (total) return q === 'n' ? atoms[0]!.type : q === 'c' ? atoms[1]!.type : 'D';
  if (q !== 'n') return null;
  const first = atoms[0]!.type;
  return first === 'T' ? null : first;
}

export function definitionalTies(cells: readonly AuditCell[], metas: Map<string, MetricMeta>, withTruth: boolean): ExtraRelation[] {
  const keys = new Set(cells.map((c) => cellKey(c)));
  const out: ExtraRelation[] = [];
  for (const [a, qa, b, qb, window, kind] of DEFINITIONAL_TIES) {
    const ma = metas.get(a);
    const mb = metas.get(b);
    if (!ma || !mb) continue;
    const xa = atomOfQuantity(ma, qa);
    const xb = atomOfQuantity(mb, qb);
    if (!xa || !xb) continue;
    for (const c of cells) {
      if (c.metric_id !== a) continue;
      if (kind === 'eq' && !withTruth && !(c.elapsedDays != null && c.elapsedDays >= window)) continue;
      const kb = cellKey({ ...c, metric_id: b });
      if (!keys.has(kb)) continue;
      out.push({ relation: 'tie', atMost: kind === 'le', terms: [{ key: cellKey(c), atom: xa, coef: 1 }, { key: kb, atom: xb, coef: -1 }] });
    }
  }
  return out;
}
