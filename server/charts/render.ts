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

export async function renderSvg(spec: TopLevelSpec, width?: number): Promise<string> {
  const view = new vega.View(vega.parse(compile(staticSpec(spec, width)).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export async function renderPng(spec: TopLevelSpec, width?: number, scale = 2): Promise<Buffer> {
  const svg = await renderSvg(spec, width);
  const r = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: '#ffffff',
    font: { loadSystemFonts: true, defaultFontFamily: 'Liberation Sans', sansSerifFamily: 'Liberation Sans' },
  });
  return r.render().asPng();
}
