// Benjamini-Hochberg adjusted p-values (q-values), as R's p.adjust(p, method = "BH").
// A run makes thousands of comparisons; q controls the false discovery rate among the
// ones flagged, which p < 0.05 alone does not.

/**
 * q_(i) = min over j >= i of min(1, m / j * p_(j)) for p sorted ascending, m = number of
 * non-null p-values. Same order as the input; nulls (and NaN) stay null and do not count in m.
 * Hand check: p = 0.01, 0.04, 0.03 (m = 3): sorted 0.01, 0.03, 0.04 -> 3*0.01/1 = 0.03,
 * 3*0.03/2 = 0.045, 3*0.04/3 = 0.04; running min from the top: 0.03, 0.04, 0.04;
 * back in input order: 0.03, 0.04, 0.04.
 */
export function benjaminiHochberg(p: Array<number | null>): Array<number | null> {
  const present: number[] = [];
  p.forEach((value, index) => {
    if (value !== null && !Number.isNaN(value)) present.push(index);
  });
  const m = present.length;
  // largest p first (stable for ties, as R's order); the running min makes ties equal anyway
  present.sort((a, b) => (p[b] as number) - (p[a] as number));
  const q: Array<number | null> = p.map(() => null);
  let runningMin = Infinity;
  present.forEach((index, k) => {
    const rank = m - k;
    runningMin = Math.min(runningMin, (m / rank) * (p[index] as number));
    q[index] = Math.min(1, runningMin);
  });
  return q;
}
