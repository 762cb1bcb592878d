#!/usr/bin/python3
"""The pandas peer (issue 9): four of closeloop's core metrics computed end to end from an
inbox of CSV extracts by a small pandas script, as an independent oracle and a yardstick.

    /usr/bin/python3 pipelines/bench/peer/peer_metrics.py --inbox DIR --out FILE.json \
        --as-of YYYY-MM-DD [--run-date YYYY-MM-DD] [--grains all,quarter]

Written from the definitions (models/metrics/catalog.ts, shared/spec/metrics.md), not from
closeloop's SQL:

  referral_acceptance_rate  referrals accepted within 14 days (accepted_on on days 0..14, whatever
                            the status, else a first service or a need_met closing on days
                            0..14; dates after the as-of date have not happened) / referrals
                            made at least 14 days before the as-of date.      By race_ethnicity*payer.
  closed_loop_rate          referrals closed (closed_on and outcome set) on days 0..60 after
                            the referral / referrals made at least 60 days before the as-of date.
                                                                                By race_ethnicity*payer.
  need_referral_rate        positive needs (positive screening rows: screening_id x domain) with
                            a referral of the same person and domain made on days 0..30 after
                            the screening / needs screened at least 30 days before the as-of date.
                                                                                By domain.
  phq9_response_rate        PHQ-9 index episodes whose last PHQ-9 on days 120..240 (latest date,
                            ties: larger assessment_id) is <= 50% of the index score / episodes at
                            least 240 days before the as-of date whose person was continuously
                            enrolled from the index date to day 240 (at most one gap, of at most
                            45 days), had no hospice encounter in that window and did not die by
                            its end. Index: a PHQ-9 with total >= 10, person aged 12+ that day, no
                            index episode in the 365 days before (several on one day: the highest
                            total is the day's score, ties: the smallest assessment_id).  Overall.

Each metric also gets its `all` row. Units are placed in periods by their anchor date
(referred_on, screened_on, index date). Grain `all` is the whole span, which starts at the
earliest date of the entity (any referral / any screening row / any PHQ-9 by the as-of date);
grain quarter (year, month) is the calendar period. Nothing after the as-of date counts: a
milestone dated later has not happened yet; status is used as given. A cell is written only
when its denominator is above zero. race_ethnicity comes from the people row (empty: the
ordinary group `unknown`). payer is the person's coverage on the referral date: the coverage
span holding that day (coverage files, and each people row's enrolled_from..enrolled_through
span with its payer), `unknown` when no span holds it; spans are cut at the as-of date.

Coverage, as the contract loads it (first run): people files in byte order, each row's span
a span of the person (a later file's row with the same person and start replaces it; one with a
later start ends the person's earlier roster span the day before); then coverage files in byte
order, rows replacing spans with the same person and start. A span that shares a day with
another span of the person under another payer or program is left out (coverage_conflict): the
incoming one, against spans already loaded, and every one involved, within one file.

What it filters (the data contract, models/contracts/*.ts, applied to the six extracts it
reads: people, coverage, referrals, screenings, phq9, encounters; a row breaking any rule is
left out, as closeloop quarantines it):
  - values are trimmed of spaces; an empty cell is missing; headers match case-insensitively;
  - required values present; identifiers at most 64 characters;
  - dates exactly YYYY-MM-DD and real calendar days (2025-02-29, 1987-13-05, 2025/03/04 are bad);
    birth_date not after the run date (--run-date, default today) and not before 1900-01-01;
  - enums matched case-insensitively from the contract's lists (empty sex, race_ethnicity,
    rurality, payer -> unknown; instrument -> other); preferred_language empty -> unknown;
  - ZIP and county FIPS exactly 5 digits when given; PHQ-9 total an integer 0..27, items 0..3,
    and when all nine items are given they sum to the total;
  - date order: enrolled_through >= enrolled_from (which it needs), death_date >= birth_date,
    coverage_through >= coverage_from, end_date >= start_date; accepted_on, service_started_on
    and closed_on >= referred_on; closed_on required for status rejected / completed / cancelled;
    outcome required when closed_on is set; death_date not after the run date;
  - duplicate keys within a file (person_id, person_id x coverage_from, referral_id,
    screening_id x domain, assessment_id, encounter_id):
    the first valid copy is kept; files of one entity apply in byte order of their names
    (people.csv, people_2.csv, ...; .csv or .csv.gz), a later file's row replacing an earlier one;
  - orphans: rows whose person_id is not among the valid people are left out.
Not covered (the demo has none): column mappings (data/mappings), Parquet files, records with
the wrong number of fields, files rejected whole for their encoding or NUL bytes, and rows
loaded by earlier runs of a store (the peer sees only the inbox, like a first run or
--full-refresh).

Output: {"metrics": [{metric_id, grain, period, dimension, group, numerator, denominator,
rate}], "as_of", "seconds": {read, validate, compute, total}, "rows": {...}}.
"""
import argparse
import json
import re
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

# ---------------------------------------------------------------------------- the contract
DOMAINS = ['food', 'housing_instability', 'transportation', 'utilities', 'interpersonal_safety', 'housing_quality',
           'financial_strain', 'employment', 'education', 'social_isolation', 'mental_health', 'other']
RACE_ETHNICITY = ['hispanic_latino', 'white', 'black', 'asian', 'american_indian_alaska_native',
                  'native_hawaiian_pacific_islander', 'middle_eastern_north_african', 'multiracial', 'other', 'unknown']
PAYER = ['medicaid', 'medicare', 'dual', 'commercial', 'uninsured', 'other', 'unknown']
REFERRAL_STATUS = ['pending', 'accepted', 'rejected', 'in_progress', 'completed', 'cancelled']
REFERRAL_OUTCOME = ['need_met', 'need_not_met', 'client_declined', 'unable_to_contact', 'ineligible', 'no_capacity', 'other']

# column -> (kind, options); kinds: id, date, enum, int, digits5, language
CONTRACT = {
    'people': {
        'key': ['person_id'],
        'columns': {
            'person_id': ('id', {'required': True}),
            'birth_date': ('date', {'required': True, 'not_future': True, 'not_before': '1900-01-01'}),
            'sex': ('enum', {'values': ['female', 'male', 'other', 'unknown'], 'empty_as': 'unknown'}),
            'race_ethnicity': ('enum', {'values': RACE_ETHNICITY, 'empty_as': 'unknown'}),
            'preferred_language': ('language', {}),
            'zip': ('digits5', {}),
            'county_fips': ('digits5', {}),
            'rurality': ('enum', {'values': ['urban', 'rural', 'unknown'], 'empty_as': 'unknown'}),
            'payer': ('enum', {'values': PAYER, 'empty_as': 'unknown'}),
            'program_id': ('id', {}),
            'enrolled_from': ('date', {}),
            'enrolled_through': ('date', {}),
            'death_date': ('date', {'not_future': True}),
        },
    },
    'coverage': {
        'key': ['person_id', 'coverage_from'],
        'columns': {
            'person_id': ('id', {'required': True}),
            'coverage_from': ('date', {'required': True}),
            'coverage_through': ('date', {}),
            'payer': ('enum', {'values': PAYER, 'empty_as': 'unknown'}),
            'program_id': ('id', {}),
            'plan_id': ('id', {}),
        },
    },
    'encounters': {
        'key': ['encounter_id'],
        'columns': {
            'encounter_id': ('id', {'required': True}),
            'person_id': ('id', {'required': True}),
            'encounter_type': ('enum', {'values': ['ed', 'inpatient', 'outpatient', 'primary_care', 'behavioral_health', 'hospice', 'other'], 'required': True}),
            'start_date': ('date', {'required': True}),
            'end_date': ('date', {}),
            'paid_amount': ('decimal', {'min': 0}),
        },
    },
    'screenings': {
        'key': ['screening_id', 'domain'],
        'columns': {
            'screening_id': ('id', {'required': True}),
            'person_id': ('id', {'required': True}),
            'screened_on': ('date', {'required': True}),
            'instrument': ('enum', {'values': ['ahc_hrsn', 'prapare', 'other'], 'empty_as': 'other'}),
            'domain': ('enum', {'values': DOMAINS, 'required': True}),
            'result': ('enum', {'values': ['positive', 'negative', 'declined'], 'required': True}),
        },
    },
    'referrals': {
        'key': ['referral_id'],
        'columns': {
            'referral_id': ('id', {'required': True}),
            'person_id': ('id', {'required': True}),
            'need_domain': ('enum', {'values': DOMAINS, 'required': True}),
            'referred_on': ('date', {'required': True}),
            'source_org_id': ('id', {}),
            'target_org_id': ('id', {'required': True}),
            'program_id': ('id', {}),
            'status': ('enum', {'values': REFERRAL_STATUS, 'required': True}),
            'accepted_on': ('date', {}),
            'service_started_on': ('date', {}),
            'closed_on': ('date', {}),
            'outcome': ('enum', {'values': REFERRAL_OUTCOME}),
        },
    },
    'phq9': {
        'key': ['assessment_id'],
        'columns': {
            'assessment_id': ('id', {'required': True}),
            'person_id': ('id', {'required': True}),
            'assessed_on': ('date', {'required': True}),
            'total_score': ('int', {'required': True, 'min': 0, 'max': 27}),
            **{f'item_{i}': ('int', {'min': 0, 'max': 3}) for i in range(1, 10)},
        },
    },
}

ISO_DATE = re.compile(r'[0-9]{4}-[0-9]{2}-[0-9]{2}')
INTEGER = re.compile(r'[+-]?[0-9]{1,9}')
DECIMAL = re.compile(r'[+-]?([0-9]{1,14}(\.[0-9]{0,4})?|\.[0-9]{1,4})')
FIVE_DIGITS = re.compile(r'[0-9]{5}')
EPOCH = date(1970, 1, 1).toordinal()


def day_number(iso: str) -> int:
    """'1970-01-02' -> 1: dates are whole days since 1970-01-01 (years 1..9999, unlike datetime64[ns])."""
    return date.fromisoformat(iso).toordinal() - EPOCH


def check_value(text: str, kind: str, opt: dict, run_day: int):
    """One cell as the contract reads it: (normalised value or None, whether it breaks no rule)."""
    text = text.strip(' ')
    if text == '':
        if 'empty_as' in opt:
            return opt['empty_as'], True
        if kind == 'language':
            return 'unknown', True
        return None, not opt.get('required', False)
    if kind in ('id', 'language'):
        return (text.lower() if kind == 'language' else text), len(text) <= 64
    if kind == 'enum':
        value = text.lower()
        return (value, True) if value in opt['values'] else (None, False)
    if kind == 'digits5':
        return text, FIVE_DIGITS.fullmatch(text) is not None
    if kind == 'int':
        if not INTEGER.fullmatch(text):
            return None, False
        value = int(text)
        return value, opt['min'] <= value <= opt['max']
    if kind == 'decimal':
        if not DECIMAL.fullmatch(text):
            return None, False
        value = float(text)
        return value, value >= opt['min']
    if kind == 'date':
        if not ISO_DATE.fullmatch(text):
            return None, False
        try:
            day = day_number(text)
        except ValueError:  # 2025-02-29, month 13
            return None, False
        ok = not (opt.get('not_future') and day > run_day) and not ('not_before' in opt and day < day_number(opt['not_before']))
        return day, ok
    raise ValueError(kind)


def check_column(raw: pd.Series, kind: str, opt: dict, run_day: int):
    """check_value over a column, once per distinct text (a few thousand dates, not millions of cells)."""
    codes, uniques = pd.factorize(raw.fillna(''))  # a short record's missing fields are empty
    checked = [check_value(u, kind, opt, run_day) for u in uniques]
    if kind in ('date', 'int', 'decimal'):  # numbers (NaN = missing), so that comparisons with a missing value are False
        values = np.array([np.nan if v is None else v for v, _ in checked], dtype=float)[codes]
    else:
        values = np.array([v for v, _ in checked], dtype=object)[codes]
    ok = np.array([k for _, k in checked], dtype=bool)[codes]
    return pd.Series(values, index=raw.index), pd.Series(ok, index=raw.index)


def cross_rules_ok(entity: str, t: pd.DataFrame) -> pd.Series:
    """The contract's cross-field rules (a comparison with a missing date breaks none)."""
    ok = pd.Series(True, index=t.index)
    if entity == 'people':
        ok &= ~(t.enrolled_through.notna() & t.enrolled_from.isna())
        ok &= ~(t.enrolled_through < t.enrolled_from)
        ok &= ~(t.death_date < t.birth_date)
    elif entity == 'coverage':
        ok &= ~(t.coverage_through < t.coverage_from)
    elif entity == 'encounters':
        ok &= ~(t.end_date < t.start_date)
    elif entity == 'referrals':
        for col in ('accepted_on', 'service_started_on', 'closed_on'):
            ok &= ~(t[col] < t.referred_on)
        ok &= ~(t.status.isin(['rejected', 'completed', 'cancelled']) & t.closed_on.isna())
        ok &= ~(t.closed_on.notna() & t.outcome.isna())
    elif entity == 'phq9':
        items = t[[f'item_{i}' for i in range(1, 10)]]
        all_given = items.notna().all(axis=1) & t.total_score.notna()
        ok &= ~(all_given & (items.sum(axis=1) != t.total_score))
    return ok


def read_entity(inbox: Path, entity: str, timing: dict, run_day: int, people_ids=None, per_file=False):
    """The valid rows of an entity's files: typed columns, in-file duplicates after the first
    valid copy dropped, orphans (person_id not in people_ids) dropped, then a later file's row
    replacing an earlier one with the same key. per_file: the list of each file's valid rows
    instead, in byte order of the file names (none: an empty list)."""
    spec = CONTRACT[entity]
    names = sorted((p for p in inbox.iterdir() if p.is_file() and re.fullmatch(rf'{entity}([^a-z].*)?\.csv(\.gz)?', p.name.lower())),
                   key=lambda p: p.name.encode())
    frames = []
    for path in names:
        started = time.perf_counter()
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, encoding='utf-8-sig')
        timing['read'] += time.perf_counter() - started
        started = time.perf_counter()
        raw.columns = [c.strip().lower() for c in raw.columns]
        missing = [c for c, (_, o) in spec['columns'].items() if o.get('required') and c not in raw.columns]
        if missing:
            print(f'{path.name}: rejected whole, missing required column(s) {", ".join(missing)}', file=sys.stderr)
            continue
        typed = pd.DataFrame(index=raw.index)
        ok = pd.Series(True, index=raw.index)
        for col, (kind, opt) in spec['columns'].items():
            text = raw[col] if col in raw.columns else pd.Series('', index=raw.index)
            typed[col], col_ok = check_column(text, kind, opt, run_day)
            ok &= col_ok
        ok &= cross_rules_ok(entity, typed)
        valid = typed[ok].drop_duplicates(spec['key'], keep='first')
        if people_ids is not None:
            valid = valid[valid.person_id.isin(people_ids)]
        frames.append(valid)
        timing['validate'] += time.perf_counter() - started
    if per_file:
        return frames
    if not frames:
        raise SystemExit(f'no {entity} file in {inbox}')
    if len(frames) == 1:
        return frames[0].reset_index(drop=True)
    return pd.concat(frames, ignore_index=True).drop_duplicates(spec['key'], keep='last').reset_index(drop=True)


def latest_rows(frames: list, key: list) -> pd.DataFrame:
    """Files applied in order: a later file's row replaces an earlier one with the same key."""
    if len(frames) == 1:
        return frames[0].reset_index(drop=True)
    return pd.concat(frames, ignore_index=True).drop_duplicates(key, keep='last').reset_index(drop=True)


# ---------------------------------------------------------------------------- coverage
NO_PROGRAM = '\0'  # an empty program_id, so that two empty ones compare equal
SPAN_COLUMNS = ['person_id', 'f', 't', 'payer', 'program', 'roster', 'row']


def sharing_a_day(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Pairs (a row, b row) of spans of one person with a day in common; t NaN = still open."""
    pairs = a.merge(b, on='person_id', suffixes=('_a', '_b'))
    return pairs[(pairs.f_a <= pairs.t_b.fillna(np.inf)) & (pairs.f_b <= pairs.t_a.fillna(np.inf))]


def contradict(pairs: pd.DataFrame) -> pd.Series:
    return (pairs.payer_a != pairs.payer_b) | (pairs.program_a != pairs.program_b)


def load_spans(spans: pd.DataFrame, incoming: pd.DataFrame, roster: bool) -> pd.DataFrame:
    """One file's spans onto those loaded so far, as the contract says: a roster span ends the
    person's earlier roster spans that run past its start; an incoming span that contradicts a
    loaded one (other than one it replaces), or, within a coverage file, another incoming one,
    is left out; the others replace loaded spans with the same person and start."""
    spans = spans.copy()
    if roster and len(spans) and len(incoming):
        earlier = spans[spans.roster].reset_index().merge(incoming[['person_id', 'f']].rename(columns={'f': 'start'}), on='person_id')
        earlier = earlier[(earlier.f < earlier.start) & (earlier.t.fillna(np.inf) >= earlier.start)]
        spans.loc[earlier['index'].to_numpy(), 't'] = (earlier.start - 1).to_numpy()
    key = ['person_id', 'f']
    incoming_keys = pd.MultiIndex.from_frame(incoming[key])
    others = spans[~pd.MultiIndex.from_frame(spans[key]).isin(incoming_keys)]
    bad = set()
    if not roster and len(incoming) > 1:
        inner = sharing_a_day(incoming, incoming)
        bad |= set(inner[(inner.row_a != inner.row_b) & contradict(inner)].row_a)
    if len(others) and len(incoming):
        outer = sharing_a_day(incoming, others)
        bad |= set(outer[contradict(outer)].row_a)
    kept = incoming[~incoming.row.isin(bad)]
    stays = spans[~pd.MultiIndex.from_frame(spans[key]).isin(pd.MultiIndex.from_frame(kept[key]))]
    return pd.concat([stays, kept], ignore_index=True)


def coverage_spans(people_files: list, coverage_files: list) -> pd.DataFrame:
    """Every loaded coverage span: person_id, f, t (NaN = open), payer, program."""
    dtypes = {'person_id': object, 'f': float, 't': float, 'payer': object, 'program': object, 'roster': bool, 'row': 'int64'}
    spans = pd.DataFrame({c: pd.Series(dtype=dtypes[c]) for c in SPAN_COLUMNS})
    rows = 0
    for frame in people_files:
        roster = frame[frame.enrolled_from.notna()]
        incoming = pd.DataFrame({'person_id': roster.person_id, 'f': roster.enrolled_from, 't': roster.enrolled_through,
                                 'payer': roster.payer, 'program': roster.program_id.fillna(NO_PROGRAM), 'roster': True,
                                 'row': np.arange(rows, rows + len(roster))})
        rows += len(roster)
        spans = load_spans(spans, incoming, roster=True)
    for frame in coverage_files:
        incoming = pd.DataFrame({'person_id': frame.person_id, 'f': frame.coverage_from, 't': frame.coverage_through,
                                 'payer': frame.payer, 'program': frame.program_id.fillna(NO_PROGRAM), 'roster': False,
                                 'row': np.arange(rows, rows + len(frame))})
        rows += len(frame)
        spans = load_spans(spans, incoming, roster=False)
    return spans


def spans_as_of(spans: pd.DataFrame, as_of: int) -> pd.DataFrame:
    """Spans cut at the as-of date: those starting after it dropped, open ones ending on it."""
    s = spans[spans.f <= as_of]
    return s.assign(t=s.t.fillna(as_of).clip(upper=as_of))


def payer_on(units: pd.DataFrame, day: str, spans: pd.DataFrame) -> pd.Series:
    """The payer of the span holding each unit's day (the latest-starting one), `unknown` when none does."""
    m = units[['person_id', day]].reset_index().merge(spans[['person_id', 'f', 't', 'payer']], on='person_id')
    m = m[(m.f <= m[day]) & (m[day] <= m.t)].sort_values('f').drop_duplicates('index', keep='last')
    out = pd.Series('unknown', index=units.index, dtype=object)
    out.loc[m['index'].to_numpy()] = m.payer.to_numpy()
    return out


def continuously_enrolled(windows: pd.DataFrame, spans: pd.DataFrame) -> pd.Series:
    """HEDIS: over each window [w0, w1], covered every day but at most one gap of at most 45 days."""
    m = windows[['person_id', 'w0', 'w1']].reset_index().merge(spans[['person_id', 'f', 't']], on='person_id')
    m = m.assign(a=np.maximum(m.f, m.w0), b=np.minimum(m.t, m.w1))
    m = m[m.a <= m.b].sort_values(['index', 'a'])
    # covered runs inside the window: a piece starts a new run unless it touches the ones before
    reach = m.groupby('index').b.cummax()
    before = reach.groupby(m['index']).shift()
    m = m.assign(run=(before.isna() | (m.a > before + 1)).astype(int))
    m = m.assign(run=m.groupby('index').run.cumsum())
    runs = m.groupby(['index', 'run']).agg(a=('a', 'min'), b=('b', 'max')).reset_index()
    runs = runs.assign(days=runs.b - runs.a + 1)
    per = runs.groupby('index').agg(runs=('run', 'size'), first=('a', 'min'), last=('b', 'max'), covered=('days', 'sum'))
    w = windows.join(per)
    gaps = np.where(w.runs.isna(), 1, w.runs.fillna(0) - 1 + (w['first'] > w.w0) + (w['last'] < w.w1))
    uncovered = (w.w1 - w.w0 + 1) - w.covered.fillna(0)
    return pd.Series((gaps == 0) | ((gaps == 1) & (uncovered <= 45)), index=windows.index)


# ---------------------------------------------------------------------------- periods and cells
def to_iso(day: int) -> str:
    return date.fromordinal(int(day) + EPOCH).isoformat()


def period_start(days: pd.Series, grain: str, span_start: int) -> pd.Series:
    """First day (a day number) of the calendar period each day falls in; the span's first day for grain all."""
    if grain == 'all':
        return pd.Series(span_start, index=days.index)
    d = days.to_numpy(dtype='int64').astype('datetime64[D]')
    if grain == 'year':
        first = d.astype('datetime64[Y]').astype('datetime64[D]')
    else:
        months = d.astype('datetime64[M]').astype('int64')  # months since 1970-01
        if grain == 'quarter':
            months = months - months % 3  # January, April, July, October
        first = months.astype('datetime64[M]').astype('datetime64[D]')
    return pd.Series(first.astype('int64'), index=days.index)


def cells(units: pd.DataFrame, metric_id: str, dimensions: dict, grains: list, span_start: int) -> list:
    """Numerator and denominator per period x group. `units` has anchor, num, den (0/1) and the
    dimension columns; `dimensions` maps a dimension name to its column (None: the all row)."""
    out = []
    for grain in grains:
        frame = units.assign(period=period_start(units.anchor, grain, span_start), all='all')
        for dimension, column in dimensions.items():
            sums = frame.groupby(['period', column or 'all'], sort=True)[['num', 'den']].sum()
            for (period, group), r in sums[sums.den > 0].iterrows():
                out.append({'metric_id': metric_id, 'grain': grain, 'period': to_iso(period), 'dimension': dimension,
                            'group': group, 'numerator': int(r.num), 'denominator': int(r.den), 'rate': r.num / r.den})
    return out


def age_reached(birth: pd.Series, on: pd.Series, years: int) -> pd.Series:
    """Whether someone born on `birth` has had their `years`-th birthday by `on` (both day numbers)."""
    b = birth.to_numpy(dtype='int64').astype('datetime64[D]')
    d = on.to_numpy(dtype='int64').astype('datetime64[D]')

    def parts(x):
        y = x.astype('datetime64[Y]').astype('int64') + 1970
        m = x.astype('datetime64[M]').astype('int64') % 12 + 1
        dd = (x - x.astype('datetime64[M]').astype('datetime64[D]')).astype('int64') + 1
        return y, m, dd
    by, bm, bd = parts(b)
    y, m, dd = parts(d)
    before_birthday = (m < bm) | ((m == bm) & (dd < bd))
    return pd.Series((y - by - before_birthday) >= years, index=birth.index)


# ---------------------------------------------------------------------------- the metrics
def referral_metrics(referrals, people, spans, as_of, grains):
    r = referrals[referrals.referred_on <= as_of].merge(people[['person_id', 'race_ethnicity']], on='person_id')
    if r.empty:
        return []
    r = r.assign(race_payer=r.race_ethnicity + '*' + payer_on(r, 'referred_on', spans))
    span_start = int(r.referred_on.min())
    dims = {'all': None, 'race_ethnicity*payer': 'race_payer'}
    def by_as_of(d):  # a later date has not happened yet
        return d.where(d <= as_of)
    met_on = by_as_of(r.closed_on).where(r.outcome == 'need_met')
    accepted_on = by_as_of(r.accepted_on).fillna(pd.concat([by_as_of(r.service_started_on), met_on], axis=1).min(axis=1))
    acceptance = pd.DataFrame({
        'anchor': r.referred_on, 'race_payer': r.race_payer,
        'den': (r.referred_on <= as_of - 14).astype(int),
        'num': ((r.referred_on <= as_of - 14) & ((accepted_on - r.referred_on) <= 14)).astype(int),
    })
    closed = r.closed_on.notna() & r.outcome.notna() & (r.closed_on <= as_of)
    closed_loop = pd.DataFrame({
        'anchor': r.referred_on, 'race_payer': r.race_payer,
        'den': (r.referred_on + 60 <= as_of).astype(int),
        'num': ((r.referred_on + 60 <= as_of) & closed & (r.closed_on - r.referred_on).between(0, 60)).astype(int),
    })
    return (cells(acceptance, 'referral_acceptance_rate', dims, grains, span_start)
            + cells(closed_loop, 'closed_loop_rate', dims, grains, span_start))


def need_metrics(screenings, referrals, as_of, grains):
    screened = screenings[screenings.screened_on <= as_of]
    if screened.empty:
        return []
    span_start = int(screened.screened_on.min())
    needs = screened[screened.result == 'positive'][['screening_id', 'domain', 'person_id', 'screened_on']]
    # every same-person, same-domain referral made by the as-of date, then: any on days 0..30?
    made = referrals.loc[referrals.referred_on <= as_of, ['person_id', 'need_domain', 'referred_on']]
    pairs = needs.merge(made, left_on=['person_id', 'domain'], right_on=['person_id', 'need_domain'])
    within = pairs[(pairs.referred_on - pairs.screened_on).between(0, 30)]
    referred = needs.set_index(['screening_id', 'domain']).index.isin(within.set_index(['screening_id', 'domain']).index)
    measurable = needs.screened_on + 30 <= as_of
    units = pd.DataFrame({'anchor': needs.screened_on, 'domain': needs.domain,
                          'den': measurable.astype(int), 'num': (measurable & referred).astype(int)})
    return cells(units, 'need_referral_rate', {'all': None, 'domain': 'domain'}, grains, span_start)


def phq9_metrics(phq9, people, spans, encounters, as_of, grains):
    scores = phq9[phq9.assessed_on <= as_of]
    if scores.empty:
        return []
    span_start = int(scores.assessed_on.min())
    # candidates: total >= 10, aged 12+ that day; one per person-day: the highest total (ties: the smallest assessment_id)
    c = scores[scores.total_score >= 10].merge(people[['person_id', 'birth_date']], on='person_id')
    c = c[age_reached(c.birth_date, c.assessed_on, 12)]
    c = c.sort_values(['person_id', 'assessed_on', 'total_score', 'assessment_id'], ascending=[True, True, False, True])
    c = c.drop_duplicates(['person_id', 'assessed_on'])
    # index episodes: a person's first candidate, then the first candidate more than 365 days after the last index
    is_index, last_person, last_index = [], None, None
    for person, day in zip(c.person_id, c.assessed_on):
        starts = person != last_person or day - last_index > 365
        if starts:
            last_person, last_index = person, day
        is_index.append(starts)
    episodes = c[is_index][['person_id', 'assessed_on', 'total_score']].rename(columns={'assessed_on': 'index_on', 'total_score': 'index_score'})
    # follow-up: the last PHQ-9 (any score) on days 120..240, ties: the larger assessment_id
    f = episodes.merge(scores[['person_id', 'assessed_on', 'assessment_id', 'total_score']], on='person_id')
    f = f[(f.assessed_on - f.index_on).between(120, 240)]
    last = f.sort_values(['assessed_on', 'assessment_id']).drop_duplicates(['person_id', 'index_on'], keep='last')
    episodes = episodes.merge(last[['person_id', 'index_on', 'total_score']], on=['person_id', 'index_on'], how='left')
    # in the denominator: the window is over, continuously enrolled from the index date to day 240,
    # no hospice encounter in that window, not dead by its end
    windows = episodes.assign(w0=episodes.index_on, w1=episodes.index_on + 240)
    hospice = encounters[(encounters.encounter_type == 'hospice') & (encounters.start_date <= as_of)]
    h = windows[['person_id', 'w0', 'w1']].reset_index().merge(hospice[['person_id', 'start_date', 'end_date']], on='person_id')
    h = h[(h.start_date <= h.w1) & (h.end_date.fillna(h.start_date) >= h.w0)]
    died = windows.merge(people[['person_id', 'death_date']], on='person_id', how='left').death_date.to_numpy() <= windows.w1.to_numpy()
    measurable = ((episodes.index_on + 240 <= as_of) & continuously_enrolled(windows, spans)
                  & ~episodes.index.isin(h['index']) & ~pd.Series(died, index=episodes.index))
    responded = 2 * episodes.total_score <= episodes.index_score  # NaN (no follow-up) -> False
    units = pd.DataFrame({'anchor': episodes.index_on, 'den': measurable.astype(int), 'num': (measurable & responded).astype(int)})
    return cells(units, 'phq9_response_rate', {'all': None}, grains, span_start)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--inbox', required=True, type=Path)
    parser.add_argument('--out', required=True, type=Path)
    parser.add_argument('--as-of', required=True, help='YYYY-MM-DD: the as-of date of the closeloop run to compare with')
    parser.add_argument('--run-date', default=date.today().isoformat(), help='YYYY-MM-DD: birth dates after it are bad (default today)')
    parser.add_argument('--grains', default='all,quarter', help='comma-separated: all, year, quarter, month (default all,quarter)')
    args = parser.parse_args(argv)
    grains = args.grains.split(',')
    if not set(grains) <= {'all', 'year', 'quarter', 'month'}:
        parser.error(f'unknown grain in {args.grains}')
    as_of, run_day = day_number(args.as_of), day_number(args.run_date)

    started = time.perf_counter()
    timing = {'read': 0.0, 'validate': 0.0, 'compute': 0.0}
    people_files = read_entity(args.inbox, 'people', timing, run_day, per_file=True)
    if not people_files:
        raise SystemExit(f'no people file in {args.inbox}')
    people = latest_rows(people_files, CONTRACT['people']['key'])
    coverage_files = read_entity(args.inbox, 'coverage', timing, run_day, people_ids=people.person_id, per_file=True)
    loaded = {entity: read_entity(args.inbox, entity, timing, run_day, people_ids=people.person_id)
              for entity in ('referrals', 'screenings', 'phq9')}
    # encounters only for hospice stays; an inbox may have none
    encounter_files = read_entity(args.inbox, 'encounters', timing, run_day, people_ids=people.person_id, per_file=True)
    loaded['encounters'] = (latest_rows(encounter_files, CONTRACT['encounters']['key']) if encounter_files
                            else pd.DataFrame({c: pd.Series(dtype=float if c in ('start_date', 'end_date') else object)
                                               for c in ('person_id', 'encounter_type', 'start_date', 'end_date')}))

    t = time.perf_counter()
    spans = spans_as_of(coverage_spans(people_files, coverage_files), as_of)
    metrics = (referral_metrics(loaded['referrals'], people, spans, as_of, grains)
               + need_metrics(loaded['screenings'], loaded['referrals'], as_of, grains)
               + phq9_metrics(loaded['phq9'], people, spans, loaded['encounters'], as_of, grains))
    timing['compute'] = time.perf_counter() - t
    timing['total'] = time.perf_counter() - started

    result = {'as_of': args.as_of, 'grains': grains, 'seconds': timing,
              'rows': {'people': len(people), 'coverage spans': len(spans), **{k: len(v) for k, v in loaded.items()}}, 'metrics': metrics}
    args.out.write_text(json.dumps(result, indent=1) + '\n')
    print(f'{len(metrics)} cells; read {timing["read"]:.2f} s, validate {timing["validate"]:.2f} s, compute {timing["compute"]:.2f} s')


if __name__ == '__main__':
    main()
