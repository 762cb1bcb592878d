// A group's first appearance in a fixed frame (issue 14, route 1 with fixed frames).
//
// Enumerated dimensions (sex, payer, ...) list every group whatever the data, so their rows
// say nothing by existing. Open-ended ones (counties, ZIP3s, programs, organisations,
// languages) take their groups from the results (surface.ts): a group that appears in a
// frame for the first time says that someone of that group is somewhere in the results.
// Frames are sticky, so a group the earlier publications already listed says nothing new.
//
// As a relation between published counts: over the group's whole-span rows of its one-way
// cut in every metric (its two-way cells where it has no one-way row), the counts that make
// a row exist add up to at least 1:
//     sum D (proportions, durations) + X (counts) + n (means) + N (ratios) + 31 T >= 1
// Person-time counts too (a group can enter a frame through member-months alone), with the
// factor 31: member-months are days over the days of their month, so a positive amount is at
// least 1/31. buildSystem checks the relation against the truth when it has it (a group that
// entered through a cut not published, or through capacity alone, gives none), and leaves
// it out where the shown figures already satisfy it (then it says nothing the attacker does
// not see). Several metrics in one sum tie their components together: only the groups with
// no shown positive count get a relation at all.
import type { MetricMeta } from '../metricMeta.ts';
import { ENUM_FRAMES } from '../surface.ts';
import { atomsOf } from './atoms.ts';
import { cellKey, type AuditCell, type ExtraRelation } from './system.ts';

/** Member-months of one day in a 31-day month: the smallest positive person-time. */
const DAYS_IN_LONGEST_MONTH = 31;

const isOpenEnded = (dimension: string) => dimension !== 'all' && !(dimension in ENUM_FRAMES);

/** The open-ended (dimension, group) pairs a set of rows lists, from one-way cuts and the parts of two-way cuts. */
export function openEndedGroups(rows: ReadonlyArray<Pick<AuditCell, 'dimension' | 'group_value'>>): Set<string> {
  const out = new Set<string>();
  for (const r of rows) {
    const dims = r.dimension.split('*');
    const values = dims.length === 1 ? [r.group_value] : r.group_value.split('*');
    if (values.length !== dims.length) continue;
    dims.forEach((d, k) => {
      if (isOpenEnded(d)) out.add(`${d}\u001f${values[k]}`);
    });
  }
  return out;
}

/** The atoms whose sum must reach 1 when a row exists, with their coefficients (sum coef * atom >= 1). */
function existenceTerms(meta: MetricMeta): Array<{ atom: 'D' | 'X' | 'n' | 'N' | 'T'; coef: number }> {
  const { atoms, total } = atomsOf(meta.kind, meta.dollarNumerator);
  if (total) return [{ atom: 'D', coef: 1 }];
  const types = atoms.map((a) => a.type);
  if (types.includes('T')) return [{ atom: 'T', coef: DAYS_IN_LONGEST_MONTH }];
  const first = types[0];
  return first === 'X' || first === 'n' || first === 'N' ? [{ atom: first, coef: 1 }] : [];
}

const GRAIN_ORDER = ['all', 'year', 'quarter', 'month'];

/**
 * Existence relations for the open-ended groups of `cells` that `earlier` (the groups the
 * earlier publications listed; null for a first publication) does not have, and that
 * `unpublished` (groups with a row in the designed surface that this publication does not
 * carry: a cut the rounds removed) leaves out. Per group, over its one-way rows (its two-way
 * cells where it has none), per metric and dimension the rows of the coarsest grain
 * published (the whole span, where a cut has it): a group has someone somewhere exactly when
 * one of those is positive. Shown figures that already add up to 1 or more leave a group out.
 */
export function existenceRelations(cells: readonly AuditCell[], metas: ReadonlyMap<string, MetricMeta>, earlier: ReadonlySet<string> | null, unpublished: ReadonlySet<string> = new Set()): ExtraRelation[] {
  // per new group and (metric, dimension): its cells by grain
  const oneWay = new Map<string, Map<string, AuditCell[]>>();
  const twoWay = new Map<string, Map<string, AuditCell[]>>();
  for (const c of cells) {
    if (c.dimension === 'all') continue;
    const dims = c.dimension.split('*');
    const values = dims.length === 1 ? [c.group_value] : c.group_value.split('*');
    if (values.length !== dims.length) continue;
    dims.forEach((d, k) => {
      if (!isOpenEnded(d)) return;
      const group = `${d}\u001f${values[k]}`;
      if (earlier?.has(group) || unpublished.has(group)) return;
      const into = dims.length === 1 ? oneWay : twoWay;
      let series = into.get(group);
      if (!series) into.set(group, (series = new Map()));
      const key = `${c.metric_id}\u001f${c.dimension}`;
      const list = series.get(key);
      if (list) list.push(c);
      else series.set(key, [c]);
    });
  }
  const out: ExtraRelation[] = [];
  for (const group of new Set([...oneWay.keys(), ...twoWay.keys()])) {
    const series = oneWay.get(group) ?? twoWay.get(group)!;
    const terms: ExtraRelation['terms'] = [];
    let shown = 0;
    for (const list of series.values()) {
      const coarsest = Math.min(...list.map((c) => GRAIN_ORDER.indexOf(c.period_grain)));
      for (const c of list) {
        if (GRAIN_ORDER.indexOf(c.period_grain) !== coarsest) continue;
        const meta = metas.get(c.metric_id);
        if (!meta) continue;
        for (const t of existenceTerms(meta)) {
          if (c.shown) shown += t.coef * (shownAtom(meta, c, t.atom) ?? 0);
          else terms.push({ key: cellKey(c), atom: t.atom, coef: -t.coef });
        }
      }
    }
    if (shown >= 1 - 1e-9 || !terms.length) continue;
    out.push({ terms, relation: 'existence', atMost: true, constant: 1 - shown });
  }
  return out;
}

function shownAtom(meta: MetricMeta, c: AuditCell, atom: string): number | null {
  const f = c.shown!;
  switch (atom) {
    case 'D':
    case 'n':
      return f.denominator;
    case 'T':
      return f.denominator;
    case 'X':
      return f.numerator ?? f.value;
    case 'N':
      return meta.kind === 'ratio' ? f.numerator : null;
    default:
      return null;
  }
}
