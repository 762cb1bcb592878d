// County choropleth of unmet need (North Carolina county shapes from us-atlas, served
// with the page, never fetched from outside). Withheld counties are grey; counties with no
// attributed members are white with a thin outline.
import type { TopLevelSpec } from 'vega-lite';
import { CONFIG, SCHEMA, SEQUENTIAL_SCHEME, SUPPRESSED, SUPPRESSED_NOTE, preciseFormat, valueFormat, type ValueKind } from './theme.ts';

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
}

export function choroplethSpec(features: CountyFeature[], values: CountyValue[], o: { title: string; subtitle?: string; valueTitle: string; kind: ValueKind; description: string; width?: number; height?: number }): TopLevelSpec {
  const subtitle = [o.subtitle, values.some((v) => v.suppressed) ? SUPPRESSED_NOTE : null, 'White: no figures for the county in this view.'].filter(Boolean) as string[];
  return {
    $schema: SCHEMA,
    title: { text: o.title, subtitle },
    description: o.description,
    width: o.width ?? 'container',
    height: o.height ?? 300,
    datasets: { table: values, counties: features as unknown as Record<string, unknown>[] },
    data: { name: 'counties', format: { type: 'json' } },
    projection: { type: 'mercator' },
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
    config: CONFIG,
  } as TopLevelSpec;
}
