"""Reading what one role fetched (fetch.ts): every figure, keyed the way the results table keys it.

A role folder holds index.jsonl (url, status, file) and the bodies. Nothing here knows
closeloop's code: rows are recognised by their columns, and each view's figures are put
on the key (metric, grain, period_start, dimension, group) of the results table, so that
the same count published twice is one unknown.
"""
import csv
import io
import json
import os
import re
from urllib.parse import urlsplit, parse_qs

COUNT_QUANTITIES = ('n', 'd')


def num(v):
    """A published number, or None for an empty cell."""
    if v is None:
        return None
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    s = str(v).strip()
    if s == '' or s.lower() in ('null', 'nan', 'none'):
        return None
    try:
        return float(s)
    except ValueError:
        return None


def truthy(v):
    return v is True or str(v).strip().lower() == 'true'


class Row:
    """One published row of the results table (or the same figures from another view)."""

    __slots__ = ('metric', 'grain', 'pstart', 'pend', 'dim', 'group', 'n', 'd', 'value', 'suppressed', 'note',
                 'ref', 'p', 'q', 'source')

    def __init__(self, metric, grain, pstart, pend, dim, group, n, d, value, suppressed, note, ref, p, q, source):
        self.metric, self.grain, self.pstart, self.pend = metric, grain, pstart, pend
        self.dim, self.group, self.n, self.d, self.value = dim, group, n, d, value
        self.suppressed, self.note, self.ref, self.p, self.q, self.source = suppressed, note, ref, p, q, source

    @property
    def key(self):
        return (self.metric, self.grain, self.pstart, self.dim, self.group)


def row_from_dict(r, source, metric=None, dim=None, group=None):
    if (r.get('note') or '') == 'pending revision':
        # the publication rule: a row pending revision shows the previous publication's
        # figures; in this publication its figures are withheld
        r = {**r, 'suppressed': 'true', 'numerator': None, 'denominator': None, 'value': None, 'p_value': None, 'q_value': None}
    return Row(
        metric=metric or r.get('metric_id'),
        grain=r.get('period_grain'),
        pstart=str(r.get('period_start'))[:10],
        pend=str(r.get('period_end'))[:10] if r.get('period_end') else None,
        dim=dim or r.get('dimension'),
        group=group if group is not None else str(r.get('group_value')),
        n=num(r.get('numerator')),
        d=num(r.get('denominator')),
        value=num(r.get('value')),
        suppressed=truthy(r.get('suppressed')),
        note=r.get('note') or None,
        ref=r.get('reference_group') or None,
        p=num(r.get('p_value')),
        q=num(r.get('q_value')),
        source=source,
    )


class View:
    """Everything one role can see."""

    def __init__(self, folder):
        self.folder = folder
        self.name = os.path.basename(os.path.normpath(folder))
        self.files = []  # (url, status, path or None)
        with open(os.path.join(folder, 'index.jsonl'), encoding='utf-8') as f:
            for line in f:
                e = json.loads(line)
                self.files.append((e['url'], e['status'], os.path.join(folder, e['file']) if e.get('file') else None))
        self.catalog = {}        # metric id -> catalog entry (GET /api/metrics) + age_at from the dictionary
        self.as_of = None
        self.run_id = None
        self.rows = {}           # key -> Row (the results table as this role sees it)
        self.extra = []          # (key, quantity, value, source): the same figures from other views
        self.km = {}             # (metric, grain, pstart, dim, group) -> list of step dicts
        self.prepost = []        # dicts: measure, dim, group, people, pre/post events and member-months
        self.quarantine = []     # (url, row dict) of exported operational counts
        self.refused = []        # (url, status)
        self.pending = set()     # keys of rows pending revision: every view shows their previous figures
        self.org = None          # a partner's own organization
        self._load()

    # ------------------------------------------------------------------ loading
    def _body(self, path):
        with open(path, 'rb') as f:
            return f.read().decode('utf-8')

    def _load(self):
        manifest = os.path.join(os.path.dirname(os.path.normpath(self.folder)), 'manifest.json')
        if os.path.exists(manifest):
            with open(manifest, encoding='utf-8') as f:
                role = json.load(f).get('roles', {}).get(self.name)
            if role:
                self.org = role.get('org')
        ok = [(u, p) for (u, s, p) in self.files if s == 200 and p]
        self.refused = [(u, s) for (u, s, _p) in self.files if s != 200]
        by_path = {}
        for u, p in ok:
            by_path.setdefault(urlsplit(u).path, []).append((u, p))
        for u, p in by_path.get('/api/metrics', []):
            cat = json.loads(self._body(p))
            self.as_of = cat.get('as_of')
            self.run_id = cat.get('run_id')
            for m in cat['metrics']:
                self.catalog[m['id']] = m
        for u, p in by_path.get('/api/dictionary', []):
            if p.endswith('.md'):
                self._read_dictionary(self._body(p))
        # The results table: the full export first, then every JSON listing of result rows.
        for u, p in ok:
            path = urlsplit(u).path
            if path.startswith('/api/exports/') and p.endswith('.csv'):
                self._read_results_csv(self._body(p), u)
        for u, p in ok:
            if p.endswith('.json'):
                self._walk_json(u, json.loads(self._body(p)))
        for u, p in ok:
            path = urlsplit(u).path
            if path.startswith('/api/charts/') and p.endswith('.csv'):
                self._read_chart_csv(u, self._body(p))
        # A row pending revision shows the previous publication's figures, and so does any
        # other view of it (a scorecard carries no note): none of them is a current count.
        self.extra = [e for e in self.extra if e[0] not in self.pending]

    def _read_dictionary(self, md):
        current = None
        for line in md.splitlines():
            m = re.match(r'^### .*\(`([a-z0-9_]+)`\)', line)
            if m:
                current = m.group(1)
                continue
            if current and line.startswith('- **Anchor:**'):
                age = 'period_end' if "period's end" in line else 'as_of' if 'as-of date' in line else 'anchor'
                self.catalog.setdefault(current, {})['age_at'] = age

    def _add_row(self, r):
        if r.note == 'pending revision':
            self.pending.add(r.key)
        old = self.rows.get(r.key)
        if old is None:
            self.rows[r.key] = r
            return
        # Keep the first; any figure the other copy shows is an extra observation.
        for qn in ('n', 'd'):
            v = getattr(r, qn)
            if v is not None:
                self.extra.append((r.key, qn, v, r.source))
        if old.ref is None and r.ref is not None:
            old.ref = r.ref
        if old.p is None and r.p is not None:
            old.p, old.q = r.p, r.q

    def _read_results_csv(self, text, url):
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames or 'metric_id' not in reader.fieldnames:
            return
        for r in reader:
            self._add_row(row_from_dict(r, url))

    def _walk_json(self, url, body):
        split = urlsplit(url)
        path, query = split.path, {k: v[0] for k, v in parse_qs(split.query).items()}
        if path == '/api/km':
            for r in body.get('rows', []):
                k = (r['metric_id'], r['period_grain'], str(r['period_start'])[:10], r['dimension'], str(r['group_value']))
                self.km.setdefault(k, {})[int(r['time'])] = r
            return
        if path == '/api/prepost':
            for r in body.get('ratios', []):
                self.prepost.append({**r, '_url': url})
            return
        if path == '/api/gaps' or (path.startswith('/api/partners/') and path.endswith('gap-analysis.json')):
            for r in (body.get('rows') or body.get('gaps') or []):
                self._gap_row(r, url)
            if path.endswith('gap-analysis.json'):
                self._partner_figures(body, url)
            return
        if path.startswith('/api/partners/') and path.endswith('/scorecard'):
            self._partner_figures(body, url)
            return
        if path == '/api/scorecards':
            grain = body.get('grain')
            pstart = body.get('period_start')
            for c in body.get('cells', []):
                metric = c.get('measure')
                cat = self.catalog.get(metric, {})
                g, p = (('all', self._all_start(metric)) if cat.get('snapshot') else (grain, pstart))
                if g is None or p is None:
                    continue
                d = num(c.get('denominator'))
                if d is not None:
                    self.extra.append(((metric, g, p, 'target_org_id', c['org_id']), 'd' if cat.get('kind') != 'count' else 'n', d, url))
            return
        self._generic(body, url)

    def _all_start(self, metric):
        for k in self.rows:
            if k[0] == metric and k[1] == 'all':
                return k[2]
        return None

    def _generic(self, body, url):
        """Any object with the results table's key columns is a results row."""
        stack = [body]
        while stack:
            x = stack.pop()
            if isinstance(x, list):
                stack.extend(x)
            elif isinstance(x, dict):
                if 'metric_id' in x and 'period_grain' in x and 'dimension' in x and 'group_value' in x and 'time' not in x:
                    self._add_row(row_from_dict(x, url))
                else:
                    stack.extend(v for v in x.values() if isinstance(v, (list, dict)))

    def _partner_figures(self, body, url):
        """A partner scorecard or gap analysis: {metric_id, org: {...}, area: {...}} per figure."""
        org = (body.get('org') or {}).get('org_id')
        for f in body.get('figures', []):
            metric = f.get('metric_id')
            for side, dim, group in (('org', 'target_org_id', org), ('area', 'all', 'all')):
                r = f.get(side)
                if not isinstance(r, dict) or group is None or 'period_grain' not in r:
                    continue
                self._add_row(row_from_dict(r, url, metric=metric, dim=dim, group=group))

    def _gap_row(self, r, url):
        """The gap table: whole-span figures of one need domain x county cell."""
        if r.get('domain') is None or r.get('county_fips') is None:
            return
        p = str(r.get('period_start'))[:10]
        key = lambda m: (m, 'all', p, 'domain*county_fips', f"{r['domain']}*{r['county_fips']}")
        pairs = [
            ('positive_needs', 'n', r.get('positive_needs')),
            ('demand_capacity_ratio', 'n', r.get('positive_needs')),
            ('unmet_need_rate', 'd', r.get('needs_measurable')),
            ('unmet_need_rate', 'n', r.get('unmet_needs')),
            ('capacity_rejection_share', 'n', r.get('no_capacity_referrals')),
            ('capacity_rejection_share', 'd', r.get('closed_not_met_referrals')),
        ]
        for m, qn, v in pairs:
            v = num(v)
            if v is not None:
                self.extra.append((key(m), qn, v, url))
        met = num(r.get('needs_met'))
        if met is not None:
            self.extra.append((key('unmet_need_rate'), 'c', met, url))

    def _read_chart_csv(self, url, text):
        split = urlsplit(url)
        chart = split.path.rsplit('/', 1)[-1].rsplit('.', 1)[0]
        query = {k: v[0] for k, v in parse_qs(split.query).items()}
        rows = list(csv.DictReader(io.StringIO(text)))
        if chart == 'quarantine':
            for r in rows:
                self.quarantine.append((url, r))
        elif chart == 'funnel':
            grain = query.get('grain', 'all')
            for r in rows:
                m = re.match(r'^([a-z0-9_]+) (numerator|denominator)$', r.get('source', ''))
                v = num(r.get('count'))
                if not m or v is None:
                    continue
                metric = m.group(1)
                pstart = query.get('period_start') or self._latest_start(metric, grain)
                if pstart:
                    self.extra.append(((metric, grain, pstart, 'all', 'all'), 'n' if m.group(2) == 'numerator' else 'd', v, url))
        elif chart == 'trend' and 'dimension' not in query and 'program' not in query and 'county' not in query and 'domain' not in query:
            metric, grain = query.get('metric'), query.get('grain', 'quarter')
            for r in rows:
                if r.get('series') != 'Everyone':
                    continue
                k = (metric, grain, r.get('period_start'), 'all', 'all')
                for qn, col in (('n', 'numerator'), ('d', 'denominator')):
                    v = num(r.get(col))
                    if v is not None:
                        self.extra.append((k, qn, v, url))
        elif chart == 'km':
            metric, dim = query.get('metric', 'days_to_close'), query.get('dimension', 'all')
            start = self._all_start(metric)
            for r in rows:
                if not start or num(r.get('time')) is None:
                    continue
                label = r.get('series', '')
                m = re.search(r'\((\d{5})\)$', label)
                group = 'all' if dim == 'all' else (m.group(1) if dim == 'county_fips' and m else label)
                k = (metric, 'all', start, dim, group)
                steps = self.km.setdefault(k, {})
                t = int(num(r['time']))
                if t not in steps:
                    steps[t] = {'time': t, 'at_risk': num(r.get('at_risk')), 'survival': num(r.get('survival')),
                                'lower': num(r.get('lower')), 'upper': num(r.get('upper')), '_url': url}
        elif chart in ('gap-heatmap', 'demand-capacity') and not query.get('grain') and not query.get('period_start'):
            metric = query.get('measure') or 'demand_capacity_ratio'
            start = self._all_start(metric)
            for r in rows:
                if not start or not r.get('county_fips'):
                    continue
                k = (metric, 'all', start, 'domain*county_fips', f"{r['domain'].replace(' ', '_')}*{r['county_fips']}")
                for qn, col in (('n', 'numerator'), ('d', 'denominator')):
                    v = num(r.get(col))
                    if v is not None:
                        self.extra.append((k, qn, v, url))

    def _latest_start(self, metric, grain):
        starts = [k[2] for k in self.rows if k[0] == metric and k[1] == grain and k[3] == 'all']
        return max(starts) if starts else None
