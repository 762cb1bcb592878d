"""The attacker's system of linear relations among published counts.

Unknowns are the protected counts of the published rows (numerator n, denominator d and
complement c = d - n where those are counts of people or events). Shown figures are
constants. Relations come from the publication rules (groups vs `all`, two-way cells vs
margins, months vs quarters vs years vs the whole span), from counts that two metrics
publish, from tied dimensions and the public service directory, and from the reference
group. Every family of relations is checked on the instances where all its terms are
shown, and dropped if any instance disagrees, so a wrong guess about the rules can cost
findings but never produce a false one.
"""
import csv
import datetime as dt
from collections import defaultdict

ABSENT = -1  # a row missing from a published cut: its counts are zero

# Route of each family (the numbering of issue 14).
ROUTE_OF_STAGE = {
    'existence': 'existence_relations',
    'cross': 'cross_metric',
    'ties': 'tied_dimensions',
    'reference': 'reference_group',
    'km': 'kaplan_meier',
    'private': 'partner_subtraction',
}
# The reference rule comes last: it holds only for groups whose denominator the other
# relations prove to be 30 or more (Analysis adds it once their bounds are known).
STAGES = ['existence', 'cross', 'ties', 'km', 'private', 'reference']

# Dimensions whose reference group the publication names (AHRQ's defaults, README "Reference
# groups": white, commercial, en, no, urban): a named group says nothing about the order of
# the rates. A two-way cut whose parts are both named is named too (race_ethnicity*payer:
# white*commercial).
NAMED_REFERENCE_DIMENSIONS = {'race_ethnicity', 'payer', 'preferred_language', 'limited_english', 'rurality'}
# most_favourable: the best whole-span rate among groups with a whole-span denominator of
# at least this many (never `unknown`).
FAVOURABLE_MIN_D = 30

# Counts two metrics publish: (metric A, quantity, metric B, quantity, window in days, relation).
# Equal once the window has elapsed for every unit of the period (period_end + window <= as-of).
# 'le' means A <= B always (A counts a subset of B's units).
CROSS = [
    ('need_referral_rate', 'd', 'positive_needs', 'n', 30, 'eq'),
    ('unmet_need_rate', 'd', 'positive_needs', 'n', 90, 'eq'),
    ('days_to_referral', 'd', 'positive_needs', 'n', 0, 'eq'),
    ('days_to_referral', 'n', 'need_referral_rate', 'n', 30, 'eq'),
    ('referral_acceptance_rate', 'd', 'days_to_close', 'd', 14, 'eq'),
    ('closed_loop_rate', 'd', 'days_to_close', 'd', 60, 'eq'),
    ('days_to_service', 'd', 'days_to_close', 'd', 0, 'eq'),
    ('need_met_rate', 'd', 'days_to_close', 'n', 0, 'eq'),
    ('capacity_rejection_share', 'd', 'need_met_rate', 'c', 0, 'eq'),
    ('phq9_response_rate', 'd', 'phq9_follow_up_rate', 'd', 0, 'eq'),
    ('phq9_remission_rate', 'd', 'phq9_follow_up_rate', 'd', 0, 'eq'),
    ('phq9_mean_change', 'd', 'phq9_follow_up_rate', 'n', 0, 'eq'),
    ('demand_capacity_ratio', 'n', 'positive_needs', 'n', 0, 'eq'),
    ('enrollment_after_referral_rate', 'd', 'days_to_close', 'd', 90, 'le'),
    ('phq9_response_rate', 'n', 'phq9_follow_up_rate', 'n', 0, 'le'),
    ('phq9_remission_rate', 'n', 'phq9_response_rate', 'n', 0, 'le'),
    ('closed_loop_rate', 'n', 'days_to_close', 'n', 0, 'le'),
    ('need_met_rate', 'd', 'days_to_close', 'n', 0, 'le'),
    ('capacity_rejection_share', 'd', 'days_to_close', 'n', 0, 'le'),
]


def count_quantities(cat):
    """Which of n, d, c are counts of people or events for a metric of this kind."""
    kind = cat.get('kind')
    if kind in ('proportion', 'duration'):
        return ('n', 'd', 'c')
    if kind == 'rate':
        return () if cat.get('interval') == 'none' else ('n',)
    if kind in ('count', 'ratio'):
        return ('n',)
    if kind == 'mean':
        return ('d',)
    return ()


def additive_over_time(cat, dim):
    """Metrics whose units sit in one period through a fixed anchor date add up over time."""
    if cat.get('snapshot'):
        return False
    anchor = str(cat.get('anchor', ''))
    if anchor == 'period' or 'in the period' in anchor:
        return False
    if cat.get('age_at') == 'period_end' and 'age_band' in dim.split('*'):
        return False
    return True


def partitions_all(cat, dim):
    """Whether the groups of a one-way cut split the metric's units (each unit in one group)."""
    if '*' in dim or dim == 'all':
        return False
    if dim == 'domain' and 'people' in str(cat.get('unit', '')):
        return False  # a person can be positive in several domains
    return True


def parse_date(s):
    return dt.date.fromisoformat(s[:10])


def enclosing(grain, start):
    d = parse_date(start)
    if grain == 'month':
        return 'quarter', dt.date(d.year, 3 * ((d.month - 1) // 3) + 1, 1).isoformat()
    if grain == 'quarter':
        return 'year', dt.date(d.year, 1, 1).isoformat()
    return None


def read_directory(path):
    """The public service directory: which organization serves which domain."""
    pairs = set()
    with open(path, encoding='utf-8-sig') as f:
        for r in csv.DictReader(f):
            if r.get('org_id') and r.get('domain'):
                pairs.add((r['org_id'].strip(), r['domain'].strip().lower()))
    return pairs


class Relation:
    __slots__ = ('family', 'stage', 'terms', 'const', 'kind')

    def __init__(self, family, stage, terms, const, kind):
        # sum(coef * x) + const (= 0 | <= 0)
        self.family, self.stage, self.terms, self.const, self.kind = family, stage, terms, const, kind


class System:
    """Variables, bounds and relations for one role's view (plus what it privately knows)."""

    def __init__(self, view, directory=None, hidden_org_groups=False, trusted_families=None, fixed_frames=False):
        self.view = view
        self.fixed_frames = fixed_frames  # told that every cut lists its whole frame: existence proves nothing
        self.cat = view.catalog
        self.as_of = view.as_of
        self.directory = directory or set()
        self.var_key = []        # var id -> (row key, quantity) ; row key None for auxiliary variables
        self.var_index = {}
        self.value = []          # known value or None
        self.lb = []
        self.ub = []
        self.protected = []      # var id -> bool
        self.hidden = set()      # vars of rows the role cannot see (another organization's)
        self.relations = []
        self.dropped = {}        # family -> reason
        self.checked = defaultdict(int)
        self.conflicts = []
        self.direct = []         # (var, value, source) a suppressed count shown by another view
        self.trusted = trusted_families
        self.hidden_org_groups = hidden_org_groups
        self._hidden_rows = []
        self.z_index = {}        # (metric, grain, pstart, org, domain, q) -> var: an org x domain cell
        self.ref_pending = []    # (denominator var, relation): the reference rule, once that denominator is >= 30
        self._index_rows()
        self._make_variables()
        self._observe_extras()

    # ------------------------------------------------------------------ variables
    def _index_rows(self):
        self.cuts = defaultdict(dict)     # (metric, grain, pstart, dim) -> {group: Row}
        self.periods = defaultdict(set)   # (metric, grain) -> {pstart}
        self.pend = {}
        for k, r in self.view.rows.items():
            m, g, p, d, grp = k
            if m not in self.cat:
                continue
            self.cuts[(m, g, p, d)][grp] = r
            self.periods[(m, g)].add(p)
            if r.pend:
                self.pend[(m, g, p)] = r.pend
        # Fixed frames: a cut that shows a zero denominator (or a zero count) lists every group.
        self.fixed = set()
        for (m, g, p, d), groups in self.cuts.items():
            kind = self.cat[m].get('kind')
            for grp, r in groups.items():
                if (kind in ('proportion', 'duration', 'mean') and r.d == 0) or (kind == 'count' and d != 'all' and r.n == 0):
                    self.fixed.add((m, d))
        # Narrowed cuts (a partner sees its own organization only): groups missing there are unknown, not zero.
        self.narrowed = set()
        if self.hidden_org_groups:
            orgs = sorted({o for o, _d in self.directory})
            for (m, g, p, d), groups in list(self.cuts.items()):
                if d == 'target_org_id':
                    self.narrowed.add((m, g, p, d))
                    for o in orgs:
                        if o not in groups:
                            self._hidden_rows.append((m, g, p, d, o))

    def new_var(self, key, q, value=None, lb=0.0, ub=float('inf'), protected=False):
        i = len(self.var_key)
        self.var_key.append((key, q))
        if key is not None:
            self.var_index[(key, q)] = i
        self.value.append(value)
        self.lb.append(lb if value is None else value)
        self.ub.append(ub if value is None else value)
        self.protected.append(protected)
        return i

    def _make_variables(self):
        for k, r in self.view.rows.items():
            m = k[0]
            if m not in self.cat:
                continue
            qs = count_quantities(self.cat[m])
            exists_lb = self._existence_lb(k, r)
            for q in qs:
                if q == 'c':
                    v = r.d - r.n if (r.d is not None and r.n is not None) else None
                else:
                    v = getattr(r, q)
                lb = exists_lb if q == self._existence_quantity(m) else 0.0
                self.new_var(k, q, value=v, lb=lb, protected=True)
            if 'c' in qs:
                self.relations.append(Relation(f'complement:{m}', 'existence', [(self.var_index[(k, 'd')], 1.0), (self.var_index[(k, 'n')], -1.0), (self.var_index[(k, 'c')], -1.0)], 0.0, 'eq'))
        for (m, g, p, d, o) in self._hidden_rows:
            k = (m, g, p, d, o)
            qs = count_quantities(self.cat[m])
            for q in qs:
                i = self.new_var(k, q, protected=True)
                self.hidden.add(i)
            if 'c' in qs:
                self.relations.append(Relation(f'complement:{m}', 'existence', [(self.var_index[(k, 'd')], 1.0), (self.var_index[(k, 'n')], -1.0), (self.var_index[(k, 'c')], -1.0)], 0.0, 'eq'))

    def _existence_quantity(self, m):
        kind = self.cat[m].get('kind')
        return {'proportion': 'd', 'duration': 'd', 'mean': 'd', 'count': 'n', 'ratio': 'n'}.get(kind)

    def _existence_lb(self, k, r):
        """A row that exists says its denominator is above zero, unless its cut lists a fixed frame."""
        m, g, p, d, grp = k
        if self.fixed_frames or (m, d) in self.fixed:
            return 0.0
        kind = self.cat[m].get('kind')
        if kind in ('proportion', 'duration', 'mean'):
            return 1.0
        if kind == 'count':
            return 0.0 if d == 'all' else 1.0
        if kind == 'ratio':
            return 1.0 if r.note == 'no provider' else 0.0
        return 0.0

    def _observe_extras(self):
        """Figures another view shows for the same row: conflicts, or a withheld count revealed."""
        for key, q, v, src in self.view.extra:
            i = self.var_index.get((key, q))
            if i is None:
                continue
            if self.value[i] is not None:
                if abs(self.value[i] - v) > 1e-6:
                    self.conflicts.append((key, q, self.value[i], v, src))
                continue
            self.value[i] = v
            self.lb[i] = self.ub[i] = v
            self.direct.append((i, v, src))

    def fix(self, i, v):
        self.value[i] = v
        self.lb[i] = self.ub[i] = v

    # ------------------------------------------------------------------ terms
    def term(self, key, q):
        """A variable for a row's quantity; 0 for a row absent from a published cut; None when unknown."""
        i = self.var_index.get((key, q))
        if i is not None:
            return i
        m, g, p, d, grp = key
        if m not in self.cat or q not in count_quantities(self.cat[m]):
            return None
        if (m, g, p, d) in self.cuts and (m, g, p, d) not in self.narrowed:
            return ABSENT
        return None

    def add(self, family, stage, parts, kind='eq'):
        """parts: list of ((key, q) or var id, coef). Skipped when any part is unknown."""
        terms = []
        const = 0.0
        for ref, coef in parts:
            i = self.term(*ref) if isinstance(ref, tuple) else ref
            if i is None:
                return False
            if i == ABSENT:
                continue
            terms.append((i, coef))
        if not terms:
            return False
        self.relations.append(Relation(family, stage, terms, const, kind))
        return True

    # ------------------------------------------------------------------ families
    def build(self, km_links=None, private=None):
        self._groups_vs_all()
        self._two_way()
        self._time()
        self._cross()
        self._language_tie()
        self._directory_tie()
        self._reference()
        for rel in km_links or []:
            self.relations.append(rel)
        for rel in private or []:
            self.relations.append(rel)
        self._validate()

    def _qs(self, m):
        return count_quantities(self.cat[m])

    def _groups_vs_all(self):
        for (m, g, p, d), groups in self.cuts.items():
            if d == 'all' or not partitions_all(self.cat[m], d) or (m, g, p, 'all') not in self.cuts:
                continue
            universe = set(groups)
            if (m, g, p, d) in self.narrowed:
                universe |= {o for o, _ in self.directory}
            for q in self._qs(m):
                parts = [(((m, g, p, d, grp), q), 1.0) for grp in sorted(universe)]
                parts.append((((m, g, p, 'all', 'all'), q), -1.0))
                self.add(f'groups:{m}:{d}:{q}', 'existence', parts)

    def _two_way(self):
        for (m, g, p, d), groups in self.cuts.items():
            if '*' not in d:
                continue
            a, b = d.split('*', 1)
            for side, margin in ((0, a), (1, b)):
                if (m, g, p, margin) not in self.cuts:
                    continue
                by = defaultdict(list)
                for grp in groups:
                    xy = grp.split('*', 1)
                    if len(xy) == 2:
                        by[xy[side]].append(grp)
                for x in set(by) | set(self.cuts[(m, g, p, margin)]):
                    for q in self._qs(m):
                        parts = [(((m, g, p, d, grp), q), 1.0) for grp in by.get(x, [])]
                        parts.append((((m, g, p, margin, x), q), -1.0))
                        self.add(f'twoway:{m}:{d}:{margin}:{q}', 'existence', parts)

    def _time(self):
        by_metric_dim = defaultdict(set)
        for (m, g, p, d) in self.cuts:
            by_metric_dim[(m, d)].add((g, p))
        for (m, d), gps in by_metric_dim.items():
            if not additive_over_time(self.cat[m], d):
                continue
            wholes = defaultdict(list)
            for (g, p) in gps:
                if g in ('month', 'quarter'):
                    wholes[enclosing(g, p)].append((g, p))
            # every period of the finer grain the metric has (at any cut) must be a published part
            for (wg, wp), parts in wholes.items():
                lower = parts[0][0]
                expected = {p for p in self.periods[(m, lower)] if enclosing(lower, p) == (wg, wp)}
                have = {p for (_g, p) in parts}
                if expected - have or (m, wg, wp, d) not in self.cuts:
                    continue
                self._time_relation(m, d, lower, sorted(have), wg, wp, f'time:{m}:{d}:{lower}')
            # years add up to the whole span
            years = sorted(p for (g, p) in gps if g == 'year')
            alls = [p for (g, p) in gps if g == 'all']
            if years and alls and set(years) == self.periods[(m, 'year')]:
                self._time_relation(m, d, 'year', years, 'all', alls[0], f'time:{m}:{d}:year')

    def _time_relation(self, m, d, lower, starts, wg, wp, family):
        groups = set(self.cuts[(m, wg, wp, d)])
        for p in starts:
            groups |= set(self.cuts[(m, lower, p, d)])
        for grp in groups:
            for q in self._qs(m):
                parts = [(((m, lower, p, d, grp), q), 1.0) for p in starts]
                parts.append((((m, wg, wp, d, grp), q), -1.0))
                self.add(f'{family}:{q}', 'existence', parts)

    def _elapsed(self, m, g, p, window):
        pend = self.pend.get((m, g, p))
        if pend is None or self.as_of is None:
            return False
        return parse_date(pend) + dt.timedelta(days=window) <= parse_date(self.as_of)

    def _cross(self):
        for (a, qa, b, qb, window, kind) in CROSS:
            if a not in self.cat or b not in self.cat:
                continue
            if qa not in self._qs(a) or qb not in self._qs(b):
                continue
            name = f'cross:{a}.{qa}{"=" if kind == "eq" else "<="}{b}.{qb}'
            for (m, g, p, d), groups in list(self.cuts.items()):
                if m != a or (b, g, p, d) not in self.cuts:
                    continue
                if kind == 'eq' and not self._elapsed(a, g, p, window):
                    continue
                for grp in set(groups) | set(self.cuts[(b, g, p, d)]):
                    self.add(name, 'cross', [(((a, g, p, d, grp), qa), 1.0), (((b, g, p, d, grp), qb), -1.0)], kind)

    def _language_tie(self):
        for (m, g, p, d), groups in list(self.cuts.items()):
            if d != 'limited_english' or (m, g, p, 'preferred_language') not in self.cuts:
                continue
            langs = set(self.cuts[(m, g, p, 'preferred_language')])
            for q in self._qs(m):
                key = lambda dim, grp: ((m, g, p, dim, grp), q)
                self.add(f'tie:language:{m}:{q}', 'ties', [(key('limited_english', 'no'), 1.0), (key('preferred_language', 'en'), -1.0)])
                self.add(f'tie:language:{m}:{q}', 'ties', [(key('limited_english', 'unknown'), 1.0), (key('preferred_language', 'unknown'), -1.0)])
                others = [(key('preferred_language', x), -1.0) for x in sorted(langs - {'en', 'unknown'})]
                self.add(f'tie:language:{m}:{q}', 'ties', [(key('limited_english', 'yes'), 1.0)] + others)

    def _directory_tie(self):
        """Organizations and need domains through the public directory: an org x domain table
        whose cells exist only where the directory lists the organization serving the domain.
        Fixed frames list every domain and every organization seen anywhere: an organization
        the directory does not list may hold units in any domain, and a domain no listed
        organization serves holds only such organizations' units (none if there are none:
        its rows are 0). Where that is untrue, the family check drops the tie."""
        if not self.directory:
            return
        orgs = {o for o, _ in self.directory}
        domains = {d for _, d in self.directory}
        for (m, g, p, d), groups in list(self.cuts.items()):
            if d != 'target_org_id' or (m, g, p, 'domain') not in self.cuts:
                continue
            seen_orgs = set(groups)
            seen_domains = set(self.cuts[(m, g, p, 'domain')])
            all_domains = domains | seen_domains
            pairs = set(self.directory) | {(o, dom) for o in seen_orgs - orgs for dom in all_domains}
            for q in self._qs(m):
                cell = {}
                for (o, dom) in sorted(pairs):
                    cell[(o, dom)] = self.new_var(None, ('z', m, g, p, o, dom, q))
                    self.z_index[(m, g, p, o, dom, q)] = cell[(o, dom)]
                fam = f'tie:directory:{m}:{q}'
                for o in sorted(orgs | seen_orgs):
                    parts = [(cell[(o, dom)], 1.0) for (oo, dom) in cell if oo == o]
                    parts.append((((m, g, p, 'target_org_id', o), q), -1.0))
                    self.add(fam, 'ties', parts)
                for dom in sorted(all_domains):
                    parts = [(cell[(o, dd)], 1.0) for (o, dd) in cell if dd == dom]
                    parts.append((((m, g, p, 'domain', dom), q), -1.0))
                    self.add(fam, 'ties', parts)
                # The same tie summed over each connected group of organizations and domains:
                # implied by the cells above, and checkable where every figure is shown.
                for comp_orgs, comp_domains in self._directory_components(pairs):
                    parts = [(((m, g, p, 'target_org_id', o), q), 1.0) for o in comp_orgs]
                    parts += [(((m, g, p, 'domain', dd), q), -1.0) for dd in comp_domains]
                    self.add(fam, 'ties', parts)
            for (o, dom) in sorted(pairs):
                z = [self.z_index.get((m, g, p, o, dom, q)) for q in ('d', 'n', 'c')]
                if None not in z:
                    self.relations.append(Relation(f'complement:{m}', 'ties', [(z[0], 1.0), (z[1], -1.0), (z[2], -1.0)], 0.0, 'eq'))

    def _directory_components(self, pairs):
        parent = {}

        def find(x):
            while parent.setdefault(x, x) != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x
        for o, d in pairs:
            parent[find(('o', o))] = find(('d', d))
        comps = defaultdict(lambda: (set(), set()))
        for o, d in pairs:
            comps[find(('o', o))][0].add(o)
            comps[find(('o', o))][1].add(d)
        return [(sorted(a), sorted(b)) for a, b in comps.values()]

    def _reference(self):
        """Route 4, most_favourable (README, "Reference groups"): in a dimension without a named
        reference, the reference of a proportion is the group with the best whole-span rate
        among groups with a whole-span denominator >= 30 (`unknown` never). So the reference
        reached 30, and every other group g (not `unknown`) has d_g < 30 or a rate no better
        than the reference's. With n_ref and d_ref shown the second branch is linear:
        higher_better (d_ref - n_ref) n_g - n_ref c_g <= 0, lower_better the reverse. It is a
        relation here where d_g is shown >= 30; where d_g is withheld it waits in ref_pending
        until the other relations prove d_g >= 30. Rates (events per member-month) are left
        out: their person-time is not an unknown of this attacker. Ties are not used (the
        non-strict order is implied whatever they are)."""
        for (m, g, p, d), groups in self.cuts.items():
            if g != 'all' or d == 'all' or (m, g, p, d) in self.narrowed:
                continue
            cat = self.cat[m]
            direction = cat.get('direction')
            parts = d.split('*')
            if cat.get('kind') != 'proportion' or cat.get('disparities') is False or direction not in ('higher_better', 'lower_better'):
                continue
            if 'domain' in parts or all(x in NAMED_REFERENCE_DIMENSIONS for x in parts):
                continue  # not compared (needs, not people), or a named reference: no order follows
            # a row pending revision shows the previous publication's reference, maybe not this one's
            refs = {r.ref for r in groups.values() if r.ref and r.note != 'pending revision'}
            if len(refs) != 1:
                continue
            ref = refs.pop()
            if ref not in groups or 'unknown' in ref.split('*'):
                continue
            fam = f'reference:{d}'
            var = lambda grp, q: self.var_index[((m, g, p, d, grp), q)]
            # the reference reached 30: 30 - d_ref <= 0
            self.relations.append(Relation(fam, 'reference', [(var(ref, 'd'), -1.0)], float(FAVOURABLE_MIN_D), 'le'))
            n_ref, d_ref = self.value[var(ref, 'n')], self.value[var(ref, 'd')]
            if n_ref is None or d_ref is None:
                continue  # a withheld reference: the order is not linear in what is unknown
            sign = 1.0 if direction == 'higher_better' else -1.0
            for grp in sorted(groups):
                if grp == ref or 'unknown' in grp.split('*'):
                    continue
                rel = Relation(fam, 'reference', [(var(grp, 'n'), sign * (d_ref - n_ref)), (var(grp, 'c'), -sign * n_ref)], 0.0, 'le')
                d_g = self.value[var(grp, 'd')]
                if d_g is None:
                    self.ref_pending.append((var(grp, 'd'), rel))
                elif d_g >= FAVOURABLE_MIN_D:
                    self.relations.append(rel)

    def family_kept(self, family):
        """Whether a family survived the checks (this view's, and the evaluator's for a partner)."""
        return family not in self.dropped and family not in (self.trusted or {}).get('dropped', {})

    # ------------------------------------------------------------------ validation
    def _validate(self):
        """Drop any family that a fully shown instance contradicts."""
        bad = defaultdict(int)
        for rel in self.relations:
            vals = [self.value[i] for i, _ in rel.terms]
            if any(v is None for v in vals):
                continue
            s = sum(c * v for (i, c), v in zip(rel.terms, vals)) + rel.const
            fam = rel.family
            self.checked[fam] += 1
            if (rel.kind == 'eq' and abs(s) > 0.5) or (rel.kind == 'le' and s > 0.5):
                bad[fam] += 1
        for fam, n in bad.items():
            self.dropped[fam] = f'{n} of {self.checked[fam]} fully shown instances disagree'
        if self.trusted is not None:
            # A partner's view shows too little to check a family; the evaluator's check decides.
            for rel in self.relations:
                if rel.family in self.trusted.get('dropped', {}):
                    self.dropped.setdefault(rel.family, 'dropped in the evaluator view')
        self.relations = [r for r in self.relations if r.family not in self.dropped]
