// Small-cell suppression over rows and the relations between them (metrics.md,
// "Disclosure control"), as a pure function over typed arrays so it can run over the whole
// results table (~1M rows) at once and be property-tested on random tables.
//
// Rows carry count-like quantities (numerator, denominator, complement, person-time; NaN
// where a quantity is not a count). A relation is a whole row and the rows that add up to
// it (for every quantity). The rules:
//  1. primary: a row with a quantity in (0, threshold) is suppressed;
//  2. complementary (the spec's rule): in every relation whose whole is shown, the total
//     withheld (whole - shown parts) of each quantity is 0 or >= threshold; otherwise the
//     shown part with the smallest positive value of that quantity is suppressed;
//  3. derivation guard (closeloop's addition, see below): in a relation whose whole is
//     shown, never exactly one suppressed part; in a relation whose whole is suppressed,
//     never all parts shown; otherwise the smallest shown part is suppressed;
//  4. shared quantities: a count two metrics publish is hidden only where both hide it, so
//     it has a stand-in row under rules 2 and 3 that is shown while any member is shown;
//     when rules 2 or 3 withhold the stand-in, every member row is withheld;
// repeated until nothing changes.
//
// Why rule 3: rule 2 alone leaves the classic two-relation attack open, and the results
// table is full of two-dimensional structures (groups x months, two-way cells x margins).
// Example: group A's January count is 5 (primary). Rule 2 suppresses A's February (20) for
// A's quarter and group B's January (30) for January's `all` row. February's `all` row then
// has one withheld part, A's February = 20 >= 11, which rule 2 accepts, but it is now known
// exactly, and A's quarter minus the shown March minus 20 gives January's 5. Likewise a
// suppressed whole whose parts are all shown is their sum. With rule 3 no single relation
// reveals a withheld row exactly, so nothing withheld can be derived by substituting one
// relation into another (the independent audit checks exactly that). Bounds a reader
// could get by linear programming over all relations at once (e.g. 0 <= x <= 12) are out
// of scope, as in the spec.
//
// Deterministic: rows and relations are processed in the order given (callers sort them
// by key), ties go to the lower row index.

export interface Relations {
  /** whole row of relation r */
  whole: Int32Array;
  /** parts of relation r are parts[start[r] .. start[r+1]) */
  start: Int32Array;
  parts: Int32Array;
}

export interface SuppressionInput {
  /**
   * Count-like quantities per row (each array has one value per row; NaN = not a count for
   * this row). The first finite one is the row's size (denominator first, by convention),
   * used to choose the smallest part for rule 3.
   */
  quantities: readonly Float64Array[];
  /** Rows already suppressed (e.g. by the producer); updated in place. */
  suppressed: Uint8Array;
  relations: Relations;
  threshold: number;
  /**
   * Quantities several rows share (the same count published by two metrics): group g has
   * a stand-in row row[g], with its own relations, and members[start[g]..start[g+1]). The
   * stand-in counts as shown while any member is shown; withholding it withholds every
   * member (rule 4).
   */
  shared?: { row: Int32Array; start: Int32Array; members: Int32Array };
}

export const REASON_NONE = 0;
export const REASON_GIVEN = 1;
export const REASON_PRIMARY = 2;
export const REASON_COMPLEMENTARY = 3;

export interface SuppressionOutcome {
  /** per row: REASON_* */
  reason: Uint8Array;
  primary: number;
  complementary: number;
}

/** A count shown must not be in 1..threshold-1 (person-time: above 0 and below threshold). */
export function isSmallCount(v: number, threshold: number): boolean {
  return v > 0 && v < threshold;
}

/**
 * A withheld total (whole minus shown parts) that discloses: in (0, threshold), with a
 * tolerance for person-time sums (DOUBLE member-months never add up exactly).
 */
export function isSmallWithheld(withheld: number, whole: number, threshold: number): boolean {
  const tol = 1e-6 * Math.max(1, Math.abs(whole));
  return withheld > tol && withheld < threshold - tol;
}

export function solveSuppression(input: SuppressionInput): SuppressionOutcome {
  const { quantities, suppressed, relations, threshold } = input;
  const n = suppressed.length;
  const R = relations.whole.length;
  const reason = new Uint8Array(n);
  let primary = 0;
  let complementary = 0;

  for (let i = 0; i < n; i++) {
    if (suppressed[i]) {
      reason[i] = REASON_GIVEN;
      continue;
    }
    for (const q of quantities) {
      if (isSmallCount(q[i] as number, threshold)) {
        suppressed[i] = 1;
        reason[i] = REASON_PRIMARY;
        primary++;
        break;
      }
    }
  }

  const memberOf = rowRelations(relations, n);
  const size = (i: number): number => {
    for (const q of quantities) {
      const v = q[i] as number;
      if (!Number.isNaN(v)) return v;
    }
    return Number.NaN;
  };

  // FIFO of relations to (re)check; each is queued at most once at a time.
  const queue = new Int32Array(R + 1);
  const queued = new Uint8Array(R);
  let head = 0;
  let tail = 0;
  let pending = 0;
  const push = (r: number) => {
    if (queued[r]) return;
    queued[r] = 1;
    queue[tail] = r;
    tail = (tail + 1) % queue.length;
    pending++;
  };
  for (let r = 0; r < R; r++) push(r);

  // shared quantities: stand-in row -> group, member row -> groups, shown members per group
  const shared = input.shared;
  const G = shared ? shared.row.length : 0;
  const standIn = new Int32Array(n).fill(-1);
  const shownMembers = new Int32Array(G);
  const groupsOf = { start: new Int32Array(n + 1), groups: new Int32Array(shared ? shared.members.length : 0) };
  if (shared) {
    for (let g = 0; g < G; g++) {
      standIn[shared.row[g] as number] = g;
      for (let k = shared.start[g] as number; k < (shared.start[g + 1] as number); k++) {
        const m = shared.members[k] as number;
        groupsOf.start[m + 1]! += 1;
        if (!suppressed[m]) shownMembers[g]! += 1;
      }
    }
    for (let i = 0; i < n; i++) groupsOf.start[i + 1]! += groupsOf.start[i] as number;
    const fill = groupsOf.start.slice(0, n);
    for (let g = 0; g < G; g++) {
      for (let k = shared.start[g] as number; k < (shared.start[g + 1] as number); k++) groupsOf.groups[fill[shared.members[k] as number]!++] = g;
    }
  }

  const stack: number[] = [];
  const suppress = (first: number) => {
    stack.push(first);
    while (stack.length) {
      const row = stack.pop() as number;
      if (suppressed[row]) continue;
      suppressed[row] = 1;
      reason[row] = REASON_COMPLEMENTARY;
      complementary++;
      for (let k = memberOf.start[row] as number; k < (memberOf.start[row + 1] as number); k++) push(memberOf.rels[k] as number);
      if (!shared) continue;
      const g = standIn[row] as number;
      if (g >= 0) {
        for (let k = shared.start[g] as number; k < (shared.start[g + 1] as number); k++) {
          const m = shared.members[k] as number;
          if (!suppressed[m]) stack.push(m);
        }
      }
      for (let k = groupsOf.start[row] as number; k < (groupsOf.start[row + 1] as number); k++) {
        const h = groupsOf.groups[k] as number;
        shownMembers[h]! -= 1;
        if (shownMembers[h] === 0) stack.push(shared.row[h] as number);
      }
    }
  };
  if (shared) {
    // a stand-in withheld by the primary rule withholds its members (they hold the same
    // small count and are withheld already); one whose members are all withheld is withheld
    for (let g = 0; g < G; g++) {
      const row = shared.row[g] as number;
      if (suppressed[row]) {
        for (let k = shared.start[g] as number; k < (shared.start[g + 1] as number); k++) {
          const m = shared.members[k] as number;
          if (!suppressed[m]) suppress(m);
        }
      } else if (shownMembers[g] === 0) {
        suppress(row);
      }
    }
  }

  while (pending > 0) {
    const r = queue[head] as number;
    head = (head + 1) % queue.length;
    pending--;
    queued[r] = 0;
    const w = relations.whole[r] as number;
    const from = relations.start[r] as number;
    const to = relations.start[r + 1] as number;
    if (to === from) continue;

    let withheldParts = 0;
    for (let k = from; k < to; k++) if (suppressed[relations.parts[k] as number]) withheldParts++;

    if (suppressed[w]) {
      // rule 3: a suppressed whole must not be the sum of shown parts
      if (withheldParts === 0) {
        const pick = smallestShown(relations, from, to, suppressed, size);
        if (pick >= 0) suppress(pick);
      }
      continue;
    }

    let target = -1;
    let violated = false;
    for (const q of quantities) {
      const whole = q[w] as number;
      if (Number.isNaN(whole)) continue;
      let shown = 0;
      for (let k = from; k < to; k++) {
        const p = relations.parts[k] as number;
        const v = q[p] as number;
        if (!suppressed[p] && !Number.isNaN(v)) shown += v;
      }
      if (isSmallWithheld(whole - shown, whole, threshold)) {
        violated = true;
        target = smallestShown(relations, from, to, suppressed, (i) => q[i] as number);
        break;
      }
    }
    if (!violated && withheldParts === 1) {
      violated = true;
      target = smallestShown(relations, from, to, suppressed, size);
    }
    if (!violated) continue;
    // No shown part can cover the withheld total (only when parts do not add up to the
    // whole, or a single-part relation): withhold the whole instead.
    suppress(target >= 0 ? target : w);
  }
  return { reason, primary, complementary };
}

/** The shown part with the smallest positive value (ties: the lower row index); -1 if none. */
function smallestShown(
  relations: Relations,
  from: number,
  to: number,
  suppressed: Uint8Array,
  value: (row: number) => number,
): number {
  let best = -1;
  let bestValue = Infinity;
  for (let k = from; k < to; k++) {
    const p = relations.parts[k] as number;
    if (suppressed[p]) continue;
    const v = value(p);
    if (!(v > 0)) continue;
    if (v < bestValue || (v === bestValue && p < best)) {
      best = p;
      bestValue = v;
    }
  }
  return best;
}

/** For each row, the relations it is in (as the whole or a part), CSR. */
function rowRelations(relations: Relations, n: number): { start: Int32Array; rels: Int32Array } {
  const R = relations.whole.length;
  const count = new Int32Array(n + 1);
  for (let r = 0; r < R; r++) count[(relations.whole[r] as number) + 1]!++;
  for (let k = 0; k < relations.parts.length; k++) count[(relations.parts[k] as number) + 1]!++;
  for (let i = 0; i < n; i++) count[i + 1]! += count[i] as number;
  const start = count.slice();
  const fill = count.slice(0, n);
  const rels = new Int32Array(start[n] as number);
  for (let r = 0; r < R; r++) {
    const w = relations.whole[r] as number;
    rels[fill[w]!++] = r;
    for (let k = relations.start[r] as number; k < (relations.start[r + 1] as number); k++) {
      const p = relations.parts[k] as number;
      rels[fill[p]!++] = r;
    }
  }
  return { start, rels };
}
