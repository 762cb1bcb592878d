// Page blocks that are not single charts: headline tiles, the gap table, run history,
// the load report, disparity summary measures, a partner's gap analysis, the print bar.
import { getJson, query } from './api.js';
import { el, formatMetricValue, formatValue, periodLabel, SUPPRESSED_LABEL } from './format.js';
import { renderTable } from './table.js';
import { chartParams, nameChart } from './charts.js';

const EMBED = { renderer: 'svg', actions: false, defaultStyle: false, ast: true, tooltip: { disableDefaultStyle: true, theme: 'custom' }, logLevel: 0 };

function usesParams(section, filters) {
  const p = {};
  for (const k of (section.dataset.uses || '').split(',').filter(Boolean)) {
    const v = filters.get(k);
    if (v) p[k] = v;
  }
  return p;
}

function message(target, text) {
  target.replaceChildren(el('p', { class: 'chart-message', role: 'note', text }));
}

/** "% of referrals" rather than "proportion of referrals (0-1)". */
function unitText(m) {
  return String(m.unit).replace(/^proportion of (.*) \(0-1\)$/, '% of $1');
}

/**
 * The change from the previous final period: "better" or "worse" only when the server's test
 * found it significant at 0.05 (never on a zero change); otherwise said plainly.
 */
function changeLine(h, m) {
  const c = h.change;
  const from = h.previous ? periodLabel(h.previous.period_grain, h.previous.period_start) : null;
  if (!from) return el('p', { class: 'change', text: 'no earlier final period to compare with' });
  if (!c) return el('p', { class: 'change', text: `no change shown from ${from}: a period is withheld` });
  const amount = (d) => (m.kind === 'proportion' ? `${(Math.abs(d) * 100).toFixed(1)} points` : formatMetricValue(Math.abs(d), m));
  const signed = (d) => `${d > 0 ? '+' : d < 0 ? '−' : ''}${amount(d)}`;
  const p = c.p === null ? '' : c.p < 0.001 ? 'p < 0.001' : `p = ${c.p.toFixed(c.p < 0.01 ? 3 : 2)}`;
  switch (c.verdict) {
    case 'better':
    case 'worse':
      return el('p', { class: `change ${c.verdict}`, 'data-verdict': c.verdict, text: `${c.difference > 0 ? '↑' : '↓'} ${amount(c.difference)} from ${from} (${c.verdict}, ${p})` });
    case 'no_significant_change':
      return el('p', { class: 'change', 'data-verdict': c.verdict, text: `no significant change from ${from} (${signed(c.difference)}, ${p})` });
    case 'no_change':
      return el('p', { class: 'change', 'data-verdict': c.verdict, text: `no change from ${from}` });
    default:
      return el('p', { class: 'change', 'data-verdict': c.verdict, text: `${signed(c.difference)} from ${from} (no test for this kind of figure, so no direction)` });
  }
}

const GROUP_PAGE = { access: '/access', closed_loop: '/closed-loop', service_gaps: '/service-gaps', outcomes: '/outcomes' };

export async function renderTiles(section, filters, state, interpreter) {
  const params = usesParams(section, filters);
  let data;
  try {
    data = await getJson(`/api/overview${query(params)}`);
  } catch (err) {
    message(section, err.message);
    return;
  }
  const tiles = [];
  for (const h of data.headlines) {
    const m = h.metric;
    const tile = el('article', { class: 'tile', 'data-metric': m.id, 'aria-label': m.title });
    tile.append(el('h2', { text: m.title }));
    const latest = h.latest;
    if (!h.available) {
      tile.append(el('p', { class: 'figure suppressed', text: 'not available' }), el('p', { class: 'period', text: 'not published in this run' }));
      tiles.push(tile);
      continue;
    }
    if (!latest) {
      // every period is still provisional or partial: nothing final to headline
      tile.append(el('p', { class: 'figure suppressed', text: 'no final period yet' }),
        el('p', { class: 'period', text: `${h.provisional_periods} period(s) still provisional: their windows have not all passed` }));
    } else {
      if (latest.suppressed) {
        tile.append(el('p', { class: 'figure suppressed', title: 'Withheld: fewer than 11 people or events', text: `${SUPPRESSED_LABEL} (withheld)` }));
      } else if (latest.value === null) {
        tile.append(el('p', { class: 'figure missing', title: 'No figure: not withheld, not zero', text: m.kind === 'duration' ? 'median not reached' : 'no value' }));
      } else {
        tile.append(el('p', { class: `figure${latest.unreliable ? ' unreliable' : ''}`, text: formatMetricValue(latest.value, m) ?? '–' }));
      }
      tile.append(el('p', { class: 'period', text: `${periodLabel(latest.period_grain, latest.period_start)} (latest final period) · ${unitText(m)}` }));
      if (latest.unreliable) tile.append(el('p', { class: 'unreliable-note', text: 'Unreliable: relative standard error above 30% or fewer than 20 events' }));
      if (!latest.suppressed && latest.ci_low !== null && latest.ci_high !== null) {
        tile.append(el('p', { class: 'ci', text: `95% CI ${formatMetricValue(latest.ci_low, m)} to ${formatMetricValue(latest.ci_high, m)}${latest.denominator !== null ? ` · n = ${formatValue(latest.denominator, 'number')}` : ''}` }));
      }
      tile.append(changeLine(h, m));
      if (h.provisional_periods > 0) {
        tile.append(el('p', { class: 'provisional-note', text: `${h.provisional_periods} newer period(s) provisional (hollow in the trend): not compared until their windows have passed` }));
      }
    }
    const span = h.whole_span;
    if (span) {
      const status = span.period_status === 'provisional' ? ' (provisional: recent windows still open)' : '';
      tile.append(el('p', { class: 'span', text: `Whole span${status}: ${span.suppressed ? `${SUPPRESSED_LABEL} (withheld)` : (formatMetricValue(span.value, m) ?? '–')}` }));
    }
    const spark = el('div', { class: 'spark' });
    tile.append(spark);
    tile.append(el('p', { class: 'tile-links' },
      el('a', { href: `/dictionary#${m.id}`, text: 'Definition', 'aria-label': `Definition of ${m.title}` }),
      el('a', { href: `${GROUP_PAGE[m.group] || '/'}${query({ grain: params.grain, program: params.program, county: params.county })}`, text: 'Details', 'aria-label': `Details of ${m.title}` }),
      el('a', { href: `/api/charts/sparkline.csv${query({ metric: m.id, ...params })}`, download: true, text: 'Data (CSV)', 'aria-label': `Data of ${m.title} (CSV)` })));
    tiles.push(tile);
  }
  section.replaceChildren(...tiles);
  await Promise.all(data.headlines.filter((h) => h.available && h.trend.length).map(async (h) => {
    const target = section.querySelector(`[data-metric="${h.metric.id}"] .spark`);
    try {
      const chart = await getJson(`/api/charts/sparkline.json${query({ metric: h.metric.id, ...params })}`);
      const r = await window.vegaEmbed(target, chart.spec, { ...EMBED, expr: interpreter });
      nameChart(target, chart.spec.description || `${h.metric.title} trend`);
      // Coarsened (most periods withheld at the chosen grain): the tile says so under its trend.
      if (chart.notes.length) target.after(el('p', { class: 'spark-note', text: chart.notes.join(' ') }));
      state.views[`tile-${h.metric.id}`] = r.view;
    } catch (err) {
      message(target, err.message);
    }
  }));
}

const GAP_COLUMNS = [
  { key: 'rank', title: 'Rank', format: 'number' },
  { key: 'domain', title: 'Need domain' },
  { key: 'county_name', title: 'County' },
  { key: 'positive_needs', title: 'Positive needs', format: 'number' },
  { key: 'unmet_needs', title: 'Unmet needs', format: 'number' },
  { key: 'unmet_need_rate', title: 'Unmet need rate', format: 'percent' },
  { key: 'capacity_rejection_share', title: 'Closed for no capacity', format: 'percent' },
  { key: 'demand_capacity_ratio', title: 'Needs per capacity-month', format: 'fixed2' },
  { key: 'note', title: 'Note' },
  { key: 'serving_programs', title: 'Programs', format: 'number' },
  { key: 'programs', title: 'Served by' },
];

async function gapsTable(section, filters, wrap) {
  const params = usesParams(section, filters);
  const data = await getJson(`/api/gaps${query(params)}`);
  const present = new Set(data.rows.flatMap((r) => Object.keys(r)));
  const cols = GAP_COLUMNS.filter((c) => present.has(c.key));
  const limit = section.dataset.limit ? Number(section.dataset.limit) : undefined;
  wrap.replaceChildren(renderTable(cols, data.rows.map((r) => ({ ...r, domain: r.domain_label ?? r.domain })), { caption: `Gap table, as of ${data.as_of}`, limit }));
  const dl = section.querySelector('[data-table-download="gaps"]');
  if (dl) dl.href = `/api/gaps.csv${query({ domain: params.domain, county: params.county })}`;
}

const RUN_COLUMNS = [
  { key: 'started', title: 'Started' },
  { key: 'status_text', title: 'Status' },
  { key: 'as_of', title: 'As of' },
  { key: 'files', title: 'Files', format: 'number' },
  { key: 'files_rejected', title: 'Rejected', format: 'number' },
  { key: 'rows_loaded', title: 'Rows loaded', format: 'number' },
  { key: 'rows_quarantined', title: 'Quarantined', format: 'number' },
  { key: 'gates', title: 'Quality gates' },
  { key: 'duration', title: 'Duration' },
  { key: 'message', title: 'Message' },
  { key: 'run_id', title: 'Run id' },
];

/** A run's quality-gate counts, and what warned or blocked. */
function gatesText(r) {
  const c = r.quality_counts;
  if (!c) return '–';
  const counts = `${c.pass} passed, ${c.warn} warned, ${c.block} blocking, ${c.skip} skipped`;
  return r.quality_findings.length ? `${counts}: ${r.quality_findings.map((f) => `${f.status === 'block' ? 'BLOCK' : 'warn'} ${f.message}`).join('; ')}` : counts;
}

async function runsTable(section, _filters, wrap) {
  const data = await getJson(`/api/runs${query({ limit: section.dataset.limit })}`);
  if (!data.runs.length) {
    message(wrap, 'No runs recorded yet.');
    return;
  }
  const rows = data.runs.map((r) => ({
    ...r,
    started: r.started_at ? new Date(r.started_at).toLocaleString('en-US', { dateStyle: 'medium', timeStyle: 'short' }) : '–',
    status_text: `${r.status}${r.run_id && r.run_id === data.current_run_id ? ' (serving)' : ''}`,
    duration: r.seconds !== null ? `${r.seconds.toFixed(1)} s` : '–',
    gates: gatesText(r),
  }));
  wrap.replaceChildren(renderTable(RUN_COLUMNS, rows, { caption: 'Pipeline runs, newest first', rowClass: (r) => (r.status === 'failed' ? 'is-flagged' : undefined) }));
}

async function loadReportTable(_section, _filters, wrap) {
  const data = await getJson('/api/quality');
  if (!data.files) {
    message(wrap, 'The load report is not available in this run.');
    return;
  }
  const rows = data.files.map((f) => ({ ...f, reasons: f.top_reasons.map((r) => `${r.rule}${r.column ? ` (${r.column})` : ''} ×${r.count.toLocaleString('en-US')}`).join(', ') }));
  wrap.replaceChildren(renderTable([
    { key: 'file', title: 'File' }, { key: 'entity', title: 'Entity' }, { key: 'rows_read', title: 'Read', format: 'number' }, { key: 'rows_loaded', title: 'Loaded', format: 'number' },
    { key: 'rows_quarantined', title: 'Quarantined', format: 'number' }, { key: 'rejected', title: 'Rejected whole', format: 'boolean' }, { key: 'reasons', title: 'Top reasons' }, { key: 'message', title: 'Message' },
  ], rows, { caption: `Files of run ${data.run.run_id}`, rowClass: (r) => (r.rejected ? 'is-flagged' : undefined) }));
}

const CHECK_STATUS = { pass: 'passed', warn: 'warned', block: 'blocked the publish', skip: 'skipped' };

/** A gate's observed value and limit: a count for unique keys, otherwise a share of rows (or of rows lost), to 0.01% as the run's messages give it. */
const gateFigure = (c, v) => (v === null || v === undefined ? '–' : c.kind === 'unique' ? formatValue(v, 'number') : `${(v * 100).toFixed(2)}%`);

async function qualityChecksTable(_section, _filters, wrap) {
  const data = await getJson('/api/quality');
  if (!data.checks) {
    message(wrap, 'The quality-gate results are not available in this run.');
    return;
  }
  if (!data.checks.length) {
    message(wrap, 'No quality gates were configured for this run.');
    return;
  }
  const rows = data.checks.map((c) => ({ ...c, result: CHECK_STATUS[c.status] ?? c.status, observed_text: gateFigure(c, c.observed), threshold_text: gateFigure(c, c.threshold) }));
  wrap.replaceChildren(renderTable([
    { key: 'check_id', title: 'Gate' }, { key: 'entity', title: 'Entity' }, { key: 'severity', title: 'Severity' }, { key: 'result', title: 'Result' },
    { key: 'observed_text', title: 'Observed' }, { key: 'threshold_text', title: 'Limit' }, { key: 'violations', title: 'Rows breaking it', format: 'number' },
    { key: 'rows_checked', title: 'Rows checked', format: 'number' }, { key: 'message', title: 'Message' },
  ], rows, { caption: `Quality gates of run ${data.run.run_id}`, rowClass: (r) => (r.status === 'warn' || r.status === 'block' ? 'is-flagged' : undefined) }));
}

async function disparitySummary(section, filters, wrap) {
  const p = usesParams(section, filters);
  const params = { metric: p.metric || 'closed_loop_rate', dimension: p.dimension || 'race_ethnicity', grain: p.grain || 'all', period_start: p.period_start };
  const d = await getJson(`/api/disparities${query(params)}`);
  const s = d.summary;
  // the adjusted flag (AHRQ rule and q < 0.05); the rule alone is listed apart, as possibly chance
  const flagged = d.rows.filter((r) => r.disparity_flag === true);
  const ruleOnly = d.rows.filter((r) => r.disparity_flag !== true && r.disparity_flag_unadjusted === true);
  const items = [
    ['Reference group', d.reference_label ?? d.reference_group ?? 'none'],
    ['Groups shown (unknown left out)', s ? formatValue(s.groups_shown, 'number') : '–'],
    ['Index of disparity (adverse scale)', s && s.index_of_disparity !== null ? `${formatValue(s.index_of_disparity, 'decimal')}%` : '–'],
    ['Between-group variance (less sampling noise)', s && s.between_group_variance !== null && s.between_group_variance !== undefined ? formatValue(s.between_group_variance, 'decimal') : '–'],
    ['Max rate difference', s && s.max_rate_difference !== null ? formatValue(s.max_rate_difference, 'decimal') : '–'],
    ['Max rate ratio (adverse scale)', s && s.max_rate_ratio !== null ? formatValue(s.max_rate_ratio, 'decimal') : '–'],
    ['Data completeness', s && s.unknown_share !== null && s.unknown_share !== undefined ? `${formatValue(s.unknown_share, 'percent')} of the population is in "unknown"` : '–'],
    ['Disparities (AHRQ rule and q < 0.05)', flagged.length ? flagged.map((r) => r.group_label ?? r.group_value).join(', ') : 'none'],
    ['AHRQ rule alone (q >= 0.05: may be chance)', ruleOnly.length ? ruleOnly.map((r) => r.group_label ?? r.group_value).join(', ') : 'none'],
  ];
  const long = new Set(['Data completeness', 'Disparities (AHRQ rule and q < 0.05)', 'AHRQ rule alone (q >= 0.05: may be chance)']);
  const dl = el('dl', { class: 'summary-grid' }, items.map(([k, v]) => el('div', { class: long.has(k) ? 'long' : undefined }, el('dt', { text: k }), el('dd', { text: v }))));
  const note = el('p', { class: 'intro', text: `${d.title}, ${d.grain === 'all' ? 'whole span' : periodLabel(d.grain, d.period_start)}. ${s ? (d.summary_source === 'published' ? 'Published with the run.' : 'Computed from the groups shown.') : 'No summary: fewer than two groups are shown or there is no reference group.'}` });
  wrap.replaceChildren(dl, note);
}

const TABLES = { gaps: gapsTable, runs: runsTable, 'load-report': loadReportTable, 'quality-checks': qualityChecksTable, 'disparity-summary': disparitySummary };
const TABLE_NEEDS = { gaps: 'gap_table', 'load-report': 'load_report', 'quality-checks': 'quality_checks', 'disparity-summary': 'metric_results' };

export async function renderTableBlock(section, filters, meta) {
  const wrap = section.querySelector('.table-wrap');
  const needs = TABLE_NEEDS[section.dataset.source];
  if (needs && !meta.tables.includes(needs)) {
    message(wrap, `Not available in this run: the ${needs.replaceAll('_', ' ')} table is not published.`);
    return;
  }
  try {
    await TABLES[section.dataset.source](section, filters, wrap);
  } catch (err) {
    message(wrap, err.status === 404 ? `Not available in this run: ${err.message}.` : err.message);
  }
}

export async function renderPartner(section, meta) {
  const select = section.querySelector('select[name="org"]');
  const body = section.querySelector('.partner-body');
  const url = new URLSearchParams(location.search);
  const orgs = meta.orgs;
  if (!meta.tables.includes('service_directory') || !meta.tables.includes('gap_table')) {
    message(body, 'Not available in this run: a partner gap analysis needs the published service directory and gap table.');
    for (const a of section.querySelectorAll('[data-partner-download]')) {
      a.removeAttribute('href');
      a.setAttribute('aria-disabled', 'true');
    }
    select.hidden = true;
    return;
  }
  if (!orgs.length) {
    message(body, 'No partner organizations are published in this run.');
    return;
  }
  if (!select.options.length) {
    for (const o of orgs) select.append(el('option', { value: o.id, text: `${o.label} (${o.id})` }));
    select.addEventListener('change', () => {
      const q = new URLSearchParams(location.search);
      q.set('org', select.value);
      history.pushState(null, '', `${location.pathname}?${q}`);
      renderPartner(section, meta);
    });
  }
  const wanted = url.get('org');
  select.value = orgs.some((o) => o.id === wanted) ? wanted : orgs[0].id;
  const org = select.value;
  for (const a of section.querySelectorAll('[data-partner-download]')) a.href = `/api/partners/${encodeURIComponent(org)}/gap-analysis.${a.dataset.partnerDownload}`;
  try {
    const g = await getJson(`/api/partners/${encodeURIComponent(org)}/gap-analysis.json`);
    const gaps = renderTable([
      { key: 'rank', title: 'Rank', format: 'number' }, { key: 'domain', title: 'Need domain' }, { key: 'county_name', title: 'County' }, { key: 'unmet_needs', title: 'Unmet needs', format: 'number' },
      { key: 'unmet_need_rate', title: 'Unmet need rate', format: 'percent' }, { key: 'note', title: 'Note' }, { key: 'your_programs', title: 'Its programs there' }, { key: 'other_providers', title: 'Other providers', format: 'number' },
    ], g.gaps.map((r) => ({ ...r, domain: r.domain_label ?? r.domain })), { caption: `Gaps in the ${g.counties.length} counties it serves: ${g.counties.map((c) => c.county).join(', ')}`, limit: 15 });
    body.replaceChildren(partnerFigures(g), el('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-labelledby': 'partner-gap-analysis' }, gaps));
  } catch (err) {
    message(body, err.message);
  }
}

/** An organization's referral figures beside the whole area's (never another organization's). */
function partnerFigures(g) {
  const figures = g.figures.map((f) => ({
    measure: f.title,
    kind: f.kind,
    org_value: f.org ? f.org.value : null,
    area_value: f.area ? f.area.value : null,
    suppressed: Boolean(f.org && f.org.suppressed),
    org_n: f.org ? f.org.denominator : null,
  }));
  const fmt = (row, key) => (row[key] === null ? (key === 'org_value' && row.suppressed ? `${SUPPRESSED_LABEL} (withheld)` : '–') : formatMetricValue(row[key], { kind: row.kind, unit: '' }));
  return renderTable([
    { key: 'measure', title: 'Measure' }, { key: 'org_text', title: g.org.org_name }, { key: 'area_text', title: 'Whole area' }, { key: 'org_n', title: 'Denominator', format: 'number' },
  ], figures.map((r) => ({ ...r, org_text: fmt(r, 'org_value'), area_text: fmt(r, 'area_value') })), { caption: `Referral figures, whole span, as of ${g.run.as_of}` });
}

/**
 * A partner's home (issue 16): on the overview, for a partner only, its own referral figures
 * beside the area's, its largest gaps, its downloads and the way to its own curve; nothing
 * it cannot open.
 */
export async function renderPartnerHome(section, org) {
  const body = section.querySelector('.partner-home-body');
  section.hidden = false;
  try {
    const g = await getJson(`/api/partners/${encodeURIComponent(org)}/gap-analysis.json`);
    section.querySelector('[data-partner-name]').textContent = g.org.org_name;
    const top = g.gaps.filter((r) => r.unmet_needs !== null).slice(0, 3)
      .map((r) => el('li', { text: `${r.domain_label ?? r.domain} needs in ${r.county_name}: ${formatValue(r.unmet_needs, 'number')} unmet positive needs${r.unmet_need_rate !== null ? ` (${formatValue(r.unmet_need_rate, 'percent')})` : ''}` }));
    const q = encodeURIComponent(org);
    body.replaceChildren(
      partnerFigures(g),
      el('h3', { text: 'Largest gaps in the counties it serves' }),
      top.length ? el('ul', { class: 'story-list' }, top) : el('p', { text: 'No gap figures for its counties in this run.' }),
      el('p', { class: 'chart-actions' },
        el('a', { class: 'download', href: `/api/partners/${q}/gap-analysis.csv`, download: true, text: 'Its gap analysis (CSV)' }),
        el('a', { class: 'download', href: `/api/partners/${q}/gap-analysis.xlsx`, download: true, text: 'Its gap analysis (XLSX)' }),
        el('a', { href: '/closed-loop', text: 'Its time-to-close curve and scorecard' }),
        el('a', { href: `/service-gaps?org=${q}`, text: 'Its gap table' })),
    );
  } catch (err) {
    message(body, err.message);
  }
}

const pct = (v) => formatValue(v, 'percent');
const count = (n, unit) => `n = ${formatValue(n, 'number')} ${unit}`;

/** The overview's story (GET /api/story): three sentences, each with its n and a link to the evidence. */
export async function renderStory(section) {
  const body = section.querySelector('.story-body');
  let s;
  try {
    s = await getJson('/api/story');
  } catch (err) {
    message(body, err.message);
    return;
  }
  const items = [];
  const evidence = (href, text) => el('a', { href, text });
  if (s.loop && s.loop.everyone) {
    const l = s.loop;
    const spread = l.highest && l.lowest
      ? ` By ${l.dimension_label.toLowerCase()}, it is highest for ${l.highest.label} (${pct(l.highest.value)}, ${count(l.highest.n, l.unit)}) and lowest for ${l.lowest.label} (${pct(l.lowest.value)}, ${count(l.lowest.n, l.unit)}).`
      : '';
    items.push(el('li', { 'data-story': 'loop' }, el('strong', { text: 'Where the loop closes: ' }), `${pct(l.everyone.value)} of ${formatValue(l.everyone.n, 'number')} ${l.unit} closed within 60 days.${spread} `,
      evidence(l.link, `Compare ${l.dimension_label ? `by ${l.dimension_label.toLowerCase()}` : 'groups'}`)));
  }
  if (s.disparity) {
    const d = s.disparity;
    const ref = d.reference ? ` against ${d.reference.label} (${pct(d.reference.value)}, ${count(d.reference.n, d.unit)})` : '';
    items.push(el('li', { 'data-story': 'disparity' }, el('strong', { text: 'Largest disparity flagged (AHRQ rule and q < 0.05): ' }),
      `${d.title}, ${d.group.label} ${pct(d.group.value)} (${count(d.group.n, d.unit)})${ref}, rate ratio ${formatValue(d.rate_ratio, 'fixed2')}; ${d.direction === 'higher_better' ? 'higher' : 'lower'} is better. `,
      evidence(d.link, `See ${d.title.toLowerCase()} by ${d.dimension_label.toLowerCase()}`)));
  } else {
    items.push(el('li', { 'data-story': 'disparity' }, el('strong', { text: 'Disparities: ' }), 'no difference between groups is flagged after adjustment for multiple comparisons. ', evidence('/disparities', 'Disparities')));
  }
  if (s.gap) {
    const g = s.gap;
    items.push(el('li', { 'data-story': 'gap' }, el('strong', { text: 'Biggest service gap: ' }),
      `${g.domain_label} needs in ${g.county} County: ${formatValue(g.unmet_needs, 'number')} of ${formatValue(g.positive_needs, 'number')} ${g.unit} unmet${g.unmet_need_rate !== null ? ` (${pct(g.unmet_need_rate)})` : ''}. `,
      evidence(g.link, `See ${g.domain_label.toLowerCase()} needs in ${g.county}`)));
  }
  body.replaceChildren(items.length ? el('ul', { class: 'story-list' }, items) : el('p', { text: 'Nothing to tell yet: the figures it needs are not published in this run.' }));
  section.dataset.drawn = 'yes';
}

export function renderPrintBar(section, filters) {
  const button = section.querySelector('[data-action="print"]');
  if (button && !button.dataset.bound) {
    button.dataset.bound = 'yes';
    button.addEventListener('click', () => window.print());
  }
  const p = {};
  for (const k of ['grain', 'from', 'to', 'program']) if (filters.get(k)) p[k] = filters.get(k);
  // The heading and every card say which filters and cohort they show (a printed page has no URL).
  const grain = p.grain || 'quarter';
  const text = `By ${grain}, ${p.from ? `from ${periodLabel(grain, p.from)}` : 'from the first period'} ${p.to ? `to ${periodLabel(grain, p.to)}` : 'to the latest period'}; ${p.program ? `people attributed to program ${p.program}, beside everyone` : 'everyone (all programs)'}.`;
  let head = document.querySelector('[data-report-filters]');
  if (!head) {
    head = el('p', { class: 'report-filters', 'data-report-filters': '' });
    document.querySelector('.page-head')?.append(head);
  }
  head.textContent = `Filters: ${text}`;
  for (const card of document.querySelectorAll('main figure.card, main .tile, main .table-card')) {
    let line = card.querySelector(':scope > .card-filters');
    if (!line) {
      line = el('p', { class: 'card-filters' });
      card.append(line);
    }
    // a card states the filters it uses (the PHQ-9 outcomes and the gap table take none)
    const uses = new Set((card.closest('[data-uses]')?.dataset.uses || '').split(',').filter(Boolean));
    const who = !uses.has('program') ? (p.program ? 'Everyone (this card is not cut by program)' : 'Everyone') : p.program ? `Program ${p.program} and everyone` : 'Everyone';
    line.textContent = uses.has('grain') ? `${who} · by ${grain}` : who;
  }
  const xlsx = section.querySelector('[data-report-download]');
  if (xlsx) xlsx.href = `/api/exports/report.xlsx${query(p)}`;
  const csv = section.querySelector('[data-report-download-csv]');
  if (csv) csv.href = `/api/exports/report.csv${query(p)}`;
}

export { chartParams };
