// A group's first appearance in a fixed frame (issue 14, route 1 with fixed frames).
//
// Enumerated dimensions (sex, payer, ...) list every group whatever the data, so their rows
// say nothing by existing. Open-ended ones (counties, ZIP3s, programs, organisations,
// languages) take their groups from the results (surface.ts): a group that appears in a
// frame for the first time says that someone of that group is somewhere in the results.
// Frames are sticky, so a group the earlier publications already listed says nothing new.
//
// As a relation between published counts: over the group's published rows (existenceRelations
// says which), the counts that make a row exist add up to at least 1:
//     sum D (proportions, durations) + X (counts) + n (means) + N (ratios) + 31 T >= 1
// Person-time counts too (a group can enter a frame through member-months alone), with the
// factor 31: member-months are days over the days of their month, so a positive amount is at
// least 1/31. buildSystem checks the relation against the truth when it has it (a group that
// entered through something else gives none); shown figures that already satisfy it leave it
// out (then it says nothing the attacker does not see), so only groups with no shown
// positive count tie their metrics' components together.
import type { MetricMeta } from '../metricMeta.ts';
import { ENUM_FRAMES } from '../surface.ts';
import { atomsOf } from './atoms.ts';
import { cellKey, type AuditCell, type ExtraRelation } from './system.ts';

/** Member-months of one day in a 31-day month: the smallest positive person-time. */
const DAYS_IN_LONGEST_MONTH = 31;

const isOpenEnded = (dimension: string) => dimension !== 'all' && !(dimension in ENUM_FRAMES);
const groupKey = (dimension: string, group: string) => `${dimension}\u001f${group}`;

/** The open-ended (dimension, group) pairs a set of rows lists, from one-way cuts and the parts of two-way cuts. */
export function openEndedGroups(rows: ReadonlyArray<Pick<AuditCell, 'dimension' | 'group_value'>>): Set<string> {
  const out = new Set<string>();
  for (const r of rows) for (const { dimension, group } of openParts(r)) out.add(groupKey(dimension, group));
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

/** Per metric, its whole span's period_start (the start of its rows at grain `all`). */
function spanStarts(rows: readonly CellKeyFields[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of rows) if (r.period_grain === 'all') out.set(r.metric_id, r.period_start);
  return out;
}

/**
 * The keys of the rows that cover row r's part (dimension, group): rows at least as large as
 * r whenever r is positive, so that a positive r makes one of them positive:
 *   - a two-way cell: its group's one-way row of the same metric and period (a unit of the
 *     cell is a unit of the row);
 *   - a finer row of a metric additive over time in its dimension: the whole-span row of the
 *     same cut and group (the span is the sum of its periods);
 *   - a two-way cell where the metric adds up over time in the group's dimension: the
 *     group's whole-span one-way row (the cell is part of the period's one-way row, which is
 *     part of the span's).
 * Non-additive metrics (people counted per period, under their coverage in that period) have
 * only the first: a group may have someone in a year and nobody at the span. One rule for
 * both uses: existenceRelations leaves a row out of the sum exactly when one of its covers
 * is published, and uncoveredGroups keeps a relation for a row the publication does not
 * carry exactly when one of its covers is carried; so a row left out is covered by one in
 * the sum, a removed row of the sum takes the relation with it, and removing cuts never
 * takes a term from a relation that stays (the rounds keep their certificates).
 */
function coversOf(r: CellKeyFields, dimension: string, group: string, meta: MetricMeta | undefined, spanStart: ReadonlyMap<string, string>): string[] {
  const span = spanStart.get(r.metric_id);
  const twoWay = r.dimension !== dimension;
  const oneWay = { ...r, dimension, group_value: group };
  return [
    ...(twoWay ? [cellKey(oneWay)] : []),
    ...(span !== undefined && r.period_grain !== 'all' && meta?.additiveOverTime(r.dimension) ? [cellKey({ ...r, period_grain: 'all', period_start: span })] : []),
    ...(span !== undefined && twoWay && meta?.additiveOverTime(dimension) ? [cellKey({ ...oneWay, period_grain: 'all', period_start: span })] : []),
  ];
}

/**
 * The open-ended groups with a row of the designed surface (`surface`, the truth's rows)
 * that the publication (`carried`, its row keys) does not carry and that no carried row
 * covers (coversOf): such a group may exist through that row alone, so its existence says
 * nothing about the published counts. Not modelled, on the weaker side: a removed
 * whole-span row whose periods are all published (an attacker adds them up), and a removed
 * two-way cell whose group has no carried one-way row of that period.
 */
export function uncoveredGroups(surface: readonly CellKeyFields[], carried: ReadonlySet<string>, metas: ReadonlyMap<string, MetricMeta>): Set<string> {
  const spanStart = spanStarts(surface);
  const out = new Set<string>();
  for (const r of surface) {
    if (carried.has(cellKey(r))) continue;
    for (const { dimension, group } of openParts(r)) {
      const key = groupKey(dimension, group);
      if (!out.has(key) && !coversOf(r, dimension, group, metas.get(r.metric_id), spanStart).some((k) => carried.has(k))) out.add(key);
    }
  }
  return out;
}

/**
 * Existence relations for the open-ended groups of `cells` that `earlier` (the groups the
 * earlier publications listed; null for a first publication) does not have, and that
 * `uncovered` (uncoveredGroups) leaves in. Per group, the sum runs over its published rows
 * (one-way rows, two-way cells) except those a published row covers (coversOf): of a metric
 * additive over time whose whole-span row is published, that row alone; otherwise every
 * grain; a two-way cell only where its group's one-way rows do not cover it. Shown figures
 * that already add up to 1 or more leave a group out.
 */
export function existenceRelations(cells: readonly AuditCell[], metas: ReadonlyMap<string, MetricMeta>, earlier: ReadonlySet<string> | null, uncovered: ReadonlySet<string> = new Set()): ExtraRelation[] {
  const present = new Set(cells.map((c) => cellKey(c)));
  const spanStart = spanStarts(cells);
  const members = new Map<string, AuditCell[]>();
  for (const c of cells) {
    const meta = metas.get(c.metric_id);
    if (!meta) continue;
    for (const { dimension, group } of openParts(c)) {
      const key = groupKey(dimension, group);
      if (earlier?.has(key) || uncovered.has(key)) continue;
      if (coversOf(c, dimension, group, meta, spanStart).some((k) => present.has(k))) continue;
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
