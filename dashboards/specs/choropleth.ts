// County choropleth of unmet need (North Carolina county shapes from us-atlas, served
// with the page, never fetched from outside). Withheld counties are grey; counties with no
// attributed members are white with a thin outline; an unreliable county figure is hatched
// (the hatch symbol at the county's centre, with its legend entry: issue 15).
import type { TopLevelSpec } from 'vega-lite';
import { CONFIG, SCHEMA, SEQUENTIAL_SCHEME, SUPPRESSED, SUPPRESSED_NOTE, hatchLayer, preciseFormat, valueFormat, type ValueKind } from './theme.ts';

export interface CountyFeature {
  type: 'Feature';
  id: string;
  properties: { name: string };
  geometry: unknown;
}

export interface CountyValue {
  county_fips: string;
  county: string;
  value: number | null;
  suppressed: boolean;
  note?: string | null;
  unreliable?: boolean;
}

/** The mean of a feature's outer-ring vertices: inside every North Carolina county shape, which is enough to place a symbol. */
export function featureCentre(f: CountyFeature): [number, number] | null {
  const g = f.geometry as { type?: string; coordinates?: unknown } | null;
  const rings: number[][][] = g?.type === 'Polygon' ? [(g.coordinates as number[][][])[0]!]
    : g?.type === 'MultiPolygon' ? (g.coordinates as number[][][][]).map((p) => p[0]!) : [];
  // the largest ring: a county's mainland, not an island
  const ring = rings.sort((a, b) => b.length - a.length)[0];
  if (!ring?.length) return null;
  const lon = ring.reduce((t, c) => t + c[0]!, 0) / ring.length;
  const lat = ring.reduce((t, c) => t + c[1]!, 0) / ring.length;
  return [lon, lat];
}

export function choroplethSpec(features: CountyFeature[], values: CountyValue[], o: { title: string; subtitle?: string; valueTitle: string; kind: ValueKind; description: string; width?: number; height?: number }): TopLevelSpec {
  const subtitle = [o.subtitle, values.some((v) => v.suppressed) ? SUPPRESSED_NOTE : null, 'White: no figures for the county in this view.'].filter(Boolean) as string[];
  const byFips = new Map(features.map((f) => [f.id, featureCentre(f)]));
  const centres = values.flatMap((v) => {
    const c = byFips.get(v.county_fips);
    return c ? [{ ...v, lon: c[0], lat: c[1] }] : [];
  });
  return {
    $schema: SCHEMA,
    title: { text: o.title, subtitle },
    description: o.description,
    width: o.width ?? 'container',
    height: o.height ?? 300,
    datasets: { table: values, counties: features as unknown as Record<string, unknown>[], centres },
    projection: { type: 'mercator' },
    layer: [{
    data: { name: 'counties', format: { type: 'json' } },
    transform: [
      { lookup: 'id', from: { data: { name: 'table' }, key: 'county_fips', fields: ['value', 'suppressed', 'note', 'county'] } },
      { calculate: "datum.suppressed ? 'n<11 (withheld)' : isValid(datum.value) ? '' : 'no figures'", as: 'status' },
    ],
    mark: { type: 'geoshape', strokeWidth: 0.6, invalid: 'show' },
    encoding: {
      color: {
        condition: [
          { test: 'datum.suppressed', value: SUPPRESSED },
          { test: '!isValid(datum.value)', value: '#ffffff' },
        ],
        field: 'value',
        type: 'quantitative',
        title: o.valueTitle,
        scale: { scheme: SEQUENTIAL_SCHEME },
        legend: { format: valueFormat(o.kind), gradientLength: 200 },
      },
      stroke: { condition: { test: '!isValid(datum.value) && !datum.suppressed', value: '#b0b0b0' }, value: '#ffffff' },
      tooltip: [
        { field: 'properties.name', title: 'County' },
        { field: 'id', title: 'FIPS' },
        { field: 'value', type: 'quantitative', title: o.valueTitle, format: preciseFormat(o.kind) },
        { field: 'status', title: 'Note' },
      ],
    },
    },
    ...hatchLayer(values, { longitude: { field: 'lon', type: 'quantitative' }, latitude: { field: 'lat', type: 'quantitative' } }, 120)
      .map((l) => ({ ...(l as object), data: { name: 'centres' } }))],
    config: CONFIG,
  } as TopLevelSpec;
}
