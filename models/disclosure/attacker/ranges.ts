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
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import highsModule, { type Highs } from 'highs';
import { echelon, type SparseEquation } from './nullspace.ts';
import { csrOf, HighsLp } from './highsLp.ts';
import { propagateBounds } from './propagate.ts';
import { SlackSimplex } from './slackSimplex.ts';
import type { LinearSystem, SystemRow, SystemVar } from './system.ts';

export interface Disclosure {
  /** Variable index in the system. */
  var: number;
  /** Not shown safe by a local certificate, and not decided exactly (RangeOptions.exact false). */
  unproven?: boolean;
  /** The attacker's proven range (whole numbers for counts). */
  low: number;
  high: number;
  exact: boolean;
}

export interface RangeReport {
  disclosures: Disclosure[];
  /** Components with at least one candidate. */
  components: number;
  /** Of those, decided before and taken from the memo (RangeOptions.memo). */
  reused: number;
  candidates: number;
  /** Candidates shown safe (SystemVar.key), for the next round's `settled`. */
  certified: string[];
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
/** Components up to this many variables are solved whole by our simplex. */
const WHOLE_MAX = 500;
/** Neighbourhood sizes tried, in turn, for a candidate of a larger component. */
const HOOD_SIZES = [60, 200, 500];
/**
 * A component up to this size gets batch rounds on the whole of it first (HiGHS LPs, and the
 * small MIPs of wholeWith), then neighbourhoods for what they leave open. The changes since a
 * previous publication tie a publication into one large component. History:
 *  - 12 referrals added to the 800-person demo made one of 11,325 counts. With a limit of
 *    4,000 its 517 candidates counted as disclosed, and the rounds removed 90 cuts, the
 *    headline closed-loop rate at every grain but months among them; with 16,000 the batch
 *    settled all but 12.
 *  - The same update on the 20,000-person demo made components of 16,806 and then 41,238
 *    counts, above 16,000: 1,831 changes stayed open and 452 cuts went unpublished against
 *    the first publication's 201 (every referral metric's span, years and quarters).
 *  - Now (2026-12-07, quiet machine, that update): with the limit at 100,000, batch first and
 *    wholeWith's MIPs with the LP's whole counts held, 206 cuts; the incremental run took
 *    32.6 s against 49.7 s, the first publication's full run 22.5 s against 30.1 s (7,002
 *    rows withheld against 7,000). On the 16,824-count component (2,646 candidates) batch
 *    first took 4.7 s, neighbourhoods first 65.7 s, the same 26 left open; the 41,238-count
 *    one (45,184 with slacks) settled all 2,219 in 36.7 s.
 */
const BATCH_MAX = 100_000;
/**
 * The largest region whose whole MIP wholeWith tries when its smaller ones find nothing:
 * HiGHS (WebAssembly) aborted after 322 s at 2.7 GB on the batch rounds of a component of
 * 41,238 counts.
 */
const FULL_MIP_MAX = 16000;

interface Region {
  vars: number[];
  index: Map<number, number>;
  lp: SlackSimplex | HighsLp;
  lower: number[];
  /** the region's equations (in region indices), for a MIP check */
  eqs: SparseEquation[];
}

/**
 * Work limit of one MIP check (branch-and-bound nodes); a check that runs out counts as "not
 * shown safe". A node limit, not a time limit: the same publication must get the same answer
 * on a busy machine as on an idle one, which a time limit cannot promise.
 */
const MIP_NODES = 20_000;
/** CLOSELOOP_TRACE_AUDIT: 1 traces components and their phases, 2 also each LP and MIP over more than 1,000 variables (README, Performance). */
const TRACE_LEVEL = !process.env.CLOSELOOP_TRACE_AUDIT ? 0 : process.env.CLOSELOOP_TRACE_AUDIT === '2' ? 2 : 1;
/** Node limit of the MIP that frees only the counts next to an LP optimum's fractional ones (wholeWith). */
const NEAR_NODES = 200;
/** Largest neighbourhood (variables) the dense simplex takes. */
const LOCAL_MAX = 400;

export interface RangeOptions {
  /** Only components holding one of these variables (default: all). */
  only?: ReadonlySet<number>;
  /**
   * Decide what local certificates leave open exactly, on the whole component (default
   * true). When false, such counts are reported as unproven: the suppressor's rounds treat
   * them as disclosed, which costs a little more withholding and saves the exact solves.
   */
  exact?: boolean;
  /**
   * Counts (SystemVar.key) shown safe on an earlier, smaller publication: a solution that
   * put them at 0 or the threshold stays a solution when more rows are withheld (the new
   * variables at their true values), so they need no new proof.
   */
  settled?: ReadonlySet<string>;
  /**
   * Decisions of components already decided, by the component's fingerprint (componentKey):
   * a component whose counts, truth, bounds, relations and candidates are all the same as
   * one decided before (in an earlier round, or in the previous run: issue 19's incremental
   * runs) gets the same answer without solving it again. `previous` is read; every
   * component decided or reused here is written to `next`.
   */
  memo?: { previous: ReadonlyMap<string, string>; next: Map<string, string> };
  /** Components of at least this many counts go to a worker thread, when two or more (tests lower it). */
  parallelFrom?: number;
}

/**
 * The code that decides a component (this folder and the HiGHS build): a memo made by
 * other code is not reused.
 */
const CODE = (() => {
  const h = createHash('sha256');
  const here = new URL('./', import.meta.url);
  for (const name of readdirSync(here).filter((n) => n.endsWith('.ts')).sort()) h.update(`${name}\0`).update(readFileSync(new URL(name, here)));
  const highsPackage = join(dirname(createRequire(import.meta.url).resolve('highs')), '..', 'package.json');
  h.update(JSON.parse(readFileSync(highsPackage, 'utf8')).version as string);
  return h.digest('hex');
})();

/**
 * Everything a component's decision depends on, in the order the solver sees it: the
 * code, the threshold, whether exact, and per count (in component order) its key, truth,
 * bounds, kind and whether it is a candidate, and per relation (in order) its terms and
 * bounds. The same fingerprint gives the same decisions (the solver is deterministic: fixed
 * order, node limits rather than time limits).
 */
function componentKey(sys: LinearSystem, members: readonly number[], rowIds: readonly number[], candidates: ReadonlySet<number>, exact: boolean): string {
  const h = createHash('sha256').update(`${CODE}\0${sys.threshold}\0${exact}\0`);
  const local = new Map<number, number>();
  members.forEach((v, k) => {
    local.set(v, k);
    const x = sys.vars[v]!;
    h.update(`${x.key}\0${x.truth}\0${x.lower}\0${x.upper}\0${x.integer ? 1 : 0}${x.protect ? 1 : 0}${x.change ?? 0}${candidates.has(v) ? 1 : 0}\n`);
  });
  for (const id of rowIds) {
    const r = sys.rows[id]!;
    h.update(`${r.vars.map((v) => local.get(v)).join(',')}\0${r.coefs.join(',')}\0${r.lo}\0${r.hi}\0${r.switch ?? ''}\n`);
  }
  return h.digest('hex');
}

/** A component's decisions, by position in the component: what the memo stores. */
export interface Decided {
  disclosures: Array<{ at: number; low: number | null; high: number | null; exact: boolean; unproven?: boolean }>;
  lps: number;
  mips: number;
}

/**
 * One component as a system of its own (its counts, then its relations re-indexed to them,
 * both in the order of the whole system): what a worker thread receives.
 */
export interface ComponentJob {
  vars: SystemVar[];
  rows: SystemRow[];
  threshold: number;
  /** positions (in vars) of the candidates */
  candidates: number[];
  exact: boolean;
}

function componentJob(sys: LinearSystem, members: readonly number[], rowIds: readonly number[], candidates: readonly number[], exact: boolean): ComponentJob {
  const at = new Map(members.map((v, k) => [v, k]));
  return {
    vars: members.map((v) => sys.vars[v]!),
    rows: rowIds.map((id) => {
      const r = sys.rows[id]!;
      return { ...r, vars: r.vars.map((v) => at.get(v)!) };
    }),
    threshold: sys.threshold,
    candidates: candidates.map((v) => at.get(v)!),
    exact,
  };
}

/** Decides one component (in this thread or a worker's): its disclosures by position. */
export async function decideComponent(job: ComponentJob): Promise<Decided> {
  const report: RangeReport = { disclosures: [], certified: [], components: 0, reused: 0, candidates: 0, lps: 0, mips: 0, seconds: 0 };
  const sys: LinearSystem = { cells: [], vars: job.vars, rows: job.rows, threshold: job.threshold, dropped: {}, relations: {} };
  await new Component(sys, job.vars.map((_, k) => k), job.rows.map((_, i) => i), job.threshold, report, job.exact).decide(job.candidates);
  return {
    disclosures: report.disclosures.map((x) => ({ at: x.var, low: Number.isNaN(x.low) ? null : x.low, high: Number.isNaN(x.high) ? null : x.high, exact: x.exact, ...(x.unproven ? { unproven: true } : {}) })),
    lps: report.lps, mips: report.mips,
  };
}

/**
 * Components of at least this many counts are worth a second thread: with two or more of
 * them, a worker thread takes components off the same queue (largest first) while this
 * thread decides the rest. The audit is single-threaded JavaScript and WebAssembly, and
 * DuckDB's threads are idle meanwhile. CLOSELOOP_AUDIT_WORKER=0 turns it off.
 */
const PARALLEL_FROM = 500;

interface Task { size: number; job: () => ComponentJob; done: (d: Decided, seconds: number) => void }

async function solveAll(tasks: Task[], parallelFrom: number): Promise<void> {
  const queue = [...tasks].sort((a, b) => b.size - a.size);
  const worker = process.env.CLOSELOOP_AUDIT_WORKER !== '0' && tasks.filter((t) => t.size >= parallelFrom).length >= 2 ? componentWorker() : null;
  const inWorker = (async () => {
    if (!worker) return;
    for (let t = queue.shift(); t; t = queue.shift()) {
      const { decided, seconds } = await worker.decide(t.job());
      t.done(decided, seconds);
    }
  })();
  // a component that fails in the worker (figures that contradict each other) rejects this
  // promise while this thread still works: awaited below, it must not count as unhandled
  // meanwhile (Node would end the process instead of letting the audit's caller decide)
  inWorker.catch(() => undefined);
  for (let t = queue.shift(); t; t = queue.shift()) {
    const t0 = performance.now();
    t.done(await decideComponent(t.job()), (performance.now() - t0) / 1000);
    // let the worker's answer in, so it can take the next component
    if (worker) await new Promise((ok) => setImmediate(ok));
  }
  await inWorker;
}

/** The one worker thread (started on first use, kept for the later rounds; it does not keep the process alive). */
let workerThread: { decide: (job: ComponentJob) => Promise<{ decided: Decided; seconds: number }> } | null = null;
function componentWorker() {
  if (workerThread) return workerThread;
  const w = new Worker(new URL('./componentWorker.js', import.meta.url));
  w.unref();
  // answers by job id: two audits in one process may share the thread
  const pending = new Map<number, { ok: (r: { decided: Decided; seconds: number }) => void; fail: (e: Error) => void }>();
  let next = 0;
  w.on('message', (m: { id: number; decided?: Decided; seconds: number; error?: string }) => {
    const p = pending.get(m.id)!;
    pending.delete(m.id);
    if (!pending.size) w.unref();
    if (m.error !== undefined) p.fail(new Error(m.error));
    else p.ok({ decided: m.decided!, seconds: m.seconds });
  });
  const lost = (e: Error) => {
    workerThread = null;
    for (const p of pending.values()) p.fail(e);
    pending.clear();
  };
  w.on('error', lost);
  w.on('exit', (code) => lost(new Error(`disclosure audit: the worker thread exited (code ${code})`)));
  workerThread = {
    decide: (job) => new Promise((ok, fail) => {
      const id = next++;
      pending.set(id, { ok, fail });
      w.ref(); // alive while it works
      w.postMessage({ id, job });
    }),
  };
  return workerThread;
}

export async function findDisclosures(sys: LinearSystem, opts: RangeOptions = {}): Promise<RangeReport> {
  const started = performance.now();
  const T = sys.threshold;
  const n = sys.vars.length;
  const report: RangeReport = { disclosures: [], certified: [], components: 0, reused: 0, candidates: 0, lps: 0, mips: 0, seconds: 0 };

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
    if (opts.settled?.has(v.key)) return false;
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

  // Each component is decided on its own (a sub-system of its counts and relations, in
  // their order), from the memo or by solving; the decisions are merged in component order,
  // so the report does not depend on which thread solved what.
  const jobs: Array<{ members: number[]; rowIds: number[]; candidates: number[]; key: string; decided?: Decided; memoised: boolean; seconds: number }> = [];
  for (const [root, members] of compVars) {
    const candidates = members.filter(isCandidate);
    if (!candidates.length) continue;
    if (opts.only && !members.some((m) => opts.only!.has(m))) continue;
    const rowIds = compRows.get(root) ?? [];
    const key = opts.memo ? componentKey(sys, members, rowIds, new Set(candidates), opts.exact ?? true) : '';
    const memoised = opts.memo ? (opts.memo.next.get(key) ?? opts.memo.previous.get(key)) : undefined;
    jobs.push({ members, rowIds, candidates, key, decided: memoised === undefined ? undefined : (JSON.parse(memoised) as Decided), memoised: memoised !== undefined, seconds: 0 });
  }
  await solveAll(jobs.filter((j) => !j.decided).map((j) => ({
    size: j.members.length,
    job: () => componentJob(sys, j.members, j.rowIds, j.candidates, opts.exact ?? true),
    done: (d: Decided, seconds: number) => {
      j.decided = d;
      j.seconds = seconds;
    },
  })), opts.parallelFrom ?? PARALLEL_FROM);
  for (const j of jobs) {
    const d = j.decided!;
    report.components++;
    report.candidates += j.candidates.length;
    report.lps += d.lps;
    report.mips += d.mips;
    if (j.memoised) report.reused++;
    opts.memo?.next.set(j.key, JSON.stringify(d));
    for (const x of d.disclosures) {
      report.disclosures.push({ var: j.members[x.at] as number, low: x.low ?? Number.NaN, high: x.high ?? Number.NaN, exact: x.exact, ...(x.unproven ? { unproven: true } : {}) });
    }
    const disclosed = new Set(d.disclosures.map((x) => j.members[x.at]));
    for (const v of j.candidates) if (!disclosed.has(v)) report.certified.push(sys.vars[v]!.key);
    if (TRACE_LEVEL >= 1 && j.seconds > 0.2) console.error(`audit component: ${j.members.length} counts, ${j.rowIds.length} relations, ${j.candidates.length} candidates: ${j.seconds.toFixed(1)} s`);
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
  /** equations of each variable (built for neighbourhoods) */
  private eqOf: number[][] | null = null;
  /** the variables that move with each variable (built for neighbourhoods) */
  private closure: number[][] | null = null;
  /** the whole-number solution the LPs start from (the truth, when known) */
  private start: Float64Array | null = null;
  /** rows of disjunctions (SystemRow.switch): their equation, switch and the value it holds at */
  private switched: Array<{ eq: number; sw: number; on: 0 | 1 }> = [];

  constructor(
    private readonly sys: LinearSystem,
    private readonly members: number[],
    private readonly rowIds: number[],
    private readonly T: number,
    private readonly report: RangeReport,
    private readonly exact: boolean,
  ) {
    members.forEach((v, k) => this.local.set(v, k));
    this.nv = members.length;
    for (const v of members) {
      const x = sys.vars[v]!;
      this.lower.push(x.lower);
      this.upper.push(x.upper);
      this.integer.push(x.integer);
    }
    // A finite ceiling for counts no relation bounds above (e.g. a headline row withheld,
    // pending revision, leaves a whole cut unbounded): far above any figure of the
    // component, so any count that reaches it reaches the threshold, and every LP has an
    // optimum (an unbounded maximum certified nothing). A ceiling only narrows what the
    // attacker may assume, so a witness found under it is a witness without it.
    let scale = 10 * T;
    for (const id of rowIds) {
      const r = sys.rows[id]!;
      for (const b of [r.lo, r.hi]) if (Number.isFinite(b)) scale = Math.max(scale, Math.abs(b));
    }
    for (const v of members) {
      const x = sys.vars[v]!;
      for (const b of [x.truth ?? 0, x.lower, x.upper]) if (Number.isFinite(b)) scale = Math.max(scale, Math.abs(b));
    }
    members.forEach((_, k) => {
      if (!Number.isFinite(this.upper[k] as number)) this.upper[k] = 4 * scale;
    });
    for (const id of rowIds) {
      const r = sys.rows[id]!;
      const vars = r.vars.map((v) => this.local.get(v)!);
      const coefs = [...r.coefs];
      if (r.switch !== undefined) this.switched.push({ eq: this.equations.length, sw: vars[vars.length - 1]!, on: r.switch });
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
    await this.switchBounds();
    if (this.rowIds.length === 0) {
      // in no relation: its range is its own bounds
      for (const k of open) this.bounds(k, this.lower[k] as number, this.upper[k] as number);
      return;
    }
    const whole = this.nv <= WHOLE_MAX;
    if (whole) {
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
    }
    if (!open.size) return;
    const x0 = this.truthPoint() ?? (await this.wholeSolution());
    this.start = x0;
    if (!x0) throw new Error(`disclosure audit: ${this.members.length} related counts have no whole-number solution: the published figures contradict each other`);
    for (const k of [...open]) if ((x0[k] as number) <= EPS || (x0[k] as number) >= this.T - EPS) open.delete(k);
    await this.changesBack(open);
    if (!open.size) return;
    if (whole) {
      const region = this.region(Array.from({ length: this.nv }, (_, k) => k), x0);
      await this.settleRounds(region, open);
      const hard: number[] = [];
      for (const k of [...open].sort((a, b) => a - b)) {
        const r = await this.rangeOf(region, k);
        if (r === 'fractional') hard.push(k);
        else if (r) this.bounds(k, r.low, r.high);
      }
      if (hard.length && this.exact) await this.decideByMip(hard, false);
      else for (const k of hard) this.report.disclosures.push({ var: this.members[k] as number, low: Number.NaN, high: Number.NaN, exact: false, unproven: true });
      return;
    }
    // each phase of a component too large to solve whole (counts, slacks not counted)
    const trace = TRACE_LEVEL >= 1 ? (what: string, t: number) => console.error(`  component of ${this.members.length} counts: ${what} ${((performance.now() - t) / 1000).toFixed(2)} s`) : null;
    let t = performance.now();
    // batch rounds on the whole component (BATCH_MAX)
    if (this.nv <= BATCH_MAX) {
      const region = await this.sparseRegion(x0);
      try {
        await this.settleRounds(region, open);
      } finally {
        (region.lp as HighsLp).dispose();
      }
      trace?.(`batch rounds, ${open.size} left open`, t);
    }
    t = performance.now();
    // what the batch left open (or a component too large for it): certify each candidate on a
    // neighbourhood (everything outside held at x0), growing it while the candidate stays open
    for (const k of [...open].sort((a, b) => a - b)) {
      for (const size of HOOD_SIZES) {
        if (!open.has(k)) break;
        await this.settleRounds(this.region(this.neighbourhood(k, size), x0), open);
      }
    }
    trace?.(`neighbourhoods, ${open.size} left open`, t);
    t = performance.now();
    if (!open.size) return;
    if (!this.exact) {
      for (const k of [...open].sort((a, b) => a - b)) this.report.disclosures.push({ var: this.members[k] as number, low: Number.NaN, high: Number.NaN, exact: false, unproven: true });
      return;
    }
    await this.decideByMip([...open].sort((a, b) => a - b), true);
    trace?.(`${open.size} decided exactly`, t);
  }

  /**
   * Disjunctions (SystemRow.switch): a row a.x <= hi that must hold when its switch s is
   * `on` becomes a.x <= hi + M s (on = 0) or a.x <= hi + M (1 - s) (on = 1), with M a
   * bound on a.x - hi over the component without any switched row: by bound propagation
   * (propagate.ts), or by the LP's maximum where propagation finds only the count ceilings.
   * That is a bound, so the relaxed row excludes nothing, and whole-number solutions (s at
   * 0 or 1) are exactly the points where one branch holds; a branch infeasible with the
   * rest simply never holds. M near the figures rather than at the count ceilings (up to
   * 10^8 times larger) keeps a switch within the solver's integrality tolerance of 0 or 1
   * from moving a row by much. A row that holds everywhere (M <= 0) says nothing: its switch is held
   * at the value where the other branch is free.
   */
  private async switchBounds() {
    if (!this.switched.length) return;
    const rows = new Set(this.switched.map((x) => x.eq));
    const eqs = this.equations.filter((_, i) => !rows.has(i));
    // Bounds by propagation first: an LP per row took 80.1 s for the 152 rows of a
    // 1,500-person export's component of 12,199 counts, propagation 0.07 s, and its M was
    // within 1.0-3.3 times the LP's on every row (the count ceilings' were up to 10^8 times).
    const bound = propagateBounds(eqs, this.lower, this.upper);
    let model: ReturnType<Highs['createModel']> | null = null;
    try {
      for (const { eq, sw, on } of this.switched) {
        const e = this.equations[eq]!;
        // the row's terms: all but the switch and the slack (the last two)
        const n = e.vars.length - 2;
        const hi = e.rhs;
        // a bound on a.x over the box, and over the propagated bounds
        let box = 0;
        let propagated = 0;
        for (let k = 0; k < n; k++) {
          const v = e.vars[k]!;
          const c = e.coefs[k]!;
          box += c > 0 ? c * (this.upper[v] as number) : c * (this.lower[v] as number);
          propagated += c > 0 ? c * (bound.upper[v] as number) : c * (bound.lower[v] as number);
        }
        let top = Math.min(box, propagated);
        // the LP only where propagation found no bound near the figures (the count ceilings')
        if (!(propagated < box)) {
          const highs = await solver();
          if (!model) {
            model = this.newModel(highs, eqs);
            model.changeObjectiveSense(highs.constants.objectiveSense.maximize);
          }
          const cost = new Float64Array(this.nv);
          for (let k = 0; k < n; k++) cost[e.vars[k]!] = e.coefs[k]!;
          model.changeColsCost({ kind: 'range', from: 0, to: this.nv - 1 }, cost);
          this.report.lps++;
          const r = model.run();
          if ((r.modelStatus as number) === highs.constants.modelStatus.optimal) {
            const x = model.getSolution().colValue;
            let value = 0;
            for (let k = 0; k < n; k++) value += e.coefs[k]! * x[e.vars[k]!]!;
            top = Math.min(top, value);
          }
        }
        const M = top - hi;
        if (!(M > 1e-9)) {
          // the row holds everywhere: hold the switch where this branch is the one that holds
          this.lower[sw] = this.upper[sw] = on;
          continue;
        }
        // a margin for the LP's (or the propagation's) own tolerance
        const big = M + 1e-6 * Math.max(1, Math.abs(top));
        // on 0: a.x - M s <= hi; on 1: a.x + M s <= hi + M
        (e.coefs as number[])[n] = on === 0 ? -big : big;
        if (on === 1) (e as { rhs: number }).rhs = hi + big;
      }
    } finally {
      model?.dispose();
    }
  }

  /**
   * Consecutive publications (audit.ts, addChanges): one whole-number solution with every
   * open change at 0 or past it (the previous figures, as far as the relations allow)
   * settles them all at once. The certificate moves every held row of every cut back
   * together, which neighbourhoods of one count do not find in a large component.
   */
  private async changesBack(open: Set<number>) {
    const changes = [...open].filter((k) => k < this.members.length && this.sys.vars[this.members[k] as number]!.change).sort((a, b) => a - b);
    if (!changes.length) return;
    const all = Array.from({ length: this.nv }, (_, k) => k);
    const region = { vars: all, index: new Map(all.map((k) => [k, k])), lp: undefined as unknown as HighsLp, lower: [...this.lower], eqs: this.equations };
    // The LP with every open change at most 0 first (issue 19): where it has no solution the
    // MIP has none either, a whole-number optimum is the certificate, and a fractional one
    // leads wholeWith's smaller MIPs. Without it the whole-region MIP alone took 118.6 s on a
    // 27,351-count component of the 200,000-person demo's second 12-referral update (it had
    // a solution), most of that run's 156 s.
    const t0 = performance.now();
    const near = await this.lpWith(changes);
    if (TRACE_LEVEL >= 2 && this.nv > 1000) console.error(`    lp over ${this.nv} variables, ${changes.length} changes at most 0: ${near ? (this.isWhole(region, near) ? 'whole' : 'fractional') : 'no solution'} ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    if (!near) return;
    // every open change held at 0 leaves presolve little to search, at any size
    if (this.isWhole(region, near) || (await this.wholeWith(region, changes, [], near, true))) for (const k of changes) open.delete(k);
  }

  /** A solution of the component's LP with these counts at most 0 (no objective), or null when it has none. */
  private async lpWith(zero: readonly number[]): Promise<Float64Array | null> {
    const highs = await solver();
    const lower = Float64Array.from(this.lower);
    const upper = Float64Array.from(this.upper);
    for (const k of zero) upper[k] = 0;
    if (zero.some((k) => (lower[k] as number) > 0)) return null;
    const lp = new HighsLp(highs, this.equations, lower, upper, lower);
    try {
      this.report.lps++;
      if (lp.solve(new Map()) !== 'optimal') return null;
      return lp.values().map((x, i) => x + (lower[i] as number));
    } finally {
      lp.dispose();
    }
  }

  /**
   * A neighbourhood of k, at most size variables, grown one variable at a time: always the
   * one linked to the set by the most equations (the closing corner of a rectangle of
   * cells before yet another cell of a long row), which is where certificates live.
   */
  private neighbourhood(k: number, size: number): number[] {
    if (!this.eqOf) {
      this.eqOf = Array.from({ length: this.nv }, () => []);
      this.equations.forEach((e, id) => {
        for (const v of e.vars) this.eqOf![v]!.push(id);
      });
    }
    // Variables that move together come in together: the atoms of one row (D = N + C) and
    // a count two metrics publish (an equation between two variables).
    if (!this.closure) {
      const parent = Int32Array.from({ length: this.nv }, (_, i) => i);
      const find = (x: number): number => {
        while (parent[x] !== x) x = parent[x] = parent[parent[x] as number] as number;
        return x;
      };
      for (const e of this.equations) {
        const small = e.vars.length === 2 || (e.vars.length === 3 && e.coefs.filter((c) => c === -1).length === 2 && e.coefs.includes(1) && e.rhs === 0);
        if (!small) continue;
        for (let i = 1; i < e.vars.length; i++) {
          const a = find(e.vars[0] as number);
          const b = find(e.vars[i] as number);
          if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
        }
      }
      const groups = new Map<number, number[]>();
      for (let v = 0; v < this.nv; v++) {
        const r = find(v);
        const g = groups.get(r);
        if (g) g.push(v);
        else groups.set(r, [v]);
      }
      this.closure = Array.from({ length: this.nv }, (_, v) => groups.get(find(v))!);
    }
    const inside = new Set<number>();
    const out: number[] = [];
    // outside variables by how many equations they share with the set: buckets[n] holds
    // those with n links (a variable moves up a bucket as the set grows toward it)
    const links = new Map<number, number>();
    const buckets: Array<Set<number>> = [];
    let top = 0;
    const add = (v: number) => {
      for (const id of this.eqOf![v]!) {
        for (const u of this.equations[id]!.vars) {
          if (inside.has(u)) continue;
          const n = links.get(u) ?? 0;
          if (n) buckets[n]!.delete(u);
          links.set(u, n + 1);
          (buckets[n + 1] ??= new Set()).add(u);
          if (n + 1 > top) top = n + 1;
        }
      }
    };
    const take = (v: number) => {
      for (const u of this.closure![v]!) {
        if (inside.has(u)) continue;
        const n = links.get(u);
        if (n) buckets[n]!.delete(u);
        links.delete(u);
        inside.add(u);
        out.push(u);
      }
      for (const u of this.closure![v]!) add(u);
    };
    take(k);
    while (out.length < size) {
      while (top > 0 && !buckets[top]?.size) top--;
      if (top === 0) break;
      const best = buckets[top]!.values().next().value as number;
      take(best);
    }
    return out;
  }

  /**
   * The LP over some of the variables (every other one held at x0): the equations touching
   * them, reduced by Gaussian elimination to x = x0 + N z, and our simplex on z.
   */
  private region(vars: number[], x0: Float64Array): Region {
    const index = new Map<number, number>();
    vars.forEach((v, i) => index.set(v, i));
    const eqs: SparseEquation[] = [];
    const touched = new Set<number>();
    for (const v of vars) for (const id of this.eqOf?.[v] ?? []) touched.add(id);
    const ids = this.eqOf ? [...touched] : this.equations.map((_, id) => id);
    for (const id of ids) {
      const e = this.equations[id]!;
      const vs: number[] = [];
      const cs: number[] = [];
      let rhs = e.rhs;
      e.vars.forEach((v, j) => {
        const i = index.get(v);
        if (i === undefined) rhs -= (e.coefs[j] as number) * (x0[v] as number);
        else {
          vs.push(i);
          cs.push(e.coefs[j] as number);
        }
      });
      if (vs.length) eqs.push({ vars: vs, coefs: cs, rhs });
    }
    const ech = echelon(vars.length, eqs);
    const basis = ech.free.map((f) => {
      const vec = new Map<number, number>([[f, 1]]);
      for (const [p, row] of ech.pivots) {
        const c = row.free.get(f);
        if (c !== undefined) vec.set(p, -c);
      }
      return vec;
    });
    const lower = vars.map((v) => this.lower[v] as number);
    const lp = new SlackSimplex(vars.map((v, i) => (x0[v] as number) - (lower[i] as number)), basis, vars.map((v, i) => (this.upper[v] as number) - (lower[i] as number)));
    return { vars, index, lp, lower, eqs };
  }

  /** The whole component as one LP for HiGHS (too large for a dense tableau). */
  private async sparseRegion(x0: Float64Array): Promise<Region> {
    const highs = await solver();
    const vars = Array.from({ length: this.nv }, (_, k) => k);
    const index = new Map(vars.map((v) => [v, v]));
    const lower = Float64Array.from(this.lower);
    const lp = new HighsLp(highs, this.equations, lower, Float64Array.from(this.upper), x0);
    return { vars, index, lp, lower: [...lower], eqs: this.equations };
  }

  /**
   * Minimise, then maximise, the sum of the open candidates in the region while rounds
   * settle some. A whole-number optimum settles each candidate it puts at 0 or at the
   * threshold; a fractional one, only after the MIP solver finds a whole-number solution
   * with all of them there at once.
   */
  private async settleRounds(region: Region, open: Set<number>) {
    for (const maximise of [false, true]) {
      for (;;) {
        const cost = new Map<number, number>();
        region.vars.forEach((v, i) => {
          if (open.has(v)) cost.set(i, 1);
        });
        if (!cost.size) return;
        this.report.lps++;
        const t0 = performance.now();
        const st = region.lp.solve(cost, maximise);
        if (TRACE_LEVEL >= 2 && region.vars.length > 1000) console.error(`    lp over ${region.vars.length} variables ${maximise ? 'max' : 'min'} ${cost.size}: ${st} ${((performance.now() - t0) / 1000).toFixed(2)} s`);
        if (st !== 'optimal') break;
        const x = this.valuesOf(region);
        const low: number[] = [];
        const high: number[] = [];
        region.vars.forEach((v, i) => {
          const xv = x[i] as number;
          if (open.has(v) && xv <= EPS) low.push(i);
          else if (open.has(v) && xv >= this.T - EPS) high.push(i);
        });
        if (!low.length && !high.length) break;
        if (!this.isWhole(region, x) && !(await this.wholeWith(region, low, high, x))) break;
        for (const i of [...low, ...high]) open.delete(region.vars[i] as number);
      }
    }
  }

  /**
   * Is there a whole-number solution of the region with these at 0 and those at the
   * threshold or above? With the LP optimum that put them there (near), first smaller MIPs,
   * each the same question with some counts held, so that any solution of it is a solution
   * of the whole:
   *  - every count the optimum left a whole number held there, but the fractional ones and
   *    the slacks. A batch LP on a large component moves almost every count (44,183 of
   *    45,184 on the 20,000-person demo's update, BATCH_MAX above) but leaves few
   *    fractional: this MIP took 0.3 s where the starting-value one (the last below) took 52 s.
   *  - the fractional counts and the counts sharing a relation with one free, the rest held
   *    as above, within NEAR_NODES branch-and-bound nodes (issue 19, 2026-12-07). On a
   *    3,000-person demo every MIP of the step before that failed was settled here, in
   *    0.02-0.43 s, where the next step's MIP took 2-23 s with 10,000 counts free: the
   *    audit went from 107 s to 24 s of a 118 s run (now 35 s), with the same decisions in
   *    every round. The node limit bounds its branch and bound where it finds nothing, not
   *    HiGHS's presolve and root node (no failing case was seen to time). (Freeing
   *    counts two relations away as well, with the full node limit, was tried earlier and
   *    dropped: a review found such a MIP still running after 6 minutes on a 16,979-count
   *    component.)
   *  - every count the optimum left at its starting value held there (issue 19: half the
   *    MIP time on the 20,000-person demo, on neighbourhoods).
   * Only then the whole region. A MIP runs only when at most FULL_MIP_MAX of its counts are
   * free (or anySize): a larger one counts as "not shown safe".
   */
  private async wholeWith(region: Region, zero: number[], high: number[], near?: Float64Array, anySize = false): Promise<boolean> {
    const highs = await solver();
    const nvars = region.vars.length;
    const lower = Float64Array.from(region.vars, (v) => this.lower[v] as number);
    const upper = Float64Array.from(region.vars, (v) => (Number.isFinite(this.upper[v] as number) ? (this.upper[v] as number) : highs.infinity));
    for (const i of zero) upper[i] = 0;
    for (const i of high) lower[i] = Math.max(lower[i] as number, this.T);
    const { starts, indices, values, rhs } = csrOf(region.eqs);
    const integrality = Int32Array.from(region.vars, (v) => (this.integer[v] ? 1 : 0));
    /** The MIP with the counts `hold` gives a value held there (where the bounds allow); without `hold`, the whole region's. */
    const feasible = (hold?: (i: number) => number | undefined, nodes = MIP_NODES) => {
      const lo = Float64Array.from(lower);
      const up = Float64Array.from(upper);
      let free = nvars;
      for (let i = 0; hold && i < nvars; i++) {
        const h = hold(i);
        if (h === undefined || h < (lo[i] as number) || h > (up[i] as number)) continue;
        lo[i] = up[i] = h;
        free--;
      }
      if (hold && free === nvars) return false; // nothing held: the whole region's question, asked last
      if (free > FULL_MIP_MAX && !anySize) return false;
      const model = highs.createModel({
        numCols: nvars, numRows: region.eqs.length, colCost: new Float64Array(nvars), colLower: lo, colUpper: up, rowLower: rhs, rowUpper: rhs,
        matrix: { format: 'csr', numRows: region.eqs.length, numCols: nvars, starts, indices, values }, integrality,
      });
      try {
        model.options.set({ output_flag: false, mip_max_nodes: nodes });
        this.report.mips++;
        const t0 = performance.now();
        const ok = (model.run().modelStatus as number) === highs.constants.modelStatus.optimal;
        if (TRACE_LEVEL >= 2 && nvars > 1000) console.error(`    mip over ${nvars} variables, ${free} free, ${hold ? `some held, ${nodes} nodes` : 'whole region'}: ${ok} ${((performance.now() - t0) / 1000).toFixed(2)} s`);
        return ok;
      } finally {
        model.dispose();
      }
    };
    if (near) {
      // every count the optimum left a whole number held there; the fractional ones and the slacks free
      const whole = (i: number) => {
        const x = near[i] as number;
        return this.integer[region.vars[i] as number] && Math.abs(x - Math.round(x)) <= 1e-6 ? Math.round(x) : undefined;
      };
      if (feasible(whole)) return true;
      // the fractional counts and every count sharing a relation with one free, the rest
      // held, on a small node budget (a MIP that has a solution here finds it within a few nodes)
      const moved = new Set<number>();
      for (const e of region.eqs) {
        if (!e.vars.some((i) => whole(i) === undefined && this.integer[region.vars[i] as number])) continue;
        for (const i of e.vars) moved.add(i);
      }
      if (feasible((i) => (moved.has(i) ? undefined : whole(i)), NEAR_NODES)) return true;
      // every count the optimum left at its starting value held there
      const start = this.start;
      const unmoved = (i: number) => {
        const s0 = start![region.vars[i] as number] as number;
        return Math.abs((near[i] as number) - s0) <= 1e-9 ? s0 : undefined;
      };
      if (start && feasible(unmoved)) return true;
    }
    return feasible();
  }

  /**
   * Min and max of one variable over the region (a whole component); 'fractional' when an
   * optimum is not a whole number and no whole-number solution settles it.
   */
  private async rangeOf(region: Region, k: number): Promise<{ low: number; high: number } | null | 'fractional'> {
    const i = region.index.get(k)!;
    const cost = new Map([[i, 1]]);
    this.report.lps++;
    if (region.lp.solve(cost) === 'limit') return 'fractional'; // undecided: the exact MIP (or the suppressor) takes it
    const low = this.valuesOf(region);
    if ((low[i] as number) <= EPS) {
      if (this.isWhole(region, low) || (await this.wholeWith(region, [i], [], low))) return null;
    } else if (!this.isWhole(region, low)) return 'fractional';
    this.report.lps++;
    const top = region.lp.solve(cost, true);
    if (top === 'unbounded') return null;
    if (top === 'limit') return 'fractional';
    const high = this.valuesOf(region);
    if ((high[i] as number) >= this.T - EPS) {
      if (this.isWhole(region, high) || (await this.wholeWith(region, [], [i], high))) return null;
      return 'fractional';
    }
    if (!this.isWhole(region, high)) return 'fractional';
    if ((low[i] as number) <= EPS) return 'fractional';
    return { low: low[i] as number, high: high[i] as number };
  }

  private valuesOf(region: Region): Float64Array {
    return region.lp.values().map((x, i) => x + (region.lower[i] as number));
  }

  private isWhole(region: Region, x: Float64Array): boolean {
    for (let i = 0; i < x.length; i++) if (this.integer[region.vars[i] as number] && Math.abs((x[i] as number) - Math.round(x[i] as number)) > 1e-6) return false;
    return true;
  }

  /** The truth as a solution (slacks of inequality rows computed from it), when known. */
  private truthPoint(): Float64Array | null {
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

  /**
   * Min and max of each count on the whole component by HiGHS: by LP first when lpFirst (a
   * whole-number LP optimum settles it), by MIP where the LP optimum is fractional.
   */
  private async decideByMip(ks: number[], lpFirst: boolean) {
    await this.withModel(async (model, highs) => {
      const { minimize, maximize } = highs.constants.objectiveSense;
      const { optimal, unbounded } = highs.constants.modelStatus;
      const all = { kind: 'range' as const, from: 0, to: this.nv - 1 };
      const integrality = Int32Array.from(this.integer, (b) => (b ? 1 : 0));
      const cost = new Float64Array(this.nv);
      const wholeX = (x: Float64Array) => x.every((v, j) => !this.integer[j] || Math.abs(v - Math.round(v)) <= 1e-6);
      const solve = (k: number, sense: typeof minimize): { status: number; value: number } => {
        cost.fill(0);
        cost[k] = 1;
        model.changeColsCost(all, cost);
        model.changeObjectiveSense(sense);
        if (lpFirst) {
          this.report.lps++;
          const r = model.run();
          if ((r.modelStatus as number) !== optimal) return { status: r.modelStatus as number, value: Number.NaN };
          const x = model.getSolution().colValue;
          if (wholeX(x)) return { status: optimal, value: x[k] as number };
        }
        model.changeColsIntegrality(all, integrality);
        this.report.mips++;
        const r = model.run();
        const value = (r.modelStatus as number) === optimal ? (model.getSolution().colValue[k] as number) : Number.NaN;
        model.clearIntegrality();
        return { status: r.modelStatus as number, value };
      };
      for (const k of ks) {
        const lo = solve(k, minimize);
        if (lo.status !== optimal) throw new Error(`disclosure audit: no whole-number solution when minimising a count (status ${lo.status})`);
        if (lo.value <= EPS) continue;
        const hi = solve(k, maximize);
        if (hi.status === unbounded) continue;
        const high = hi.status === optimal ? hi.value : Infinity;
        if (high >= this.T - EPS) continue;
        this.bounds(k, lo.value, high);
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
    const model = this.newModel(highs, this.equations);
    try {
      return await f(model, highs);
    } finally {
      model.dispose();
    }
  }

  /** A HiGHS model of these equations over the component's counts and bounds (the caller disposes of it). */
  private newModel(highs: Highs, eqs: readonly SparseEquation[]): ReturnType<Highs['createModel']> {
    const { starts, indices, values, rhs } = csrOf(eqs);
    const model = highs.createModel({
      numCols: this.nv, numRows: eqs.length, colCost: new Float64Array(this.nv),
      colLower: Float64Array.from(this.lower), colUpper: Float64Array.from(this.upper, (u) => (Number.isFinite(u) ? u : highs.infinity)),
      rowLower: rhs, rowUpper: rhs,
      matrix: { format: 'csr', numRows: eqs.length, numCols: this.nv, starts, indices, values },
    });
    model.options.set({ output_flag: false });
    return model;
  }
}
