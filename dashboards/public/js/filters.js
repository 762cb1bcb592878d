// Page filters kept in the URL query (so a view can be shared): populated from
// /api/filters, read from the URL on load and on back/forward, written with pushState on
// every change. Only values that differ from the page's defaults appear in the URL.
import { el, periodLabel } from './format.js';

const GRAINS = [['year', 'Year'], ['quarter', 'Quarter'], ['month', 'Month']];
const SCALES = [['ratio', 'Rate ratio'], ['difference', 'Difference']];
const NOT_POPULATION = new Set(['all', 'domain', 'domain*county_fips']);

// Results are published for one cut at a time (a comparison, a program, a county, a need
// domain; need domain and county together): a filter that cannot be served with another is
// disabled while the other is set, with the reason beside it, so no choice empties the page.
const EXCLUDES = {
  dimension: ['program', 'county', 'domain'],
  program: ['dimension', 'county', 'domain'],
  county: ['dimension', 'program'],
  domain: ['dimension', 'program'],
};

export class Filters {
  constructor(form, meta) {
    this.form = form;
    this.meta = meta;
    this.selects = form ? [...form.querySelectorAll('select[data-options]')] : [];
    this.listeners = [];
  }

  options(source) {
    const m = this.meta;
    switch (source) {
      case 'grains':
        return GRAINS;
      case 'grains_all':
        return [['all', 'Whole span'], ...GRAINS];
      case 'periods': {
        const grain = this.get('grain') || 'quarter';
        return (m.periods[grain] || []).map((p) => [p, periodLabel(grain, p)]);
      }
      case 'dimensions':
        return m.dimensions.filter((d) => d.id !== 'all').map((d) => [d.id, d.label]);
      case 'population_dimensions':
        return m.dimensions.filter((d) => !NOT_POPULATION.has(d.id)).map((d) => [d.id, d.label]);
      case 'programs':
        return m.programs.map((p) => [p.id, p.label]);
      case 'counties':
        return m.counties.filter((c) => c.id !== 'unknown').map((c) => [c.id, c.label]);
      case 'domains':
        return m.domains.filter((d) => d.id !== 'unknown').map((d) => [d.id, d.label]);
      case 'orgs':
        return m.orgs.map((o) => [o.id, `${o.label} (${o.id})`]);
      case 'metrics_comparable':
        return m.metrics.filter((x) => (x.kind === 'proportion' || x.kind === 'rate') && x.disparities !== false).map((x) => [x.id, x.label]);
      case 'scales':
        return SCALES;
      default:
        return [];
    }
  }

  fill(select, wanted) {
    const opts = this.options(select.dataset.options);
    select.replaceChildren();
    if (select.dataset.any !== undefined) select.append(el('option', { value: '', text: select.dataset.any }));
    for (const [value, label] of opts) select.append(el('option', { value, text: label }));
    const values = opts.map(([v]) => v);
    const fallback = select.dataset.default ?? '';
    select.value = values.includes(wanted) ? wanted : values.includes(fallback) || fallback === '' ? fallback : (values[0] ?? '');
  }

  labelOf(name) {
    const s = this.selects.find((x) => x.name === name);
    const text = s?.closest('label')?.firstChild?.textContent ?? name;
    return text.trim().toLowerCase();
  }

  /**
   * Read the URL and fill every control. A value that is not a choice here, or a filter that
   * cannot be combined with one before it, is dropped from the URL (replaceState) and said
   * in a visible warning: never silently ignored while it stays in the address.
   */
  fromUrl() {
    const url = new URLSearchParams(location.search);
    const dropped = [];
    // grain first: the period lists depend on it
    const ordered = [...this.selects].sort((a, b) => Number(b.name === 'grain') - Number(a.name === 'grain'));
    for (const s of ordered) {
      const wanted = url.get(s.name);
      this.fill(s, wanted ?? s.dataset.default ?? '');
      if (wanted !== null && wanted !== '' && s.value !== wanted) {
        dropped.push(`${this.labelOf(s.name)} "${wanted}" is not a choice here`);
        url.delete(s.name);
      }
    }
    for (const s of this.selects) {
      const clash = (EXCLUDES[s.name] || []).find((k) => this.get(k) && this.selects.indexOf(this.selects.find((x) => x.name === k)) < this.selects.indexOf(s));
      if (s.value && clash) {
        dropped.push(`${this.labelOf(s.name)} cannot be combined with ${this.labelOf(clash)} (results are published for one cut at a time)`);
        this.fill(s, '');
        url.delete(s.name);
      }
    }
    this.warn(dropped);
    if (dropped.length) {
      const q = url.toString();
      history.replaceState(null, '', `${location.pathname}${q ? `?${q}` : ''}`);
    }
    this.constrain();
  }

  /** The warning about dropped URL parameters (cleared on the next change). */
  warn(lines) {
    if (!this.form) return;
    let box = document.querySelector('[data-url-warning]');
    if (!box) {
      box = el('p', { class: 'status url-warning', 'data-url-warning': '', role: 'alert' });
      this.form.after(box);
    }
    box.textContent = lines.length ? `Left out of this view: ${lines.join('; ')}.` : '';
    box.hidden = lines.length === 0;
  }

  /** Disable the filters the current choices exclude, with the reason beside each. */
  constrain() {
    for (const s of this.selects) {
      const excluded = EXCLUDES[s.name];
      if (!excluded) continue;
      const by = excluded.filter((k) => this.get(k));
      let note = s.parentElement.querySelector('.filter-note');
      if (!note) {
        note = el('span', { class: 'filter-note', id: `filter-note-${s.name}` });
        s.after(note);
        s.setAttribute('aria-describedby', note.id);
      }
      s.disabled = by.length > 0 && !s.value;
      note.textContent = s.disabled ? `Not with the chosen ${by.map((k) => this.labelOf(k)).join(' or ')} (one cut at a time): clear it to choose here` : '';
      note.hidden = !s.disabled;
    }
  }

  get(name) {
    const s = this.selects.find((x) => x.name === name);
    return s ? s.value : '';
  }

  values() {
    return Object.fromEntries(this.selects.map((s) => [s.name, s.value]));
  }

  /** The URL query for the current values (defaults left out). */
  toQuery() {
    const q = new URLSearchParams(location.search);
    for (const s of this.selects) {
      if (s.value && s.value !== (s.dataset.default ?? '')) q.set(s.name, s.value);
      else q.delete(s.name);
    }
    return q;
  }

  init(onChange) {
    this.fromUrl();
    this.listeners.push(onChange);
    if (!this.form) return;
    this.form.addEventListener('change', (e) => {
      if (e.target.name === 'grain') for (const s of this.selects.filter((x) => x.dataset.options === 'periods')) this.fill(s, '');
      this.push();
    });
    this.form.addEventListener('reset', (e) => {
      e.preventDefault();
      for (const s of this.selects) this.fill(s, s.dataset.default ?? '');
      this.push();
    });
    window.addEventListener('popstate', () => {
      this.fromUrl();
      this.emit();
    });
  }

  push() {
    this.warn([]);
    this.constrain();
    const q = this.toQuery().toString();
    history.pushState(null, '', `${location.pathname}${q ? `?${q}` : ''}`);
    this.emit();
  }

  emit() {
    for (const l of this.listeners) l(this.values());
  }
}
