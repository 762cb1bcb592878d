// A page definition to its HTML shell. Scripts are external files only (no inline
// script, no style attributes): the page runs under script-src 'self'; style-src 'self'.
import { METRICS, METRIC_GROUPS, READING_GUIDE } from '../../models/metrics/catalog.ts';
import { dimensionLabel } from '../../server/labels.ts';
import { attrs, esc } from './html.ts';
import { PAGES, type Block, type PageDef } from './pages.ts';

const GROUP_TITLES: Record<string, string> = { access: 'Access', closed_loop: 'Closed loop', service_gaps: 'Service gaps', outcomes: 'Outcomes' };

let blockCounter = 0;

function chartBlock(b: Extract<Block, { kind: 'chart' }>, h: number): string {
  blockCounter += 1;
  const id = `chart-${blockCounter}`;
  const fixed = new URLSearchParams(b.fixed ?? {}).toString();
  return `<figure${attrs({ class: `card chart${b.wide ? ' wide' : ''}`, id, 'data-chart': b.chart, 'data-fixed': fixed || undefined, 'data-uses': (b.uses ?? []).join(',') || undefined, 'aria-labelledby': `${id}-title` })}>
  <figcaption class="chart-head">
    <h${h} class="chart-title" id="${id}-title">Loading…</h${h}>
    ${b.definition ? `<a class="definition-link" id="${id}-def" aria-labelledby="${id}-def ${id}-title" href="/dictionary#${esc(b.definition)}">Definition</a>` : ''}
  </figcaption>
  <div class="chart-body" data-state="loading"></div>
  <p class="chart-notes" hidden></p>
  ${b.noDownloads ? '' : `<div class="chart-actions">
    <a class="download" data-format="csv" id="${id}-csv" aria-labelledby="${id}-csv ${id}-title" href="#" download>Download data (CSV)</a>
    <a class="download" data-format="svg" id="${id}-svg" aria-labelledby="${id}-svg ${id}-title" href="#" download>Image (SVG)</a>
    <a class="download" data-format="png" id="${id}-png" aria-labelledby="${id}-png ${id}-title" href="#" download>Image (PNG)</a>
  </div>`}
  <details class="chart-table">
    <summary>Table of the figures</summary>
    <div class="table-wrap" tabindex="0" role="region" aria-labelledby="${id}-title"></div>
  </details>
</figure>`;
}

/** A block's heading level: 2 at the top of a page, 3 inside a section (no level skipped after the h1). */
function block(b: Block, h = 2): string {
  switch (b.kind) {
    case 'chart':
      return chartBlock(b, h);
    case 'tiles':
      return `<section class="tiles" data-block="tiles"${attrs({ 'data-uses': b.uses.join(',') })} aria-label="Headline figures"><p class="loading">Loading headline figures…</p></section>`;
    case 'table':
      return `<section${attrs({ class: 'card table-card wide', 'data-block': 'table', 'data-source': b.source, 'data-uses': (b.uses ?? []).join(',') || undefined, 'data-limit': b.limit })}>
  <h${h} id="table-${esc(b.source)}">${esc(b.heading)}</h${h}>${b.intro ? `\n  <p class="intro">${esc(b.intro)}</p>` : ''}
  <div class="table-wrap" tabindex="0" role="region" aria-labelledby="table-${esc(b.source)}"><p class="loading">Loading…</p></div>
  ${b.source === 'gaps' ? '<p class="chart-actions"><a class="download" data-table-download="gaps" href="#" download>Download data (CSV)</a></p>' : ''}
</section>`;
    case 'partner':
      return `<section class="card wide partner" data-block="partner">
  <h${h} id="partner-gap-analysis">Partner gap analysis</h${h}>
  <p class="intro">For one partner organization: the gap table for the counties it serves, with its referral figures beside the whole area's. Other organizations' figures are never included.</p>
  <label class="inline">Organization <select name="org" data-options="orgs"></select></label>
  <p class="chart-actions"><a class="download" data-partner-download="csv" href="#" download>Gap analysis (CSV)</a> <a class="download" data-partner-download="xlsx" href="#" download>Gap analysis (XLSX)</a></p>
  <div class="partner-body"></div>
</section>`;
    case 'partner-home':
      return `<section class="card wide partner-home" data-block="partner-home" aria-labelledby="partner-home-title" hidden>
  <h${h} id="partner-home-title">Your organization: <span data-partner-name></span></h${h}>
  <p class="intro">Its own referral figures beside the whole area's, the largest gaps in the counties it serves and its downloads. Other organizations' figures are never shown.</p>
  <div class="partner-home-body"><p class="loading">Loading…</p></div>
</section>`;
    case 'story':
      return `<section class="card wide story" data-block="story" aria-labelledby="story-title">
  <h${h} id="story-title">What the figures say</h${h}>
  <p class="intro">The whole area over the whole span (the filters above apply to the headline figures and charts below, not to this), from the published figures only: groups withheld, unreliable or unknown are never picked.</p>
  <div class="story-body"><p class="loading">Loading…</p></div>
</section>`;
    case 'dictionary':
      return dictionary();
    case 'notes':
      return `<section class="card wide notes">\n  <h3>${esc(b.heading)}</h3>\n  <ul>${b.items.map((t) => `<li>${esc(t)}</li>`).join('')}</ul>\n</section>`;
    case 'print':
      return `<section class="print-bar no-print"><button type="button" class="button" data-action="print">Print or save as PDF</button> <a class="button secondary" data-report-download href="/api/exports/report.xlsx" download>Download the report workbook (XLSX)</a> <a class="button secondary" data-report-download-csv href="/api/exports/report.csv" download>Report data (CSV)</a></section>`;
    case 'section':
      return `<section class="group">
  <h2>${esc(b.heading)}</h2>${b.intro ? `\n  <p class="intro">${esc(b.intro)}</p>` : ''}
  <div class="grid">
${b.blocks.map((x) => block(x, 3)).join('\n')}
  </div>
</section>`;
  }
}

/** What a mirrored metric follows of its measure, and every difference with its reason. */
function fidelity(f: NonNullable<(typeof METRICS)[number]['fidelity']>): string {
  const rows = f.differs.map((d) => `<tr><td>${esc(d.what)}</td><td>${esc(d.why)}</td></tr>`).join('');
  return `<details class="fidelity"><summary>Fidelity to ${esc(f.measure)}</summary>
  <p>Matches: ${esc(f.matches.join('; '))}.</p>
  <table><thead><tr><th scope="col">What differs</th><th scope="col">Why</th></tr></thead><tbody>${rows}</tbody></table>
  </details>`;
}

function dictionary(): string {
  const groups = METRIC_GROUPS.map((g) => {
    const items = METRICS.filter((m) => m.group === g).map((m) => `<article class="definition" id="${esc(m.id)}">
  <h3>${esc(m.title)} <code>${esc(m.id)}</code></h3>
  <p>${esc(m.definition)}</p>
  <dl>
    <dt>Numerator</dt><dd>${esc(m.numerator)}</dd>
    <dt>Denominator</dt><dd>${esc(m.denominator)}</dd>
    <dt>Unit</dt><dd>${esc(m.unit)} (${esc(m.kind)})</dd>
    <dt>Direction</dt><dd>${m.direction === 'higher_better' ? 'Higher is better' : 'Lower is better'}</dd>
    <dt>Anchor</dt><dd>${esc(m.anchor)}${m.snapshot ? ' (snapshot at the as-of date)' : ''}</dd>
    <dt>Windows</dt><dd>${m.windows.length ? esc(m.windows.map((w) => `${w} days`).join(', ')) : 'none'}</dd>
    <dt>Final after</dt><dd>${m.snapshot ? 'a snapshot at the as-of date' : m.maturityDays === 0 ? 'the period\'s end' : `${m.maturityDays} days after the period\'s end`}</dd>
    <dt>Cut by</dt><dd>${esc(m.dimensions.map(dimensionLabel).join(', '))}</dd>${m.mirrors ? `\n    <dt>Mirrors</dt><dd>${esc(m.mirrors)} (closeloop's own implementation, not certified)</dd>` : ''}
  </dl>${m.fidelity ? `\n  ${fidelity(m.fidelity)}` : ''}
</article>`);
    return `<section class="group"><h2 id="group-${esc(g)}">${esc(GROUP_TITLES[g] ?? g)}</h2>\n${items.join('\n')}\n</section>`;
  });
  const toc = METRIC_GROUPS.map((g) => `<li><a href="#group-${esc(g)}">${esc(GROUP_TITLES[g] ?? g)}</a>: ${METRICS.filter((m) => m.group === g).map((m) => `<a href="#${esc(m.id)}">${esc(m.title)}</a>`).join(', ')}</li>`);
  const guide = `<section class="group reading-guide" id="reading-guide"><h2>How to read the figures</h2>\n${READING_GUIDE.map((g) => `<article class="definition"><h3>${esc(g.heading)}</h3><p>${esc(g.text)}</p></article>`).join('\n')}\n</section>`;
  return `<nav class="card wide toc" aria-label="Metrics"><ul><li><a href="#reading-guide">How to read the figures</a>: final and provisional periods, reliability, changes, reference groups, the disparity flag</li>${toc.join('')}</ul><p><a href="/api/dictionary?format=markdown">The dictionary as Markdown</a></p></nav>\n${guide}\n${groups.join('\n')}`;
}

function filterForm(p: PageDef): string {
  if (!p.filters.length) return '';
  const controls = p.filters.map((f) => `<label>${esc(f.label)} <select${attrs({ name: f.id, 'data-options': f.options, 'data-default': f.default, 'data-any': f.any })}></select></label>`);
  return `<form class="filters no-print" data-filters aria-label="Filters">
  ${controls.join('\n  ')}
  <button type="reset" class="button secondary">Reset</button>
</form>`;
}

/** The chart libraries' URLs (hashed names, see server/routes/assets.ts). */
export interface VendorUrls {
  vega: string;
  vegaLite: string;
  vegaEmbed: string;
  interpreter: string;
}

/** Whether a page draws a chart (charts, or the headline tiles' sparklines). */
export function drawsCharts(blocks: Block[]): boolean {
  return blocks.some((b) => b.kind === 'chart' || b.kind === 'tiles' || (b.kind === 'section' && drawsCharts(b.blocks)));
}

/** Vega, Vega-Lite and vega-embed (about 200 kB compressed) only on pages that draw a chart. */
function chartScripts(p: PageDef, v: VendorUrls): string {
  if (!drawsCharts(p.blocks)) return '';
  return `
  <script src="${esc(v.vega)}" defer></script>
  <script src="${esc(v.vegaLite)}" defer></script>
  <script src="${esc(v.vegaEmbed)}" defer></script>`;
}

export function renderPage(p: PageDef, vendor: VendorUrls): string {
  blockCounter = 0;
  const charts = drawsCharts(p.blocks);
  const nav = PAGES.filter((x) => x.inNav).map((x) => `<a${attrs({ href: x.path, 'aria-current': x.id === p.id ? 'page' : undefined })}>${esc(x.nav)}</a>`).join('\n      ');
  const body = p.blocks.map((b) => block(b)).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${esc(p.title)} · closeloop</title>
  <link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="/static/css/app.css">
  <link rel="stylesheet" href="/static/css/print.css" media="print">${chartScripts(p, vendor)}
  <script type="module" src="/static/js/app.js"></script>
</head>
<body${attrs({ 'data-page': p.id, 'data-interpreter': charts ? vendor.interpreter : undefined })}>
  <a class="skip" href="#main">Skip to content</a>
  <header class="topbar">
    <div class="brand"><a href="/">closeloop</a><span class="tagline">outcomes of coordinated health and social care</span></div>
    <p class="run-info" data-run-info aria-live="polite"></p>
    <div class="session no-print" data-session hidden>
      <span data-user></span>
      <form method="post" action="/signout" class="signout"><button type="submit" class="button secondary">Sign out</button></form>
    </div>
  </header>
  <nav class="mainnav no-print" aria-label="Dashboards">
      ${nav}
  </nav>
  <p class="stale-banner" data-stale role="alert" hidden></p>
  <main id="main">
    <div class="page-head">
      <h1>${esc(p.title)}</h1>
      <p class="lede">${esc(p.lede)}</p>${p.audience ? `\n      <p class="audience">${esc(p.audience)}</p>` : ''}
    </div>
    ${filterForm(p)}
    <p class="status" data-status role="status" hidden></p>
    <div class="grid">
${body}
    </div>
  </main>
  <footer class="footer">
    <p>Aggregates only: no person-level data is served. Figures for fewer than 11 people or events are withheld and shown as <span class="suppressed-chip">n&lt;11</span>, never as zero. <a href="/dictionary">Metric dictionary</a></p>
  </footer>
</body>
</html>
`;
}
