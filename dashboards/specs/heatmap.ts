// Need domain x county heat map. Withheld cells are grey with "n<11"; cells no program
// serves are white with "no provider"; cells with unknown capacity say so. A value of 0 is
// the lightest blue, visibly different from both. Unreliable cells are hatched. The colours
// are classes cut at quantiles of the shown values (issue 16: one outlier in a skewed
// measure no longer paints every other cell the same pale blue), and each shown cell says
// its n in its unit, in a colour that contrasts with its class.
import type { TopLevelSpec } from 'vega-lite';
import {
  CONFIG, NO_PROVIDER, SCHEMA, SUPPRESSED, SUPPRESSED_LABEL, SUPPRESSED_NOTE, SUPPRESSED_TEXT, hatchLayer, preciseFormat, type ValueKind,
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
  /** What the cell's figure rests on, in its unit ("n = 1,234 needs"); printed in the cell. */
  n?: string | null;
}

/** ColorBrewer Blues, 5 classes, the upper two darkened so white text on them passes WCAG AA (4.5:1). */
export const HEAT_CLASSES = ['#eff3ff', '#bdd7e7', '#6baed6', '#2171b5', '#08519c'];
/** Text on each class: near-black on the light three, white on the dark two. */
export const HEAT_TEXT = ['#1f1f1f', '#1f1f1f', '#1f1f1f', '#ffffff', '#ffffff'];

/** Quantile (R type 7) of sorted values. */
function quantile(sorted: number[], p: number): number {
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  return sorted[lo]! + (h - lo) * ((sorted[Math.min(lo + 1, sorted.length - 1)]! - sorted[lo]!));
}

/** A break or class bound in the table's precision: 56.1%, 0.108, 1,234. */
export function boundText(v: number, kind: ValueKind): string {
  switch (kind) {
    case 'proportion':
      return `${(v * 100).toFixed(1)}%`;
    case 'ratio':
      return v.toFixed(3);
    case 'dollars':
      return `$${v.toLocaleString('en-US', { maximumFractionDigits: 2 })}`;
    case 'duration':
    case 'count':
      return v.toLocaleString('en-US', { maximumFractionDigits: 1 });
    default:
      return v.toLocaleString('en-US', { maximumFractionDigits: 2 });
  }
}

/**
 * Colour classes cut at the quintiles of the shown values (fewer when there are fewer
 * distinct values): about a fifth of the cells in each, however skewed the values. Each
 * class has a colour, a text colour and a legend label naming its bounds.
 */
export function quantileClasses(values: number[], kind: ValueKind): { breaks: number[]; labels: string[]; colors: string[]; text: string[] } {
  const sorted = [...values].sort((a, b) => a - b);
  const classes = Math.min(HEAT_CLASSES.length, new Set(sorted).size);
  const breaks = [...new Set(Array.from({ length: Math.max(0, classes - 1) }, (_, i) => quantile(sorted, (i + 1) / classes)))].filter((b) => b > sorted[0]!);
  const k = breaks.length + 1;
  const pick = Array.from({ length: k }, (_, i) => (k === 1 ? 2 : Math.round((i * (HEAT_CLASSES.length - 1)) / (k - 1))));
  const b = breaks.map((x) => boundText(x, kind));
  const labels = k === 1 ? ['all shown cells'] : Array.from({ length: k }, (_, i) => (i === 0 ? `under ${b[0]}` : i === k - 1 ? `${b[i - 1]} or more` : `${b[i - 1]} to under ${b[i]}`));
  return { breaks, labels, colors: pick.map((i) => HEAT_CLASSES[i]!), text: pick.map((i) => HEAT_TEXT[i]!) };
}

export function heatmapSpec(cells: HeatCell[], o: { title: string; subtitle?: string; valueTitle: string; kind: ValueKind; description: string; width?: number }): TopLevelSpec {
  const scale = quantileClasses(cells.filter((c) => !c.suppressed && c.value !== null).map((c) => c.value!), o.kind);
  const classOf = (v: number) => scale.breaks.filter((b) => v >= b).length;
  const rows = cells.map((c) => {
    const shown = !c.suppressed && c.value !== null;
    return {
      ...c,
      label: c.suppressed ? SUPPRESSED_LABEL : c.note === 'no provider' ? 'no provider' : c.note === 'capacity unknown' ? 'cap. ?' : c.value === null ? (c.note ?? '–') : (c.n ?? ''),
      class: shown ? scale.labels[classOf(c.value!)] : null,
      ink: shown ? scale.text[classOf(c.value!)] : SUPPRESSED_TEXT,
    };
  });
  const gridCells = new Set(cells.map((c) => c.domain)).size * new Set(cells.map((c) => c.county)).size;
  const subtitle = [o.subtitle, scale.labels.length > 1 ? `Colours: ${scale.labels.length} classes cut at quantiles of the shown cells, each holding about as many cells, so one outlier cannot wash out the rest.` : null, cells.length < gridCells ? 'Blank: no positive needs recorded there.' : null, cells.some((c) => c.suppressed) ? SUPPRESSED_NOTE : null, cells.some((c) => c.note === 'no provider') ? 'White "no provider": no directory program serves the need there.' : null, cells.some((c) => c.note === 'capacity unknown' && c.value === null) ? '"cap. ?": a serving program did not report its capacity.' : null].filter(Boolean) as string[];
  const x = { field: 'county', type: 'nominal' as const, title: null, axis: { labelAngle: -40, labelLimit: 140 } };
  const y = { field: 'domain', type: 'nominal' as const, title: null, axis: { labelLimit: 180 } };
  const tooltip = [
    { field: 'domain', title: 'Need domain' },
    { field: 'county', title: 'County' },
    { field: 'value', type: 'quantitative' as const, title: o.valueTitle, format: preciseFormat(o.kind) },
    { field: 'label', title: 'Note' },
    { field: 'n', title: 'n' },
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
            field: 'class',
            type: 'ordinal',
            title: o.valueTitle,
            scale: { domain: scale.labels, range: scale.colors },
            legend: { symbolType: 'square', symbolSize: 200, symbolStrokeColor: '#9a9a9a', labelLimit: 200, titleLimit: 480, columns: 5 },
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
        mark: { type: 'text', fontSize: 10 },
        encoding: { x, y, text: { field: 'label' }, color: { field: 'ink', type: 'nominal', scale: null, legend: null } },
      },
      ...hatchLayer(cells.filter((c) => c.value !== null), { x, y }, 420, [{ filter: 'isValid(datum.value)' }]),
    ],
    // the text layer's colours are its own (per class), not a second legend of the value scale
    resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } },
    config: CONFIG,
  } as TopLevelSpec;
}
