// Partner scorecards: one row per organization, one panel per measure (acceptance,
// closed loop, median days to close, stale open referrals), each with the area's figure
// as a dashed reference line. Withheld figures are marked "n<11" in grey, figures that do
// not exist (a median not reached) say so, unreliable ones are hatched.
//
// Every panel shares one row order, fixed as the scale domain: a panel where an
// organization has no drawn value must keep its row, or every organization below it would
// move up a row and show another's figure (issue 15).
import type { TopLevelSpec } from 'vega-lite';
import {
  CONFIG, MUTED, NOT_REACHED_LABEL, PRIMARY, SCHEMA, SUPPRESSED_LABEL, SUPPRESSED_NOTE, SUPPRESSED_TEXT, UNRELIABLE_LABEL, hatchLayer, preciseFormat, valueFormat,
  type ValueKind,
} from './theme.ts';

export interface ScorecardCell {
  org: string;
  measure: string;
  value: number | null;
  ci_low: number | null;
  ci_high: number | null;
  suppressed: boolean;
  denominator: number | null;
  unreliable?: boolean;
}

export interface ScorecardMeasure {
  id: string;
  title: string;
  kind: ValueKind;
  /** The area's (everyone's) figure. */
  area: number | null;
}

export function scorecardSpec(cells: ScorecardCell[], measures: ScorecardMeasure[], o: { title: string; subtitle?: string; description: string; panelWidth?: number }): TopLevelSpec {
  const orgs = [...new Set(cells.map((c) => c.org))].sort();
  const anySuppressed = cells.some((c) => c.suppressed);
  const notReached = cells.some((c) => !c.suppressed && c.value === null);
  const subtitle = [
    o.subtitle, 'Dashed line: the whole area (rates and medians).', anySuppressed ? SUPPRESSED_NOTE : null,
    notReached ? `"${NOT_REACHED_LABEL}": more than half the referrals were still open at the end of the follow-up, so there is no median (not withheld, not zero).` : null,
    cells.some((c) => c.unreliable && !c.suppressed && c.value !== null) ? `Hatched: ${UNRELIABLE_LABEL.toLowerCase()}.` : null,
  ].filter(Boolean) as string[];
  const panels = measures.map((m, i) => {
    const y = { field: 'org', type: 'nominal' as const, title: null, sort: orgs, scale: { domain: orgs }, axis: i === 0 ? { labelLimit: 220 } : null };
    const x = { field: 'value', type: 'quantitative' as const, title: m.title, axis: { format: valueFormat(m.kind), titleFontWeight: 600 as const, tickCount: 4 }, scale: { zero: m.kind !== 'duration' ? true : false } };
    const mine = [{ filter: { field: 'measure', equal: m.id } }];
    const tooltip = [
      { field: 'org', title: 'Organization' },
      { field: 'value', type: 'quantitative' as const, title: m.title, format: preciseFormat(m.kind) },
      { field: 'ci_low', type: 'quantitative' as const, title: '95% CI low', format: preciseFormat(m.kind) },
      { field: 'ci_high', type: 'quantitative' as const, title: '95% CI high', format: preciseFormat(m.kind) },
      { field: 'denominator', type: 'quantitative' as const, title: 'Denominator', format: ',.0f' },
    ];
    const layer: unknown[] = [
      {
        transform: [...mine, { filter: 'isValid(datum.ci_low) && isValid(datum.ci_high)' }],
        mark: { type: 'rule', color: PRIMARY, opacity: 0.6 },
        encoding: { y, x: { field: 'ci_low', type: 'quantitative' }, x2: { field: 'ci_high' } },
      },
      m.kind === 'count'
        ? { transform: [...mine, { filter: 'isValid(datum.value)' }], mark: { type: 'bar', color: PRIMARY, height: 12 }, encoding: { y, x, tooltip } }
        : { transform: [...mine, { filter: 'isValid(datum.value)' }], mark: { type: 'point', filled: true, size: 60, color: PRIMARY }, encoding: { y, x, tooltip } },
      {
        transform: [...mine, { filter: { field: 'suppressed', equal: true } }],
        mark: { type: 'text', align: 'left', color: SUPPRESSED_TEXT, fontSize: 10 },
        encoding: { y, x: { value: 2 }, text: { value: SUPPRESSED_LABEL } },
      },
      {
        transform: [...mine, { filter: 'datum.suppressed !== true && !isValid(datum.value)' }],
        mark: { type: 'text', align: 'left', color: SUPPRESSED_TEXT, fontSize: 10, fontStyle: 'italic' },
        encoding: { y, x: { value: 2 }, text: { value: m.kind === 'duration' ? NOT_REACHED_LABEL : 'no value' }, tooltip: [{ field: 'org', title: 'Organization' }, { field: 'denominator', type: 'quantitative', title: 'Referrals', format: ',.0f' }] },
      },
      ...hatchLayer(cells.filter((c) => c.measure === m.id && c.value !== null), { y, x: { field: 'value', type: 'quantitative' } }, 120, [...mine, { filter: 'isValid(datum.value)' }]),
    ];
    if (m.area !== null && m.kind !== 'count') layer.push({ mark: { type: 'rule', strokeDash: [4, 3], color: MUTED }, encoding: { x: { datum: m.area } } });
    return { width: o.panelWidth ?? 190, height: { step: 26 }, layer };
  });
  return {
    $schema: SCHEMA,
    title: { text: o.title, subtitle },
    description: o.description,
    datasets: { table: cells },
    data: { name: 'table' },
    hconcat: panels,
    spacing: 18,
    config: CONFIG,
  } as TopLevelSpec;
}
