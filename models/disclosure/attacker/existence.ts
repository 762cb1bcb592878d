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
  for (const r of rows) for (const { dimension, group } of openParts(r)) out.add(`${dimension}\u001f${group}`);
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

type CellKeyFields = Pick<AuditCell, 'metric_id' | 'period_grain' | 'period_start' | 'dimension' | 'group_value'>;

/** Each open-ended (dimension, group) part of a row: one for a one-way row, up to two for a two-way cell. */
function openParts(r: Pick<AuditCell, 'dimension' | 'group_value'>): Array<{ dimension: string; group: string }> {
  if (r.dimension === 'all') return [];
  const dims = r.dimension.split('*');
  const values = dims.length === 1 ? [r.group_value] : r.group_value.split('*');
  if (values.length !== dims.length) return [];
  return dims.flatMap((d, k) => (isOpenEnded(d) ? [{ dimension: d, group: values[k]! }] : []));
}

/**
 * The open-ended groups with a row of the designed surface (`surface`, the truth's rows)
 * that the publication (`carried`, its row keys) does not carry, where that row being
 * positive would not make a carried row of the group positive: such a group may exist
 * through that row alone, so its existence says nothing about the published counts. A row
 * is covered by a carried row that is at least as large whenever it is positive:
 *   - a two-way cell by its group's one-way row of the same metric and period (a unit of
 *     the cell is a unit of the row);
 *   - a row of a metric additive over time in its dimension by the whole-span row of the same
 *     cut and group (the span is the sum of its periods);
 *   - a two-way cell by its group's whole-span one-way row where the metric adds up over time
 *     in the group's dimension (the cell is part of the period's one-way row, which is part
 *     of the span's).
 * A removed two-way cell whose group has no carried one-way row of that period, and a
 * removed whole-span row whose periods are published, count as uncovered: the relation is
 * left out there (weaker than an attacker who adds the periods up; not a leak the audit
 * adds, but one it does not model).
 * Non-additive metrics (people counted per period, under their coverage in that period) are
 * covered only by the first: a group may have someone in a year and nobody at the span.
 */
export function uncoveredGroups(surface: readonly CellKeyFields[], carried: ReadonlySet<string>, metas: ReadonlyMap<string, MetricMeta>): Set<string> {
  const out = new Set<string>();
  for (const r of surface) {
    if (carried.has(cellKey(r))) continue;
    const meta = metas.get(r.metric_id);
    for (const { dimension, group } of openParts(r)) {
      const key = `${dimension}\u001f${group}`;
      if (out.has(key)) continue;
      const oneWay = { ...r, dimension, group_value: group };
      const additive = meta?.additiveOverTime(r.dimension) ?? false;
      const span = spanStartOf(surface, r);
      // exactly the reasons existenceRelations leaves a row out of the sum: a row left out is
      // covered by one in it, and a row in it that is removed is covered by none (the
      // relation then goes), so the sum never loses a term while it stays
      const covers = [
        ...(r.dimension !== dimension ? [oneWay] : []),
        ...(additive ? [{ ...r, period_grain: 'all', period_start: span }] : []),
        ...(r.dimension !== dimension && meta!.additiveOverTime(dimension) ? [{ ...oneWay, period_grain: 'all', period_start: span }] : []),
      ];
      if (!covers.some((c) => c.period_start !== null && carried.has(cellKey(c as CellKeyFields)))) out.add(key);
    }
  }
  return out;
}

/** The whole-span row's period_start for a metric (its `all` row at grain `all`), or null. */
const spanStarts = new WeakMap<readonly CellKeyFields[], Map<string, string>>();
function spanStartOf(surface: readonly CellKeyFields[], r: CellKeyFields): string | null {
  let starts = spanStarts.get(surface);
  if (!starts) {
    starts = new Map(surface.filter((x) => x.period_grain === 'all' && x.dimension === 'all').map((x) => [x.metric_id, x.period_start]));
    spanStarts.set(surface, starts);
  }
  return starts.get(r.metric_id) ?? null;
}

/**
 * Existence relations for the open-ended groups of `cells` that `earlier` (the groups the
 * earlier publications listed; null for a first publication) does not have, and that
 * `uncovered` (uncoveredGroups) leaves in. Per group, the sum runs over:
 *   - its one-way rows: of a metric additive over time in the dimension whose whole-span row
 *     is published, that row alone (it is the sum of the periods, so the finer rows add
 *     nothing, and removing a finer cut leaves the sum as it is); otherwise every grain (a
 *     metric that does not add up over time counts people under their coverage of the
 *     period: a program can have someone in a year and nobody at the span);
 *   - its two-way cells where the group has no one-way row of that metric and period (a cell
 *     is part of that row), nor, where the metric adds up over time in the group's
 *     dimension, a whole-span one-way row; by the same rule for grains.
 * Every row of the group the surface holds is one of these or covered by one (see
 * uncoveredGroups), so someone of the group makes one of them positive. Shown figures that
 * already add up to 1 or more leave a group out.
 */
export function existenceRelations(cells: readonly AuditCell[], metas: ReadonlyMap<string, MetricMeta>, earlier: ReadonlySet<string> | null, uncovered: ReadonlySet<string> = new Set()): ExtraRelation[] {
  const present = new Set(cells.map((c) => cellKey(c)));
  const spanStart = new Map<string, string>();
  for (const c of cells) if (c.period_grain === 'all') spanStart.set(c.metric_id, c.period_start);
  /** A finer row of an additive metric whose whole-span row (same cut and group) is published: the span row stands for it. */
  const spannedByPublished = (c: AuditCell, meta: MetricMeta) => c.period_grain !== 'all' && meta.additiveOverTime(c.dimension)
    && spanStart.has(c.metric_id) && present.has(cellKey({ ...c, period_grain: 'all', period_start: spanStart.get(c.metric_id)! }));
  const members = new Map<string, AuditCell[]>();
  for (const c of cells) {
    const meta = metas.get(c.metric_id);
    if (!meta || spannedByPublished(c, meta)) continue;
    const twoWay = c.dimension.includes('*');
    for (const { dimension, group } of openParts(c)) {
      const key = `${dimension}\u001f${group}`;
      if (earlier?.has(key) || uncovered.has(key)) continue;
      // a two-way cell is part of the group's one-way row of its period, and so of its
      // whole-span one-way row where the metric adds up over time in that dimension
      if (twoWay && (present.has(cellKey({ ...c, dimension, group_value: group }))
        || (meta.additiveOverTime(dimension) && spanStart.has(c.metric_id) && present.has(cellKey({ ...c, dimension, group_value: group, period_grain: 'all', period_start: spanStart.get(c.metric_id)! }))))) continue;
      const list = members.get(key);
      if (list) list.push(c);
      else members.set(key, [c]);
    }
  }
  const out: ExtraRelation[] = [];
  for (const list of members.values()) {
    const terms: ExtraRelation['terms'] = [];
    let shown = 0;
    for (const c of list) {
      const meta = metas.get(c.metric_id)!;
      for (const t of existenceTerms(meta)) {
        if (c.shown) shown += t.coef * (shownAtom(meta, c, t.atom) ?? 0);
        else terms.push({ key: cellKey(c), atom: t.atom, coef: -t.coef });
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
