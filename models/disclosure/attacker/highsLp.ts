// The same LP questions as slackSimplex.ts, answered by HiGHS, for regions too large for a
// dense tableau: a whole component of a few thousand counts, where our simplex needed more
// than its 20,000 pivots (about 37 s each on the 20,000-person demo's person-time component)
// and HiGHS's sparse dual simplex needs a fraction of a second. One model per region; each
// objective warm-starts from the last basis. Values are reported as offsets from the lower
// bounds, as SlackSimplex reports them.
import type { Highs } from 'highs';
import type { LpStatus } from './slackSimplex.ts';
import type { SparseEquation } from './nullspace.ts';

type Model = ReturnType<Highs['createModel']>;

/** Equations as HiGHS's compressed sparse rows, with their right-hand sides. */
export function csrOf(eqs: readonly SparseEquation[]): { starts: number[]; indices: number[]; values: number[]; rhs: number[] } {
  const starts: number[] = [0];
  const indices: number[] = [];
  const values: number[] = [];
  const rhs: number[] = [];
  for (const e of eqs) {
    e.vars.forEach((v, k) => {
      indices.push(v);
      values.push(e.coefs[k] as number);
    });
    starts.push(indices.length);
    rhs.push(e.rhs);
  }
  return { starts, indices, values, rhs };
}

export class HighsLp {
  private readonly model: Model;
  private readonly cost: Float64Array;
  private x: Float64Array;

  constructor(private readonly highs: Highs, eqs: readonly SparseEquation[], private readonly lower: Float64Array, upper: Float64Array, x0: Float64Array) {
    const n = lower.length;
    const { starts, indices, values, rhs } = csrOf(eqs);
    this.model = highs.createModel({
      numCols: n, numRows: eqs.length, colCost: new Float64Array(n), colLower: lower,
      colUpper: upper.map((u) => (Number.isFinite(u) ? u : highs.infinity)), rowLower: rhs, rowUpper: rhs,
      matrix: { format: 'csr', numRows: eqs.length, numCols: n, starts, indices, values },
    });
    this.model.options.set({ output_flag: false });
    this.cost = new Float64Array(n);
    this.x = x0.map((v, i) => v - (lower[i] as number));
  }

  solve(cost: ReadonlyMap<number, number>, maximise = false): LpStatus {
    this.cost.fill(0);
    for (const [i, c] of cost) this.cost[i] = c;
    const { minimize, maximize } = this.highs.constants.objectiveSense;
    const { optimal, unbounded } = this.highs.constants.modelStatus;
    this.model.changeColsCost({ kind: 'range', from: 0, to: this.cost.length - 1 }, this.cost);
    this.model.changeObjectiveSense(maximise ? maximize : minimize);
    const status = this.model.run().modelStatus as number;
    if (status === unbounded) return 'unbounded';
    if (status !== optimal) return 'limit';
    this.x = Float64Array.from(this.model.getSolution().colValue, (v, i) => v - (this.lower[i] as number));
    return 'optimal';
  }

  values(): Float64Array {
    return this.x;
  }

  dispose() {
    this.model.dispose();
  }
}
