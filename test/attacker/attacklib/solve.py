"""Bounds on every withheld count: propagation, exact linear algebra, then LP / MILP.

1. Bound propagation over every relation (vectorised; integers rounded inward).
2. Exact derivation: a count fixed by the equalities alone (zero in every null-space
   direction of its component), as GaussSuppression's elimination finds it.
3. Linear programming per connected component (HiGHS through scipy): each undecided
   count is maximised and minimised; witness solutions (maximise / minimise the sum of
   the undecided counts) settle most at once. Where the LP optimum is fractional the
   integer attacker's bound comes from MILP.
A count is a leak when its feasible range lies inside 1..10.
"""
import os
import pickle
import time

import numpy as np
from scipy import sparse
from scipy.optimize import linprog, milp, LinearConstraint, Bounds
from scipy.sparse.csgraph import connected_components

EPS = 1e-6
SAFE = 'safe'  # a count whose range reaches 0 or 11 or more


def _in_child(call):
    """call() in a forked child: ('ok', result), ('error', exception) for a Python error
    there, or None when the child died without answering.

    scipy 1.10's HiGHS sometimes aborts the whole process from C++ (seen once on the
    3,000-person check: "terminate called after throwing an instance of 'std::length_error'",
    a known HiGHS presolve/postsolve bug, ERGO-Code/HiGHS#1406, scipy#22188). With a time
    limit the solve path depends on the machine's load, so it does not happen every time.
    Python cannot catch an abort, so each solve runs in a child."""
    r, w = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(r)
        os.close(w)
        raise
    if pid == 0:  # the child: solve, send the answer, and leave whatever happens
        try:
            os.close(r)
            if os.environ.get('ATTACK_TEST_ABORT_SOLVES'):
                os.abort()  # tests: the crash the guard is for
            try:
                data = pickle.dumps(('ok', call()))
            except Exception as e:  # noqa: BLE001 - a Python error goes back to the parent as such
                data = pickle.dumps(('error', e))
            with os.fdopen(w, 'wb') as f:
                f.write(data)
        finally:
            os._exit(0)
    os.close(w)
    with os.fdopen(r, 'rb') as f:
        data = f.read()
    os.waitpid(pid, 0)
    if not data:
        return None
    try:
        return pickle.loads(data)
    except Exception:  # noqa: BLE001 - a truncated answer: the child died while writing
        return None


CRASHES = {'solves': 0, 'recovered': 0}


def guarded(solve, fallback):
    """solve() in a child; if the solver dies there, fallback() (the same problem without
    presolve) in another child, and only then in this process. A Python error in a child
    is raised here, as if the solve had run here."""
    answer = _in_child(solve)
    if answer is None:
        CRASHES['solves'] += 1
        answer = _in_child(fallback) or ('ok', fallback())
        CRASHES['recovered'] += 1
    kind, value = answer
    if kind == 'error':
        raise value
    return value


WHOLE_LP_MAX_RELATIONS = 20000
INF = float('inf')


class Solver:
    def __init__(self, system, log=None):
        self.s = system
        self.n = len(system.var_key)
        self.lb = np.array(system.lb, dtype=float)
        self.ub = np.array(system.ub, dtype=float)
        self.log = log or (lambda *a: None)
        self.infeasible_vars = np.zeros(self.n, dtype=bool)
        self.stats = {'lp_solves': 0, 'milp_solves': 0, 'undecided': 0, 'components': 0, 'largest_component': 0,
                      'propagation_rounds': 0, 'infeasible_components': 0, 'lp_seconds': 0.0,
                      'lp_relaxation_components': 0}

    # ---------------------------------------------------------------- matrices
    def _rows(self, relations):
        """All relations as rows of R x <= r (an equality is two rows)."""
        rows, cols, vals, rhs = [], [], [], []
        k = 0
        for rel in relations:
            for sign in ((1.0, -1.0) if rel.kind == 'eq' else (1.0,)):
                for i, c in rel.terms:
                    rows.append(k)
                    cols.append(i)
                    vals.append(sign * c)
                rhs.append(-sign * rel.const)
                k += 1
        return np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64), np.array(vals), np.array(rhs), k

    # ---------------------------------------------------------------- 1. propagation
    def propagate(self, relations, max_rounds=2000):
        rows, cols, vals, rhs, nrows = self._rows(relations)
        if nrows == 0:
            return
        order = np.argsort(cols, kind='stable')
        rows, cols, vals = rows[order], cols[order], vals[order]
        starts = np.flatnonzero(np.r_[True, cols[1:] != cols[:-1]])
        ucols = cols[starts]
        pos = vals > 0
        lb, ub = self.lb, self.ub
        for rnd in range(max_rounds):
            cmin = np.where(pos, vals * lb[cols], vals * ub[cols])
            inf = np.isinf(cmin)
            fin = np.bincount(rows, weights=np.where(inf, 0.0, cmin), minlength=nrows)
            ninf = np.bincount(rows, weights=inf.astype(float), minlength=nrows)
            rest_ok = (ninf[rows] - inf) == 0
            rest = fin[rows] - np.where(inf, 0.0, cmin)
            with np.errstate(invalid='ignore', divide='ignore'):
                bound = (rhs[rows] - rest) / vals
            new_ub = np.where(pos & rest_ok, bound, INF)
            new_lb = np.where(~pos & rest_ok, bound, -INF)
            cand_ub = np.minimum.reduceat(new_ub, starts)
            cand_lb = np.maximum.reduceat(new_lb, starts)
            cand_ub = np.floor(cand_ub + EPS)
            cand_lb = np.ceil(cand_lb - EPS)
            old_l, old_u = lb[ucols].copy(), ub[ucols].copy()
            lb[ucols] = np.maximum(old_l, cand_lb)
            ub[ucols] = np.minimum(old_u, cand_ub)
            changed = np.count_nonzero(lb[ucols] != old_l) + np.count_nonzero(ub[ucols] != old_u)
            self.stats['propagation_rounds'] += 1
            if np.any(lb > ub + EPS):
                bad = np.flatnonzero(lb > ub + EPS)
                self.infeasible_vars[bad] = True
                lb[bad], ub[bad] = -INF, INF  # this part of the system contradicts itself: no findings from it
            if changed == 0:
                break

    # ---------------------------------------------------------------- components
    def components(self, relations):
        r, c, _v, _rhs, nrows = self._rows(relations)
        free = self.lb < self.ub
        keep = free[c]
        r, c = r[keep], c[keep]
        # variable-variable adjacency through shared relation rows
        m = sparse.csr_matrix((np.ones(len(r)), (r, c)), shape=(max(nrows, 1), self.n))
        adj = (m.T @ m).tocsr()
        ncomp, labels = connected_components(adj, directed=False)
        return labels

    # ---------------------------------------------------------------- 2. exact by linear algebra
    def exact_by_elimination(self, relations, candidates, max_vars=1500):
        """Counts the equalities alone pin down (null space is zero at their coordinate)."""
        found = {}
        eqs = [rel for rel in relations if rel.kind == 'eq']
        if not candidates or not eqs:
            return found
        labels = self.components(eqs)
        fixed = self.lb == self.ub
        by_comp = {}
        for rel in eqs:
            free_terms = [(i, c) for i, c in rel.terms if not fixed[i]]
            if not free_terms:
                continue
            by_comp.setdefault(labels[free_terms[0][0]], []).append(rel)
        cand_comps = {labels[i] for i in candidates if not fixed[i]}
        for comp, rels in by_comp.items():
            if comp not in cand_comps:
                continue
            vars_ = sorted({i for rel in rels for i, _ in rel.terms if not fixed[i]})
            if len(vars_) > max_vars or len(rels) > 3 * max_vars:
                continue
            pos = {v: k for k, v in enumerate(vars_)}
            A = np.zeros((len(rels), len(vars_)))
            b = np.zeros(len(rels))
            for k, rel in enumerate(rels):
                const = rel.const
                for i, c in rel.terms:
                    if fixed[i]:
                        const += c * self.lb[i]
                    else:
                        A[k, pos[i]] += c
                b[k] = -const
            u, sv, vt = np.linalg.svd(A, full_matrices=True)
            rank = int(np.sum(sv > 1e-9 * max(1.0, sv[0] if len(sv) else 1.0)))
            null = vt[rank:]
            x = np.linalg.lstsq(A, b, rcond=None)[0]
            for v in vars_:
                j = pos[v]
                if null.shape[0] == 0 or np.max(np.abs(null[:, j])) < 1e-9:
                    val = x[j]
                    if abs(val - round(val)) < 1e-6:
                        found[v] = float(round(val))
        return found

    # ---------------------------------------------------------------- 3. LP / MILP
    def lp_intervals(self, relations, candidates, budget_s=600.0, milp_s=20.0):
        """Decide each undecided candidate with LPs; returns {var: (lo, hi, how)} for leaks.

        A component can hold tens of thousands of counts, where one LP takes half a minute.
        So each count is looked at in its neighbourhood (the relations within a few steps),
        two ways:
        - inner: every count outside the neighbourhood fixed at a feasible integer solution
          of the whole component. Its solutions are solutions of the whole system, so a
          count it takes to 0 or to 11+ is no leak (and the solution becomes the new base).
        - outer: only the neighbourhood's relations, the rest dropped. A relaxation: if even
          it keeps the count inside 1..10, so does the whole system.
        The neighbourhood grows until one of the two decides; the whole component's LP is
        the last resort.
        """
        t0 = time.time()
        out = {}
        if not candidates or not relations:
            return out
        labels = self.components(relations)
        fixed = self.lb == self.ub
        by_comp = {}
        for rel in relations:
            free_terms = [i for i, _ in rel.terms if not fixed[i]]
            if free_terms:
                by_comp.setdefault(labels[free_terms[0]], []).append(rel)
        cands_by_comp = {}
        for i in candidates:
            if not fixed[i]:
                cands_by_comp.setdefault(labels[i], []).append(i)
        self.stats['components'] = len(cands_by_comp)
        for comp in sorted(cands_by_comp, key=lambda c: len(by_comp.get(c, []))):
            if time.time() - t0 > budget_s:
                self.stats['undecided'] += len(cands_by_comp[comp])
                continue
            t1 = time.time()
            res = self._component(by_comp.get(comp, []), cands_by_comp[comp], fixed, t0, budget_s, milp_s)
            out.update(res)
            if os.environ.get('ATK_DEBUG'):
                self.log(f'    component: {len(by_comp.get(comp, []))} relations, {len(cands_by_comp[comp])} undecided, {len(res)} leaks, {time.time() - t1:.2f} s')
        self.stats['lp_seconds'] += time.time() - t0
        return out

    def _component(self, rels, cands, fixed, t0, budget_s, milp_s):
        lb, ub = self.lb, self.ub
        free = {i for rel in rels for i, _ in rel.terms if not fixed[i]} | set(cands)
        self.stats['largest_component'] = max(self.stats['largest_component'], len(free))
        value = lambda i: lb[i]
        whole = ComponentLP(rels, free, value, lb, ub, self.stats)
        # A feasible integer solution of the whole component: the base of every inner problem.
        base = None
        r = whole.solve(np.zeros(whole.n))
        if r.status == 2:
            self.stats['infeasible_components'] += 1  # a wrong assumption somewhere: no findings here
            return {}
        if r.x is None:
            self.stats['undecided'] += len(cands)
            return {}
        base, integer = r.x, _integral(r.x)
        if not integer:
            ri = whole.solve_int(np.zeros(whole.n), milp_s, capped=True)
            if ri.x is not None and _integral(ri.x):
                base, integer = ri.x, True
        if not integer:
            # No integer solution in time: this component is decided as the LP attacker
            # sees it (a count the LP relaxation takes to 0 or 11 is not reported).
            self.stats['lp_relaxation_components'] += 1
        open_ = {v for v in cands if EPS < base[whole.pos[v]] < 11 - EPS}
        if not integer and open_:
            # Witnesses that push the open counts down, up, and both ways at random; their
            # average (feasible too) is the base: it leaves the counts room to move.
            sols = [base]
            rng = np.random.default_rng(14)
            for k in range(4):
                w = np.zeros(whole.n)
                for v in open_:
                    w[whole.pos[v]] = (-1.0, 1.0)[k] if k < 2 else rng.choice([-1.0, 1.0])
                rk = whole.solve(w, capped=True)
                if rk.x is not None:
                    sols.append(rk.x)
                    open_ = {v for v in open_ if EPS < rk.x[whole.pos[v]] < 11 - EPS}
            base = np.mean(sols, axis=0)
        x = {v: (float(round(base[whole.pos[v]])) if integer else float(base[whole.pos[v]])) for v in whole.vars}
        by_var = {}
        for rel in rels:
            for i, _c in rel.terms:
                by_var.setdefault(i, []).append(rel)
        result = {}
        for v in sorted(open_):
            if v not in open_:
                continue
            if time.time() - t0 > budget_s:
                self.stats['undecided'] += 1
                continue
            decided = False
            for size in (60, 250, 1000, 4000):
                near = _neighbourhood(v, by_var, fixed, size)
                near_free = {i for rel in near for i, _ in rel.terms if not fixed[i]}
                # inner: outside the neighbourhood everything stays as in the base solution
                touching = {id(rel): rel for i in near_free for rel in by_var.get(i, [])}
                inner = ComponentLP(list(touching.values()), near_free,
                                    lambda i: lb[i] if fixed[i] else x[i], lb, ub, self.stats)
                for sign in (-1.0, 1.0):
                    c = np.zeros(inner.n)
                    c[inner.pos[v]] = sign
                    sol = inner.solve(c)
                    if sol.x is None:
                        continue
                    if integer and not _integral(sol.x):
                        sol = inner.solve_int(c, min(milp_s, 1.0))
                        if sol.x is None or not _integral(sol.x):
                            continue
                    for i in inner.vars:
                        x[i] = float(round(sol.x[inner.pos[i]])) if integer else float(sol.x[inner.pos[i]])
                    for i in inner.vars:
                        if i in open_ and (x[i] <= EPS or x[i] >= 11 - EPS):
                            open_.discard(i)
                    if v not in open_:
                        break
                if v not in open_:
                    decided = True
                    break
                # outer: a relaxation that keeps v inside 1..10 proves the leak
                outer = ComponentLP(near, near_free, value, lb, ub, self.stats)
                iv = outer.interval(v, milp_s, integer=False)
                if iv not in (None, SAFE) and 1 - EPS <= iv[0] and iv[1] <= 10 + EPS:
                    result[v] = (iv[0], iv[1], 'lp')
                    open_.discard(v)
                    decided = True
                    break
                if len(near) >= len(rels):
                    break
            if decided:
                continue
            if len(rels) > WHOLE_LP_MAX_RELATIONS:
                # one LP of a component this size takes tens of seconds: say so rather than guess
                self.stats['undecided'] += 1
                open_.discard(v)
                continue
            iv = whole.interval(v, milp_s, integer=integer)
            open_.discard(v)
            if iv is None:
                self.stats['undecided'] += 1
            elif iv != SAFE and 1 - EPS <= iv[0] and iv[1] <= 10 + EPS:
                result[v] = (iv[0], iv[1], 'lp')
        return result


def _integral(x):
    return bool(np.all(np.abs(x - np.round(x)) < EPS))


def _neighbourhood(v, by_var, fixed, size):
    """About `size` relations nearest to v (breadth first, through counts that are not fixed)."""
    chosen, frontier, seen = {}, [v], {v}
    while frontier and len(chosen) < size:
        nxt = []
        for i in frontier:
            for rel in by_var.get(i, []):
                if id(rel) in chosen:
                    continue
                chosen[id(rel)] = rel
                for j, _c in rel.terms:
                    if not fixed[j] and j not in seen:
                        seen.add(j)
                        nxt.append(j)
                if len(chosen) >= size:
                    return list(chosen.values())
        frontier = nxt
    return list(chosen.values())


class ComponentLP:
    """min c.x over the integer (or LP) solutions of some relations; `free` are the unknowns,
    every other count in them is a constant given by `value`."""

    def __init__(self, rels, free, value, lb, ub, stats):
        self.stats = stats
        vars_ = sorted(free)
        self.vars = vars_
        self.pos = pos = {v: k for k, v in enumerate(vars_)}
        self.n = n = len(vars_)
        er, ec, ev, eb = [], [], [], []
        ur, uc, uv, ub_ = [], [], [], []
        for rel in rels:
            const = rel.const
            terms = []
            for i, c in rel.terms:
                j = pos.get(i)
                if j is None:
                    const += c * value(i)
                else:
                    terms.append((j, c))
            if rel.kind == 'eq':
                k = len(eb)
                for j, c in terms:
                    er.append(k), ec.append(j), ev.append(c)
                eb.append(-const)
            else:
                k = len(ub_)
                for j, c in terms:
                    ur.append(k), uc.append(j), uv.append(c)
                ub_.append(-const)
        self.A_eq = sparse.csr_matrix((ev, (er, ec)), shape=(len(eb), n)) if eb else None
        self.A_ub = sparse.csr_matrix((uv, (ur, uc)), shape=(len(ub_), n)) if ub_ else None
        self.b_eq = np.array(eb) if eb else None
        self.b_ub = np.array(ub_) if ub_ else None
        self.lo = np.array([lb[v] for v in vars_], dtype=float)
        self.hi = np.array([ub[v] for v in vars_], dtype=float)
        self.bounds = list(zip(np.where(np.isinf(self.lo), None, self.lo), np.where(np.isinf(self.hi), None, self.hi)))

    def solve(self, c, capped=False):
        self.stats['lp_solves'] += 1
        bounds = self.bounds
        if capped:
            hi = np.minimum(self.hi, np.maximum(self.lo, 0) + 1e6)
            bounds = list(zip(np.where(np.isinf(self.lo), None, self.lo), hi))
        def lp(options):
            return lambda: linprog(c, A_ub=self.A_ub, b_ub=self.b_ub, A_eq=self.A_eq, b_eq=self.b_eq, bounds=bounds, method='highs', options=options)
        return guarded(lp({}), lp({'presolve': False}))

    def solve_int(self, c, seconds, capped=False):
        self.stats['milp_solves'] += 1
        cons = []
        if self.A_eq is not None:
            cons.append(LinearConstraint(self.A_eq, self.b_eq, self.b_eq))
        if self.A_ub is not None:
            cons.append(LinearConstraint(self.A_ub, -np.inf, self.b_ub))
        hi = np.minimum(self.hi, np.maximum(self.lo, 0) + 1e6) if capped else self.hi
        def mip(options):
            return lambda: milp(c, constraints=cons, integrality=np.ones(self.n), bounds=Bounds(self.lo, hi), options={'time_limit': seconds, **options})
        return guarded(mip({}), mip({'presolve': False}))

    def interval(self, v, milp_s, integer=True):
        """[min, max] of v over integer solutions (LP first, MILP where the LP is fractional),
        SAFE when it reaches 0 or 11 or more, None when the solver cannot say."""
        c = np.zeros(self.n)
        j = self.pos[v]
        c[j] = -1.0
        r = self.solve(c)  # maximise
        if r.status == 3:
            return SAFE  # unbounded above
        if r.status != 0:
            return None
        hi_v = -r.fun
        if hi_v >= 11 - EPS:
            if _integral(r.x) or not integer:
                return SAFE
            ri = self.solve_int(c, milp_s)
            if ri.x is not None and -ri.fun >= 11 - EPS:
                return SAFE
            if ri.x is None or ri.status != 0:
                return None
            hi_v = -ri.fun
        c[j] = 1.0
        r = self.solve(c)  # minimise
        if r.status != 0:
            return None
        lo_v = r.fun
        if lo_v <= EPS:
            if _integral(r.x) or not integer:
                return SAFE
            ri = self.solve_int(c, milp_s)
            if ri.x is not None and ri.fun <= EPS:
                return SAFE
            if ri.x is None or ri.status != 0:
                return None
            lo_v = ri.fun
        return float(np.ceil(lo_v - EPS)), float(np.floor(hi_v + EPS))
