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
// second branch, and an attacker who proves neither can still split the cases: g's counts
// lie in the first branch's range or the second's, and the union of two ranges can lie
// inside 1..10 where neither branch alone is known (review5: a withheld group below the
// minimum whose counts could otherwise only reach 0 by it reaching the minimum with a better
// rate). The run's own audit knows which branch each group is truly in and gives the
// attacker that branch: the ordering for a group that reaches the minimum, its denominator
// below the minimum for one that does not (D <= minimum - 1; for a rate, person-time at most
// the minimum). Every feasible table of the audit is then one of the attacker's, so no
// attacker, splitting cases or proving a branch, does better. Without the true figures (an
// exported file's audit, `closeloop audit-suppression`) the audit is that attacker: each
// withheld group gets the disjunction itself (favourableDisjunctions), a 0/1 switch choosing
// the branch (system.ts), decided exactly by whole-number solutions and MIPs (ranges.ts), so
// a count is disclosed when the union of its ranges over both branches of every group lies
// inside 1..10, and a branch that cannot hold with the rest drops out.
//
// A withheld reference reached the minimum itself: D >= minimum (person-time at least the
// minimum for a rate), in both audits. A cut with no reference at all says that no group
// reached the minimum: every group is in the first branch. The first branch needs no
// reference figures, so it holds with a withheld reference, and for dollar rates
// (person-time at most the minimum).
//
// Not modelled: the ordering against a withheld reference (its rate is unknown, and the
// relation is bilinear; an export's audit then gives its groups nothing, not knowing which
// are under the minimum); a dollar rate's ordering (its numerator is no count); ties in the
// rate, broken by the larger denominator (a group as good as the reference has no more).
import type { MetricMeta } from '../metricMeta.ts';
import { cellKey, type AuditCell, type ExtraRelation } from './system.ts';

export interface FavourableOptions {
  /** Dimensions whose reference is a named group (config referenceGroups): no ordering follows. */
  named: ReadonlySet<string>;
  /** The least whole-span denominator of a most_favourable candidate. */
  minDenominator: number;
  /**
   * Metrics with disparity statistics (computeComparisons.ts): a cut of one with no reference
   * says no group reached the minimum. Without it, a cut without a reference gives nothing.
   */
  compared?: ReadonlySet<string>;
}

/**
 * What the rule says of one withheld group g of a cut it orders: its denominator below the
 * minimum (`below`), or its rate no better than the shown reference's (`ordering`, null
 * where it cannot be written: a withheld reference, a dollar rate). `noReference`: the cut
 * has no reference at all, so no group reached the minimum and `below` holds outright.
 */
export interface FavourableCase {
  key: string;
  /** g's true denominator (person-time for a rate), when the caller has the truth */
  truth: number | null | undefined;
  below: ExtraRelation;
  ordering: ExtraRelation | null;
  noReference: boolean;
}

/**
 * What the rule says of withheld groups of a whole-span cut under most_favourable (of every
 * period's cut where its series has no whole-span rows). `groups`: each withheld group but
 * the reference and unknown, with both of the rule's branches. `floors`: a withheld
 * reference reached the minimum (it was chosen among those that did), a bound that needs
 * no branch. `references[i]` is the published reference_group of cells[i].
 */
export function favourableCases(
  cells: readonly AuditCell[],
  references: readonly (string | null | undefined)[],
  metas: Map<string, MetricMeta>,
  o: FavourableOptions,
  spannedSeries?: ReadonlySet<string>,
): { groups: FavourableCase[]; floors: ExtraRelation[] } {
  // A series (metric x dimension) without whole-span rows chose each period's reference from
  // that period's rows (comparisonSql.ts): the rule orders every period's cut. Which series
  // had whole-span rows when the references were chosen is the truth's to say
  // (`spannedSeries`, "metric\u001fdimension"): a cut the rounds removed later leaves its
  // periods with the whole-span reference, and no rule of their own.
  const spanned = spannedSeries ?? new Set(cells.filter((c) => c.period_grain === 'all').map((c) => `${c.metric_id}\u001f${c.dimension}`));
  const cuts = new Map<string, number[]>();
  cells.forEach((c, i) => {
    if (c.dimension === 'all' || o.named.has(c.dimension)) return;
    if (c.period_grain !== 'all' && spanned.has(`${c.metric_id}\u001f${c.dimension}`)) return;
    if (c.dimension.split('*').includes('domain')) return; // cuts by domain compare needs, not people: no reference
    const k = `${c.metric_id}\u001f${c.period_grain}\u001f${c.period_start}\u001f${c.dimension}`;
    const list = cuts.get(k);
    if (list) list.push(i);
    else cuts.set(k, [i]);
  });
  const out: FavourableCase[] = [];
  const floors: ExtraRelation[] = [];
  for (const members of cuts.values()) {
    const first = cells[members[0]!]!;
    const meta = metas.get(first.metric_id);
    if (!meta || !(meta.kind === 'proportion' || meta.kind === 'rate')) continue;
    const refName = members.map((i) => references[i]).find((r) => r);
    // A compared metric's cut without a reference says that no group reached the minimum:
    // every group gets its bound. Without the caller's list, only cuts with a reference count.
    if (!(o.compared ? o.compared.has(first.metric_id) : refName)) continue;
    const ref = refName ? members.map((i) => cells[i]!).find((c) => c.group_value === refName) : undefined;
    const x2 = ref?.shown?.numerator;
    const n2 = ref?.shown?.denominator;
    // the ordering needs the reference's figures, and counts on both sides (a dollar rate's numerator is none)
    const ordered = x2 !== null && x2 !== undefined && n2 !== null && n2 !== undefined && n2 > 0 && !(meta.kind === 'rate' && meta.dollarNumerator);
    const sign = meta.direction === 'higher_better' ? 1 : -1;
    if (ref && !ref.shown) {
      const key = cellKey(ref);
      floors.push({
        terms: meta.kind === 'proportion' ? [{ key, atom: 'N', coef: -1 }, { key, atom: 'C', coef: -1 }] : [{ key, atom: 'T', coef: -1 }],
        constant: meta.kind === 'proportion' ? Math.ceil(o.minDenominator) : o.minDenominator,
        relation: 'reference',
        atMost: true,
      });
    }
    for (const i of members) {
      const c = cells[i]!;
      if (c.shown || c.group_value === refName || c.group_value.split('*').includes('unknown')) continue;
      const key = cellKey(c);
      out.push({
        key,
        truth: c.truth === undefined ? undefined : (c.truth?.denominator ?? null),
        below: {
          terms: meta.kind === 'proportion' ? [{ key, atom: 'N', coef: 1 }, { key, atom: 'C', coef: 1 }] : [{ key, atom: 'T', coef: 1 }],
          constant: meta.kind === 'proportion' ? -(Math.ceil(o.minDenominator) - 1) : -o.minDenominator,
          relation: 'reference',
          atMost: true,
        },
        ordering: ordered
          ? {
            terms: meta.kind === 'proportion'
              ? [{ key, atom: 'N', coef: sign * (n2 - x2) }, { key, atom: 'C', coef: -sign * x2 }]
              : [{ key, atom: 'E', coef: sign * n2 }, { key, atom: 'T', coef: -sign * x2 }],
            relation: 'reference',
            atMost: true,
          }
          : null,
        noReference: !refName,
      });
    }
  }
  return { groups: out, floors };
}

/**
 * The run's own audit (the truth at hand): one relation per withheld group, the branch of
 * the rule it is truly in: the ordering against its shown reference when its true
 * denominator reaches the minimum, its denominator below the minimum otherwise.
 */
export function favourableReferenceRelations(
  cells: readonly AuditCell[],
  references: readonly (string | null | undefined)[],
  metas: Map<string, MetricMeta>,
  o: FavourableOptions,
  spannedSeries?: ReadonlySet<string>,
): ExtraRelation[] {
  const { groups, floors } = favourableCases(cells, references, metas, o, spannedSeries);
  const out: ExtraRelation[] = [...floors];
  for (const g of groups) {
    if (g.truth === null || g.truth === undefined) continue;
    if (g.truth < o.minDenominator) out.push(g.below);
    else if (g.ordering) out.push(g.ordering);
  }
  return out;
}

/**
 * An exported file's audit (no truth): the attacker's disjunction itself. A cut with no
 * reference gives every withheld group its bound outright; a group of a cut with a shown
 * reference gets "below the minimum, or no better than the reference" (ExtraRelation
 * orElse: system.ts gives it a 0/1 switch, ranges.ts decides it exactly as a MIP). A group
 * whose ordering cannot be written (a withheld reference, a dollar rate) gets nothing: its
 * other branch is unknown to a linear attacker, and the union with it is everything.
 */
export function favourableDisjunctions(
  cells: readonly AuditCell[],
  references: readonly (string | null | undefined)[],
  metas: Map<string, MetricMeta>,
  o: FavourableOptions,
  spannedSeries?: ReadonlySet<string>,
): ExtraRelation[] {
  const { groups, floors } = favourableCases(cells, references, metas, o, spannedSeries);
  const out: ExtraRelation[] = [...floors];
  for (const g of groups) {
    if (g.noReference) out.push(g.below);
    else if (g.ordering) out.push({ ...g.below, orElse: { terms: g.ordering.terms, constant: g.ordering.constant } });
  }
  return out;
}
