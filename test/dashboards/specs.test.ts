// Every spec builder: valid against Vega-Lite's JSON schema, compiles, renders to SVG in
// Node, and draws suppressed cells as suppressed ("n<11", grey), never as zero.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv } from 'ajv';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { describe, expect, it } from 'vitest';
import {
  barSpec, choroplethSpec, forestSpec, funnelSpec, heatmapSpec, intervalSpec, kmSpec, scorecardSpec, sparklineSpec, spcSpec, trendSpec,
  CATEGORY_COLORS, SIGNALS, SUPPRESSED, SUPPRESSED_LABEL, UNRELIABLE_LABEL, featureCentre, type SpcPointRow, type TrendPoint,
} from '../../dashboards/specs/index.ts';
import { renderPng, renderSvg, staticSpec } from '../../server/charts/render.ts';
import { countyFeatures } from '../../server/geo.ts';

const require = createRequire(import.meta.url);
const schemaPath = require.resolve('vega-lite').replace(/build[/\\]index\.js$/, 'build/vega-lite-schema.json');
const ajv = new Ajv({ strict: false, allErrors: true });
const validate = ajv.compile(JSON.parse(readFileSync(schemaPath, 'utf8')));

function expectValid(spec: TopLevelSpec) {
  const ok = validate(spec);
  expect(ok ? [] : validate.errors?.slice(0, 5)).toEqual([]);
  expect(() => compile(spec)).not.toThrow();
}

/** The rows of a named dataset of the spec, as the Vega view holds them after running. */
async function viewData(spec: TopLevelSpec, name = 'table') {
  const view = new vega.View(vega.parse(compile(staticSpec(spec)).spec), { renderer: 'none' });
  await view.runAsync();
  const rows = view.data(name);
  view.finalize();
  return rows as Array<Record<string, unknown>>;
}

/** SVG text with entities decoded, for plain-text assertions. */
const text = (svg: string) => svg.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&quot;', '"').replaceAll('&amp;', '&');
const SUPPRESSED_IN_SVG = 'n&lt;11';

const point = (period: string, value: number | null, suppressed = false, series = 'Everyone'): TrendPoint => ({
  period_start: period, period_label: period.slice(0, 7), series, value, ci_low: value === null ? null : value - 0.05, ci_high: value === null ? null : value + 0.05,
  suppressed, numerator: value === null ? null : 50, denominator: value === null ? null : 100,
});

const TREND: TrendPoint[] = [point('2026-01-01', 0.5), point('2026-02-01', null, true), point('2026-03-01', 0.55), point('2026-01-01', 0.4, false, 'Program A'), point('2026-03-01', 0.45, false, 'Program A')];

describe('trend', () => {
  const spec = trendSpec(TREND, { title: 'Closed loop', kind: 'proportion', yTitle: 'Share (%)', description: 'test' });

  it('is valid Vega-Lite and renders to SVG', async () => {
    expectValid(spec);
    const svg = await renderSvg(spec);
    expect(svg).toMatch(/^<svg/);
  });

  it('marks the suppressed period "n<11" and draws no point at zero for it', async () => {
    const svg = await renderSvg(spec);
    expect(svg).toContain(SUPPRESSED_IN_SVG);
    const withheld = await viewData(spec, 'suppressed');
    expect(withheld).toEqual([expect.objectContaining({ period_label: '2026-02', series: 'Everyone' })]);
    const rows = await viewData(spec);
    expect(rows.find((r) => r.period_label === '2026-02')?.value).toBeNull();
  });

  it('uses the colour-blind-safe palette for several series and says what the grey means', () => {
    expect(JSON.stringify(spec)).toContain(CATEGORY_COLORS[0]);
    expect(JSON.stringify((spec as { title: unknown }).title)).toContain('not zero');
  });

  it('PNG renders from the same spec', async () => {
    const png = await renderPng(spec);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
  });
});

/** Every mark item of a rendered view: its dataset row and its position in the whole chart. */
async function drawnItems(spec: TopLevelSpec): Promise<Array<{ role: string; type: string; datum: Record<string, unknown>; x: number; y: number }>> {
  const view = new vega.View(vega.parse(compile(staticSpec(spec)).spec), { renderer: 'none' });
  await view.runAsync();
  const out: Array<{ role: string; type: string; datum: Record<string, unknown>; x: number; y: number }> = [];
  type Node = { marktype?: string; role?: string; items?: Node[]; x?: number; y?: number; datum?: Record<string, unknown> };
  const walk = (node: Node, dx: number, dy: number, mark?: Node) => {
    for (const item of node.items ?? []) {
      if (item.marktype) walk(item, dx, dy, item);
      else {
        const x = dx + (item.x ?? 0);
        const y = dy + (item.y ?? 0);
        if (mark && mark.marktype !== 'group' && item.datum) out.push({ role: String(mark.role), type: String(mark.marktype), datum: item.datum, x, y });
        walk(item, mark?.marktype === 'group' ? x : dx, mark?.marktype === 'group' ? y : dy);
      }
    }
  };
  walk((view.scenegraph() as unknown as { root: Node }).root, 0, 0);
  view.finalize();
  return out;
}

describe('issue 15: maturity, reliability and missing figures drawn as what they are', () => {
  const pt = (period: string, value: number, o: Partial<TrendPoint> = {}): TrendPoint => ({ ...point(period, value), ...o });
  const points = [
    pt('2025-11-01', 0.4, { status: 'partial', partial: true }), pt('2025-12-01', 0.5, { status: 'final' }), pt('2026-01-01', 0.52, { status: 'final', unreliable: true }),
    pt('2026-02-01', 0.3, { status: 'provisional', provisional: true }),
  ];

  it('trend: provisional hollow and labelled, partial an open square and labelled, unreliable hatched with a legend entry', async () => {
    const s = trendSpec(points, { title: 'T', kind: 'proportion', yTitle: 'Share', description: 'x' });
    expectValid(s);
    const items = await drawnItems(s);
    const at = (label: string, type: string) => items.filter((i) => i.datum.period_label === label && i.type === type);
    // the provisional month: a hollow circle and the word
    expect(at('2026-02', 'symbol').some((i) => i.role === 'mark')).toBe(true);
    expect(at('2026-02', 'text').map((i) => i.datum.period_label)).toEqual(['2026-02']);
    const svg = text(await renderSvg(s));
    expect(svg).toContain('provisional');
    expect(svg).toContain('partial');
    expect(svg).toContain('Unreliable: relative standard error above 30% or fewer than 20 events');
    expect(JSON.stringify(s)).toContain('Hollow point, \\"provisional\\"');
    // filled points only for final periods
    const layers = (s as { layer: Array<{ mark: { filled?: boolean }; transform?: Array<{ filter: unknown }> }> }).layer;
    const filled = layers.find((l) => l.mark.filled === true)!;
    expect(JSON.stringify(filled.transform)).toContain('datum.partial !== true && datum.provisional !== true');
  });

  it('sparkline: provisional periods hollow and the latest labelled', async () => {
    const s = sparklineSpec(points, { kind: 'proportion', description: 'x' });
    expectValid(s);
    expect(text(await renderSvg(s))).toContain('prov.');
  });

  it("control chart: centre, limits, signals by colour with a legend, untested months hollow", async () => {
    const row = (i: number, value: number, signal: SpcPointRow['signal'], status: SpcPointRow['status'] = 'final'): SpcPointRow => ({
      period_start: `2025-${String(i).padStart(2, '0')}-01`, period_label: `2025-${String(i).padStart(2, '0')}`, value, centre: 0.5,
      lower: status === 'final' ? 0.4 : null, upper: status === 'final' ? 0.6 : null, signal, status, provisional: status === 'provisional', partial: status === 'partial',
      suppressed: false, unreliable: false, numerator: 50, denominator: 100,
    });
    const s = spcSpec([row(1, 0.5, SIGNALS[0]), row(2, 0.65, SIGNALS[1]), row(3, 0.52, SIGNALS[2]), row(4, 0.3, null, 'provisional')],
      { title: 'SPC', kind: 'proportion', yTitle: 'Share', description: 'x' });
    expectValid(s);
    const svg = text(await renderSvg(s));
    for (const label of SIGNALS) expect(svg).toContain(label);
    expect(svg).toContain('provisional');
  });

  it('issue 15: the scorecard keeps every organization on its own row when a median is not reached', async () => {
    // ORG-B has no median: before the fix its row vanished from that panel and ORG-C's median was drawn on ORG-B's row
    const cell = (org: string, measure: string, value: number | null, suppressed = false) => ({ org, measure, value, ci_low: null, ci_high: null, suppressed, denominator: 100 });
    // ORG-E has no days row at all (no referral in the period): its row must stay empty, ORG-F's on ORG-F's row
    const cells = [
      cell('ORG-A', 'acc', 0.8), cell('ORG-B', 'acc', 0.6), cell('ORG-C', 'acc', 0.7), cell('ORG-D', 'acc', null, true), cell('ORG-E', 'acc', 0.5), cell('ORG-F', 'acc', 0.9),
      cell('ORG-A', 'days', 20), cell('ORG-B', 'days', null), cell('ORG-C', 'days', 40), cell('ORG-D', 'days', 35), cell('ORG-F', 'days', 25),
    ];
    const s = scorecardSpec(cells, [{ id: 'acc', title: 'Acceptance', kind: 'proportion', area: 0.7 }, { id: 'days', title: 'Median days', kind: 'duration', area: 30 }], { title: 'S', description: 'x' });
    expectValid(s);
    const items = await drawnItems(s);
    const rowOf = (org: string, measure: string, type: string) => items.find((i) => i.datum.org === org && i.datum.measure === measure && i.type === type)?.y;
    for (const org of ['ORG-A', 'ORG-C', 'ORG-F']) expect(rowOf(org, 'days', 'symbol'), org).toBeCloseTo(rowOf(org, 'acc', 'symbol')!, 6);
    expect(rowOf('ORG-D', 'days', 'symbol')).toBeCloseTo(rowOf('ORG-D', 'acc', 'text')!, 6);
    // ORG-B's row says why it has no median, on ORG-B's own row
    expect(rowOf('ORG-B', 'days', 'text')).toBeCloseTo(rowOf('ORG-B', 'acc', 'symbol')!, 6);
    expect(text(await renderSvg(s))).toContain('median not reached');
  });
});

describe('other builders', () => {
  it('sparkline', async () => {
    const s = sparklineSpec(TREND.slice(0, 3), { kind: 'proportion', description: 'x' });
    expectValid(s);
    await renderSvg(s);
  });

  it('funnel: a withheld stage is a grey full-width bar labelled n<11, not a zero bar; each step shows its share of the step before', async () => {
    const stage = (order: number, stage: string, count: number | null, share: number | null, extra: Record<string, unknown> = {}) =>
      ({ order, stage, unit: 'people', count, suppressed: false, share_of_previous: share, share_ci_low: null, share_ci_high: null, unreliable: false, source: 'x', ...extra });
    const s = funnelSpec([
      stage(1, 'Screened', 1000, null),
      stage(2, 'Positive', null, null, { suppressed: true }),
      stage(3, 'Referred', 200, 0.4),
      stage(4, 'Accepted', 15, 0.075, { unreliable: true }),
    ], { title: 'Funnel', description: 'x' });
    expectValid(s);
    const svg = await renderSvg(s);
    expect(svg).toContain(SUPPRESSED_IN_SVG);
    expect(svg).toContain('200 · 40.0% of the step before');
    expect(svg).toContain('Unreliable: relative standard error above 30%');
    const withheld = await viewData(s, 'withheld');
    expect(withheld).toEqual([expect.objectContaining({ stage: 'Positive', bar: 1000 })]);
  });

  it('Kaplan-Meier curves: steps between the published grid days, no number at risk', async () => {
    const s = kmSpec([
      { series: 'A', time: 0, cases: 100, survival: 1, lower: null, upper: null },
      { series: 'A', time: 10, cases: 100, survival: 0.6, lower: 0.5, upper: 0.7 },
    ], { title: 'KM', xTitle: 'Days', yTitle: 'Open', description: 'x' });
    expectValid(s);
    expect(await renderSvg(s)).toContain('held to the next');
    const text = JSON.stringify(s);
    expect(text).not.toContain('at_risk');
    expect(text).not.toMatch(/at risk/i);
    const layers = (s as { layer: Array<{ mark: { type: string; interpolate?: string } }> }).layer;
    expect(layers.filter((l) => l.mark.type === 'line' || l.mark.type === 'area').map((l) => l.mark.interpolate)).toEqual(['step-after', 'step-after']);
  });

  it('scorecards', async () => {
    const s = scorecardSpec([
      { org: 'Org A', measure: 'closed_loop_rate', value: 0.5, ci_low: 0.4, ci_high: 0.6, suppressed: false, denominator: 100 },
      { org: 'Org B', measure: 'closed_loop_rate', value: null, ci_low: null, ci_high: null, suppressed: true, denominator: null },
      { org: 'Org A', measure: 'stale_open_referrals', value: 20, ci_low: null, ci_high: null, suppressed: false, denominator: null },
    ], [{ id: 'closed_loop_rate', title: 'Closed loop', kind: 'proportion', area: 0.55 }, { id: 'stale_open_referrals', title: 'Stale open', kind: 'count', area: 40 }], { title: 'Scorecards', description: 'x' });
    expectValid(s);
    expect(await renderSvg(s)).toContain(SUPPRESSED_IN_SVG);
  });

  it('heat map: suppressed cells grey, no-provider cells labelled, zero is a colour', async () => {
    const s = heatmapSpec([
      { domain: 'food', county: 'Wake', value: 0, suppressed: false, note: null },
      { domain: 'food', county: 'Swain', value: null, suppressed: true, note: null },
      { domain: 'housing', county: 'Wake', value: null, suppressed: false, note: 'no provider' },
      { domain: 'housing', county: 'Swain', value: 0.7, suppressed: false, note: null },
    ], { title: 'Heat', valueTitle: 'Share', kind: 'proportion', description: 'x' });
    expectValid(s);
    const svg = await renderSvg(s);
    expect(svg).toContain(SUPPRESSED_IN_SVG);
    expect(svg).toContain('no provider');
    expect(svg.toLowerCase()).toContain(SUPPRESSED.toLowerCase());
  });

  it('issue 16: heat map colours are quantile classes, so one outlier no longer washes out the rest; n is printed in each shown cell', async () => {
    // 20 ratios 0.05, 0.10, ..., 1.00 and one outlier, 40. Quintiles (R type 7) of the 21
    // sorted values sit at positions (21-1) x 0.2, 0.4, 0.6, 0.8 = 4, 8, 12, 16 (from 0):
    // 0.25, 0.45, 0.65, 0.85. So four cells in each class below 0.85, five (with 40) above.
    const values = [...Array.from({ length: 20 }, (_, i) => Math.round((i + 1) * 5) / 100), 40];
    const cells = values.map((v, i) => ({ domain: `d${Math.floor(i / 7)}`, county: `c${i % 7}`, value: v, suppressed: false, note: null, n: `${i + 100} / 360` }));
    const s = heatmapSpec(cells, { title: 'Demand', valueTitle: 'Needs per capacity-month', kind: 'ratio', description: 'x' });
    expectValid(s);
    const color = (s as { layer: Array<{ encoding?: { color?: { scale?: { domain: string[]; range: string[] } } } }> }).layer[0]!.encoding!.color!.scale!;
    expect(color.domain).toEqual(['under 0.250', '0.250 to under 0.450', '0.450 to under 0.650', '0.650 to under 0.850', '0.850 or more']);
    const rows = await viewData(s);
    const perClass = color.domain.map((c) => rows.filter((r) => r.class === c).length);
    expect(perClass).toEqual([4, 4, 4, 4, 5]);
    // without the outlier the breaks barely move (a linear scale would have put all 20 in its
    // bottom 3%): positions 19 x 0.2, 0.4, 0.6, 0.8 = 3.8, 7.6, 11.4, 15.2, so 0.20 + 0.8 x 0.05,
    // 0.40 + 0.6 x 0.05, 0.60 + 0.4 x 0.05, 0.80 + 0.2 x 0.05
    const without = heatmapSpec(cells.slice(0, 20), { title: 'Demand', valueTitle: 'Needs per capacity-month', kind: 'ratio', description: 'x' });
    expect((without as typeof s & { layer: Array<{ encoding: { color: { scale: { domain: string[] } } } }> }).layer[0]!.encoding.color.scale.domain)
      .toEqual(['under 0.240', '0.240 to under 0.430', '0.430 to under 0.620', '0.620 to under 0.810', '0.810 or more']);
    const svg = text(await renderSvg(s));
    for (const c of cells) expect(svg).toContain(`>${c.n}<`);
    for (const label of color.domain) expect(svg).toContain(label);
  });

  it('issue 16: the n printed in a heat-map cell contrasts with its colour (WCAG AA, 4.5:1 at any size)', () => {
    const luminance = (hex: string) => {
      const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
      return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
    };
    const contrast = (a: string, b: string) => {
      const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
      return (hi! + 0.05) / (lo! + 0.05);
    };
    const s = heatmapSpec([0.1, 0.2, 0.3, 0.4, 0.5].map((v, i) => ({ domain: 'd', county: `c${i}`, value: v, suppressed: false, note: null, n: 'n = 20' })), { title: 'T', valueTitle: 'V', kind: 'proportion', description: 'x' });
    const table = (s as unknown as { datasets: { table: Array<{ class: string; ink: string }> } }).datasets.table;
    const scale = (s as unknown as { layer: Array<{ encoding: { color: { scale: { domain: string[]; range: string[] } } } }> }).layer[0]!.encoding.color.scale;
    expect(new Set(table.map((r) => r.class)).size).toBe(5);
    for (const r of table) {
      const fill = scale.range[scale.domain.indexOf(r.class)]!;
      expect(contrast(fill, r.ink), `${r.ink} on ${fill}`).toBeGreaterThanOrEqual(4.5);
    }
  });

  it('choropleth of the North Carolina counties', async () => {
    const features = countyFeatures();
    expect(features).toHaveLength(100);
    expect(features.every((f) => f.id.startsWith('37'))).toBe(true);
    const s = choroplethSpec(features, [
      { county_fips: '37183', county: 'Wake', value: 0.4, suppressed: false },
      { county_fips: '37173', county: 'Swain', value: null, suppressed: true },
    ], { title: 'Map', valueTitle: 'Share', kind: 'proportion', description: 'x' });
    expectValid(s);
    const svg = await renderSvg(s);
    expect(svg.toLowerCase()).toContain(SUPPRESSED.toLowerCase());
    expect((svg.match(/<path/g) ?? []).length).toBeGreaterThanOrEqual(100);
    expect(svg).not.toContain(UNRELIABLE_LABEL);
  });

  it('choropleth: an unreliable county is hatched at its centre, with the legend entry (issue 15)', async () => {
    const features = countyFeatures();
    const wake = features.find((f) => f.id === '37183')!;
    // Wake County lies around 78.6 W, 35.8 N: its centre must fall inside that box
    const [lon, lat] = featureCentre(wake)!;
    expect(lon).toBeGreaterThan(-79.0);
    expect(lon).toBeLessThan(-78.2);
    expect(lat).toBeGreaterThan(35.5);
    expect(lat).toBeLessThan(36.1);
    const s = choroplethSpec(features, [
      { county_fips: '37183', county: 'Wake', value: 0.4, suppressed: false, unreliable: true },
      { county_fips: '37063', county: 'Durham', value: 0.3, suppressed: false, unreliable: false },
    ], { title: 'Map', valueTitle: 'Share', kind: 'proportion', description: 'x' });
    expectValid(s);
    const svg = await renderSvg(s);
    expect(svg).toContain(UNRELIABLE_LABEL);
    // the hatch layer reads the centres: Wake only
    expect((await viewData(s, 'centres')).filter((d) => d.unreliable === true)).toHaveLength(1);
  });

  it('intervals (PHQ-9, pre/post)', async () => {
    const s = intervalSpec([
      { label: 'Remission', series: 'Everyone', value: 0.2, ci_low: 0.15, ci_high: 0.25, suppressed: false },
      { label: 'Response', series: 'Everyone', value: null, ci_low: null, ci_high: null, suppressed: true },
    ], { title: 'PHQ-9', xTitle: 'Share', kind: 'proportion', description: 'x' });
    expectValid(s);
    expect(await renderSvg(s)).toContain(SUPPRESSED_IN_SVG);
  });

  it('forest plot: flagged groups vermillion diamonds, reference named, unreliable hatched', async () => {
    const row = (group: string, estimate: number | null, o: Partial<Parameters<typeof forestSpec>[0][number]> = {}) => ({
      group, estimate, low: estimate && estimate * 0.9, high: estimate && estimate * 1.1, value: 0.5, is_reference: false, suppressed: false, flagged: false,
      flagged_unadjusted: false, q_below_05: false, unreliable: false, p_value: 0.2, q_value: 0.3, status: '', ...o,
    });
    const rows = [row('white', null, { is_reference: true, status: 'reference' }), row('black', 0.8, { flagged: true, flagged_unadjusted: true, q_below_05: true, status: 'disparity (q < 0.05)' }),
      row('asian', 1.05, { unreliable: true }), row('aian', null, { suppressed: true, status: 'n<11 (withheld)' })];
    for (const scale of ['ratio', 'difference'] as const) {
      const s = forestSpec(rows, { title: 'Forest', scale, valueFormat: '.1%', description: 'x' });
      expectValid(s);
      const svg = await renderSvg(s);
      expect(svg).toContain('reference');
      expect(text(svg)).toContain(`${SUPPRESSED_LABEL} (withheld)`);
      expect(svg).toMatch(/#D55E00|#d55e00/);
      expect(text(svg)).toContain('Unreliable: relative standard error above 30%');
    }
  });

  it('bars', async () => {
    const s = barSpec([{ label: 'a.csv', series: 'Quarantined', value: 3, text: '3 of 10' }], { title: 'Bars', xTitle: 'Rows', description: 'x' });
    expectValid(s);
    expect(await renderSvg(s)).toContain('3 of 10');
  });
});
