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
