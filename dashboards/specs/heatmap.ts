// Need domain x county heat map. Withheld cells are grey with "n<11"; cells no program
// serves are white with "no provider"; cells with unknown capacity say so. A value of 0 is
// the lightest blue, visibly different from both. Unreliable cells are hatched.
import type { TopLevelSpec } from 'vega-lite';
import {
  CONFIG, NO_PROVIDER, SCHEMA, SEQUENTIAL_SCHEME, SUPPRESSED, SUPPRESSED_LABEL, SUPPRESSED_NOTE, SUPPRESSED_TEXT, hatchLayer, preciseFormat, valueFormat, type ValueKind,
} from './theme.ts';

export interface HeatCell {
  domain: string;
  county: string;
  value: number | null;
  suppressed: boolean;
  /** 'no provider', 'capacity unknown', ... */
  note: string | null;
  detail?: string | null;
  unreliable?: boolean;
}

export function heatmapSpec(cells: HeatCell[], o: { title: string; subtitle?: string; valueTitle: string; kind: ValueKind; description: string; width?: number; reverse?: boolean }): TopLevelSpec {
  const rows = cells.map((c) => ({ ...c, label: c.suppressed ? SUPPRESSED_LABEL : c.note === 'no provider' ? 'no provider' : c.note === 'capacity unknown' ? 'cap. ?' : c.value === null ? (c.note ?? '–') : '' }));
  const gridCells = new Set(cells.map((c) => c.domain)).size * new Set(cells.map((c) => c.county)).size;
  const subtitle = [o.subtitle, cells.length < gridCells ? 'Blank: no positive needs recorded there.' : null, cells.some((c) => c.suppressed) ? SUPPRESSED_NOTE : null, cells.some((c) => c.note === 'no provider') ? 'White "no provider": no directory program serves the need there.' : null, cells.some((c) => c.note === 'capacity unknown' && c.value === null) ? '"cap. ?": a serving program did not report its capacity.' : null].filter(Boolean) as string[];
  const x = { field: 'county', type: 'nominal' as const, title: null, axis: { labelAngle: -40, labelLimit: 140 } };
  const y = { field: 'domain', type: 'nominal' as const, title: null, axis: { labelLimit: 180 } };
  const tooltip = [
    { field: 'domain', title: 'Need domain' },
    { field: 'county', title: 'County' },
    { field: 'value', type: 'quantitative' as const, title: o.valueTitle, format: preciseFormat(o.kind) },
    { field: 'label', title: 'Note' },
    { field: 'detail', title: 'Served by' },
  ];
  return {
    $schema: SCHEMA,
    title: { text: o.title, subtitle: subtitle.length ? subtitle : undefined },
    description: o.description,
    width: o.width ?? 'container',
    height: { step: 28 },
    datasets: { table: rows },
    data: { name: 'table' },
    layer: [
      {
        mark: { type: 'rect', stroke: '#ffffff', strokeWidth: 1, invalid: 'show' },
        encoding: {
          x,
          y,
          color: {
            condition: [
              { test: 'datum.suppressed', value: SUPPRESSED },
              { test: '!isValid(datum.value)', value: NO_PROVIDER },
            ],
            field: 'value',
            type: 'quantitative',
            title: o.valueTitle,
            scale: { scheme: SEQUENTIAL_SCHEME, reverse: Boolean(o.reverse) },
            legend: { format: valueFormat(o.kind), gradientLength: 200 },
          },
          tooltip,
        },
      },
      {
        transform: [{ filter: '!isValid(datum.value) && !datum.suppressed' }],
        mark: { type: 'rect', fill: null, stroke: '#9a9a9a', strokeDash: [2, 2], strokeWidth: 1 },
        encoding: { x, y },
      },
      {
        mark: { type: 'text', fontSize: 9, color: SUPPRESSED_TEXT },
        encoding: { x, y, text: { field: 'label' } },
      },
      ...hatchLayer(cells.filter((c) => c.value !== null), { x, y }, 420, [{ filter: 'isValid(datum.value)' }]),
    ],
    config: CONFIG,
  } as TopLevelSpec;
}
