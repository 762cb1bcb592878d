"""The routes of issue 14 that are not plain linear relations among result rows.

Kaplan-Meier steps, the people behind person-time, a partner's own records, q-values,
exported operational counts, and the difference of two consecutive publications.
"""
import csv
import datetime as dt
import math
import os
from collections import defaultdict

from .model import Relation, count_quantities, enclosing, parse_date

Z95 = 1.959963984540054


def in_1_10(lo, hi):
    return lo is not None and hi is not None and lo >= 1 - 1e-9 and hi <= 10 + 1e-9


def _near_int(x, tol):
    return x is not None and math.isfinite(x) and abs(x - round(x)) <= tol


# --------------------------------------------------------------------------- Kaplan-Meier
def km_steps(steps):
    """Events and censored cases per published step of one curve.

    With at-risk counts: events(t) = at_risk(t) x (1 - S(t)/S(t-)) and
    censored(t) = at_risk(t) - events(t) - at_risk(next). Without them, the log-log band
    still gives them away: its half-width yields Greenwood's sum, whose increment per step
    is d / (n (n - d)), and with d / n = 1 - S(t)/S(t-) that fixes n and d.
    Returns a list of dicts: time, at_risk, events, censored (None where not derivable), how.
    """
    times = sorted(steps)
    out = []
    s_prev, g_prev = 1.0, 0.0
    for k, t in enumerate(times):
        st = steps[t]
        n = st.get('at_risk')
        s = st.get('survival')
        lower = st.get('lower')
        if s is None:
            out.append({'time': t, 'at_risk': n, 'events': None, 'censored': None, 'how': None})
            continue
        r = 1.0 - s / s_prev if s_prev > 0 else None
        events, how = None, None
        g = None
        if lower is not None and 0 < s < 1 and 0 < lower < s:
            try:
                zse = math.log(math.log(lower) / math.log(s))
                g = (zse / Z95 * math.log(s)) ** 2
            except ValueError:
                g = None
        if n is not None and r is not None:
            d = n * r
            if _near_int(d, 1e-4 * max(1.0, n)):
                events, how = round(d), 'at_risk x (1 - S(t)/S(t-))'
        elif r is not None and g is not None and g - g_prev > 0 and 0 < r < 1:
            nn = r / ((1 - r) * (g - g_prev))
            if _near_int(nn, 2e-3 * max(1.0, nn)) and _near_int(nn * r, 2e-3 * max(1.0, nn)):
                n, events, how = round(nn), round(nn * r), 'Greenwood increment of the log-log band'
        elif r == 0:
            events, how = 0, 'survival unchanged'
        out.append({'time': t, 'at_risk': n, 'events': events, 'censored': None, 'how': how})
        s_prev = s
        if g is not None:
            g_prev = g
    for k in range(len(out) - 1):
        a, b = out[k], out[k + 1]
        if a['at_risk'] is not None and b['at_risk'] is not None and a['events'] is not None:
            a['censored'] = a['at_risk'] - a['events'] - b['at_risk']
    return out


def km_route(view, system):
    """Findings from the curves, and the relations they add for the results rows."""
    findings = []
    relations = []
    for (m, g, p, d, grp), steps in view.km.items():
        derived = km_steps(steps)
        for st in derived:
            for qn, label in (('events', 'events'), ('censored', 'censored cases')):
                v = st[qn]
                if v is not None and 1 <= v <= 10:
                    nxt = '' if qn == 'events' else ' up to the next step'
                    findings.append({'metric': m, 'grain': g, 'period': p, 'dimension': d, 'group': grp,
                                     'quantity': f'{label} at day {st["time"]}{nxt}', 'interval': [v, v],
                                     'evidence': f'Kaplan-Meier step: {st["how"] or "at_risk(t) - events(t) - at_risk(next)"}'})
        # The curve bounds the results row: cases >= at risk at the first step, events >= those shown.
        key = (m, g, p, d, grp)
        shown_events = [st['events'] for st in derived]
        if not derived or any(v is None for v in shown_events) or derived[0]['at_risk'] is None:
            continue
        iv_n = system.var_index.get((key, 'n'))
        iv_d = system.var_index.get((key, 'd'))
        iv_c = system.var_index.get((key, 'c'))
        if iv_n is None or iv_d is None:
            continue
        total = float(sum(shown_events))
        first = derived[0]
        last = derived[-1]
        fam = f'km:{m}'
        if first['time'] == 0:
            relations.append(Relation(fam, 'km', [(iv_d, 1.0)], -float(first['at_risk']), 'eq'))
        else:
            relations.append(Relation(fam, 'km', [(iv_d, -1.0)], float(first['at_risk']), 'le'))
        relations.append(Relation(fam, 'km', [(iv_n, -1.0)], total, 'le'))
        if last['at_risk'] is not None:
            relations.append(Relation(fam, 'km', [(iv_n, 1.0)], -(total + last['at_risk'] - last['events']), 'le'))
        cens = [st['censored'] for st in derived[:-1]]
        if iv_c is not None and all(c is not None for c in cens):
            relations.append(Relation(fam, 'km', [(iv_c, -1.0)], float(sum(cens)), 'le'))
    return findings, relations


# --------------------------------------------------------------------------- person-time
def member_month_range(days=180):
    """Least and most member-months one person's whole window of `days` days can add up to."""
    lo, hi = float('inf'), 0.0
    day = dt.date(2000, 1, 1)
    end = dt.date(2040, 1, 1)
    weights = []
    d = day
    while d < end:
        nd = (d.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        dim = (nd - d.replace(day=1)).days
        weights.append(1.0 / dim)
        d += dt.timedelta(days=1)
    acc = sum(weights[:days])
    lo = hi = acc
    for i in range(days, len(weights)):
        acc += weights[i] - weights[i - days]
        lo, hi = min(lo, acc), max(hi, acc)
    return lo, hi


def person_time_route(view):
    """People behind a pre/post rate: each contributes one whole 180-day window."""
    findings = []
    pp_lo, pp_hi = member_month_range(180)
    slack = 1e-6
    cohort = {}
    notes = []
    # Check the model on every figure that shows both people and member-months.
    checked = bad = 0
    for r in view.prepost:
        people = r.get('people')
        for col in ('pre_member_months', 'post_member_months'):
            mm = r.get(col)
            if people and mm:
                checked += 1
                if not (pp_lo - slack <= mm / people <= pp_hi + slack):
                    bad += 1
    if bad:
        notes.append(f'person-time: {bad} of {checked} shown (people, member-months) pairs fall outside {pp_lo:.3f}..{pp_hi:.3f}; route off')
        return findings, notes
    prepost_metrics = [m for m, c in view.catalog.items() if 'first referral' in str(c.get('anchor', '')) and c.get('kind') == 'rate']
    for (m, g, p, d, grp), row in view.rows.items():
        if m not in prepost_metrics or row.d is None or row.d <= 0:
            continue
        lo = math.ceil(row.d / pp_hi - slack)
        hi = math.floor(row.d / pp_lo + slack)
        k = (g, p, d, grp)
        c = cohort.setdefault(k, [1, float('inf'), []])
        c[0], c[1] = max(c[0], lo), min(c[1], hi)
        c[2].append(f'{m} member-months {row.d:.2f}')
    for r in view.prepost:
        k = ('all', str(r.get('period_start'))[:10], r.get('dimension'), str(r.get('group_value')))
        people = r.get('people')
        if people is not None and 1 <= people <= 10:
            findings.append({'metric': f'prepost:{r.get("measure")}', 'grain': 'all', 'period': k[1], 'dimension': k[2], 'group': k[3],
                             'quantity': 'people behind person-time', 'interval': [people, people], 'evidence': 'shown in the pre/post summary'})
        for col in ('pre_member_months', 'post_member_months'):
            mm = r.get(col)
            if mm:
                c = cohort.setdefault(k, [1, float('inf'), []])
                c[0], c[1] = max(c[0], math.ceil(mm / pp_hi - slack)), min(c[1], math.floor(mm / pp_lo + slack))
                c[2].append(f'pre/post summary {col} {mm:.2f}')
    for (g, p, d, grp), (lo, hi, ev) in cohort.items():
        if in_1_10(lo, hi):
            findings.append({'metric': 'pre/post referral cohort', 'grain': g, 'period': p, 'dimension': d, 'group': grp,
                             'quantity': 'people behind person-time', 'interval': [lo, hi],
                             'evidence': f'one 180-day window per person = {pp_lo:.3f}..{pp_hi:.3f} member-months; ' + '; '.join(sorted(set(ev))[:4])})
    return findings, notes


# --------------------------------------------------------------------------- partner's own records
def _period_starts(day, span_start):
    y, m = day.year, day.month
    month = dt.date(y, m, 1).isoformat()
    q = enclosing('month', month)[1]
    return [('month', month), ('quarter', q), ('year', dt.date(y, 1, 1).isoformat()), ('all', span_start)]


def private_figures(records_dir, org, as_of, system):
    """What a partner knows about itself: its own referrals (the drop's referrals.csv rows
    sent to it), counted the way the metric dictionary defines them. Each (metric, count)
    is used only if it matches every figure of its own the partner is shown."""
    path = os.path.join(records_dir, 'referrals.csv')
    if not os.path.exists(path):
        return [], ['partner records: no referrals.csv']
    people = None
    ppath = os.path.join(records_dir, 'people.csv')
    if os.path.exists(ppath):
        with open(ppath, encoding='utf-8-sig') as f:
            people = {r['person_id'] for r in csv.DictReader(f)}
    asof = parse_date(as_of)
    refs = {}
    with open(path, encoding='utf-8-sig') as f:
        for r in csv.DictReader(f):
            if (r.get('target_org_id') or '').strip() != org:
                continue
            refs[r['referral_id']] = r
    span = {}
    for (m, g, p, d), _rows in system.cuts.items():
        if g == 'all':
            span[m] = p

    def date(s):
        try:
            x = parse_date(s)
            return x if x <= asof else None
        except (ValueError, TypeError):
            return None
    counts = defaultdict(lambda: defaultdict(float))  # (metric, grain, pstart, domain or None) -> {q: v}
    for r in refs.values():
        if people is not None and r['person_id'] not in people:
            continue
        ref_on = date(r.get('referred_on'))
        if ref_on is None:
            continue
        closed = date(r.get('closed_on'))
        outcome = (r.get('outcome') or '').strip().lower() or None
        status = (r.get('status') or '').strip().lower()
        accepted = date(r.get('accepted_on'))
        served = date(r.get('service_started_on'))
        domain = (r.get('need_domain') or '').strip().lower()
        is_closed = closed is not None and outcome is not None
        fig = {
            'days_to_close': {'d': 1, 'n': closed is not None},
            'days_to_service': {'d': 1, 'n': served is not None},
            'referral_acceptance_rate': {'d': ref_on <= asof - dt.timedelta(days=14),
                                         'n': ref_on <= asof - dt.timedelta(days=14) and (accepted is not None or status in ('accepted', 'in_progress', 'completed'))},
            'closed_loop_rate': {'d': ref_on <= asof - dt.timedelta(days=60),
                                 'n': ref_on <= asof - dt.timedelta(days=60) and is_closed and (closed - ref_on).days <= 60},
            'need_met_rate': {'d': is_closed, 'n': is_closed and outcome == 'need_met'},
            'capacity_rejection_share': {'d': is_closed and outcome != 'need_met', 'n': is_closed and outcome == 'no_capacity'},
        }
        for m, qs in fig.items():
            if m not in span:
                continue
            for g, p in _period_starts(ref_on, span[m]):
                if g == 'all' and ref_on < parse_date(span[m]):
                    continue
                for dom in (None, domain):
                    c = counts[(m, g, p, dom)]
                    for q, v in qs.items():
                        c[q] += 1.0 if v else 0.0
    # check against the partner's own shown figures
    ok = {}
    for (m, g, p, dom), c in counts.items():
        if dom is not None:
            continue
        row = system.view.rows.get((m, g, p, 'target_org_id', org))
        if row is None:
            continue
        for q in ('n', 'd'):
            shown = getattr(row, q)
            if shown is None:
                continue
            good = abs(shown - c.get(q, 0.0)) < 0.5
            prev = ok.get((m, q), True)
            ok[(m, q)] = prev and good
            ok.setdefault(('seen', m, q), 0)
            ok[('seen', m, q)] += 1
    usable = {k for k, v in ok.items() if len(k) == 2 and v is True}
    notes = [f'partner {org} records: {m}.{q} {"matches" if (m, q) in usable else "does not match"} its shown figures'
             for (m, q) in sorted(k for k in ok if len(k) == 2)]
    rels = []
    for (m, g, p, dom), c in counts.items():
        for q in ('n', 'd'):
            if (m, q) not in usable:
                continue
            v = c.get(q, 0.0)
            if dom is None:
                i = system.var_index.get(((m, g, p, 'target_org_id', org), q))
            else:
                i = system.z_index.get((m, g, p, org, dom, q))
            if i is not None:
                rels.append(Relation(f'private:{m}:{q}', 'private', [(i, 1.0)], -v, 'eq'))
        if all((m, q) in usable for q in ('n', 'd')):
            i = system.var_index.get(((m, g, p, 'target_org_id', org), 'c')) if dom is None else system.z_index.get((m, g, p, org, dom, 'c'))
            if i is not None:
                rels.append(Relation(f'private:{m}:c', 'private', [(i, 1.0)], -(c.get('d', 0.0) - c.get('n', 0.0)), 'eq'))
    return rels, notes


# --------------------------------------------------------------------------- q-values
def qvalue_route(view):
    """q-values taken over more comparisons than are published reveal the hidden ones."""
    fams = defaultdict(list)
    for k, r in view.rows.items():
        if r.p is not None and r.q is not None and not r.suppressed:
            fams[(k[0], k[1], k[2])].append((r.p, r.q))
    findings = []
    for (m, g, p), pq in fams.items():
        pq.sort()
        n = len(pq)
        bh = [0.0] * n
        run = 1.0
        for i in range(n - 1, -1, -1):
            run = min(run, pq[i][0] * n / (i + 1))
            bh[i] = min(1.0, run)
        off = [i for i in range(n) if abs(bh[i] - pq[i][1]) > 1e-9 * max(1.0, pq[i][1]) + 1e-12]
        if not off:
            continue
        # Each shown q <= p * m / rank gives m >= rank * q / p for the shown rank (a lower bound on m).
        m_lo = max([(i + 1) * q / pv for i, (pv, q) in enumerate(pq) if pv > 0 and q < 1] or [0.0])
        hidden_lo = max(1, math.ceil(m_lo - 1e-9) - n) if m_lo > n else 1
        findings.append({'metric': m, 'grain': g, 'period': p, 'dimension': '*', 'group': '*',
                         'quantity': 'comparisons hidden from the q-value family', 'interval': [hidden_lo, None],
                         'evidence': f'Benjamini-Hochberg over the {n} shown comparisons gives other q-values for {len(off)} of them: '
                                     f'the family has at least {max(n + 1, math.ceil(m_lo - 1e-9))} comparisons'})
    return findings


# --------------------------------------------------------------------------- quarantine
def quarantine_route(view):
    findings = []
    for url, r in view.quarantine:
        for col in ('rows_quarantined', 'rows_read', 'rows_loaded'):
            v = r.get(col)
            try:
                v = float(v)
            except (TypeError, ValueError):
                continue
            if col == 'rows_quarantined' or 1 <= v <= 10:
                findings.append({'metric': 'operational', 'grain': None, 'period': None, 'dimension': 'file', 'group': r.get('file'),
                                 'quantity': col.replace('_', ' '), 'interval': [v, v],
                                 'evidence': f'operational count exported as CSV ({url}); the spec says these are never exported'})
    return findings
