// North Carolina county shapes and names from the us-atlas package (installed, served
// with the pages: no map tiles or outside requests). Coordinates are rounded to 4
// decimals (about 10 m), plenty for a state map and a fraction of the size.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { feature } from 'topojson-client';
import type { CountyFeature } from '../dashboards/specs/choropleth.ts';

const require = createRequire(import.meta.url);
export const STATE_FIPS = '37';

let cache: { features: CountyFeature[]; names: Map<string, string> } | null = null;

function load() {
  if (cache) return cache;
  const topo = JSON.parse(readFileSync(require.resolve('us-atlas/counties-10m.json'), 'utf8'));
  const fc = feature(topo, topo.objects.counties) as unknown as { features: Array<{ id: string; properties: { name: string }; geometry: unknown }> };
  const round = (v: unknown): unknown => (Array.isArray(v) ? v.map(round) : typeof v === 'number' ? Math.round(v * 1e4) / 1e4 : v);
  const features: CountyFeature[] = [];
  const names = new Map<string, string>();
  for (const f of fc.features) {
    names.set(String(f.id), f.properties.name);
    if (!String(f.id).startsWith(STATE_FIPS)) continue;
    const g = f.geometry as { type: string; coordinates: unknown };
    features.push({ type: 'Feature', id: String(f.id), properties: { name: f.properties.name }, geometry: { type: g.type, coordinates: round(g.coordinates) } });
  }
  cache = { features, names };
  return cache;
}

export function countyFeatures(): CountyFeature[] {
  return load().features;
}

/** "Wake" for 37183; the FIPS code itself when unknown. */
export function countyName(fips: string): string {
  return load().names.get(fips) ?? fips;
}

/** "Wake (37183)" */
export function countyLabel(fips: string): string {
  const n = load().names.get(fips);
  return n ? `${n} (${fips})` : fips;
}
