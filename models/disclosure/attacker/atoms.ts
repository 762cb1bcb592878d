// The counts behind one published results row, as the attacker sees them (issue 14's
// "protected counts"): every published figure that counts people or events is a sum of
// these additive atoms, so every relation between published rows is a relation between
// atoms of the same type.
//
//   proportion  N = numerator, C = denominator - numerator (the complement)   D = N + C
//   duration    E = events,    K = cases - events (censored)                  D = E + K
//   count       X = the count
//   mean        n = the number of cases (the denominator)
//   rate        E = events (not for a dollar numerator), T = person-time (member-months)
//   ratio       N = the demand count (capacity-months are not counts)
//
// D is not an atom (it is N + C), but it is published and protected, so the attacker
// system gives it an auxiliary variable. T is continuous; the others are integers.
import type { MetricKind } from '../metricMeta.ts';

export type AtomType = 'N' | 'C' | 'E' | 'K' | 'X' | 'n' | 'T';

export interface AtomSpec {
  type: AtomType;
  /** Whole numbers (T is member-months). */
  integer: boolean;
}

export interface KindAtoms {
  atoms: AtomSpec[];
  /** The protected sum D of the first two atoms (proportion, duration). */
  total: boolean;
}

const I = (type: AtomType): AtomSpec => ({ type, integer: true });

export function atomsOf(kind: MetricKind, dollarNumerator: boolean): KindAtoms {
  switch (kind) {
    case 'proportion':
      return { atoms: [I('N'), I('C')], total: true };
    case 'duration':
      return { atoms: [I('E'), I('K')], total: true };
    case 'count':
      return { atoms: [I('X')], total: false };
    case 'mean':
      return { atoms: [I('n')], total: false };
    case 'rate':
      return { atoms: dollarNumerator ? [{ type: 'T', integer: false }] : [I('E'), { type: 'T', integer: false }], total: false };
    case 'ratio':
      return { atoms: [I('N')], total: false };
  }
}

export interface RowFigures {
  numerator: number | null;
  denominator: number | null;
  value: number | null;
}

/** The atoms' values of a row with its figures shown (null where a figure is missing). */
export function atomValues(kind: MetricKind, dollarNumerator: boolean, r: RowFigures): Array<number | null> {
  const num = r.numerator;
  const den = r.denominator;
  switch (kind) {
    case 'proportion':
    case 'duration':
      return [num, num === null || den === null ? null : den - num];
    case 'count':
      return [num ?? r.value];
    case 'mean':
      return [den];
    case 'rate':
      return dollarNumerator ? [den] : [num, den];
    case 'ratio':
      return [num];
  }
}
