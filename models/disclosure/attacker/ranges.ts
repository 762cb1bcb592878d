// What the attacker can prove about each withheld count: its feasible range under every
// relation of the system (system.ts), non-negativity and whole numbers. A protected count
// is disclosed when that range lies inside 1..threshold-1 (issue 14: "the feasible range of
// every protected count must reach 0 or 11 or more"); an exact disclosure is a range of
// one value.
//
// How, within seconds for tens of thousands of withheld counts:
//  - the system splits into independent components (variables linked by relations);
//  - the range of a count always contains its true value, so when the truth is known only
//    counts that are truly 1..threshold-1 can be disclosed ("candidates");
//  - Gaussian elimination of the component's equations (nullspace.ts) finds the counts they
//    determine exactly, and writes every solution as x = x0 + N z;
//  - a candidate is safe once some whole-number solution puts it at 0 or at the threshold
//    or above. Starting from a known solution (the truth), a simplex over z of our own
//    (slackSimplex.ts: no phase 1, warm starts) minimises, then maximises, the sum of the
//    open candidates round after round; each whole-number optimum settles the candidates
//    it puts at 0 or at the threshold. The rest get their own min and max;
//  - where an LP optimum is not a whole number, HiGHS (the `highs` package) answers the
//    same question as a MIP. It also finds a first whole-number solution when the truth is
//    not known (an exported file).
import highsModule, { type Highs } from 'highs';
import { echelon, type SparseEquation } from './nullspace.ts';
import { SlackSimplex } from './slackSimplex.ts';
import type { LinearSystem } from './system.ts';

export interface Disclosure {
  /** Variable index in the system. */
  var: number;
  /** The attacker's proven range (whole numbers for counts). */
  low: number;
  high: number;
  exact: boolean;
}

export interface RangeReport {
  disclosures: Disclosure[];
  /** Components with at least one candidate. */
  components: number;
  candidates: number;
  /** LPs solved by our simplex, and MIPs by HiGHS. */
  lps: number;
  mips: number;
  seconds: number;
}

// `highs` is a CommonJS package whose types declare an ES default export: under Node's
// ESM loader the default import is the loader function itself.
type Loader = () => Promise<Highs>;
const highsLoader = ((highsModule as unknown as { default?: Loader }).default ?? highsModule) as unknown as Loader;
let loaded: Promise<Highs> | null = null;
const solver = () => (loaded ??= highsLoader());

const EPS = 1e-7;
/** Largest neighbourhood (variables) the dense simplex takes. */
const LOCAL_MAX = 400;

export interface RangeOptions {
  /** Only components holding one of these variables (default: all). */
  only?: ReadonlySet<number>;
}

export async function findDisclosures(sys: LinearSystem, opts: RangeOptions = {}): Promise<RangeReport> {
  const started = performance.now();
  const T = sys.threshold;
  const n = sys.vars.length;
  const report: RangeReport = { disclosures: [], components: 0, candidates: 0, lps: 0, mips: 0, seconds: 0 };

  const parent = new Int32Array(n).map((_, i) => i);
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x] as number] as number;
      x = parent[x] as number;
    }
    return x;
  };
  for (const r of sys.rows) for (let k = 1; k < r.vars.length; k++) {
    const a = find(r.vars[0] as number);
    const b = find(r.vars[k] as number);
    if (a !== b) parent[a < b ? b : a] = a < b ? a : b;
  }
  const isCandidate = (i: number) => {
    const v = sys.vars[i]!;
    if (!v.protect) return false;
    if (v.truth === null) return true;
    return v.truth > EPS && v.truth < T - EPS;
  };
  const compVars = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const root = find(i);
    const list = compVars.get(root);
    if (list) list.push(i);
    else compVars.set(root, [i]);
  }
  const compRows = new Map<number, number[]>();
  sys.rows.forEach((r, k) => {
    const root = find(r.vars[0] as number);
    const list = compRows.get(root);
    if (list) list.push(k);
    else compRows.set(root, [k]);
  });

  for (const [root, members] of compVars) {
    const candidates = members.filter(isCandidate);
    if (!candidates.length) continue;
    if (opts.only && !members.some((m) => opts.only!.has(m))) continue;
    report.components++;
    report.candidates += candidates.length;
    const c = new Component(sys, members, compRows.get(root) ?? [], T, report);
    const t0 = performance.now();
    await c.decide(candidates);
    const dt = performance.now() - t0;
    if (process.env.CLOSELOOP_TRACE_AUDIT && dt > 200) console.error(`audit component: ${members.length} counts, ${(compRows.get(root) ?? []).length} relations, ${candidates.length} candidates: ${(dt / 1000).toFixed(1)} s`);
  }
  report.seconds = (performance.now() - started) / 1000;
  return report;
}

class Component {
  private readonly local = new Map<number, number>();
  /** component variables, then one slack per inequality row */
  private nv = 0;
  private lower: number[] = [];
  private upper: number[] = [];
  private integer: boolean[] = [];
  private equations: SparseEquation[] = [];

  constructor(
    private readonly sys: LinearSystem,
    private readonly members: number[],
    private readonly rowIds: number[],
    private readonly T: number,
    private readonly report: RangeReport,
  ) {
    members.forEach((v, k) => this.local.set(v, k));
    this.nv = members.length;
    for (const v of members) {
      const x = sys.vars[v]!;
      this.lower.push(x.lower);
      this.upper.push(x.upper);
      this.integer.push(x.integer);
    }
    for (const id of rowIds) {
      const r = sys.rows[id]!;
      const vars = r.vars.map((v) => this.local.get(v)!);
      const coefs = [...r.coefs];
      if (r.lo === r.hi) {
        this.equations.push({ vars, coefs, rhs: r.lo });
        continue;
      }
      // lo <= a.x <= hi: a.x - s = lo with 0 <= s <= hi - lo
      const s = this.nv++;
      this.lower.push(0);
      this.upper.push(Number.isFinite(r.lo) ? r.hi - r.lo : Infinity);
      this.integer.push(false);
      this.equations.push({ vars: [...vars, s], coefs: [...coefs, -1], rhs: Number.isFinite(r.lo) ? r.lo : r.hi });
      if (!Number.isFinite(r.lo)) this.upper[s] = Infinity; // a.x + s' = hi form below
      if (!Number.isFinite(r.lo)) {
        const e = this.equations[this.equations.length - 1]!;
        (e.coefs as number[])[e.coefs.length - 1] = 1;
      }
    }
  }

  async decide(candidates: number[]) {
    const open = new Set(candidates.map((v) => this.local.get(v)!));
    if (this.rowIds.length === 0) {
      // in no relation: its range is its own bounds
      for (const k of open) this.bounds(k, this.lower[k] as number, this.upper[k] as number);
      return;
    }
    const ech = echelon(this.nv, this.equations);
    if (ech.inconsistent) throw new Error(`disclosure audit: ${this.members.length} related counts have no solution: the published figures contradict each other`);
    // exactly determined counts
    for (const k of [...open]) {
      const p = ech.pivots.get(k);
      if (p && p.free.size === 0) {
        open.delete(k);
        this.bounds(k, p.rhs, p.rhs);
      }
    }
    if (!open.size) return;
    const x0 = this.truthPoint(ech) ?? (await this.wholeSolution());
    if (!x0) throw new Error(`disclosure audit: ${this.members.length} related counts have no whole-number solution: the published figures contradict each other`);
    // shift to lower bounds 0 for the simplex
    const basis = ech.free.map((f) => {
      const vec = new Map<number, number>([[f, 1]]);
      for (const [p, row] of ech.pivots) {
        const c = row.free.get(f);
        if (c !== undefined) vec.set(p, -c);
      }
      return vec;
    });
    const shifted = x0.map((x, k) => x - (this.lower[k] as number));
    const span = this.upper.map((u, k) => u - (this.lower[k] as number));
    const lp = new SlackSimplex(shifted, basis, span);
    const value = () => lp.values().map((x, k) => x + (this.lower[k] as number));
    const whole = (x: Float64Array) => x.every((xv, k) => !this.integer[k] || Math.abs(xv - Math.round(xv)) <= 1e-6);
    const settle = (x: Float64Array): number => {
      if (!whole(x)) return 0;
      let settled = 0;
      for (const k of [...open]) {
        const xv = x[k] as number;
        if (xv <= EPS || xv >= this.T - EPS) {
          open.delete(k);
          settled++;
        }
      }
      return settled;
    };
    settle(Float64Array.from(x0));
    for (const maximise of [false, true]) {
      while (open.size) {
        this.report.lps++;
        const st = lp.solve(new Map([...open].map((k) => [k, 1])), maximise);
        if (st !== 'optimal' || settle(value()) === 0) break;
      }
    }
    const hard: number[] = [];
    for (const k of [...open].sort((a, b) => a - b)) {
      this.report.lps++;
      lp.solve(new Map([[k, 1]]));
      const low = value();
      if (!whole(low)) {
        hard.push(k);
        continue;
      }
      if ((low[k] as number) <= EPS) continue;
      this.report.lps++;
      if (lp.solve(new Map([[k, 1]]), true) === 'unbounded') continue;
      const high = value();
      if (!whole(high)) {
        hard.push(k);
        continue;
      }
      if ((high[k] as number) >= this.T - EPS) continue;
      this.bounds(k, low[k] as number, high[k] as number);
    }
    if (hard.length) await this.decideByMip(hard);
  }

  /** The truth as a solution (slacks of inequality rows computed from it), when known. */
  private truthPoint(ech: ReturnType<typeof echelon>): Float64Array | null {
    const x = new Float64Array(this.nv);
    for (const [k, v] of this.members.entries()) {
      const t = this.sys.vars[v]!.truth;
      if (t === null) return null;
      x[k] = t;
    }
    // slacks: each inequality equation has exactly one slack, its last variable
    for (const e of this.equations) {
      const s = e.vars[e.vars.length - 1] as number;
      if (s < this.members.length) continue;
      let acc = 0;
      for (let i = 0; i < e.vars.length - 1; i++) acc += (e.coefs[i] as number) * (x[e.vars[i] as number] as number);
      x[s] = (e.rhs - acc) / (e.coefs[e.coefs.length - 1] as number);
    }
    void ech;
    return x;
  }

  /** A whole-number solution from the MIP solver (when the truth is not known). */
  private async wholeSolution(): Promise<Float64Array | null> {
    return this.withModel(async (model, highs) => {
      model.changeColsIntegrality({ kind: 'range', from: 0, to: this.nv - 1 }, Int32Array.from(this.integer, (b) => (b ? 1 : 0)));
      this.report.mips++;
      const r = model.run();
      if ((r.modelStatus as number) !== highs.constants.modelStatus.optimal) return null;
      return Float64Array.from(model.getSolution().colValue);
    });
  }

  /** Whole-number min and max of each count by MIP (where an LP optimum was fractional). */
  private async decideByMip(ks: number[]) {
    await this.withModel(async (model, highs) => {
      const { minimize, maximize } = highs.constants.objectiveSense;
      const { optimal, unbounded } = highs.constants.modelStatus;
      const all = { kind: 'range' as const, from: 0, to: this.nv - 1 };
      model.changeColsIntegrality(all, Int32Array.from(this.integer, (b) => (b ? 1 : 0)));
      const cost = new Float64Array(this.nv);
      for (const k of ks) {
        cost.fill(0);
        cost[k] = 1;
        model.changeColsCost(all, cost);
        model.changeObjectiveSense(minimize);
        this.report.mips++;
        const lo = model.run();
        if ((lo.modelStatus as number) !== optimal) throw new Error(`disclosure audit: no whole-number solution when minimising a count (status ${lo.modelStatus})`);
        const low = model.getSolution().colValue[k] as number;
        if (low <= EPS) continue;
        model.changeObjectiveSense(maximize);
        this.report.mips++;
        const hi = model.run();
        if ((hi.modelStatus as number) === unbounded) continue;
        const high = (hi.modelStatus as number) === optimal ? (model.getSolution().colValue[k] as number) : Infinity;
        if (high >= this.T - EPS) continue;
        this.bounds(k, low, high);
      }
    });
  }

  private bounds(k: number, low: number, high: number) {
    if (k >= this.members.length) return; // a slack
    const integer = this.integer[k];
    const lo = integer ? Math.ceil(low - 1e-6) : low;
    const hi = integer ? Math.floor(high + 1e-6) : high;
    if (lo >= 1 - EPS && hi <= this.T - 1 + EPS) this.report.disclosures.push({ var: this.members[k] as number, low: lo, high: hi, exact: Math.abs(hi - lo) < 1e-9 });
  }

  private async withModel<R>(f: (model: ReturnType<Highs['createModel']>, highs: Highs) => Promise<R>): Promise<R> {
    const highs = await solver();
    const starts: number[] = [0];
    const indices: number[] = [];
    const values: number[] = [];
    const rhs: number[] = [];
    for (const e of this.equations) {
      e.vars.forEach((v, k) => {
        indices.push(v);
        values.push(e.coefs[k] as number);
      });
      starts.push(indices.length);
      rhs.push(e.rhs);
    }
    const inf = (u: number) => (Number.isFinite(u) ? u : highs.infinity);
    const model = highs.createModel({
      numCols: this.nv, numRows: this.equations.length, colCost: new Float64Array(this.nv),
      colLower: Float64Array.from(this.lower), colUpper: Float64Array.from(this.upper, inf),
      rowLower: rhs, rowUpper: rhs,
      matrix: { format: 'csr', numRows: this.equations.length, numCols: this.nv, starts, indices, values },
    });
    try {
      model.options.set({ output_flag: false });
      return await f(model, highs);
    } finally {
      model.dispose();
    }
  }
}
