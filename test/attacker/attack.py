#!/usr/bin/python3
"""An independent small-cell attacker for closeloop's published outputs (issue 14).

It reads what each role downloaded (test/attacker/fetch.ts), the public service
directory, and optionally the previous publication's downloads, and reports every
protected count it can pin exactly or bound inside 1..10 (and every change between the
two publications pinned or bounded inside 1..10 in absolute value), one JSON line each:
route, role, metric, grain, period, dimension, group, quantity, interval, exact, evidence.

It shares no code with closeloop and reads none of its source: the rules it uses are
those the publication documents (README, metrics.md, the metric dictionary), each
checked against the published figures before it is trusted.

usage: attack.py FETCH_DIR --services services.csv [--previous PREV_FETCH_DIR]
                 [--partner-records DROP_DIR] [--out leaks.jsonl] [--summary summary.json]
                 [--roles evaluator,partner-ORG-01] [--lp-seconds N] [--quiet]
Exit code: 0 when nothing leaks, 3 when something does, 1 on bad input.
"""
import argparse
import json
import os
import sys
import time
from collections import Counter, defaultdict

import numpy as np

sys.dont_write_bytecode = True  # run from a checkout: leave no __pycache__ behind
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from attacklib.model import FAVOURABLE_MIN_D, STAGES, ROUTE_OF_STAGE, System, read_directory, count_quantities  # noqa: E402
from attacklib.routes import (in_1_10, km_route, person_time_route, private_figures, qvalue_route,  # noqa: E402
                              quarantine_route)
from attacklib.solve import CRASHES, ComponentLP, Solver  # noqa: E402
from attacklib.views import View  # noqa: E402

QUANTITY_NAMES = {
    'proportion': {'n': 'numerator', 'd': 'denominator', 'c': 'complement (denominator - numerator)'},
    'duration': {'n': 'events', 'd': 'cases', 'c': 'censored cases'},
    'count': {'n': 'count'},
    'ratio': {'n': 'numerator (count)'},
    'rate': {'n': 'events'},
    'mean': {'d': 'cases'},
}


def log(*a):
    if not QUIET:
        print(*a, file=sys.stderr, flush=True)


QUIET = False


class Analysis:
    """One role's view: its system, the bounds the attacker proves, and the findings."""

    def __init__(self, view, directory, records=None, trusted=None, lp_seconds=600.0, lp=True, org_metrics_only=False, side_routes=True, fixed_frames=False):
        self.view = view
        self.role = view.name
        self.findings = []
        self.notes = []
        t0 = time.time()
        partner = view.org is not None
        if org_metrics_only:
            # A partner sees a subset of what an evaluator sees; what it adds is its own records
            # and the organization cut, so only the metrics cut by organization need a new look.
            keep = {m for m, c in view.catalog.items() if 'target_org_id' in (c.get('dimensions') or [])}
            view.rows = {k: r for k, r in view.rows.items() if k[0] in keep}
            view.extra = [e for e in view.extra if e[0][0] in keep]
            view.km = {k: v for k, v in view.km.items() if k[3] == 'target_org_id'}
        self.system = s = System(view, directory, hidden_org_groups=partner, trusted_families=trusted, fixed_frames=fixed_frames)
        km_findings, km_rels = km_route(view, s)
        private = []
        if partner and records:
            private, notes = private_figures(records, view.org, view.as_of, s)
            self.notes += notes
        s.build(km_links=km_rels, private=private)
        log(f'  {self.role}: system built in {time.time() - t0:.1f} s')
        for f in km_findings:
            self.add('kaplan_meier', f, exact=True)
        self.notes += [f'family dropped: {fam} ({why})' for fam, why in sorted(s.dropped.items())]
        self.notes += [f'conflict: {k} {q}: {a} vs {b} ({src})' for (k, q, a, b, src) in s.conflicts[:20]]
        self._direct()
        solver = self.solver = Solver(s, log)
        cands = [i for i in range(len(s.var_key)) if s.protected[i] and s.value[i] is None]
        self.cands = cands
        reported = set()
        # staged propagation: each leak is credited to the first stage whose relations prove it
        for k, stage in enumerate(STAGES):
            if stage == 'reference':
                self._reference_stage(lp)
            rels = [r for r in s.relations if STAGES.index(r.stage) <= k]
            solver.propagate(rels)
            for i in cands:
                if i in reported:
                    continue
                if self._leaks(i, solver.lb[i], solver.ub[i]):
                    reported.add(i)
                    self.var_finding(ROUTE_OF_STAGE[stage], i, solver.lb[i], solver.ub[i], 'bound propagation')
        log(f'  {self.role}: propagation done at {time.time() - t0:.1f} s')
        # exact derivation by elimination
        exact = solver.exact_by_elimination(s.relations, [i for i in cands if i not in reported])
        for i, v in exact.items():
            solver.lb[i] = solver.ub[i] = v
        if exact:
            solver.propagate(s.relations)
        for i in cands:
            if i not in reported and self._leaks(i, solver.lb[i], solver.ub[i]):
                reported.add(i)
                self.var_finding('linear_algebra', i, solver.lb[i], solver.ub[i], 'fixed by the equalities (null space is zero here)' if i in exact else 'bound propagation after elimination')
        log(f'  {self.role}: elimination done at {time.time() - t0:.1f} s')
        # linear programming for the rest
        undecided = [i for i in cands if i not in reported and not solver.infeasible_vars[i]
                     and not (solver.ub[i] <= 0) and not (solver.lb[i] >= 11) and solver.lb[i] < solver.ub[i]]
        if not lp:
            undecided = []
        self.undecided_before_lp = len(undecided)
        log(f'  {self.role}: {len(s.var_key)} unknowns, {len(s.relations)} relations, {len(cands)} withheld counts, '
            f'{len(reported)} found by propagation/elimination, {len(undecided)} to the LP')
        lp = solver.lp_intervals(s.relations, undecided, budget_s=lp_seconds)
        for i, (lo, hi, how) in lp.items():
            solver.lb[i] = max(solver.lb[i], lo)
            solver.ub[i] = min(solver.ub[i], hi)
            if self._leaks(i, solver.lb[i], solver.ub[i]):
                reported.add(i)
                self.var_finding('lp', i, solver.lb[i], solver.ub[i], 'LP/MILP min and max over every relation')
        if side_routes:
            pt, notes = person_time_route(view)
            for f in pt:
                self.add('person_time', f, exact=f['interval'][0] == f['interval'][1])
            self.notes += notes
            for f in qvalue_route(view):
                self.add('qvalue', f, exact=False)
            for f in quarantine_route(view):
                self.add('quarantine', f, exact=True)
        self.seconds = time.time() - t0

    def _reference_stage(self, lp):
        """The most_favourable rule for each withheld group whose denominator is proven >= 30:
        by propagation over every relation so far, else by the LP relaxation's minimum (a
        bound of the integer minimum too). Each relation added may prove another; repeat."""
        s, solver = self.system, self.solver
        pending = [(dv, rel) for dv, rel in s.ref_pending if s.family_kept(rel.family)]
        added = by_lp = 0
        while pending:
            solver.propagate(s.relations)
            ready = [k for k, (dv, _rel) in enumerate(pending) if not solver.infeasible_vars[dv] and solver.lb[dv] >= FAVOURABLE_MIN_D]
            if not ready and lp:
                ready = self._lp_at_least([dv for dv, _rel in pending], FAVOURABLE_MIN_D)
                by_lp += len(ready)
            if not ready:
                break
            ready = set(ready)
            s.relations += [pending[k][1] for k in sorted(ready)]
            added += len(ready)
            pending = [x for k, x in enumerate(pending) if k not in ready]
        self.notes.append(f'reference rule (most_favourable): {added} withheld groups proven at or above {FAVOURABLE_MIN_D} '
                          f'({by_lp} by LP), {len(pending)} not proven')

    def _lp_at_least(self, dvars, floor):
        """Indices of dvars whose LP minimum over their component's relations is >= floor."""
        solver = self.solver
        labels, fixed, by_comp = self._by_component()
        out = []
        for k, dv in enumerate(dvars):
            if fixed[dv] or solver.infeasible_vars[dv] or solver.ub[dv] < floor:
                continue
            lp = self._component_lp(by_comp.get(labels[dv], []), fixed, [dv])
            c = np.zeros(lp.n)
            c[lp.pos[dv]] = 1.0
            r = lp.solve(c)
            if r.status == 0 and np.ceil(r.fun - 1e-6) >= floor:
                out.append(k)
        return out

    def _by_component(self):
        """The relations' components as they stand: each variable's label, which are fixed,
        and each component's relations (among its unfixed variables)."""
        s, solver = self.system, self.solver
        labels = solver.components(s.relations)
        fixed = solver.lb == solver.ub
        by_comp = defaultdict(list)
        for rel in s.relations:
            free = [i for i, _c in rel.terms if not fixed[i]]
            if free:
                by_comp[labels[free[0]]].append(rel)
        return labels, fixed, by_comp

    def _component_lp(self, rels, fixed, targets):
        """An LP over a component's relations, its fixed counts as constants."""
        solver = self.solver
        free = {i for rel in rels for i, _c in rel.terms if not fixed[i]} | set(targets)
        return ComponentLP(rels, free, lambda i: solver.lb[i], solver.lb, solver.ub, solver.stats)

    def _leaks(self, i, lo, hi):
        if self.solver.infeasible_vars[i]:
            return False
        if i in self.system.hidden:
            # another organization's figure: any exact value above zero is a breach for a partner
            return in_1_10(lo, hi) or (lo == hi and lo >= 1)
        return in_1_10(lo, hi)

    def _direct(self):
        s = self.system
        for i, (key, q) in enumerate(s.var_key):
            if key is None or not s.protected[i] or s.value[i] is None:
                continue
            row = self.view.rows.get(key)
            v = s.value[i]
            if row is not None and not row.suppressed and 1 <= v <= 10:
                self.var_finding('shown', i, v, v, 'shown in a published row')
        for i, v, src in s.direct:
            row = self.view.rows.get(s.var_key[i][0])
            if row is not None and row.suppressed and 1 <= v <= 10:
                self.var_finding('other_view', i, v, v, f'withheld in the results table, shown by {src}')

    def var_finding(self, route, i, lo, hi, how):
        s = self.system
        key, q = s.var_key[i]
        m, g, p, d, grp = key
        kind = s.cat.get(m, {}).get('kind')
        fams = sorted({r.family.split(':')[0] + ':' + r.family.split(':')[1] for r in self._relations_of(i)})[:6]
        ev = how + (f'; relations: {", ".join(fams)}' if fams and route not in ('shown', 'other_view') else '')
        if i in s.hidden:
            route = 'partner_subtraction'
            ev = f'another organization\'s figure, hidden from {self.role}: ' + ev
        self.add(route, {'metric': m, 'grain': g, 'period': p, 'dimension': d, 'group': grp,
                         'quantity': QUANTITY_NAMES.get(kind, {}).get(q, q), 'interval': [lo, hi], 'evidence': ev}, exact=lo == hi)

    _rel_index = None

    def _relations_of(self, i):
        if self._rel_index is None:
            self._rel_index = defaultdict(list)
            for r in self.system.relations:
                for j, _c in r.terms:
                    self._rel_index[j].append(r)
        return self._rel_index.get(i, [])

    def add(self, route, f, exact):
        if self.view.org is not None and f.get('dimension') == 'target_org_id' and f.get('group') == self.view.org:
            return  # a partner's own figures are its own to know
        lo, hi = (None if x is None else float(x) for x in f['interval'])
        rec = {'route': route, 'role': self.role, **f,
               'interval': [int(lo) if lo is not None and float(lo).is_integer() else lo,
                            int(hi) if hi is not None and float(hi).is_integer() else hi],
               'exact': bool(exact)}
        self.findings.append(rec)

    def tighten(self, indices, budget_s, priority=None):
        """Each of these counts' LP minimum and maximum over its component's relations, rounded
        inward (a relaxation: its whole-number range lies inside). The LP stage decides only
        the counts that might lie in 1..10; a change between two publications also needs the
        range of a count withheld then, or shown 11 or more, as narrow as the attacker can make
        it (withheld within 11..15, shown 16 now: a change in 1..5). Returns how many bounds
        moved and how many counts the budget left as propagation had them."""
        solver = self.solver
        t0 = time.time()
        labels, fixed, by_comp = self._by_component()
        todo = defaultdict(list)
        for i in indices:
            if not fixed[i] and not solver.infeasible_vars[i]:
                todo[labels[i]].append(i)
        moved = skipped = 0
        # the most promising first (`priority`, smaller first): the budget may not reach all
        rank = (lambda i: priority.get(i, 0.0)) if priority else (lambda i: 0.0)
        for vs in todo.values():
            vs.sort(key=rank)
        for comp, vs in sorted(todo.items(), key=lambda kv: (rank(kv[1][0]), len(by_comp.get(kv[0], [])))):
            if time.time() - t0 > budget_s:
                skipped += len(vs)
                continue
            lp = self._component_lp(by_comp.get(comp, []), fixed, vs)
            for k, v in enumerate(vs):
                if time.time() - t0 > budget_s:
                    skipped += len(vs) - k
                    break
                for sign in (1, -1):
                    c = np.zeros(lp.n)
                    c[lp.pos[v]] = sign
                    r = lp.solve(c, capped=sign < 0)
                    if r.status != 0:
                        continue
                    if sign > 0:
                        lo = float(np.ceil(r.fun - 1e-6))
                        if lo > solver.lb[v]:
                            solver.lb[v], moved = lo, moved + 1
                    else:
                        hi = float(np.floor(-r.fun + 1e-6))
                        # at the cap the maximum is unbounded: nothing proven
                        if hi < max(solver.lb[v], 0) + 1e5 and hi < solver.ub[v]:
                            solver.ub[v], moved = hi, moved + 1
        self.solver.stats['tighten_seconds'] = round(self.solver.stats.get('tighten_seconds', 0) + time.time() - t0, 1)
        return moved, skipped

    def intervals(self):
        """Proven range of every protected count (for the difference of two publications);
        None for a count of a component whose relations contradict the figures (its range is
        unknown, not absent)."""
        s = self.system
        out = {}
        for i, (key, q) in enumerate(s.var_key):
            if key is None or not s.protected[i]:
                continue
            out[(key, q)] = None if self.solver.infeasible_vars[i] else (self.solver.lb[i], self.solver.ub[i])
        return out


def tighten_for_changes(prev, cur, budget_s):
    """Narrows, by LP, both publications' ranges of each count whose change could still be
    proven inside 1..10: its change's range (now's range less then's) meets 1..10 or -10..-1
    without lying inside (narrowing only shrinks it, so a range that misses both bands stays
    clear of them). Each publication's bounds come from its own relations, so one pass each."""
    a, b = prev.intervals(), cur.intervals()
    width = {}
    for k in set(a) & set(b):
        if a[k] is None or b[k] is None:
            continue
        lo, hi = b[k][0] - a[k][1], b[k][1] - a[k][0]
        meets = (hi >= 1 and lo <= 10) or (hi >= -10 and lo <= -1)
        if meets and not (in_1_10(lo, hi) or in_1_10(-hi, -lo)):
            # the change's range must end at most 9 wide: the narrowest are the likeliest
            width[k] = hi - lo
    notes = []
    for side, an in (('previous', prev), ('current', cur)):
        index = {k: i for i, k in enumerate(an.system.var_key) if k[0] is not None}
        want = [index[k] for k in width if k in index]
        t = time.time()
        moved, skipped = an.tighten(want, max(0.0, budget_s / 2), {index[k]: w for k, w in width.items() if k in index})
        notes.append(f'{side} publication: {len(want)} counts narrowed by LP ({moved} bounds moved, '
                     f'{skipped} left to the budget) in {time.time() - t:.1f} s')
    return notes


def consecutive(prev, cur):
    """Changes between two publications pinned or bounded inside 1..10 in absolute value."""
    findings = []
    a, b = prev.intervals(), cur.intervals()
    s0, s1 = prev.system, cur.system
    keys = set(a) | set(b)
    for (key, q) in keys:
        m, g, p, d, grp = key
        cat = s1.cat.get(m) or s0.cat.get(m) or {}
        if q not in count_quantities(cat):
            continue
        iv0 = a.get((key, q))
        iv1 = b.get((key, q))
        if ((key, q) in a and iv0 is None) or ((key, q) in b and iv1 is None):
            continue  # a row of an infeasible component: its range is unknown
        how = ''
        if iv0 is None:
            # a row that did not exist in a cut both publications list was zero then
            if (m, g, p, d) not in s0.cuts or (m, g, p, d) in s0.narrowed or (m, d) in s1.fixed:
                continue
            iv0, how = (0.0, 0.0), 'row appeared; '
        if iv1 is None:
            if (m, g, p, d) not in s1.cuts or (m, g, p, d) in s1.narrowed or (m, d) in s0.fixed:
                continue
            iv1, how = (0.0, 0.0), 'row disappeared; '
        lo, hi = float(iv1[0] - iv0[1]), float(iv1[1] - iv0[0])
        if in_1_10(lo, hi) or in_1_10(-hi, -lo):
            exact = lo == hi
            what = f'{how}{"both shown" if exact and iv0[0] == iv0[1] and iv1[0] == iv1[1] else "proven ranges"}: {iv0[0]:g}..{iv0[1]:g} then {iv1[0]:g}..{iv1[1]:g}'
            findings.append({'route': 'consecutive', 'role': cur.role, 'metric': m, 'grain': g, 'period': p, 'dimension': d,
                             'group': grp, 'quantity': 'change of ' + QUANTITY_NAMES.get(cat.get('kind'), {}).get(q, q),
                             'interval': [int(lo) if float(lo).is_integer() else lo, int(hi) if float(hi).is_integer() else hi],
                             'exact': bool(exact), 'evidence': what})
    return findings


def role_folders(folder):
    out = []
    for name in sorted(os.listdir(folder)):
        if os.path.exists(os.path.join(folder, name, 'index.jsonl')):
            out.append(name)
    # the evaluator first: its checks of the relation families are the best a partner can borrow
    return sorted(out, key=lambda n: (n != 'evaluator', n))


def main(argv=None):
    global QUIET
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('fetch_dir')
    ap.add_argument('--services', required=True, help='the public service directory (services.csv of the drop)')
    ap.add_argument('--previous', help='the previous publication, fetched the same way')
    ap.add_argument('--partner-records', help="a folder with the drop's referrals.csv (and people.csv): what each partner knows about itself")
    ap.add_argument('--out', help='findings as JSON lines (default: stdout)')
    ap.add_argument('--summary', help='a JSON summary: findings per route and role, timings, dropped relation families')
    ap.add_argument('--roles', help='only these role folders (comma separated)')
    ap.add_argument('--lp-seconds', type=float, default=1800.0, help='time budget of the whole attack for its LP stage (counts left undecided are reported in the summary)')
    ap.add_argument('--change-lp-seconds', type=float, default=300.0, help='time budget for narrowing, by LP, the ranges of counts whose change between the two publications could lie in 1..10 (the narrowest first; what is left is counted in the notes)')
    ap.add_argument('--fixed-frames', action='store_true', help="the publication's rule that every published cut lists its whole frame of groups (a zero row where there is no one): a row then says nothing about its count")
    ap.add_argument('--quiet', action='store_true')
    a = ap.parse_args(argv)
    QUIET = a.quiet
    for path in (a.fetch_dir, a.services):
        if not os.path.exists(path):
            print(f'attack.py: {path}: no such file or folder', file=sys.stderr)
            return 1
    directory = read_directory(a.services)
    roles = role_folders(a.fetch_dir)
    if a.roles:
        wanted = set(a.roles.split(','))
        roles = [r for r in roles if r in wanted]
    if not roles:
        print(f'attack.py: {a.fetch_dir}: no role folders (each needs index.jsonl from fetch.ts)', file=sys.stderr)
        return 1
    t0 = time.time()
    results = {}
    trusted = None
    have_evaluator = 'evaluator' in roles
    for name in roles:
        log(f'attacking {name} ...')
        view = View(os.path.join(a.fetch_dir, name))
        narrow = have_evaluator and view.org is not None
        # one LP budget for the whole attack: what a role leaves undecided is reported
        budget = max(0.0, a.lp_seconds - (time.time() - t0))
        an = Analysis(view, directory, records=a.partner_records, trusted=trusted, lp_seconds=budget,
                      org_metrics_only=narrow, side_routes=not narrow, fixed_frames=a.fixed_frames)
        if name == 'evaluator':
            trusted = {'dropped': dict(an.system.dropped)}
        results[name] = an
    findings = []
    seen = set()
    for name, an in results.items():
        for f in an.findings:
            # a partner's finding the evaluator also makes is the evaluator's
            k = (f['route'] if f['route'] in ('qvalue', 'quarantine') else '', f['metric'], f['grain'], f['period'], f['dimension'], f['group'], f['quantity'])
            if name != 'evaluator' and k in seen:
                continue
            seen.add(k)
            findings.append(f)
    if a.previous:
        prev_roles = set(role_folders(a.previous))
        for name, an in results.items():
            if name not in prev_roles or (have_evaluator and name != 'evaluator'):
                continue
            log(f'attacking the previous publication as {name} ...')
            # propagation and elimination first; then LPs for the counts whose change could still lie in 1..10
            prev = Analysis(View(os.path.join(a.previous, name)), directory, records=None, trusted=trusted, lp=False, side_routes=False, fixed_frames=a.fixed_frames)
            for note in tighten_for_changes(prev, an, a.change_lp_seconds):
                log(f'  {note}')
                an.notes.append(note)
            findings += consecutive(prev, an)
    out = open(a.out, 'w', encoding='utf-8') if a.out else sys.stdout
    for f in findings:
        out.write(json.dumps(f, sort_keys=False) + '\n')
    if a.out:
        out.close()
    summary = {
        'findings': len(findings),
        'by_route': dict(Counter(f['route'] for f in findings)),
        'by_role': {name: dict(Counter(f['route'] for f in findings if f['role'] == name)) for name in results},
        'exact': sum(1 for f in findings if f['exact']),
        'bounded': sum(1 for f in findings if not f['exact']),
        'seconds': round(time.time() - t0, 1),
        # solves whose solver process died (HiGHS aborts), each redone without presolve
        'solver_crashes': dict(CRASHES),
        'roles': {name: {
            'rows': len(an.view.rows), 'unknowns': len(an.cands), 'relations': len(an.system.relations),
            'undecided_before_lp': an.undecided_before_lp, 'seconds': round(an.seconds, 1), 'solver': an.solver.stats,
            'relations_checked': sum(an.system.checked.values()), 'notes': an.notes[:60]} for name, an in results.items()},
    }
    if a.summary:
        with open(a.summary, 'w', encoding='utf-8') as f:
            json.dump(summary, f, indent=2)
    log(json.dumps({k: summary[k] for k in ('findings', 'by_route', 'exact', 'bounded', 'seconds')}))
    return 3 if findings else 0


if __name__ == '__main__':
    sys.exit(main())
