// The attacker's linear programs in null-space form: every solution of the component's
// equations is x = x0 + N z (nullspace.ts), so "min or max of a count" becomes an LP in the
// free parameters z with the inequalities 0 <= x <= upper. Starting from a known solution
// x0 (the truth), the basis of slacks x is feasible at z = 0: no phase 1, a tableau of
// (variables x free parameters), and any number of objectives solved one after another
// from the last basis (warm start). Bland's rule: these problems are degenerate (many
// zeros), and Bland's rule cannot cycle.

const EPS = 1e-9;

export type LpStatus = 'optimal' | 'unbounded';

export class SlackSimplex {
  /** tableau: basic variable i = beta[i] + sum_j alpha[i*k + j] * (move of nonbasic j from where it sits) */
  private readonly alpha: Float64Array;
  private readonly beta: Float64Array;
  /** per row: which variable is basic (x index in 0..n-1, or n + j for parameter z_j) */
  private readonly basic: Int32Array;
  /** per column: which variable is nonbasic there, and where it sits (0 or its upper bound) */
  private readonly nonbasic: Int32Array;
  private readonly atUpper: Uint8Array;
  private readonly n: number;
  private readonly k: number;

  /**
   * @param x0 a solution of the equations within the bounds
   * @param basis null-space basis: basis[j] is the sparse vector (variable -> coefficient)
   * @param upper each variable's upper bound (Infinity: none); lower bounds are 0
   */
  constructor(x0: ArrayLike<number>, basis: ReadonlyArray<ReadonlyMap<number, number>>, private readonly upper: ArrayLike<number>) {
    this.n = x0.length;
    this.k = basis.length;
    this.alpha = new Float64Array(this.n * this.k);
    basis.forEach((vec, j) => {
      for (const [v, c] of vec) this.alpha[v * this.k + j] = c;
    });
    this.beta = Float64Array.from(x0);
    this.basic = Int32Array.from({ length: this.n }, (_, i) => i);
    this.nonbasic = Int32Array.from({ length: this.k }, (_, j) => this.n + j);
    this.atUpper = new Uint8Array(this.k);
  }

  /** Current values of x. */
  values(): Float64Array {
    const x = new Float64Array(this.n);
    for (let i = 0; i < this.n; i++) {
      const b = this.basic[i] as number;
      if (b < this.n) x[b] = this.beta[i] as number;
    }
    for (let j = 0; j < this.k; j++) {
      const v = this.nonbasic[j] as number;
      if (v < this.n) x[v] = this.atUpper[j] ? (this.upper[v] as number) : 0;
    }
    return x;
  }

  /** Minimise (or maximise) sum cost[v] * x[v] from the current basis. */
  solve(cost: ReadonlyMap<number, number>, maximise = false): LpStatus {
    const n = this.n;
    const k = this.k;
    const sign = maximise ? -1 : 1;
    const c = (v: number) => (v < n ? sign * (cost.get(v) ?? 0) : 0);
    // reduced costs of the nonbasic columns, kept up to date by each pivot
    const d = new Float64Array(k);
    for (let j = 0; j < k; j++) d[j] = c(this.nonbasic[j] as number);
    for (let i = 0; i < n; i++) {
      const cb = c(this.basic[i] as number);
      if (cb === 0) continue;
      const o = i * k;
      for (let j = 0; j < k; j++) d[j] = (d[j] as number) + cb * (this.alpha[o + j] as number);
    }
    for (let iter = 0; iter < 100_000; iter++) {
      let enter = -1;
      let dir = 0;
      let enterVar = Infinity;
      for (let j = 0; j < k; j++) {
        const dj = d[j] as number;
        const v = this.nonbasic[j] as number;
        const free = v >= n;
        let canDir = 0;
        if (dj < -EPS && (free || !this.atUpper[j])) canDir = 1; // increase
        else if (dj > EPS && (free || this.atUpper[j])) canDir = -1; // decrease
        if (canDir !== 0 && v < enterVar) {
          enter = j;
          dir = canDir;
          enterVar = v;
        }
      }
      if (enter < 0) return 'optimal';
      // ratio test: basic variables with bounds, and the entering variable's own range
      const ev = this.nonbasic[enter] as number;
      let theta = ev < n && Number.isFinite(this.upper[ev] as number) ? (this.upper[ev] as number) : Infinity;
      let leave = -1;
      let leaveToUpper = false;
      for (let i = 0; i < n; i++) {
        const b = this.basic[i] as number;
        if (b >= n) continue; // a free parameter never leaves
        const a = dir * (this.alpha[i * k + enter] as number);
        if (Math.abs(a) <= EPS) continue;
        const value = this.beta[i] as number;
        let t: number;
        let toUpper = false;
        if (a < 0) t = value / -a; // decreases to 0
        else {
          const u = this.upper[b] as number;
          if (!Number.isFinite(u)) continue;
          t = (u - value) / a;
          toUpper = true;
        }
        if (t < theta - EPS || (Math.abs(t - theta) <= EPS && leave >= 0 && b < (this.basic[leave] as number))) {
          theta = Math.max(0, t);
          leave = i;
          leaveToUpper = toUpper;
        }
      }
      if (!Number.isFinite(theta)) return 'unbounded';
      if (leave < 0) {
        // the entering variable moves to its other bound (a bounded x variable)
        for (let i = 0; i < n; i++) this.beta[i] = (this.beta[i] as number) + dir * theta * (this.alpha[i * k + enter] as number);
        this.atUpper[enter] = dir > 0 ? 1 : 0;
        continue;
      }
      this.pivot(leave, enter, dir * theta, leaveToUpper);
      // the objective row, like any other: d_l += d_j * pivotRow_l, d_j = d_j * pivotRow_j
      const dj = d[enter] as number;
      const row = leave * k;
      for (let l = 0; l < k; l++) if (l !== enter) d[l] = (d[l] as number) + dj * (this.alpha[row + l] as number);
      d[enter] = dj * (this.alpha[row + enter] as number);
    }
    throw new Error('attacker LP: iteration limit');
  }

  /** Exchange basic row r and nonbasic column j, the entering variable moving by delta. */
  private pivot(r: number, j: number, delta: number, leaveToUpper: boolean) {
    const n = this.n;
    const k = this.k;
    const a = this.alpha;
    const arj = a[r * k + j] as number;
    // update the basic values for the move
    for (let i = 0; i < n; i++) this.beta[i] = (this.beta[i] as number) + delta * (a[i * k + j] as number);
    const enterVar = this.nonbasic[j] as number;
    const enterValue = (enterVar < n && this.atUpper[j] ? (this.upper[enterVar] as number) : 0) + delta;
    const leaveVar = this.basic[r] as number;
    // row r: leaveVar = beta_r + sum alpha_r * nb  ->  enterVar expressed through leaveVar
    // enter = (leave - beta_r - sum_{l != j} alpha_rl nb_l) / alpha_rj
    const row = r * k;
    const pivotRow = new Float64Array(k);
    for (let l = 0; l < k; l++) pivotRow[l] = l === j ? 1 / arj : -(a[row + l] as number) / arj;
    for (let i = 0; i < n; i++) {
      if (i === r) continue;
      const f = a[i * k + j] as number;
      if (f === 0) continue;
      const o = i * k;
      for (let l = 0; l < k; l++) {
        const pv = pivotRow[l] as number;
        if (pv !== 0 && l !== j) a[o + l] = (a[o + l] as number) + f * pv;
      }
      a[o + j] = f * (pivotRow[j] as number);
    }
    for (let l = 0; l < k; l++) a[row + l] = pivotRow[l] as number;
    this.basic[r] = enterVar;
    this.beta[r] = enterValue;
    this.nonbasic[j] = leaveVar;
    this.atUpper[j] = leaveToUpper ? 1 : 0;
  }
}
