// Entry point of every dashboard page: load the filter options, read the filters from
// the URL, draw every block, and redraw when a filter changes. body[data-ready] says when
// the page has finished drawing (tests wait for it).
import { getJson } from './api.js';
import { renderChart } from './charts.js';
import { renderPartner, renderPartnerHome, renderPrintBar, renderStory, renderTableBlock, renderTiles } from './blocks.js';
import { Filters } from './filters.js';
import { el } from './format.js';

// The CSP-safe expression interpreter (a hashed URL the page names), only on pages that
// draw a chart: the others load no Vega at all.
const interpreterUrl = document.body.dataset.interpreter;
const expressionInterpreter = interpreterUrl ? (await import(interpreterUrl)).expressionInterpreter : null;

const state = { views: {}, charts: {}, renders: 0, interpreter: expressionInterpreter };
window.closeloop = state;

function setStatus(text) {
  const s = document.querySelector('[data-status]');
  if (!s) return;
  s.textContent = text || '';
  s.hidden = !text;
}

async function runInfo() {
  const target = document.querySelector('[data-run-info]');
  try {
    const r = await getJson('/api/run');
    const published = r.published_at ? new Date(r.published_at.replace(' ', 'T').replace(/\+00$/, 'Z')) : null;
    target.replaceChildren(
      'As of ', el('strong', { text: r.as_of }),
      published && !Number.isNaN(published.getTime()) ? ` · published ${published.toLocaleString('en-US', { dateStyle: 'medium', timeStyle: 'short' })}` : '',
      ' · run ', el('span', { class: 'run-id', text: r.run_id }),
    );
    return r;
  } catch (err) {
    target.textContent = err.status === 503 ? 'Nothing published yet' : 'Run information unavailable';
    return null;
  }
}

/** The stale-data banner: shown on every page when the published run is older than configured. */
async function staleBanner() {
  const target = document.querySelector('[data-stale]');
  try {
    const f = await getJson('/api/freshness');
    if (!f.stale) return;
    target.textContent = `Stale data: ${f.reasons.join('; ')}. The figures below are from run ${f.run_id ?? 'unknown'}, as of ${f.as_of ?? 'unknown'}.`;
    target.hidden = false;
  } catch {
    // Freshness is advisory: a page still draws without it.
  }
}

/** Who is signed in: name and role in the top bar; the navigation keeps the pages this role may open. */
async function session() {
  try {
    const s = await getJson('/api/session');
    const box = document.querySelector('[data-session]');
    if (box) {
      box.querySelector('[data-user]').textContent = `${s.user.name} (${s.user.role}${s.user.org ? `, ${s.user.org}` : ''})`;
      box.hidden = false;
    }
    document.body.dataset.role = s.user.role;
    const allowed = new Set(s.pages.map((p) => p.path));
    const nav = document.querySelector('.mainnav');
    if (nav) {
      for (const a of nav.querySelectorAll('a')) if (!allowed.has(a.getAttribute('href'))) a.remove();
      for (const p of s.pages) if (!nav.querySelector(`a[href="${p.path}"]`)) nav.append(el('a', { href: p.path, text: p.nav }));
    }
    return s;
  } catch {
    return null;
  }
}

async function drawAll(filters, meta) {
  document.body.dataset.ready = 'false';
  state.renders += 1;
  const jobs = [];
  for (const fig of document.querySelectorAll('figure[data-chart]')) jobs.push(renderChart(fig, filters, meta, state));
  for (const s of document.querySelectorAll('[data-block="tiles"]')) jobs.push(renderTiles(s, filters, state, expressionInterpreter));
  for (const s of document.querySelectorAll('[data-block="table"]')) jobs.push(renderTableBlock(s, filters, meta));
  for (const s of document.querySelectorAll('[data-block="partner"]')) jobs.push(renderPartner(s, meta));
  for (const s of document.querySelectorAll('[data-block="story"]')) if (!s.dataset.drawn) jobs.push(renderStory(s));
  const me = state.session?.user;
  if (me?.role === 'partner' && me.org) for (const s of document.querySelectorAll('[data-block="partner-home"]')) if (!s.dataset.drawn) jobs.push(renderPartnerHome(s, me.org).then(() => { s.dataset.drawn = 'yes'; }));
  await Promise.allSettled(jobs);
  // after the blocks: it labels every card (tiles are redrawn above)
  for (const s of document.querySelectorAll('.print-bar')) renderPrintBar(s, filters);
  document.body.dataset.ready = 'true';
}

async function main() {
  const [run, me] = await Promise.all([runInfo(), session(), staleBanner()]);
  state.session = me;
  const page = document.body.dataset.page;
  if (page === 'dictionary') {
    document.body.dataset.ready = 'true';
    return;
  }
  if (!run) {
    setStatus('Nothing is published yet: run `closeloop run` (or `npm start` for the demo), then reload this page.');
    for (const b of document.querySelectorAll('.chart-body, [data-block] .table-wrap, [data-block="tiles"]')) b.replaceChildren();
    document.body.dataset.ready = 'true';
    return;
  }
  let meta;
  try {
    meta = await getJson('/api/filters');
  } catch (err) {
    setStatus(err.message);
    document.body.dataset.ready = 'true';
    return;
  }
  const filters = new Filters(document.querySelector('form[data-filters]'), meta);
  filters.init(() => drawAll(filters, meta));
  await drawAll(filters, meta);
}

main();
