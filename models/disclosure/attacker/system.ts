// The attacker's linear system (issue 14): every withheld atom of every published row is a
// variable, every shown atom a constant, and every relation between published rows an
// equation between atoms of the same type. What the attacker can learn about a withheld
// count is exactly what this system (plus non-negativity and whole numbers) allows: its
// feasible range (ranges.ts).
//
// Relations built from the published rows themselves:
//   partition  the groups of a one-way cut add up to the `all` row, where each counted unit
//              is in exactly one group;
//   margin     the cells of a two-way cut a*b with a fixed a add up to the row of a (when b
//              partitions the units), and likewise for b;
//   time       for metrics that add up over time: months to their quarter, quarters to
//              their year, years to the whole span, wherever both grains are published;
//   total      D = N + C (proportions), cases = events + censored (durations);
//   tie        relations the caller found in the data: one count published by two metrics
//              (where they are equal), dimensions tied to each other (ties.ts);
//   people     person-time fixed per person (pre/post windows): the people behind
//              member-months (a P <= T <= b P);
//   reference  the most_favourable reference rule (reference.ts): with the truth, the branch
//              each withheld group is in; without it, the disjunction itself (below).
// A disjunction "A or B" of two inequalities (ExtraRelation.orElse) gets a 0/1 switch
// variable s and two rows: A holds when s = 0, B when s = 1 (SystemRow.switch). The solver
// (ranges.ts) relaxes the other row by a bound it proves on the component, so the
// whole-number solutions are exactly those where one branch holds.
// Every relation is checked against the true figures when the caller has them; one that
// does not hold there is not a relation of the data and is dropped (and counted).
import type { MetricMeta } from '../metricMeta.ts';
import { atomsOf, atomValues, type AtomType, type RowFigures } from './atoms.ts';

export interface AuditCell {
  metric_id: string;
  period_grain: string;
  /** ISO date */
  period_start: string;
  dimension: string;
  group_value: string;
  /** The figures as published, or null when the row is withheld. */
  shown: RowFigures | null;
  /** The true figures (the run's own audit has them; an export's audit does not). */
  truth?: RowFigures | null;
  /** Days from the period's end to the as-of date, when published (windows that have elapsed). */
  elapsedDays?: number | null;
}

export type RelationKind = 'partition' | 'margin' | 'time' | 'total' | 'tie' | 'people' | 'existence' | 'revision' | 'reference';
/** S: the 0/1 switch of a disjunction (which branch holds), not a count. */
export type VarAtom = AtomType | 'D' | 'P' | 'S';

export interface SystemVar {
  cell: number;
  atom: VarAtom;
  /** Stable identity across systems built from growing publications (cell key and atom). */
  key: string;
  truth: number | null;
  integer: boolean;
  /** Its feasible range must reach 0 or the threshold (a protected count). */
  protect: boolean;
  lower: number;
  upper: number;
  /** A change since the previous publication (audit.ts): +1 for x - o, -1 for o - x. */
  change?: 1 | -1;
  /** For a change: from the true figure of a count the last publication withheld, not from a figure shown. */
  sinceWithheld?: boolean;
}

export interface SystemRow {
  vars: number[];
  coefs: number[];
  /** lo <= sum coef * var <= hi (an equation when lo = hi) */
  lo: number;
  hi: number;
  relation: RelationKind;
  /**
   * The row's last variable is a 0/1 switch (coefficient 0 here): the row holds when the
   * switch equals this value and is relaxed otherwise (ranges.ts fills in the coefficient,
   * a bound it proves). Only on rows of the form sum <= hi.
   */
  switch?: 0 | 1;
}

export interface LinearSystem {
  cells: AuditCell[];
  vars: SystemVar[];
  rows: SystemRow[];
  threshold: number;
  /** Relations dropped because the true figures do not satisfy them, by kind. */
  dropped: Record<string, number>;
  /** Relations kept, by kind. */
  relations: Record<string, number>;
}

export interface TermRef {
  cell: number;
  atom: VarAtom;
  coef: number;
}

/** A relation found outside the published rows (ties.ts), by cell keys. */
export interface ExtraRelation {
  terms: Array<{ key: string; atom: AtomType | 'D'; coef: number }>;
  relation: RelationKind;
  /** sum coef * term <= 0 instead of = 0 (one count counts a subset of another's units) */
  atMost?: boolean;
  /** added to the sum: sum coef * term + constant <= 0 (or = 0); a bound such as D <= 29 */
  constant?: number;
  /**
   * A disjunction: this relation (atMost) holds, or this other one does (sum coef * term +
   * constant <= 0). The attacker knows one of the two, not which (reference.ts).
   */
  orElse?: { terms: Array<{ key: string; atom: AtomType | 'D'; coef: number }>; constant?: number };
}

export interface PeopleRule {
  /** Metrics whose person-time comes in whole windows per person (pre/post referral). */
  metrics: readonly string[];
  /** Member-months one person contributes: at least min, at most max. */
  minPerPerson: number;
  maxPerPerson: number;
  /** Metric groups sharing the same people per cell (pre and post of one cohort). */
  samePeople: readonly (readonly string[])[];
}

export interface BuildOptions {
  metas: Map<string, MetricMeta>;
  threshold: number;
  /**
   * 'frames': every published cut lists its whole frame of groups (zero rows included), so
   * a row's existence tells nothing; 'row-implies-positive': the older rule that a group has
   * a row only when its denominator is above zero (an export without zero rows).
   */
  existence: 'frames' | 'row-implies-positive';
  extra?: readonly ExtraRelation[];
  people?: PeopleRule;
}

export const cellKey = (c: Pick<AuditCell, 'metric_id' | 'period_grain' | 'period_start' | 'dimension' | 'group_value'>) =>
  `${c.metric_id}\u001f${c.period_grain}\u001f${c.period_start}\u001f${c.dimension}\u001f${c.group_value}`;

/** The key of the people variable behind a row's person-time: one per cohort cell, shared by its metrics (pre and post). */
export function peopleKey(rule: PeopleRule, c: Pick<AuditCell, 'metric_id' | 'period_grain' | 'period_start' | 'dimension' | 'group_value'>): string {
  const group = rule.samePeople.find((g) => g.includes(c.metric_id)) ?? [c.metric_id];
  return `${group.join('+')}\u001f${c.period_grain}\u001f${c.period_start}\u001f${c.dimension}\u001f${c.group_value}\u001fP`;
}

const PARENT: Record<string, string> = { month: 'quarter', quarter: 'year', year: 'all' };

function parentStart(grain: string, start: string): string {
  const y = start.slice(0, 4);
  const m = Number(start.slice(5, 7));
  if (grain === 'month') return `${y}-${String(Math.floor((m - 1) / 3) * 3 + 1).padStart(2, '0')}-01`;
  return `${y}-01-01`;
}

const TOL = 1e-6;
const ATOM_CODE: Record<VarAtom, number> = { N: 0, C: 1, E: 2, K: 3, X: 4, n: 5, T: 6, D: 7, P: 8, S: 9 };
const ATOM_SLOTS = 10;

export function buildSystem(cells: AuditCell[], o: BuildOptions): LinearSystem {
  const vars: SystemVar[] = [];
  const rows: SystemRow[] = [];
  const dropped: Record<string, number> = {};
  const relations: Record<string, number> = {};
  const index = new Map<string, number>();
  cells.forEach((c, i) => index.set(cellKey(c), i));
  const spanOf = new Map<string, number>(); // metric|dimension|group -> the grain-`all` cell
  cells.forEach((c, i) => {
    if (c.period_grain === 'all') spanOf.set(`${c.metric_id}\u001f${c.dimension}\u001f${c.group_value}`, i);
  });

  // Per cell and atom: a variable index, or a constant.
  type Slot = { v: number } | { k: number };
  // numeric keys (cell x atom): the system is built every round, and string keys were most of its cost
  const slots = new Map<number, Slot>();
  const slotKey = (cell: number, atom: VarAtom) => cell * ATOM_SLOTS + ATOM_CODE[atom];
  const peopleSlots = new Map<string, { v: number }>();
  const metaOf = (c: AuditCell) => {
    const m = o.metas.get(c.metric_id);
    if (!m) throw new Error(`audit: metric ${c.metric_id} is not in the catalog`);
    return m;
  };
  const peopleMetrics = new Set(o.people?.metrics ?? []);

  cells.forEach((c, i) => {
    const meta = metaOf(c);
    const { atoms, total } = atomsOf(meta.kind, meta.dollarNumerator);
    const truth = c.truth ? atomValues(meta.kind, meta.dollarNumerator, c.truth) : null;
    if (peopleMetrics.has(c.metric_id)) {
      // The people behind the row's person-time, shown or not (one variable per cohort cell).
      const pKey = peopleKey(o.people!, c);
      let p = peopleSlots.get(pKey);
      if (!p) {
        p = { v: vars.length };
        vars.push({ cell: i, atom: 'P', key: pKey, truth: null, integer: true, protect: true, lower: 0, upper: Infinity });
        peopleSlots.set(pKey, p);
      }
      slots.set(slotKey(i, 'P'), p);
    }
    if (c.shown) {
      const shown = atomValues(meta.kind, meta.dollarNumerator, c.shown);
      atoms.forEach((a, k) => {
        const v = shown[k];
        if (v !== null && v !== undefined) slots.set(slotKey(i, a.type), { k: v });
      });
      if (total && shown[0] != null && shown[1] != null) slots.set(slotKey(i, 'D'), { k: (shown[0] as number) + (shown[1] as number) });
      return;
    }
    const atomVars: number[] = [];
    atoms.forEach((a, k) => {
      const t = truth?.[k] ?? null;
      atomVars.push(vars.length);
      slots.set(slotKey(i, a.type), { v: vars.length });
      vars.push({ cell: i, atom: a.type, key: `${cellKey(c)}\u001f${a.type}`, truth: t, integer: a.integer, protect: true, lower: 0, upper: Infinity });
    });
    if (total) {
      const d = vars.length;
      const t = truth && truth[0] != null && truth[1] != null ? (truth[0] as number) + (truth[1] as number) : null;
      vars.push({ cell: i, atom: 'D', key: `${cellKey(c)}\u001fD`, truth: t, integer: true, protect: true, lower: 0, upper: Infinity });
      slots.set(slotKey(i, 'D'), { v: d });
      rows.push({ vars: [d, atomVars[0] as number, atomVars[1] as number], coefs: [1, -1, -1], lo: 0, hi: 0, relation: 'total' });
      relations.total = (relations.total ?? 0) + 1;
    }
    if (o.existence === 'row-implies-positive' || c.dimension === 'all') {
      // With fixed frames only the `all` row still says something by existing: a period
      // is published when its denominator is above zero.
      // A row exists only when its denominator (or a group's count) is above zero.
      const positive = total ? 'D' : meta.kind === 'mean' ? 'n' : meta.kind === 'count' && c.dimension !== 'all' ? 'X' : null;
      if (positive) {
        const s = slots.get(slotKey(i, positive)) as { v: number };
        vars[s.v]!.lower = 1;
      }
    }
  });

  const term = (cell: number, atom: VarAtom): Slot | undefined => slots.get(slotKey(cell, atom));

  /** Add sum(coef * term) = 0 over the given terms, if it has a variable and holds on the truth. */
  const relate = (terms: TermRef[], relation: RelationKind, atMost = false, given = 0) => {
    const vs: number[] = [];
    const cs: number[] = [];
    let constant = given;
    let truthSum = given;
    let truthKnown = true;
    for (const t of terms) {
      const s = term(t.cell, t.atom);
      if (!s) return; // a figure that is not published at all (e.g. an empty value): no relation
      if ('k' in s) {
        constant += t.coef * s.k;
        truthSum += t.coef * s.k;
      } else {
        const at = vs.indexOf(s.v);
        if (at >= 0) cs[at]! += t.coef;
        else {
          vs.push(s.v);
          cs.push(t.coef);
        }
        const tv = vars[s.v]!.truth;
        if (tv === null) truthKnown = false;
        else truthSum += t.coef * tv;
      }
    }
    const scale = Math.max(1, Math.abs(given), ...terms.map((t) => {
      const s = term(t.cell, t.atom);
      return s && 'k' in s ? Math.abs(s.k) : 0;
    }));
    if (truthKnown && (atMost ? truthSum > TOL * scale : Math.abs(truthSum) > TOL * scale)) {
      dropped[relation] = (dropped[relation] ?? 0) + 1;
      return;
    }
    const keep = vs.map((_, k) => Math.abs(cs[k] as number) > 1e-12);
    const fv = vs.filter((_, k) => keep[k]);
    if (fv.length === 0) return;
    rows.push({ vars: fv, coefs: cs.filter((_, k) => keep[k]), lo: atMost ? -Infinity : -constant, hi: -constant, relation });
    relations[relation] = (relations[relation] ?? 0) + 1;
  };

  // Cuts: metric|grain|start|dimension -> cells.
  const cuts = new Map<string, number[]>();
  cells.forEach((c, i) => {
    const k = `${c.metric_id}\u001f${c.period_grain}\u001f${c.period_start}\u001f${c.dimension}`;
    const list = cuts.get(k);
    if (list) list.push(i);
    else cuts.set(k, [i]);
  });
  const atomTypesOf = (metric: string): AtomType[] => {
    const m = o.metas.get(metric)!;
    return atomsOf(m.kind, m.dollarNumerator).atoms.map((a) => a.type);
  };
  const withPeople = (metric: string, types: VarAtom[]): VarAtom[] => (peopleMetrics.has(metric) ? [...types, 'P'] : types);

  for (const [k, members] of cuts) {
    const [metric, grain, start, dimension] = k.split('\u001f') as [string, string, string, string];
    if (dimension === 'all') continue;
    const meta = o.metas.get(metric)!;
    const types = withPeople(metric, atomTypesOf(metric));
    const parts = dimension.split('*');
    if (parts.length === 1) {
      if (!meta.groupsSumToAll(dimension)) continue;
      const whole = index.get(cellKey({ metric_id: metric, period_grain: grain, period_start: start, dimension: 'all', group_value: 'all' }));
      if (whole === undefined) continue;
      for (const a of types) relate([...members.map((cell) => ({ cell, atom: a, coef: 1 })), { cell: whole, atom: a, coef: -1 }], 'partition');
      continue;
    }
    // a two-way cut: cells of one value of either part add up to that part's row
    for (const side of [0, 1] as const) {
      const other = parts[1 - side] as string;
      if (!meta.groupsSumToAll(other)) continue;
      const byValue = new Map<string, number[]>();
      for (const cell of members) {
        const gv = cells[cell]!.group_value;
        const cut = gv.indexOf('*');
        const v = side === 0 ? gv.slice(0, cut) : gv.slice(cut + 1);
        const list = byValue.get(v);
        if (list) list.push(cell);
        else byValue.set(v, [cell]);
      }
      for (const [v, list] of byValue) {
        const margin = index.get(cellKey({ metric_id: metric, period_grain: grain, period_start: start, dimension: parts[side] as string, group_value: v }));
        if (margin === undefined) continue;
        for (const a of types) relate([...list.map((cell) => ({ cell, atom: a, coef: 1 })), { cell: margin, atom: a, coef: -1 }], 'margin');
      }
    }
  }

  // Time: children of each published parent, for metrics additive over time.
  const children = new Map<number, number[]>();
  cells.forEach((c, i) => {
    const parentGrain = PARENT[c.period_grain];
    if (!parentGrain) return;
    const meta = o.metas.get(c.metric_id)!;
    if (!meta.additiveOverTime(c.dimension)) return;
    const parent = parentGrain === 'all'
      ? spanOf.get(`${c.metric_id}\u001f${c.dimension}\u001f${c.group_value}`)
      : index.get(cellKey({ ...c, period_grain: parentGrain, period_start: parentStart(c.period_grain, c.period_start) }));
    if (parent === undefined) return;
    const list = children.get(parent);
    if (list) list.push(i);
    else children.set(parent, [i]);
  });
  for (const [parent, kids] of children) {
    const metric = cells[parent]!.metric_id;
    for (const a of withPeople(metric, atomTypesOf(metric))) relate([...kids.map((cell) => ({ cell, atom: a, coef: 1 })), { cell: parent, atom: a, coef: -1 }], 'time');
  }

  const termsOf = (list: ExtraRelation['terms']): TermRef[] | null => {
    const terms: TermRef[] = [];
    for (const t of list) {
      const cell = index.get(t.key);
      if (cell === undefined) return null;
      terms.push({ cell, atom: t.atom, coef: t.coef });
    }
    return terms.length ? terms : null;
  };
  /** sum coef * term + given as variables and a constant; null where a figure is not published. */
  const resolve = (terms: TermRef[], given: number) => {
    const vs: number[] = [];
    const cs: number[] = [];
    let constant = given;
    for (const t of terms) {
      const s = term(t.cell, t.atom);
      if (!s) return null;
      if ('k' in s) constant += t.coef * s.k;
      else {
        const at = vs.indexOf(s.v);
        if (at >= 0) cs[at]! += t.coef;
        else {
          vs.push(s.v);
          cs.push(t.coef);
        }
      }
    }
    const keep = cs.map((c) => Math.abs(c) > 1e-12);
    return { vars: vs.filter((_, k) => keep[k]), coefs: cs.filter((_, k) => keep[k]), constant };
  };
  /** Either branch (each sum + constant <= 0): a switch and two rows, or one row where a branch is settled by shown figures. */
  const either = (a: TermRef[], ca: number, b: TermRef[], cb: number, relation: RelationKind) => {
    const ra = resolve(a, ca);
    const rb = resolve(b, cb);
    if (!ra || !rb) return;
    const tol = (r: { constant: number }) => TOL * Math.max(1, Math.abs(r.constant));
    // a branch of shown figures alone is true (then the disjunction says nothing) or false (then the other holds)
    if ((!ra.vars.length && ra.constant <= tol(ra)) || (!rb.vars.length && rb.constant <= tol(rb))) return;
    if (!ra.vars.length) return relate(b, relation, true, cb);
    if (!rb.vars.length) return relate(a, relation, true, ca);
    // with the truth at hand, a disjunction neither branch of which holds there is no relation of the data
    const truthOf = (r: { vars: number[]; coefs: number[]; constant: number }) =>
      r.vars.reduce<number | null>((acc, v, k) => (acc === null || vars[v]!.truth === null ? null : acc + r.coefs[k]! * vars[v]!.truth!), r.constant);
    const ta = truthOf(ra);
    const tb = truthOf(rb);
    if (ta !== null && tb !== null && ta > tol(ra) && tb > tol(rb)) {
      dropped[relation] = (dropped[relation] ?? 0) + 1;
      return;
    }
    const s = vars.length;
    const first = vars[ra.vars[0]!]!;
    vars.push({ cell: first.cell, atom: 'S', key: `${first.key}\u001fcase${rows.length}`, truth: null, integer: true, protect: false, lower: 0, upper: 1 });
    for (const [r, on] of [[ra, 0], [rb, 1]] as const) {
      rows.push({ vars: [...r.vars, s], coefs: [...r.coefs, 0], lo: -Infinity, hi: -r.constant, relation, switch: on });
    }
    relations[relation] = (relations[relation] ?? 0) + 2;
  };

  for (const x of o.extra ?? []) {
    const terms = termsOf(x.terms);
    if (!terms) continue;
    if (x.orElse) {
      const other = termsOf(x.orElse.terms);
      if (other) either(terms, x.constant ?? 0, other, x.orElse.constant ?? 0, x.relation);
      continue;
    }
    relate(terms, x.relation, x.atMost, x.constant ?? 0);
  }

  // People behind person-time: min * P <= T <= max * P, P shown exactly when T is shown.
  if (o.people) {
    cells.forEach((c, i) => {
      if (!peopleMetrics.has(c.metric_id)) return;
      const p = term(i, 'P') as { v: number };
      const t = term(i, 'T');
      if (!t) return;
      if ('k' in t) {
        // T shown: P is pinned to [T/max, T/min]
        const v = vars[p.v]!;
        v.lower = Math.max(v.lower, Math.ceil(t.k / o.people!.maxPerPerson - 1e-9));
        v.upper = Math.min(v.upper, Math.floor(t.k / o.people!.minPerPerson + 1e-9));
      } else {
        rows.push({ vars: [t.v, p.v], coefs: [1, -o.people!.minPerPerson], lo: 0, hi: Infinity, relation: 'people' });
        rows.push({ vars: [t.v, p.v], coefs: [1, -o.people!.maxPerPerson], lo: -Infinity, hi: 0, relation: 'people' });
        relations.people = (relations.people ?? 0) + 2;
      }
    });
  }

  return { cells, vars, rows, threshold: o.threshold, dropped, relations };
}
