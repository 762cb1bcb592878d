// One chart block: fetch its spec and table from /api/charts/<id>.json with the page's
// filters, draw it with vega-embed using the CSP-safe expression interpreter, and fill
// the download links and the table alternative. Views are kept on window.closeloop for
// the browser tests.
import { getJson, query } from './api.js';
import { el, formatValue } from './format.js';
import { renderTable } from './table.js';

const EMBED_OPTIONS = {
  renderer: 'svg',
  actions: false,
  defaultStyle: false,
  ast: true,
  tooltip: { disableDefaultStyle: true, theme: 'custom' },
  logLevel: 0,
};

/** Parameters a chart gets: its fixed ones plus the page filters it uses. */
export function chartParams(fig, filters) {
  const params = Object.fromEntries(new URLSearchParams(fig.dataset.fixed || ''));
  for (const k of (fig.dataset.uses || '').split(',').filter(Boolean)) {
    const v = filters.get(k);
    if (v) params[k] = v;
  }
  return params;
}

/**
 * Why a chart cannot be drawn for these filters, known before asking the server (the
 * results table has one cut at a time): a message, or null when it can.
 */
const NEEDS_TABLE = { quarantine: 'load_report', freshness: 'entity_freshness', km: 'km_curves' };
const GAP_CHARTS = { 'gap-heatmap': 'unmet_need_rate', 'gap-map': 'unmet_need_rate', 'demand-capacity': 'demand_capacity_ratio' };

function notApplicable(chart, params, meta) {
  const table = NEEDS_TABLE[chart];
  if (table && !meta.tables.includes(table)) return `Not available in this run: the ${table.replaceAll('_', ' ')} table is not published.`;
  if (chart === 'km') {
    const metric = params.metric || 'days_to_close';
    const dimension = params.dimension || 'all';
    if (!(meta.km[metric] || []).includes(dimension)) {
      return `Not available in this run: no Kaplan-Meier curves of ${metric.replaceAll('_', ' ')}${dimension === 'all' ? '' : ` by ${dimension.replaceAll('_', ' ')}`} are published.`;
    }
  }
  if (GAP_CHARTS[chart]) {
    const metric = params.measure || GAP_CHARTS[chart];
    const m = meta.metrics.find((x) => x.id === metric);
    if (!m || !m.dimensions.includes('domain*county_fips')) return 'Not available in this run: no need domain x county results are published.';
  }
  if (chart !== 'trend' && chart !== 'sparkline' && chart !== 'spc') return null;
  const m = meta.metrics.find((x) => x.id === params.metric);
  if (!m) return 'This measure is not published in this run.';
  const label = (d) => (meta.dimensions.find((x) => x.id === d) || { label: d }).label.toLowerCase();
  const subsets = [['program', 'program_id'], ['county', 'county_fips'], ['domain', 'domain']].filter(([k]) => params[k]);
  if (params.dimension && subsets.length) return `Comparing groups and choosing a ${subsets.map(([k]) => k).join(' or ')} cannot be combined: results are published for one cut at a time. Clear one of them.`;
  if (params.dimension && !m.dimensions.includes(params.dimension)) return `${m.label} is not published by ${label(params.dimension)}.`;
  if (params.program && (params.county || params.domain)) return 'Results are published by attributed program alone: clear the county or domain filter to see this program.';
  if (params.domain && params.county) return m.dimensions.includes('domain*county_fips') ? null : `${m.label} is not published by need domain and county together.`;
  for (const [k, d] of subsets) if (!m.dimensions.includes(d)) return `${m.label} is not published by ${label(d)}.`;
  return null;
}

/**
 * A drawn chart is one image named by its summary (the spec's description: what is drawn,
 * with its figures); the table below it is its text alternative. Vega's marks inside are
 * hidden from assistive technology: each mark would otherwise be an unnamed image.
 */
export function nameChart(container, label) {
  const svg = container.querySelector('svg');
  if (!svg) return;
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  svg.removeAttribute('aria-roledescription');
  for (const child of svg.children) child.setAttribute('aria-hidden', 'true');
}

/**
 * On a phone (under 600 px) a heat map or the scorecard has about 3 px text: its table is
 * shown instead (opened here; the chart itself is hidden by the stylesheet, still drawn for
 * the downloads).
 */
const PHONE = '(max-width: 599.98px)';
const TABLE_ON_PHONE = new Set(['gap-heatmap', 'demand-capacity', 'scorecard']);
function phoneTable(fig, chart) {
  if (!TABLE_ON_PHONE.has(chart)) return;
  fig.classList.add('table-on-phone');
  const details = fig.querySelector('details.chart-table');
  if (details && window.matchMedia(PHONE).matches) details.open = true;
}

/**
 * Keyboard access to what the tooltips show (issue 16): the chart image takes focus (Tab),
 * the arrow keys read its figures one row at a time into a live region under it (every
 * field a tooltip has, and more), Home and End jump, Enter opens the table of the figures
 * and moves into it, Escape stops reading.
 */
function keyboardReadout(fig, body, table) {
  const svg = body.querySelector('svg');
  if (!svg || !table.rows.length) return;
  let out = fig.querySelector('.chart-readout');
  if (!out) {
    out = el('p', { class: 'chart-readout', 'aria-live': 'polite' });
    body.after(out);
  }
  out.textContent = '';
  svg.setAttribute('tabindex', '0');
  let at = -1;
  const read = (i) => {
    at = Math.max(0, Math.min(table.rows.length - 1, i));
    const r = table.rows[at];
    const fields = table.columns.map((c) => {
      const v = formatValue(r[c.key], c.format);
      return `${c.title}: ${v === null ? (r.suppressed === true ? 'n<11 (withheld)' : '–') : v}`;
    });
    out.textContent = `Row ${at + 1} of ${table.rows.length}. ${fields.join('; ')}.`;
  };
  svg.addEventListener('focus', () => {
    at = -1;
    out.textContent = `${table.rows.length} rows of figures: the arrow keys read them one at a time; Enter opens the table.`;
  });
  svg.addEventListener('blur', () => { out.textContent = ''; });
  svg.addEventListener('keydown', (e) => {
    const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[e.key];
    if (step) read(at < 0 && step < 0 ? 0 : at + step);
    else if (e.key === 'Home') read(0);
    else if (e.key === 'End') read(table.rows.length - 1);
    else if (e.key === 'Enter' || e.key === ' ') {
      const details = fig.querySelector('details.chart-table');
      details.open = true;
      details.querySelector('.table-wrap').focus();
    } else if (e.key === 'Escape') out.textContent = '';
    else return;
    e.preventDefault();
  });
}

function setDownloads(fig, chart, params, enabled) {
  for (const a of fig.querySelectorAll('a.download[data-format]')) {
    if (enabled) {
      a.href = `/api/charts/${chart}.${a.dataset.format}${query(params)}`;
      a.removeAttribute('aria-disabled');
    } else {
      a.removeAttribute('href');
      a.setAttribute('aria-disabled', 'true');
    }
  }
}

function showMessage(fig, body, message, keepTable = false) {
  body.dataset.state = 'message';
  body.replaceChildren(el('p', { class: 'chart-message', role: 'note', text: message }));
  if (!keepTable) fig.querySelector('.chart-table .table-wrap')?.replaceChildren();
}

export async function renderChart(fig, filters, meta, state) {
  const chart = fig.dataset.chart;
  const params = chartParams(fig, filters);
  const body = fig.querySelector('.chart-body');
  const title = fig.querySelector('.chart-title');
  const notes = fig.querySelector('.chart-notes');
  const reason = notApplicable(chart, params, meta);
  delete state.views[fig.id];
  if (reason) {
    fig.querySelector('.chart-subtitle')?.replaceChildren();
    const m = meta.metrics.find((x) => x.id === params.metric);
    title.textContent = m ? m.label : 'Chart';
    setDownloads(fig, chart, params, false);
    notes.hidden = true;
    showMessage(fig, body, reason);
    state.charts[fig.id] = { chart, params, error: reason };
    return;
  }
  body.dataset.state = 'loading';
  let data;
  try {
    data = await getJson(`/api/charts/${chart}.json${query(params)}`);
  } catch (err) {
    title.textContent = title.textContent === 'Loading…' ? 'Not available' : title.textContent;
    setDownloads(fig, chart, params, false);
    notes.hidden = true;
    showMessage(fig, body, err.status === 404 ? `Not available in this run: ${err.message}.` : err.message);
    state.charts[fig.id] = { chart, params, error: err.message };
    return;
  }
  title.textContent = data.title;
  // The page shows the title and subtitle as text above the chart; the spec keeps them for the image downloads.
  const { title: specTitle, ...spec } = data.spec;
  const subtitle = specTitle && specTitle.subtitle ? [].concat(specTitle.subtitle) : [];
  let sub = fig.querySelector('.chart-subtitle');
  if (!sub) {
    sub = el('p', { class: 'chart-subtitle' });
    fig.querySelector('.chart-head').append(sub);
  }
  // a line that is also a note (a coarsened trend's) is shown once, as the note under the chart
  sub.replaceChildren(...subtitle.filter((line) => !data.notes.includes(line)).map((line) => el('span', { text: line })));
  notes.textContent = data.notes.join(' ');
  notes.hidden = data.notes.length === 0;
  setDownloads(fig, chart, params, true);
  const wrap = fig.querySelector('.chart-table .table-wrap');
  wrap.replaceChildren(renderTable(data.table.columns, data.table.rows, { caption: `${data.title} (run ${data.run_id}, as of ${data.as_of})` }));
  if (data.empty) {
    showMessage(fig, body, data.empty, true);
    body.dataset.state = 'empty';
    state.charts[fig.id] = { chart, params, title: data.title, table: data.table, empty: data.empty };
    return;
  }
  try {
    const result = await window.vegaEmbed(body, spec, { ...EMBED_OPTIONS, expr: state.interpreter });
    body.dataset.state = 'ready';
    nameChart(body, data.spec.description || data.title);
    keyboardReadout(fig, body, data.table);
    phoneTable(fig, chart);
    state.views[fig.id] = result.view;
    state.charts[fig.id] = { chart, params, title: data.title, table: data.table, run_id: data.run_id };
  } catch (err) {
    showMessage(fig, body, `The chart could not be drawn (${err.message}); the table below has the figures.`, true);
    state.charts[fig.id] = { chart, params, error: err.message };
  }
}
