// Shared look of every chart: one calm theme, colour-blind-safe colours (Okabe & Ito's
// palette for categories, single-hue blues for magnitudes), and one way of showing
// suppressed cells (grey with a "n<11" mark and a note), never as zero.
import type { Config } from 'vega-lite';

export const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Okabe-Ito, reordered so neighbours differ in lightness as well as hue (yellow last). */
export const CATEGORY_COLORS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#000000', '#F0E442'];
export const PRIMARY = '#0072B2';
/** Highlight for flagged disparities (vermillion: distinct from blue for every colour vision type). */
export const FLAG = '#D55E00';
export const MUTED = '#767676';
export const SUPPRESSED = '#c9c9c9';
export const SUPPRESSED_TEXT = '#4d4d4d';
export const NO_PROVIDER = '#ffffff';
export const SEQUENTIAL_SCHEME = 'blues';

export const SUPPRESSED_LABEL = 'n<11';
export const SUPPRESSED_NOTE = 'Grey "n<11": withheld because fewer than 11 people or events (or to protect such a cell); not zero.';

/**
 * Precision, maturity and missing figures are different states from withheld (issue 15):
 * an unreliable figure is hatched (a symbol of diagonal lines laid over the mark, with its
 * own legend entry); a provisional period is hollow and labelled; a partial period is an
 * open square; a figure that does not exist (a median not reached) says so in words.
 */
export const HATCH_PATH = 'M -1 1 L 1 -1 M -1 0 L 0 -1 M 0 1 L 1 0 M -1 -0.5 L -0.5 -1 M 0.5 1 L 1 0.5';
export const HATCH_COLOR = '#1f1f1f';
export const UNRELIABLE_LABEL = 'Unreliable: relative standard error above 30% or fewer than 20 events';
export const PROVISIONAL_NOTE = 'Hollow point, "provisional": some units\' outcome windows are still open, so the figure can still change; never compared as final.';
export const PARTIAL_NOTE = 'Open square, "partial": the period began before the data did; never compared with a full period.';
export const NOT_REACHED_LABEL = 'median not reached';

/**
 * A layer laying the hatch over marks whose datum.unreliable is true, with a legend entry;
 * none (so no legend entry) when no shown row of `rows` is unreliable.
 */
export function hatchLayer(rows: ReadonlyArray<{ unreliable?: boolean | null; suppressed?: boolean }>, encoding: Record<string, unknown>, size = 170, extraFilters: unknown[] = []): never[] {
  if (!rows.some((r) => r.unreliable === true && r.suppressed !== true)) return [];
  return [{
    transform: [...extraFilters, { filter: 'datum.unreliable === true && datum.suppressed !== true' }, { calculate: `'${UNRELIABLE_LABEL}'`, as: 'reliability' }],
    mark: { type: 'point', filled: false, strokeWidth: 1, color: HATCH_COLOR, opacity: 0.85 },
    encoding: {
      ...encoding,
      size: { value: size },
      shape: { field: 'reliability', type: 'nominal', title: null, scale: { domain: [UNRELIABLE_LABEL], range: [HATCH_PATH] }, legend: { orient: 'bottom', title: null, symbolSize: 160, symbolStrokeColor: HATCH_COLOR, labelLimit: 420 } },
    },
  } as never];
}

export const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", Arial, sans-serif';

export const CONFIG: Config = {
  font: FONT,
  background: '#ffffff',
  padding: 8,
  view: { stroke: null },
  axis: {
    labelColor: '#3b3b3b',
    titleColor: '#3b3b3b',
    labelFontSize: 11,
    titleFontSize: 12,
    titleFontWeight: 'normal',
    gridColor: '#e6e6e6',
    domainColor: '#9a9a9a',
    tickColor: '#9a9a9a',
  },
  legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', labelColor: '#3b3b3b', titleColor: '#3b3b3b', orient: 'bottom', direction: 'horizontal' },
  title: { fontSize: 14, fontWeight: 600, anchor: 'start', color: '#1f1f1f', subtitleColor: '#555555', subtitleFontSize: 11 },
  range: { category: CATEGORY_COLORS },
  line: { strokeWidth: 2 },
  point: { filled: true, size: 36 },
};

export type ValueKind = 'proportion' | 'rate' | 'duration' | 'count' | 'mean' | 'ratio' | 'dollars';

/** d3-format strings per kind of value. */
export function valueFormat(kind: ValueKind): string {
  switch (kind) {
    case 'proportion':
      return '.0%';
    case 'rate':
      return ',.1f';
    case 'dollars':
      return '$,.0f';
    case 'duration':
    case 'count':
      return ',.0f';
    case 'mean':
      return '+.1f';
    case 'ratio':
      return '.2f';
  }
}

/** The same, with more precision for tooltips and tables. */
export function preciseFormat(kind: ValueKind): string {
  switch (kind) {
    case 'proportion':
      return '.1%';
    case 'rate':
      return ',.2f';
    case 'dollars':
      return '$,.2f';
    case 'duration':
    case 'count':
      return ',.0f';
    case 'mean':
      return '+.2f';
    case 'ratio':
      return '.3f';
  }
}
