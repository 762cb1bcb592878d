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
import time

import numpy as np
from scipy import sparse
from scipy.optimize import linprog, milp, LinearConstraint, Bounds
from scipy.sparse.csgraph import connected_components

EPS = 1e-6
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
                      'propagation_rounds': 0, 'infeasible_components': 0, 'lp_seconds': 0.0}

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
        """Feasible range of each undecided candidate; returns {var: (lo, hi, how)}."""
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
        # smallest components first: most findings per second
        for comp in sorted(cands_by_comp, key=lambda c: len(by_comp.get(c, []))):
            if time.time() - t0 > budget_s:
                self.stats['undecided'] += len(cands_by_comp[comp])
                continue
            rels = by_comp.get(comp, [])
            t1 = time.time()
            res = self._component_lp(rels, cands_by_comp[comp], fixed, t0, budget_s, milp_s)
            if os.environ.get('ATK_DEBUG'):
                self.log(f'    component: {len(rels)} relations, {len(cands_by_comp[comp])} undecided, {len(res)} intervals, {time.time() - t1:.2f} s, after witnesses {self._last_open}')
            out.update(res)
        self.stats['lp_seconds'] += time.time() - t0
        return out

    def _component_lp(self, rels, cands, fixed, t0, budget_s, milp_s):
        lp = ComponentLP(rels, cands, fixed, self.lb, self.ub, self.stats)
        self.stats['largest_component'] = max(self.stats['largest_component'], lp.n)
        open_ = set(cands)
        # Witnesses: integer solutions that push all undecided counts down, up, or both ways at
        # random; a count one of them shows at 0 or at 11+ can be neither pinned nor bounded.
        rng = np.random.default_rng(14)
        for k in range(8):
            if not open_ or time.time() - t0 > budget_s:
                break
            before = len(open_)
            w = np.zeros(lp.n)
            for v in open_:
                w[lp.pos[v]] = (-1.0, 1.0)[k] if k < 2 else rng.choice([-1.0, 1.0])
            # The LP first (its vertices are usually integral here); the MILP when they are not.
            r = lp.solve(w, capped=True)
            if r.status == 2 and k == 0:  # infeasible: a wrong assumption somewhere in this component
                self.stats['infeasible_components'] += 1
                return {}
            if r.x is None or not np.all(np.abs(r.x - np.round(r.x)) < EPS):
                r = lp.solve_int(w, milp_s, capped=True)
            if r.x is not None:
                lp.witness(r.x, open_)
            if k >= 2 and before - len(open_) < max(1, 0.02 * before):
                break
        self._last_open = len(open_)
        result = {}
        for v in sorted(open_):
            if time.time() - t0 > budget_s:
                self.stats['undecided'] += 1
                continue
            # A relaxation first: the relations within two steps of the count. If even that
            # keeps it inside 1..10, so does the whole system.
            local = lp.local(v, self.lb, self.ub, self.stats)
            iv = local.interval(v, milp_s, {v}, witnesses=False) if local is not None else None
            if iv is not None and 1 - EPS <= iv[0] and iv[1] <= 10 + EPS:
                result[v] = (iv[0], iv[1], 'lp')
                continue
            iv = lp.interval(v, milp_s, open_)
            if iv is None:
                if v in open_:
                    self.stats['undecided'] += 1
                continue
            result[v] = (iv[0], iv[1], 'lp')
        return result


class ComponentLP:
    """The LP of one connected component (or of a relaxation of it)."""

    def __init__(self, rels, cands, fixed, lb, ub, stats):
        self.rels = rels
        self.stats = stats
        vars_ = sorted({i for rel in rels for i, _ in rel.terms if not fixed[i]} | set(cands))
        self.vars = vars_
        self.pos = pos = {v: k for k, v in enumerate(vars_)}
        self.n = n = len(vars_)
        er, ec, ev, eb = [], [], [], []
        ur, uc, uv, ub_ = [], [], [], []
        for rel in rels:
            const = rel.const
            terms = []
            for i, c in rel.terms:
                if fixed[i]:
                    const += c * lb[i]
                else:
                    terms.append((pos[i], c))
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
        self.lo = np.array([lb[v] for v in vars_])
        self.hi = np.array([ub[v] for v in vars_])
        self.bounds = list(zip(np.where(np.isinf(self.lo), None, self.lo), np.where(np.isinf(self.hi), None, self.hi)))
        self.fixed = fixed

    def solve(self, c, capped=False):
        self.stats['lp_solves'] += 1
        bounds = self.bounds
        if capped:
            hi = np.minimum(self.hi, np.maximum(self.lo, 0) + 1e6)
            bounds = list(zip(np.where(np.isinf(self.lo), None, self.lo), hi))
        return linprog(c, A_ub=self.A_ub, b_ub=self.b_ub, A_eq=self.A_eq, b_eq=self.b_eq, bounds=bounds, method='highs')

    def solve_int(self, c, seconds, capped=False):
        self.stats['milp_solves'] += 1
        cons = []
        if self.A_eq is not None:
            cons.append(LinearConstraint(self.A_eq, self.b_eq, self.b_eq))
        if self.A_ub is not None:
            cons.append(LinearConstraint(self.A_ub, -np.inf, self.b_ub))
        hi = np.minimum(self.hi, np.maximum(self.lo, 0) + 1e6) if capped else self.hi
        return milp(c, constraints=cons, integrality=np.ones(self.n), bounds=Bounds(self.lo, hi), options={'time_limit': seconds})

    def witness(self, x, open_):
        """Drop every open count this integer solution shows at 0 or at 11 or more."""
        if x is None or not np.all(np.abs(x - np.round(x)) < EPS):
            return
        for v in list(open_):
            j = self.pos.get(v)
            if j is not None and (x[j] <= EPS or x[j] >= 11 - EPS):
                open_.discard(v)

    def local(self, v, lb, ub, stats, depth=2, max_rels=400):
        """A relaxation: only the relations within `depth` steps of v."""
        if len(self.rels) <= max_rels:
            return None
        if not hasattr(self, '_by_var'):
            self._by_var = {}
            for rel in self.rels:
                for i, _c in rel.terms:
                    self._by_var.setdefault(i, []).append(rel)
        chosen, frontier = {}, {v}
        for _ in range(depth):
            nxt = set()
            for i in frontier:
                for rel in self._by_var.get(i, []):
                    if id(rel) not in chosen:
                        chosen[id(rel)] = rel
                        nxt.update(j for j, _c in rel.terms if not self.fixed[j])
            frontier = nxt
            if len(chosen) > max_rels:
                break
        return ComponentLP(list(chosen.values()), [v], self.fixed, lb, ub, stats)

    def interval(self, v, milp_s, open_, witnesses=True):
        """[min, max] of the count over integer solutions, or None once it reaches 0 or 11."""
        # A relaxation's solutions are not solutions of the whole system: they certify nothing.
        wit = self.witness if witnesses else (lambda x, o: None)
        if not witnesses:
            open_ = set(open_)
        c = np.zeros(self.n)
        j = self.pos[v]
        c[j] = -1.0
        r = self.solve(c)  # maximise
        if r.status == 3:
            open_.discard(v)
            return None
        if r.status != 0:
            return None
        hi_v = -r.fun
        wit(r.x, open_)
        if hi_v >= 11 - EPS:
            if v not in open_ or not witnesses:  # a relaxation reaching 11 proves nothing
                return None
            ri = self.solve_int(c, milp_s)  # the LP reaches 11 only at a fractional point
            if ri.x is None:
                return None
            if -ri.fun >= 11 - EPS:
                wit(ri.x, open_)
                open_.discard(v)
                return None
            if ri.status != 0:
                return None  # not proven optimal: no claim
            hi_v = -ri.fun
        c[j] = 1.0
        r = self.solve(c)  # minimise
        if r.status != 0:
            return None
        lo_v = r.fun
        wit(r.x, open_)
        if lo_v <= EPS:
            if v not in open_ or not witnesses:
                return None
            ri = self.solve_int(c, milp_s)
            if ri.x is None:
                return None
            if ri.fun <= EPS:
                open_.discard(v)
                return None
            if ri.status != 0:
                return None
            lo_v = ri.fun
        return float(np.ceil(lo_v - EPS)), float(np.floor(hi_v + EPS))
