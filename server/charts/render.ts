// Server-side chart images: Vega-Lite -> Vega -> SVG in Node (the 'none' renderer needs
// no canvas), and PNG by rasterising that SVG with resvg. Used for the image downloads and
// for reports.
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** Width for charts whose width follows their container in the page. */
export const STATIC_WIDTH = 760;

/** A copy of the spec with every `width: 'container'` replaced by a fixed width. */
export function staticSpec(spec: TopLevelSpec, width = STATIC_WIDTH): TopLevelSpec {
  const fix = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(fix);
    if (!node || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      if (k === 'datasets') out[k] = v; // data are never rewritten
      else if (k === 'width' && v === 'container') out[k] = width;
      else out[k] = fix(v);
    }
    return out;
  };
  return fix(spec) as TopLevelSpec;
}

/** Where a downloaded image came from, printed under it so it keeps its provenance when passed on. */
export interface Provenance {
  runId: string;
  asOf: string;
  /** The filters the image was drawn with (name -> value); empty: none. */
  filters: Record<string, string>;
}

export const WITHHELD_NOTE = 'n<11 withheld: figures for fewer than 11 people or events are not shown.';

export function provenanceLines(p: Provenance): string[] {
  const filters = Object.entries(p.filters).map(([k, v]) => `${k}=${v}`).join(', ');
  return [`Source: closeloop, run ${p.runId}, as of ${p.asOf}.`, `Filters: ${filters || 'none'}.`, WITHHELD_NOTE];
}

const FOOTER_LINE = 13;
const FOOTER_MIN_WIDTH = 480;
const xmlText = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

/** Words of `text` in lines of at most `max` characters. */
function wrap(text: string, max: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > max) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return line ? [...lines, line] : lines;
}

/** The chart's SVG made taller (and at least 480 px wide) with the provenance lines below it. */
export function withFooter(svg: string, p: Provenance): string {
  const root = /^<svg[^>]*\swidth="([\d.]+)"\s+height="([\d.]+)"\s+viewBox="0 0 [\d.]+ [\d.]+"/.exec(svg);
  if (!root) throw new Error('chart SVG without width, height and viewBox: cannot add its provenance footer');
  const width = Math.max(Number(root[1]), FOOTER_MIN_WIDTH);
  const top = Number(root[2]);
  const lines = provenanceLines(p).flatMap((l) => wrap(l, Math.floor((width - 10) / 5.6)));
  const height = top + 6 + lines.length * FOOTER_LINE;
  const head = root[0].replace(/width="[\d.]+"\s+height="[\d.]+"\s+viewBox="[^"]*"/, `width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"`);
  const text = lines.map((l, i) => `<text x="5" y="${top + 2 + (i + 1) * FOOTER_LINE - 3}">${xmlText(l)}</text>`).join('');
  const footer = `<g class="provenance" font-family="Liberation Sans, Arial, sans-serif" font-size="10" fill="#444"><rect x="0" y="${top}" width="${width}" height="${height - top}" fill="white"/>${text}</g>`;
  return `${head}${svg.slice(root[0].length, svg.lastIndexOf('</svg>'))}${footer}</svg>`;
}

export async function renderSvg(spec: TopLevelSpec, width?: number, provenance?: Provenance): Promise<string> {
  const view = new vega.View(vega.parse(compile(staticSpec(spec, width)).spec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    return provenance ? withFooter(svg, provenance) : svg;
  } finally {
    view.finalize();
  }
}

export async function renderPng(spec: TopLevelSpec, width?: number, scale = 2, provenance?: Provenance): Promise<Buffer> {
  const svg = await renderSvg(spec, width, provenance);
  const r = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: '#ffffff',
    font: { loadSystemFonts: true, defaultFontFamily: 'Liberation Sans', sansSerifFamily: 'Liberation Sans' },
  });
  return r.render().asPng();
}
