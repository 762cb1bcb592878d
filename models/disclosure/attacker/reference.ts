// What the most_favourable reference rule tells an attacker (issue 14, route 4).
//
// A dimension without a named reference group compares every group with the one whose
// whole-span rate is the most favourable among groups with a whole-span denominator of
// MIN_FAVOURABLE_DENOMINATOR or more (models/disparities/comparisonSql.ts). So the
// publication says, of every other group g of that whole-span cut: either g's denominator
// is below that minimum, or g's rate is no better than the reference's. With the
// reference's figures shown, the second branch is linear in g's counts:
//   proportion, higher better:  N_g / (N_g + C_g) <= N_ref / D_ref
//                               <=>  (D_ref - N_ref) N_g - N_ref C_g <= 0
//   rate (events per person-time), higher better:  T_ref E_g - E_ref T_g <= 0
// (the sign flips when lower is better). A linear attacker cannot use a disjunction, but an
// attacker who proves g's denominator at or above the minimum by other means can use the
// second branch. The run's own audit knows which groups truly reach the minimum and gives
// the attacker the relation for each of them: at least as strong as any attacker, whichever
// branch they can prove. Without the true figures (an exported file's audit) the relation
// is not built (models/disclosure/README.md, residuals).
//
// Not modelled: a withheld reference (its rate is unknown, and the relation is bilinear);
// dollar rates (their numerator is no count).
import type { MetricMeta } from '../metricMeta.ts';
import { cellKey, type AuditCell, type ExtraRelation } from './system.ts';

export interface FavourableOptions {
  /** Dimensions whose reference is a named group (config referenceGroups): no ordering follows. */
  named: ReadonlySet<string>;
  /** The least whole-span denominator of a most_favourable candidate. */
  minDenominator: number;
}

/**
 * One relation per withheld group of a whole-span cut under most_favourable whose true
 * denominator reaches the minimum, against its shown reference. `references[i]` is the
 * published reference_group of cells[i].
 */
export function favourableReferenceRelations(
  cells: readonly AuditCell[],
  references: readonly (string | null | undefined)[],
  metas: Map<string, MetricMeta>,
  o: FavourableOptions,
): ExtraRelation[] {
  const cuts = new Map<string, number[]>();
  cells.forEach((c, i) => {
    if (c.period_grain !== 'all' || c.dimension === 'all' || o.named.has(c.dimension)) return;
    if (c.dimension.split('*').includes('domain')) return; // cuts by domain compare needs, not people: no reference
    const k = `${c.metric_id}\u001f${c.period_start}\u001f${c.dimension}`;
    const list = cuts.get(k);
    if (list) list.push(i);
    else cuts.set(k, [i]);
  });
  const out: ExtraRelation[] = [];
  for (const members of cuts.values()) {
    const first = cells[members[0]!]!;
    const meta = metas.get(first.metric_id);
    if (!meta || !(meta.kind === 'proportion' || (meta.kind === 'rate' && !meta.dollarNumerator))) continue;
    const refName = members.map((i) => references[i]).find((r) => r);
    if (!refName) continue;
    const ref = members.map((i) => cells[i]!).find((c) => c.group_value === refName);
    const x2 = ref?.shown?.numerator;
    const n2 = ref?.shown?.denominator;
    if (x2 === null || x2 === undefined || n2 === null || n2 === undefined || !(n2 > 0)) continue;
    const sign = meta.direction === 'higher_better' ? 1 : -1;
    for (const i of members) {
      const c = cells[i]!;
      if (c.shown || c.group_value === refName || c.group_value.split('*').includes('unknown')) continue;
      const n = c.truth?.denominator;
      if (n === null || n === undefined || n < o.minDenominator) continue;
      const key = cellKey(c);
      out.push({
        terms: meta.kind === 'proportion'
          ? [{ key, atom: 'N', coef: sign * (n2 - x2) }, { key, atom: 'C', coef: -sign * x2 }]
          : [{ key, atom: 'E', coef: sign * n2 }, { key, atom: 'T', coef: -sign * x2 }],
        relation: 'reference',
        atMost: true,
      });
    }
  }
  return out;
}
