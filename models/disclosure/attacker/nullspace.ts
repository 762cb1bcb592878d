// Sparse Gaussian elimination of a component's equations (the attacker's first tool, as in
// Statistics Norway's GaussSuppression): the reduced row echelon form tells which
// withheld counts the equations determine exactly, and gives a basis of the null space,
// every solution being x = x0 + N z. The relations are sums with coefficients 0 and +-1 on
// hierarchical tables, so elimination in column order with the sparsest pivot row keeps
// the rows short.

export interface SparseEquation {
  vars: readonly number[];
  coefs: readonly number[];
  rhs: number;
}

export interface Echelon {
  /** pivot row per pivot variable: x[p] = rhs - sum over free f of coef * x[f] */
  pivots: Map<number, { rhs: number; free: Map<number, number> }>;
  /** variables not pivots (the null space has one basis vector per free variable) */
  free: number[];
  /** an equation reduced to 0 = c with c != 0 */
  inconsistent: boolean;
}

const TOL = 1e-9;

export function echelon(n: number, equations: readonly SparseEquation[]): Echelon {
  const rows: Array<Map<number, number> | null> = [];
  const rhs: number[] = [];
  const byCol: Array<Set<number>> = Array.from({ length: n }, () => new Set());
  for (const e of equations) {
    const r = new Map<number, number>();
    e.vars.forEach((v, k) => {
      const c = (r.get(v) ?? 0) + (e.coefs[k] as number);
      if (Math.abs(c) > TOL) r.set(v, c);
      else r.delete(v);
    });
    const id = rows.length;
    rows.push(r);
    rhs.push(e.rhs);
    for (const v of r.keys()) byCol[v]!.add(id);
  }
  const pivotRow = new Map<number, number>(); // variable -> row
  const isPivotRow = new Uint8Array(rows.length);
  let inconsistent = false;
  for (let col = 0; col < n; col++) {
    // the sparsest row still holding this column, among rows not yet used as pivots
    let best = -1;
    let bestSize = Infinity;
    for (const id of byCol[col]!) {
      if (isPivotRow[id]) continue;
      const size = rows[id]!.size;
      if (size < bestSize) {
        best = id;
        bestSize = size;
      }
    }
    if (best < 0) continue;
    const pr = rows[best]!;
    const p = pr.get(col) as number;
    if (p !== 1) {
      for (const [v, c] of pr) pr.set(v, c / p);
      rhs[best] = (rhs[best] as number) / p;
    }
    pivotRow.set(col, best);
    isPivotRow[best] = 1;
    // eliminate col from every other row holding it (earlier pivot rows too: reduced form)
    for (const id of [...byCol[col]!]) {
      if (id === best) continue;
      const r = rows[id]!;
      const f = r.get(col) as number;
      for (const [v, c] of pr) {
        const nv = (r.get(v) ?? 0) - f * c;
        if (Math.abs(nv) > TOL) {
          if (!r.has(v)) byCol[v]!.add(id);
          r.set(v, nv);
        } else if (r.has(v)) {
          r.delete(v);
          byCol[v]!.delete(id);
        }
      }
      rhs[id] = (rhs[id] as number) - f * (rhs[best] as number);
      if (r.size === 0) {
        if (Math.abs(rhs[id] as number) > 1e-6 * Math.max(1, Math.abs(rhs[id] as number))) inconsistent = true;
        rows[id] = null;
      }
    }
  }
  const pivots = new Map<number, { rhs: number; free: Map<number, number> }>();
  for (const [v, id] of pivotRow) {
    const r = rows[id]!;
    const free = new Map<number, number>();
    for (const [u, c] of r) if (u !== v) free.set(u, c);
    pivots.set(v, { rhs: rhs[id] as number, free });
  }
  const free: number[] = [];
  for (let v = 0; v < n; v++) if (!pivots.has(v)) free.push(v);
  return { pivots, free, inconsistent };
}
