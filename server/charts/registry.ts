// Every chart the dashboards draw, in one place: its parameters (zod, strict), where its
// rows come from (published aggregates only), the Vega-Lite spec built from them, and the
// table that is both the screen-reader alternative and the "download data (CSV)". The
// page, the SVG/PNG images and the CSV all come from the same build, so they always agree.
import type { TopLevelSpec } from 'vega-lite';
import { z } from 'zod';
import {
  barSpec, choroplethSpec, eventStudySpec, forestSpec, funnelSpec, heatmapSpec, intervalPanels, intervalSpec, kmSpec, scorecardSpec, sparklineSpec, spcSpec, trendSpec,
  preciseFormat, NOT_REACHED_LABEL, SIGNALS, type SpcPointRow, type TrendPoint,
} from '../../dashboards/specs/index.ts';
import { laneyChart } from '../../models/stats/spc.ts';
import type { Row } from '../../models/duckdb.ts';
import type { Generation } from '../generation.ts';
import { countyFeatures, countyName } from '../geo.ts';
import { badRequest, isoDate, parseParams, token } from '../http.ts';
import { availability, dimensionLabel, findMetric, type Metric } from '../data/catalog.ts';
import { FUNNEL_METRICS, funnel, kmCurves, scorecards } from '../data/closedLoop.ts';
import { disparities, forestRows } from '../data/disparities.ts';
import { phq9Outcomes, prePost } from '../data/outcomes.ts';
import { balanceRows, EVALUATION_OUTCOMES, evaluationDomains, evaluationSummary, eventStudyMonths, phq9BalanceRows, phq9Comparison, type BalanceRow, type EvaluationOutcome } from '../data/evaluation.ts';
import { freshness, loadReport } from '../data/quality.ts';
import { checkFilter, checkSubset, latestFinalPeriod, oneOf, periodLabel, requireMetric, resultRows } from '../data/results.ts';
import { periodStatus, toPoint, valueKind, valueTitle } from '../data/series.ts';
import { notAvailable, orgNames } from '../data/gaps.ts';
import { groupLabel } from '../labels.ts';
import { PARTNER_CHART_NOTE, partnerWithheldMetrics } from '../data/partnerView.ts';
import { narrowResultRows } from '../data/scope.ts';
import { involvesOrg } from '../hooks.ts';
import { HttpError } from '../http.ts';

export type ColumnFormat = 'text' | 'percent' | 'number' | 'decimal' | 'days' | 'dollars' | 'date' | 'boolean';
export interface Column {
  key: string;
  title: string;
  format?: ColumnFormat;
}

export interface ChartResult {
  title: string;
  spec: TopLevelSpec;
  table: { columns: Column[]; rows: Array<Record<string, unknown>> };
  notes: string[];
  /** Parts of the download file name after "closeloop-<chart>". */
  nameParts: string[];
  /** Set when there is nothing to draw: the page shows this instead of an empty chart. */
  empty?: string;
}

interface ChartDef<S extends z.ZodType> {
  id: string;
  title: string;
  params: S;
  /** `scope`: narrow to this organization (a partner's own; server/data/scope.ts). */
  build(gen: Generation, p: z.infer<S>, scope?: string): Promise<ChartResult>;
}

const GRAINS = ['all', 'year', 'quarter', 'month'] as const;
const PERIOD_GRAINS = ['year', 'quarter', 'month'] as const;
const subsetParams = { program: token().optional(), county: token(8).optional(), domain: token().optional() };

const fmtOf = (m: Metric): ColumnFormat => {
  const k = valueKind(m);
  return k === 'proportion' ? 'percent' : k === 'dollars' ? 'dollars' : k === 'duration' ? 'days' : k === 'count' ? 'number' : 'decimal';
};

const UNRELIABLE_COLUMN = 'Unreliable (RSE > 30% or < 20 events)';

/** Withheld (privacy), unreliable (precision) and the period's maturity each have their own column. */
function resultColumns(m: Metric, extra: Column[] = []): Column[] {
  const f = fmtOf(m);
  return [
    ...extra,
    { key: 'value', title: valueTitle(m), format: f },
    { key: 'ci_low', title: '95% CI low', format: f },
    { key: 'ci_high', title: '95% CI high', format: f },
    { key: 'numerator', title: 'Numerator', format: 'number' },
    { key: 'denominator', title: 'Denominator', format: 'number' },
    { key: 'suppressed', title: 'Withheld (n<11)', format: 'boolean' },
    { key: 'unreliable', title: UNRELIABLE_COLUMN, format: 'boolean' },
  ];
}

/**
 * The period asked for (checked), else the latest FINAL period of the grain for the metric
 * (issue 15: a "latest" figure is never a provisional one), else the latest there is.
 */
async function periodFor(gen: Generation, metric: string, grain: string, periodStart?: string): Promise<string | undefined> {
  const starts = (await availability(gen)).periods.get(metric)?.get(grain) ?? [];
  if (periodStart !== undefined) return oneOf('period_start', periodStart, starts);
  return (grain === 'all' ? undefined : await latestFinalPeriod(gen, metric, grain)) ?? starts.at(-1);
}

const MAX_SERIES = 8;
const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** The next coarser grain: month -> quarter -> year -> whole span. */
const COARSER: Record<string, 'quarter' | 'year' | 'all' | undefined> = { month: 'quarter', quarter: 'year', year: 'all' };
const GRAIN_PLURAL: Record<string, string> = { month: 'months', quarter: 'quarters', year: 'years', all: 'whole-span figures' };
const byGrain = (g: string) => (g === 'all' ? 'for the whole span' : `by ${g}`);

/** The start of the `grain` period holding `date` (so a coarser period that began before `from` is kept). */
function floorToGrain(grain: 'quarter' | 'year', date: string): string {
  const [y, m] = date.split('-');
  return grain === 'year' ? `${y}-01-01` : `${y}-${String(Math.floor((Number(m) - 1) / 3) * 3 + 1).padStart(2, '0')}-01`;
}

interface Drawn<T> { chart: T[]; table: T[]; notes: string[] }

/**
 * Automatic coarsening (issue 16): when more than half of the cells a chart would draw at
 * the chosen grain are withheld (n<11), draw the next coarser grain that the metric is
 * published at (month -> quarter -> year -> whole span), and say so in a note. The table
 * and the CSV come from the same build, so they follow what is drawn. When every grain is
 * mostly withheld the chosen grain is kept (a coarser view would hide as much).
 */
async function coarsenWhenWithheld<T extends { suppressed: boolean }>(
  gen: Generation, metric: string, p: { grain: string; from?: string; to?: string },
  at: (grain: 'year' | 'quarter' | 'month' | 'all', range: { from?: string; to?: string }) => Promise<Drawn<T>>,
): Promise<Drawn<T> & { grain: string; from?: string; to?: string }> {
  const asked = await at(p.grain as 'month', p);
  const published = (await availability(gen)).periods.get(metric);
  const mostlyWithheld = (d: Drawn<T>) => d.chart.length > 0 && d.chart.filter((x) => x.suppressed).length * 2 > d.chart.length;
  const tally = (d: Drawn<T>) => `${d.chart.filter((x) => x.suppressed).length} of ${d.chart.length}`;
  if (!mostlyWithheld(asked)) return { ...asked, ...p };
  const also: string[] = [];
  for (let g = COARSER[p.grain]; g; g = COARSER[g]) {
    if (!published?.has(g)) continue;
    const range = g === 'all' ? {} : { from: p.from && floorToGrain(g, p.from), to: p.to };
    const d = await at(g, range);
    if (d.chart.length === 0) continue;
    if (!mostlyWithheld(d)) {
      const so = also.length ? `; so are most ${also.join(' and ')}` : '';
      const note = `Shown ${byGrain(g)}: most ${GRAIN_PLURAL[p.grain]} are withheld (n<11), ${tally(asked)}${so}.${g === 'all' && (p.from || p.to) ? ' The whole span ignores the From and To filters.' : ''}`;
      return { ...d, notes: [note, ...d.notes], grain: g, ...range };
    }
    also.push(`${GRAIN_PLURAL[g]} (${tally(d)})`);
  }
  return { ...asked, ...p };
}

const trend: ChartDef<z.ZodType<{ metric: string; grain: 'year' | 'quarter' | 'month'; from?: string; to?: string; dimension?: string; program?: string; county?: string; domain?: string }>> = {
  id: 'trend',
  title: 'Trend',
  params: z.strictObject({ metric: token(), grain: z.enum(PERIOD_GRAINS).default('quarter'), from: isoDate.optional(), to: isoDate.optional(), dimension: token().optional(), ...subsetParams }),
  async build(gen, p, scope) {
    const m = await requireMetric(gen, p.metric);
    if (m.snapshot) throw badRequest(`metric '${m.id}' is a snapshot at the as-of date (grain all only): it has no trend`, { parameter: 'metric' });
    await checkFilter(gen, { metric: m.id, grain: p.grain });
    const breakdown = p.dimension && p.dimension !== 'all' ? p.dimension : undefined;
    if (breakdown && (p.program || p.county || p.domain)) {
      throw badRequest(`parameter 'dimension' cannot be combined with program, county or domain: results are published for one cut at a time`, { parameter: 'dimension' });
    }
    if (breakdown) {
      await checkFilter(gen, { metric: m.id, dimension: breakdown });
      const orgs = involvesOrg(breakdown) ? await orgNames(gen) : undefined;
      const label = (g: string) => (g === 'Everyone' ? g : groupLabel(breakdown, g, orgs));
      const d = await coarsenWhenWithheld(gen, m.id, p, async (grain, range) => {
        let rows = await resultRows(gen, { metric: m.id, grain, dimension: breakdown, ...range });
        // Narrowed to one organization: its own line beside the whole area's.
        if (scope !== undefined && involvesOrg(breakdown)) {
          rows = narrowResultRows(rows, scope);
          rows.push(...(await resultRows(gen, { metric: m.id, grain, dimension: 'all', ...range })).map((r) => ({ ...r, group_value: 'Everyone' })));
        }
        const size = new Map<string, number>();
        for (const r of rows) size.set(String(r.group_value), (size.get(String(r.group_value)) ?? 0) + ((r.denominator as number) ?? (r.numerator as number) ?? 0));
        const top = [...size].sort((a, b) => b[1] - a[1]).slice(0, MAX_SERIES).map(([g]) => g);
        const points = rows.map((r) => toPoint(r, label(String(r.group_value))));
        const shown = new Set(top.map(label));
        return {
          chart: points.filter((pt) => shown.has(pt.series)),
          table: points,
          notes: size.size > MAX_SERIES ? [`The chart shows the ${MAX_SERIES} largest of ${size.size} groups; the table lists all of them.`] : [],
        };
      });
      return finishTrend(m, d, d.chart, d.table, d.notes, dimensionLabel(breakdown), [breakdown], p.grain);
    }
    const subset = await checkSubset(gen, p);
    if (subset.dimension !== 'all') await checkFilter(gen, { metric: m.id, dimension: subset.dimension }).catch(() => {
      throw badRequest(`metric '${m.id}' is not published by ${dimensionLabel(subset.dimension).toLowerCase()}`, { parameter: subset.dimension === 'program_id' ? 'program' : subset.dimension === 'county_fips' ? 'county' : 'domain' });
    });
    const label = subset.dimension === 'county_fips' ? `${countyName(subset.group)} County` : subset.dimension === 'all' ? 'Everyone' : subset.label;
    const d = await coarsenWhenWithheld(gen, m.id, p, async (grain, range) => {
      const points = (await resultRows(gen, { metric: m.id, grain, dimension: subset.dimension, group: subset.group, ...range })).map((r) => toPoint(r, label));
      if (subset.dimension !== 'all') {
        points.push(...(await resultRows(gen, { metric: m.id, grain, dimension: 'all', ...range })).map((r) => toPoint(r, 'Everyone')));
      }
      return { chart: points, table: points, notes: [] };
    });
    return finishTrend(m, d, d.chart, d.table, d.notes, 'Population', [subset.dimension === 'all' ? '' : subset.group], p.grain);
  },
};

function finishTrend(m: Metric, p: { grain: string; from?: string; to?: string }, chart: TrendPoint[], table: TrendPoint[], notes: string[], seriesTitle: string, nameParts: string[], asked: string): ChartResult {
  const kind = valueKind(m);
  const range = p.from || p.to ? `, ${p.from ?? 'start'} to ${p.to ?? 'as-of'}` : '';
  const last = chart.filter((x) => !x.suppressed && x.value !== null).at(-1);
  // A coarsened chart carries its note in the subtitle too, so the SVG/PNG says it.
  const coarsened = p.grain !== asked ? notes[0]! : null;
  const pending = table.filter((x) => x.pending);
  if (pending.length) notes.push(`${pending.length === 1 ? 'One figure shows' : `${pending.length} figures show`} the previous publication's values, pending revision (${pending.slice(0, 3).map((x) => `${x.series}, ${x.period_label}`).join('; ')}${pending.length > 3 ? '; ...' : ''}): the change since then is held back until it is 0 or at least 11, so that no one can tell what a few new records changed.`);
  return {
    title: m.title,
    spec: trendSpec(chart, {
      title: m.title,
      subtitle: [`${cap(byGrain(p.grain))}${range}. ${m.direction === 'higher_better' ? 'Higher is better.' : 'Lower is better.'} Band: 95% interval.`, ...(coarsened ? [coarsened] : [])],
      kind,
      yTitle: valueTitle(m),
      seriesTitle,
      description: `${m.title} ${byGrain(p.grain)}${last ? `; latest shown value ${formatValue(last.value, kind)} (${last.series}, ${last.period_label})` : ''}.${coarsened ? ` ${coarsened}` : ''} The table below the chart lists every figure.`,
    }),
    table: {
      columns: [{ key: 'series', title: seriesTitle }, { key: 'period_label', title: 'Period' }, { key: 'period_start', title: 'Period start', format: 'date' }, ...resultColumns(m),
        { key: 'status', title: 'Period status' }],
      rows: table as unknown as Array<Record<string, unknown>>,
    },
    notes,
    nameParts: [m.id, ...nameParts, p.grain].filter(Boolean),
  };
}

function formatValue(v: number | null, kind: ReturnType<typeof valueKind>): string {
  if (v === null) return 'withheld';
  if (kind === 'proportion') return `${(v * 100).toFixed(1)}%`;
  if (kind === 'dollars') return `$${v.toFixed(0)}`;
  return v.toLocaleString('en-US', { maximumFractionDigits: 1 });
}

const sparkline: ChartDef<z.ZodType<{ metric: string; grain: 'year' | 'quarter' | 'month'; from?: string; to?: string; program?: string; county?: string; domain?: string }>> = {
  id: 'sparkline',
  title: 'Headline trend',
  params: z.strictObject({ metric: token(), grain: z.enum(PERIOD_GRAINS).default('quarter'), from: isoDate.optional(), to: isoDate.optional(), ...subsetParams }),
  async build(gen, p) {
    const m = await requireMetric(gen, p.metric);
    await checkFilter(gen, { metric: m.id, grain: p.grain });
    const subset = await checkSubset(gen, p);
    const d = await coarsenWhenWithheld(gen, m.id, p, async (grain, range) => {
      const points = (await resultRows(gen, { metric: m.id, grain, dimension: subset.dimension, group: subset.group, ...range })).map((r) => toPoint(r, subset.label));
      return { chart: points, table: points, notes: [] };
    });
    const points = d.chart;
    const kind = valueKind(m);
    const first = points[0];
    const last = points.at(-1);
    const span = first && last ? `: ${formatValue(first.value, kind)} in ${first.period_label} to ${formatValue(last.value, kind)} in ${last.period_label}${last.status === 'final' ? '' : ` (${last.status})`}` : '';
    return {
      title: `${m.title}: trend`,
      spec: sparklineSpec(points, { kind, description: `${m.title} ${byGrain(d.grain)}, ${points.length} periods${span}.${d.notes.length ? ` ${d.notes[0]}` : ''}` }),
      table: { columns: [{ key: 'period_label', title: 'Period' }, ...resultColumns(m), { key: 'status', title: 'Period status' }], rows: points as unknown as Array<Record<string, unknown>> },
      notes: d.notes,
      nameParts: [m.id, d.grain],
    };
  },
};

const spc: ChartDef<z.ZodType<{ metric: string; program?: string; county?: string; domain?: string }>> = {
  id: 'spc',
  title: 'Statistical process control',
  params: z.strictObject({ metric: token(), ...subsetParams }),
  async build(gen, p) {
    const m = await requireMetric(gen, p.metric);
    if (m.kind !== 'proportion' && !(m.kind === 'rate' && m.interval === 'poisson_exact')) {
      throw badRequest(`parameter 'metric': '${m.id}' is a ${m.unit.startsWith('USD') ? 'dollar rate' : m.kind}; control charts are drawn for proportions (p') and rates of events (u')`, { parameter: 'metric' });
    }
    await checkFilter(gen, { metric: m.id, grain: 'month' });
    const subset = await checkSubset(gen, p);
    const rows = await resultRows(gen, { metric: m.id, grain: 'month', dimension: subset.dimension, group: subset.group });
    // Only final, whole, shown months set the limits and are tested; the others are drawn as what they are.
    const tested = rows.filter((r) => periodStatus(r) === 'final' && !r.suppressed && typeof r.numerator === 'number' && (r.denominator as number) > 0);
    const chart = laneyChart(m.kind === 'proportion' ? 'p' : 'u', tested.map((r) => ({ x: r.numerator as number, n: r.denominator as number })));
    const scale = m.kind === 'rate' ? m.scale : 1;
    const at = new Map(tested.map((r, i) => [String(r.period_start), chart?.points[i]]));
    const points: SpcPointRow[] = rows.map((r) => {
      const status = periodStatus(r);
      const c = at.get(String(r.period_start));
      return {
        period_start: String(r.period_start),
        period_label: periodLabel('month', String(r.period_start)),
        value: (r.value as number | null) ?? null,
        centre: chart ? chart.centre * scale : null,
        lower: c ? c.lower * scale : null,
        upper: c ? c.upper * scale : null,
        signal: c ? (c.beyondLimits ? SIGNALS[1] : c.inRun ? SIGNALS[2] : SIGNALS[0]) : null,
        status,
        provisional: status === 'provisional',
        partial: status === 'partial',
        suppressed: r.suppressed === true,
        unreliable: r.unreliable === true,
        numerator: (r.numerator as number | null) ?? null,
        denominator: (r.denominator as number | null) ?? null,
      };
    });
    const kind = valueKind(m);
    const signals = points.filter((x) => x.signal && x.signal !== SIGNALS[0]).length;
    const who = subset.dimension === 'all' ? 'everyone' : subset.label;
    const name = m.kind === 'proportion' ? "Laney p' chart" : "Laney u' chart";
    return {
      title: `${m.title}: month by month`,
      spec: spcSpec(points, {
        title: `${m.title}: month by month`,
        subtitle: `${name}, ${who}. Centre line and 3-sigma limits from the ${tested.length} final months; a point beyond the limits or 8 in a row on one side of the centre is a special cause. ${chart ? `Sigma z ${chart.sigmaZ.toFixed(2)} (1 = the variation chance alone would give).` : ''}`,
        kind,
        yTitle: valueTitle(m),
        description: `${name} of ${m.title.toLowerCase()} by month, ${who}: ${signals} month(s) with a special-cause signal among ${tested.length} tested. The table lists every month.`,
      }),
      table: {
        columns: [{ key: 'period_label', title: 'Month' }, ...resultColumns(m).filter((c) => !c.key.startsWith('ci_')),
          { key: 'centre', title: 'Centre', format: fmtOf(m) }, { key: 'lower', title: 'Lower limit', format: fmtOf(m) }, { key: 'upper', title: 'Upper limit', format: fmtOf(m) },
          { key: 'signal', title: 'Signal' }, { key: 'status', title: 'Period status' }],
        rows: points.map((x) => ({ ...x, signal: x.signal ?? 'not tested (not final)' })) as unknown as Array<Record<string, unknown>>,
      },
      empty: chart ? undefined : 'Fewer than two final months are published for this view: no control limits can be drawn.',
      notes: [],
      nameParts: [m.id, subset.dimension === 'all' ? '' : subset.group, 'month'].filter(Boolean),
    };
  },
};

const funnelChart: ChartDef<z.ZodType<{ grain: (typeof GRAINS)[number]; period_start?: string; program?: string; county?: string }>> = {
  id: 'funnel',
  title: 'Referral funnel',
  params: z.strictObject({ grain: z.enum(GRAINS).default('quarter'), period_start: isoDate.optional(), program: token().optional(), county: token(8).optional() }),
  async build(gen, p) {
    const subset = await checkSubset(gen, p);
    // one matured cohort: the latest period whose every step is final, unless one is asked for
    const period = p.period_start !== undefined ? await periodFor(gen, FUNNEL_METRICS[0], p.grain, p.period_start) : await latestFinalPeriod(gen, FUNNEL_METRICS[0], p.grain);
    const stages = period ? await funnel(gen, { grain: p.grain, period_start: period, subset }) : [];
    const when = p.grain === 'all' ? 'whole span' : periodLabel(p.grain, period ?? '');
    const pct = (v: number | null) => (v === null ? '' : ` (${(v * 100).toFixed(1)}% of the step before)`);
    return {
      title: 'Referral funnel',
      spec: funnelSpec(stages, {
        title: 'From screening to need met: one cohort of people',
        subtitle: `People first screened in ${when}, ${subset.label}, counted once each: screened, positive at that screening, referred for a positive domain within 30 days, and accepted, served and with the need met by day 90. Every step is a share of the step before. The cohort is final: day 90 has passed for everyone in it.`,
        description: `Referral funnel of people first screened in ${when}: ${stages.map((s) => `${s.stage} ${s.suppressed ? 'withheld' : (s.count ?? 'not available')}${s.suppressed ? '' : pct(s.share_of_previous)}`).join('; ')}.`,
      }),
      table: {
        columns: [{ key: 'stage', title: 'Stage' }, { key: 'unit', title: 'Unit' }, { key: 'count', title: 'People', format: 'number' }, { key: 'share_of_previous', title: 'Share of the step before', format: 'percent' },
          { key: 'share_ci_low', title: '95% CI low', format: 'percent' }, { key: 'share_ci_high', title: '95% CI high', format: 'percent' },
          { key: 'suppressed', title: 'Withheld (n<11)', format: 'boolean' }, { key: 'unreliable', title: UNRELIABLE_COLUMN, format: 'boolean' }, { key: 'source', title: 'From' }],
        rows: stages as unknown as Array<Record<string, unknown>>,
      },
      empty: period ? undefined : `No final ${p.grain} yet: the funnel waits until day 90 has passed for a whole cohort.`,
      notes: [],
      nameParts: [p.grain, period ?? '', subset.dimension === 'all' ? '' : subset.group].filter(Boolean),
    };
  },
};

// days_to_service is an Aalen-Johansen incidence: a Kaplan-Meier curve would treat closure
// without service as censoring (issue 15), so it has no curve here
const DURATION_METRICS = ['days_to_close', 'days_to_referral'] as const;
const KM_TEXT: Record<string, { title: string; x: string; y: string }> = {
  days_to_close: { title: 'Time to close the loop', x: 'Days since referral', y: 'Referrals still open' },
  days_to_referral: { title: 'Time from positive screen to referral', x: 'Days since positive screen', y: 'Needs not yet referred' },
};

const NO_CURVE = 'No curve is published in this view: a curve is shown only where its steps can each hold 0 or at least 11 events and 0 or at least 11 censored cases, for it and for what subtracting it from the others would show.';

const km: ChartDef<z.ZodType<{ metric: (typeof DURATION_METRICS)[number]; dimension: string; period_start?: string }>> = {
  id: 'km',
  title: 'Kaplan-Meier curve',
  params: z.strictObject({ metric: z.enum(DURATION_METRICS).default('days_to_close'), dimension: token().default('all'), period_start: isoDate.optional() }),
  async build(gen, p, scope) {
    if (!gen.hasTable('km_curves')) throw notAvailable('Kaplan-Meier curves');
    const dims = (await gen.query<{ d: string }>(`SELECT DISTINCT dimension AS d FROM km_curves WHERE metric_id = ? ORDER BY 1`, [p.metric])).map((r) => r.d);
    oneOf('dimension', p.dimension, dims);
    const all = narrowResultRows(await kmCurves(gen, { metric: p.metric, dimension: p.dimension, grain: 'all', period_start: p.period_start }), scope);
    // Several curves: the largest MAX_SERIES groups (most cases) are drawn; the table has them all.
    const size = new Map<string, number>();
    for (const r of all) size.set(String(r.group_value), (r.cases as number | null) ?? 0);
    const top = new Set([...size].sort((a, b) => b[1] - a[1]).slice(0, MAX_SERIES).map(([g]) => g));
    const rows = all;
    const orgs = involvesOrg(p.dimension) ? await orgNames(gen) : undefined;
    const label = (g: string) => groupLabel(p.dimension, g, orgs);
    const points = rows.map((r) => ({
      series: label(String(r.group_value)),
      time: r.time as number,
      cases: (r.cases as number | null) ?? null,
      survival: r.survival as number,
      lower: (r.lower as number | null) ?? null,
      upper: (r.upper as number | null) ?? null,
    }));
    const t = KM_TEXT[p.metric]!;
    return {
      title: t.title,
      spec: kmSpec(points.filter((pt, i) => top.has(String(rows[i]!.group_value))), {
        title: t.title,
        subtitle: `Kaplan-Meier estimate with 95% band, whole span${p.dimension === 'all' ? '' : `, by ${dimensionLabel(p.dimension).toLowerCase()}`}.`,
        xTitle: t.x,
        yTitle: t.y,
        description: `${t.title}: share still waiting by day, ${new Set(points.map((x) => x.series)).size} curve(s).`,
      }),
      table: {
        columns: [{ key: 'series', title: 'Group' }, { key: 'time', title: 'Day', format: 'number' }, { key: 'cases', title: 'Cases', format: 'number' }, { key: 'survival', title: t.y, format: 'percent' },
          { key: 'lower', title: '95% CI low', format: 'percent' }, { key: 'upper', title: '95% CI high', format: 'percent' }],
        rows: points,
      },
      empty: points.length ? undefined : NO_CURVE,
      notes: points.length ? (size.size > MAX_SERIES ? [`The chart shows the ${MAX_SERIES} largest of ${size.size} groups; the table lists all of them.`] : []) : [NO_CURVE],
      nameParts: [p.metric, p.dimension],
    };
  },
};

const scorecard: ChartDef<z.ZodType<{ grain: (typeof GRAINS)[number]; period_start?: string }>> = {
  id: 'scorecard',
  title: 'Partner scorecards',
  params: z.strictObject({ grain: z.enum(GRAINS).default('all'), period_start: isoDate.optional() }),
  async build(gen, p, scope) {
    const period = await periodFor(gen, 'closed_loop_rate', p.grain, p.period_start);
    const s = await scorecards(gen, { grain: p.grain, period_start: period });
    // Narrowed: the organization's own row, beside the area's figures (the spec's reference marks).
    if (scope !== undefined) s.cells = s.cells.filter((c) => c.org_id === scope);
    const kinds = Object.fromEntries(s.measures.map((m) => [m.id, m.kind]));
    const when = p.grain === 'all' ? 'whole span' : periodLabel(p.grain, period ?? '');
    return {
      title: 'Partner scorecards',
      spec: scorecardSpec(
        s.cells.map((c) => ({ ...c })),
        s.measures.map((m) => ({ id: m.id, title: findMetric(m.id)!.kind === 'count' ? 'Stale open referrals' : m.id === 'days_to_close' ? 'Median days to close' : findMetric(m.id)!.title, kind: valueKind(findMetric(m.id)!), area: m.area })),
        { title: 'Partner scorecards', subtitle: `${cap(when)}; stale open referrals at the as-of date.`, description: `Scorecards of ${new Set(s.cells.map((c) => c.org)).size} partner organizations: acceptance, closed loop, median days to close, stale open referrals.` },
      ),
      table: {
        columns: [{ key: 'org', title: 'Organization' }, { key: 'measure', title: 'Measure' }, { key: 'value', title: 'Value', format: 'decimal' }, { key: 'ci_low', title: '95% CI low', format: 'decimal' },
          { key: 'ci_high', title: '95% CI high', format: 'decimal' }, { key: 'denominator', title: 'Denominator', format: 'number' }, { key: 'suppressed', title: 'Withheld (n<11)', format: 'boolean' },
          { key: 'unreliable', title: UNRELIABLE_COLUMN, format: 'boolean' }],
        rows: s.cells.map((c) => ({
          ...c, measure: findMetric(c.measure)!.title, kind: kinds[c.measure],
          missing: c.value === null && !c.suppressed ? (kinds[c.measure] === 'duration' ? NOT_REACHED_LABEL : 'no value') : undefined,
        })),
      },
      notes: [],
      nameParts: [p.grain, period ?? ''].filter(Boolean),
    };
  },
};

const GAP_MEASURES = ['unmet_need_rate', 'positive_needs', 'capacity_rejection_share'] as const;

async function domainCountyCells(gen: Generation, metric: string, grain: string, periodStart: string | undefined, f: { domain?: string; county?: string }) {
  await requireMetric(gen, metric);
  const period = await periodFor(gen, metric, grain, periodStart);
  const rows = period ? await resultRows(gen, { metric, dimension: 'domain*county_fips', grain: grain as never, period_start: period }) : [];
  return {
    period,
    rows: rows.filter((r) => {
      const [d, c] = String(r.group_value).split('*');
      return (!f.domain || d === f.domain) && (!f.county || c === f.county) && c !== 'unknown';
    }),
  };
}

/** "program (organization); ..." per domain x county; narrowed to one organization's programs when scoped. */
function directoryDetail(gen: Generation, scope?: string): Promise<Map<string, string>> {
  return gen.memo(`directory-detail${scope === undefined ? '' : `@${scope}`}`, async () => {
    const m = new Map<string, string>();
    if (!gen.hasTable('service_directory')) return m;
    const rows = await gen.query<{ k: string; v: string }>(`SELECT domain || '*' || county_fips AS k, string_agg(program_name || ' (' || org_name || ')', '; ' ORDER BY program_name) AS v FROM service_directory
      ${scope === undefined ? '' : 'WHERE org_id = ?'} GROUP BY 1`, scope === undefined ? [] : [scope]);
    for (const r of rows) m.set(r.k, r.v);
    return m;
  });
}

/**
 * What a heat-map cell's figure rests on, in its unit, printed in the cell (issue 16): the
 * denominator of a share ("n = 412 needs"), the count itself, or needs over capacity-months.
 */
function cellN(m: Metric): { text: (r: Row) => string; says: string } {
  const num = (v: unknown) => (typeof v === 'number' ? v.toLocaleString('en-US', { maximumFractionDigits: 0 }) : '?');
  if (m.kind === 'ratio') return { text: (r) => `${num(r.numerator)} / ${num(r.denominator)}`, says: 'In each cell: positive needs / capacity-months.' };
  if (m.kind === 'count') return { text: (r) => `n = ${num(r.numerator ?? r.value)}`, says: `In each cell: n, the count of ${m.unit}.` };
  const unit = /^proportion of (.+?) \(0-1\)$/.exec(m.unit)?.[1] ?? 'cases';
  return { text: (r) => `n = ${num(r.denominator)} ${unit}`, says: `In each cell: n, the ${unit} the share is of.` };
}

function heatmapChart(id: string, fixed?: 'demand_capacity_ratio'): ChartDef<z.ZodType<{ measure: string; grain: (typeof GRAINS)[number]; period_start?: string; domain?: string; county?: string }>> {
  return {
    id,
    title: fixed ? 'Demand and capacity' : 'Need domain x county',
    params: z.strictObject({
      measure: fixed ? z.literal(fixed).default(fixed) : z.enum(GAP_MEASURES).default('unmet_need_rate'),
      grain: z.enum(GRAINS).default('all'), period_start: isoDate.optional(), domain: token().optional(), county: token(8).optional(),
    }),
    async build(gen, p, scope) {
      const m = await requireMetric(gen, p.measure);
      const a = await availability(gen);
      if (p.domain) oneOf('domain', p.domain, a.groups.get('domain') ?? []);
      if (p.county) oneOf('county', p.county, a.groups.get('county_fips') ?? []);
      const { period, rows } = await domainCountyCells(gen, m.id, p.grain, p.period_start, p);
      const detail = await directoryDetail(gen, scope);
      const n = cellN(m);
      const cells = rows.map((r) => {
        const [domain, county] = String(r.group_value).split('*') as [string, string];
        return {
          domain: groupLabel('domain', domain),
          domain_code: domain,
          county: countyName(county),
          county_fips: county,
          value: (r.value as number | null) ?? null,
          suppressed: r.suppressed === true,
          note: (r.note as string | null) ?? null,
          detail: detail.get(String(r.group_value)) ?? null,
          numerator: (r.numerator as number | null) ?? null,
          denominator: (r.denominator as number | null) ?? null,
          unreliable: r.unreliable === true,
          n: r.suppressed === true || r.value === null ? null : n.text(r),
        };
      });
      const kind = valueKind(m);
      const when = p.grain === 'all' ? 'whole span' : periodLabel(p.grain, period ?? '');
      const title = fixed ? 'Demand and capacity by need domain and county' : `${m.title} by need domain and county`;
      return {
        title,
        spec: heatmapSpec(cells, {
          title,
          subtitle: `${fixed ? `Positive needs per month of program capacity, ${when}. Darker: more demand per unit of capacity.` : `${cap(when)}. ${m.direction === 'lower_better' ? 'Darker is worse.' : 'Darker is better.'}`} ${n.says}`,
          valueTitle: fixed ? 'Needs per capacity-month' : valueTitle(m),
          kind,
          description: `${title}: ${cells.length} cells, ${cells.filter((c) => c.suppressed).length} withheld, ${cells.filter((c) => c.note === 'no provider').length} with no provider.`,
        }),
        table: {
          columns: [{ key: 'domain', title: 'Need domain' }, { key: 'county', title: 'County' }, { key: 'county_fips', title: 'FIPS' }, ...resultColumns(m).filter((c) => !c.key.startsWith('ci_')), { key: 'note', title: 'Note' }, { key: 'detail', title: 'Served by' }],
          rows: cells,
        },
        notes: [],
        nameParts: [m.id, p.grain, period ?? '', p.domain ?? '', p.county ?? ''].filter(Boolean),
      };
    },
  };
}

const gapMap: ChartDef<z.ZodType<{ measure: (typeof GAP_MEASURES)[number]; domain?: string; grain: (typeof GRAINS)[number]; period_start?: string }>> = {
  id: 'gap-map',
  title: 'Unmet need by county',
  params: z.strictObject({ measure: z.enum(GAP_MEASURES).default('unmet_need_rate'), domain: token().optional(), grain: z.enum(GRAINS).default('all'), period_start: isoDate.optional() }),
  async build(gen, p) {
    const m = await requireMetric(gen, p.measure);
    const a = await availability(gen);
    if (p.domain) oneOf('domain', p.domain, a.groups.get('domain') ?? []);
    const period = await periodFor(gen, m.id, p.grain, p.period_start);
    const rows = p.domain
      ? (await domainCountyCells(gen, m.id, p.grain, period, { domain: p.domain })).rows.map((r): Row => ({ ...r, group_value: String(r.group_value).split('*')[1] ?? '' }))
      : period ? await resultRows(gen, { metric: m.id, dimension: 'county_fips', grain: p.grain, period_start: period }) : [];
    const values = rows.filter((r) => r.group_value !== 'unknown').map((r) => ({
      county_fips: String(r.group_value),
      county: countyName(String(r.group_value)),
      value: (r.value as number | null) ?? null,
      suppressed: r.suppressed === true,
      note: (r.note as string | null) ?? null,
      numerator: (r.numerator as number | null) ?? null,
      denominator: (r.denominator as number | null) ?? null,
      unreliable: r.unreliable === true,
    }));
    const kind = valueKind(m);
    const when = p.grain === 'all' ? 'whole span' : periodLabel(p.grain, period ?? '');
    const what = p.domain ? `${p.domain.replaceAll('_', ' ')} needs` : 'all needs';
    return {
      title: `${m.title} by county`,
      spec: choroplethSpec(countyFeatures(), values, {
        title: `${m.title} by county`,
        subtitle: `${cap(what)}, ${when}; county of the person.`,
        valueTitle: valueTitle(m),
        kind,
        description: `Map of North Carolina counties coloured by ${m.title.toLowerCase()} (${what}); ${values.length} counties have figures. The table lists them.`,
      }),
      table: { columns: [{ key: 'county', title: 'County' }, { key: 'county_fips', title: 'FIPS' }, ...resultColumns(m).filter((c) => !c.key.startsWith('ci_'))], rows: values },
      notes: [],
      nameParts: [m.id, p.domain ?? 'all-domains', p.grain],
    };
  },
};

const phq9: ChartDef<z.ZodType<{ dimension: string; grain: (typeof GRAINS)[number]; period_start?: string }>> = {
  id: 'phq9',
  title: 'PHQ-9 outcomes',
  params: z.strictObject({ dimension: token().default('all'), grain: z.enum(GRAINS).default('all'), period_start: isoDate.optional() }),
  async build(gen, p) {
    await checkFilter(gen, { metric: 'phq9_remission_rate', dimension: p.dimension, grain: p.grain });
    const period = await periodFor(gen, 'phq9_remission_rate', p.grain, p.period_start);
    const rows = await phq9Outcomes(gen, { dimension: p.dimension, grain: p.grain, period_start: period });
    const when = p.grain === 'all' ? 'whole span' : periodLabel(p.grain, period ?? '');
    return {
      title: 'PHQ-9 follow-up, response and remission',
      spec: intervalSpec(rows, {
        title: 'PHQ-9 follow-up, response and remission',
        subtitle: `Index episodes (PHQ-9 >= 10) measured 120-240 days later, ${when}. Higher is better.`,
        xTitle: 'Share of index episodes',
        kind: 'proportion',
        labelTitle: 'Outcome',
        seriesTitle: p.dimension === 'all' ? undefined : dimensionLabel(p.dimension),
        description: `PHQ-9 outcomes, ${when}: ${rows.filter((r) => r.series === (rows[0]?.series ?? '')).map((r) => `${r.label} ${r.suppressed ? 'withheld' : formatValue(r.value, 'proportion')}`).join(', ')}.`,
      }),
      table: {
        columns: [{ key: 'label', title: 'Outcome' }, { key: 'series', title: 'Group' }, { key: 'value', title: 'Share', format: 'percent' }, { key: 'ci_low', title: '95% CI low', format: 'percent' },
          { key: 'ci_high', title: '95% CI high', format: 'percent' }, { key: 'denominator', title: 'Episodes', format: 'number' }, { key: 'suppressed', title: 'Withheld (n<11)', format: 'boolean' }],
        rows: rows as unknown as Array<Record<string, unknown>>,
      },
      notes: [],
      nameParts: [p.dimension, p.grain],
    };
  },
};

const prepostChart: ChartDef<z.ZodType<{ dimension: string }>> = {
  id: 'prepost',
  title: 'Utilization before and after first referral',
  params: z.strictObject({ dimension: token().default('all') }),
  async build(gen, p) {
    await checkFilter(gen, { metric: 'ed_visits_pre_referral_per_1000_mm', dimension: p.dimension });
    const r = await prePost(gen, { dimension: p.dimension });
    return {
      title: 'Utilization before and after the first referral',
      spec: intervalPanels(r.rows, {
        title: 'Utilization 180 days before and after the first referral',
        subtitle: [
          'Per 1,000 member-months, with 95% intervals; people whose both windows lie within enrollment. Lower is better.',
          'Not an effect of the referral: people are referred after a crisis, so their use tends to fall back anyway (regression to the mean), and use changes over time for everyone (secular trend). No comparison group, so no p-value.',
        ],
        xTitle: 'Per 1,000 member-months',
        kind: 'rate',
        labelTitle: 'Measure',
        description: `Pre/post utilization: ${r.rows.map((x) => `${x.label} ${x.series}: ${x.suppressed ? 'withheld' : formatValue(x.value, 'rate')}`).join('; ')}.`,
      }),
      table: {
        columns: [{ key: 'label', title: 'Measure' }, { key: 'series', title: 'Window' }, { key: 'value', title: 'Per 1,000 member-months', format: 'decimal' }, { key: 'ci_low', title: '95% CI low', format: 'decimal' },
          { key: 'ci_high', title: '95% CI high', format: 'decimal' }, { key: 'denominator', title: 'Member-months', format: 'number' }, { key: 'suppressed', title: 'Withheld (n<11)', format: 'boolean' }, { key: 'note', title: 'Post/pre rate ratio' }],
        rows: r.rows as unknown as Array<Record<string, unknown>>,
      },
      notes: gen.hasTable('prepost_summary') ? [] : ['The post/pre rate ratios (pre/post summary) are not available in this run.'],
      nameParts: [p.dimension],
    };
  },
};

const OUTCOME_IDS = Object.keys(EVALUATION_OUTCOMES) as [EvaluationOutcome, ...EvaluationOutcome[]];
const pValue = (p: number | null) => (p === null ? 'no test' : p < 0.001 ? 'p < 0.001' : `p = ${p.toFixed(3)}`);

/** The event study of one outcome (issue 22): differences by month from the first referral. */
/** The need-domain selection of an evaluation chart: absent = every domain. */
const domainText = (d: string | undefined) => (d ? ` (first referrals in ${d.replace(/_/g, ' ')}, against people screened positive in it)` : '');
/** A domain the page offers but the run published no evaluation for: the chart says so (the API answers 400). */
const unpublishedDomain = async (gen: Generation, d: string | undefined) =>
  d !== undefined && !(await evaluationDomains(gen)).includes(d)
    ? `No evaluation is published for first referrals in ${d.replace(/_/g, ' ')} in this run: no first referral in that domain had comparison people.`
    : null;

const eventStudyChart: ChartDef<z.ZodType<{ outcome: EvaluationOutcome; domain?: string }>> = {
  id: 'event-study',
  title: 'Event study',
  params: z.strictObject({ outcome: z.enum(OUTCOME_IDS).default('ed_visits'), domain: token().optional() }),
  async build(gen, p) {
    const label = EVALUATION_OUTCOMES[p.outcome];
    const missing = await unpublishedDomain(gen, p.domain);
    const summary = missing ? undefined : (await evaluationSummary(gen, p.domain)).find((r) => r.outcome === p.outcome);
    const months = missing ? [] : await eventStudyMonths(gen, p.outcome, p.domain);
    const rows = months.map((m) => ({ rel_month: m.rel_month, estimate: m.estimate_per_1000, ci_low: m.ci_low, ci_high: m.ci_high, period: m.period }));
    const att = summary?.status === 'published' && summary.att_per_1000 !== null
      ? `Months +1..+6: ${summary.att_per_1000.toFixed(1)} per 1,000 member-months (95% CI ${summary.ci_low!.toFixed(1)} to ${summary.ci_high!.toFixed(1)}); pre-trend test ${pValue(summary.pretrend_p)}.`
      : null;
    return {
      title: `${label}: event study around the first referral${domainText(p.domain)}`,
      spec: eventStudySpec(rows, {
        title: `${label}: referred minus comparison people, by month from the first referral${domainText(p.domain)}`,
        subtitle: [
          'Difference in the change from the baseline (months -6..-2), per 1,000 member-months, with 95% intervals clustered by person. Below 0: fewer visits than the comparison.',
          ...(att ? [att] : []),
        ],
        yTitle: 'Difference per 1,000 member-months',
        description: `Event study of ${label.toLowerCase()}: ${rows.map((r) => `month ${r.rel_month} ${r.estimate.toFixed(1)} (${r.ci_low.toFixed(1)} to ${r.ci_high.toFixed(1)})`).join('; ')}.`,
      }),
      table: {
        columns: [{ key: 'rel_month', title: 'Month from first referral', format: 'number' }, { key: 'period', title: 'Period' }, { key: 'estimate', title: 'Difference per 1,000 member-months', format: 'decimal' },
          { key: 'ci_low', title: '95% CI low', format: 'decimal' }, { key: 'ci_high', title: '95% CI high', format: 'decimal' }],
        rows,
      },
      notes: summary?.status === 'published' && summary.note ? [summary.note] : [],
      nameParts: [p.outcome, ...(p.domain ? [p.domain] : [])],
      ...(rows.length === 0 ? { empty: missing ?? (summary?.note || 'No event study is published in this run.') } : {}),
    };
  },
};

/** The difference-in-differences estimates over months +1..+6, with cohort sizes and the pre-trend test. */
const evaluationEffect: ChartDef<z.ZodType<{ domain?: string }>> = {
  id: 'evaluation-effect',
  title: 'Effect of a first referral',
  params: z.strictObject({ domain: token().optional() }),
  async build(gen, p) {
    const missing = await unpublishedDomain(gen, p.domain);
    const summary = missing ? [] : await evaluationSummary(gen, p.domain);
    const rows = summary.map((r) => ({
      label: EVALUATION_OUTCOMES[r.outcome] ?? r.outcome,
      series: 'Months +1..+6',
      value: r.att_per_1000,
      ci_low: r.ci_low,
      ci_high: r.ci_high,
      suppressed: r.status === 'withheld',
      note: r.status === 'published' ? `pre-trend test ${pValue(r.pretrend_p)}` : r.note,
    }));
    return {
      title: `Effect of a first referral on ED visits and admissions${domainText(p.domain)}`,
      spec: intervalSpec(rows, {
        title: `Average difference over months +1..+6 after the first referral${domainText(p.domain)}`,
        subtitle: ['Referred minus comparison people, change from the baseline, per 1,000 member-months, with 95% intervals. Below 0: fewer visits than the comparison.'],
        xTitle: 'Difference per 1,000 member-months',
        kind: 'rate',
        zero: true,
        labelTitle: 'Outcome',
        description: `Effect estimates: ${rows.map((r) => `${r.label}: ${r.value === null ? (r.suppressed ? 'withheld' : 'not estimable') : `${r.value.toFixed(1)} (${r.ci_low?.toFixed(1)} to ${r.ci_high?.toFixed(1)})`}`).join('; ')}.`,
      }),
      table: {
        columns: [
          { key: 'outcome_label', title: 'Outcome' }, { key: 'status', title: 'Status' }, { key: 'att_per_1000', title: 'Difference per 1,000 member-months, months +1..+6', format: 'decimal' },
          { key: 'ci_low', title: '95% CI low', format: 'decimal' }, { key: 'ci_high', title: '95% CI high', format: 'decimal' }, { key: 'p_value', title: 'p', format: 'decimal' },
          { key: 'pretrend_chi2', title: 'Pre-trend chi-square', format: 'decimal' }, { key: 'pretrend_df', title: 'Pre-trend df', format: 'number' }, { key: 'pretrend_p', title: 'Pre-trend p', format: 'decimal' },
          { key: 'treated_people', title: 'Referred people', format: 'number' }, { key: 'comparison_people', title: 'Comparison people', format: 'number' },
          { key: 'cohorts', title: 'Monthly cohorts', format: 'number' }, { key: 'first_cohort', title: 'First cohort' }, { key: 'last_cohort', title: 'Last cohort' }, { key: 'note', title: 'Note' },
        ],
        rows: summary.map((r) => ({ ...r, outcome_label: EVALUATION_OUTCOMES[r.outcome] ?? r.outcome })),
      },
      notes: [],
      nameParts: p.domain ? [p.domain] : [],
      ...(missing ? { empty: missing } : {}),
    };
  },
};

/**
 * A balance chart (a Love plot): standardised mean differences before and after the
 * comparison weights, for the event study or the PHQ-9 comparison.
 */
function balanceChart(o: { id: string; title: string; heading: string; specTitle: string; subtitle: string; rows: (gen: Generation, domain?: string) => Promise<BalanceRow[]>; empty?: string; byDomain?: boolean }): ChartDef<z.ZodType<{ domain?: string }>> {
  return {
    id: o.id,
    title: o.title,
    params: o.byDomain ? z.strictObject({ domain: token().optional() }) : z.strictObject({}),
    async build(gen, p) {
      const missing = o.byDomain ? await unpublishedDomain(gen, p.domain) : null;
      const b = missing ? [] : await o.rows(gen, p.domain);
      const rows = b.flatMap((r) => [
        { label: r.covariate, series: 'Before weighting', value: r.smd_before, ci_low: null, ci_high: null, suppressed: false },
        { label: r.covariate, series: 'After weighting', value: r.smd_after, ci_low: null, ci_high: null, suppressed: false },
      ]);
      return {
        title: `${o.heading}${domainText(p.domain)}`,
        spec: intervalSpec(rows, {
          title: o.specTitle,
          subtitle: [o.subtitle],
          xTitle: 'Standardised mean difference',
          kind: 'ratio',
          zero: true,
          labelTitle: 'Characteristic',
          description: `Balance: ${b.map((r) => `${r.covariate} ${r.smd_before?.toFixed(2) ?? 'n/a'} before, ${r.smd_after?.toFixed(2) ?? 'n/a'} after`).join('; ')}.`,
        }),
        table: {
          columns: [{ key: 'covariate', title: 'Characteristic' }, { key: 'smd_before', title: 'SMD before weighting', format: 'decimal' }, { key: 'smd_after', title: 'SMD after weighting', format: 'decimal' }],
          rows: b as unknown as Array<Record<string, unknown>>,
        },
        notes: [],
        nameParts: p.domain ? [p.domain] : [],
        ...(rows.length === 0 && (missing || o.empty) ? { empty: missing ?? o.empty } : {}),
      };
    },
  };
}

const evaluationBalance = balanceChart({
  id: 'evaluation-balance',
  title: 'Balance of the comparison group',
  heading: 'Balance: referred against comparison people',
  specTitle: 'Standardised mean differences, referred minus comparison',
  subtitle: 'Within 0.1 either way is usually taken as balanced. The weights balance age band and Medicaid only (exact cells within each monthly cohort); the other characteristics are shown, not weighted: the baseline outcome is left to the difference in differences (matching on it would bring regression to the mean), and finer cells would leave most referred people without comparison people. A yes/no characteristic is shown only when no count behind it is between 1 and 10.',
  rows: balanceRows,
  byDomain: true,
  empty: 'No balance is published for this selection in this run (see its status).',
});

/** The PHQ-9 comparison: change in score from an elevated index PHQ-9, referred minus comparison. */
const evaluationPhq9: ChartDef<z.ZodType<{ domain?: string }>> = {
  id: 'evaluation-phq9',
  title: 'Effect of a referral on PHQ-9',
  params: z.strictObject({ domain: token().optional() }),
  async build(gen, p) {
    const found = await phq9Comparison(gen, p.domain);
    if (!found && !p.domain) throw notAvailable('the PHQ-9 comparison');
    const r = found ?? { status: 'not_estimable' as const, note: `No PHQ-9 comparison is published for first referrals in ${p.domain!.replace(/_/g, ' ')} in this run.`, change_difference: null, ci_low: null, ci_high: null, p_value: null, treated_people: null, comparison_people: null };
    const rows = [{
      label: 'PHQ-9 change, index to follow-up', series: 'Referred minus comparison', value: r.change_difference, ci_low: r.ci_low, ci_high: r.ci_high,
      suppressed: r.status === 'withheld', note: r.status === 'published' ? `p ${r.p_value === null ? 'n/a' : r.p_value < 0.001 ? '< 0.001' : `= ${r.p_value.toFixed(3)}`}` : r.note,
    }];
    return {
      title: `Effect of a referral on PHQ-9 scores${domainText(p.domain)}`,
      spec: intervalSpec(rows, {
        title: 'Change in PHQ-9 score from an index score of 10 or more to the follow-up (days 120-240)',
        subtitle: ['Referred (first referral within 30 days of the index) minus not-yet-referred people, weighted to the same age band and Medicaid mix, in PHQ-9 points with a 95% interval. Below 0: scores fell more for the referred.'],
        xTitle: 'Difference in change, PHQ-9 points',
        kind: 'mean',
        zero: true,
        labelTitle: 'Outcome',
        description: `PHQ-9 comparison: ${r.change_difference === null ? (r.status === 'withheld' ? 'withheld' : 'not estimable') : `${r.change_difference.toFixed(1)} points (${r.ci_low?.toFixed(1)} to ${r.ci_high?.toFixed(1)})`}.`,
      }),
      table: {
        columns: [
          { key: 'status', title: 'Status' }, { key: 'change_difference', title: 'Difference in change, PHQ-9 points', format: 'decimal' },
          { key: 'ci_low', title: '95% CI low', format: 'decimal' }, { key: 'ci_high', title: '95% CI high', format: 'decimal' }, { key: 'p_value', title: 'p', format: 'decimal' },
          { key: 'treated_people', title: 'Referred people', format: 'number' }, { key: 'comparison_people', title: 'Comparison people', format: 'number' }, { key: 'note', title: 'Note' },
        ],
        rows: [r as unknown as Record<string, unknown>],
      },
      notes: [],
      nameParts: p.domain ? [p.domain] : [],
      ...(r.status === 'published' ? {} : { empty: r.note }),
    };
  },
};

const evaluationPhq9Balance = balanceChart({
  id: 'evaluation-phq9-balance',
  title: 'Balance of the PHQ-9 comparison',
  heading: 'Balance: referred against comparison people (PHQ-9)',
  specTitle: 'Standardised mean differences, referred minus comparison (PHQ-9 comparison)',
  subtitle: 'Within 0.1 either way is usually taken as balanced. The weights balance age band and Medicaid only. A yes/no characteristic is shown only when no count of people behind it is between 1 and 10.',
  rows: phq9BalanceRows,
  byDomain: true,
  empty: 'No balance is published for the PHQ-9 comparison in this run (see its status).',
});

const forest: ChartDef<z.ZodType<{ metric: string; dimension: string; grain: (typeof GRAINS)[number]; period_start?: string; scale: 'ratio' | 'difference'; flag: 'adjusted' | 'unadjusted' }>> = {
  id: 'forest',
  title: 'Disparities: groups against the reference',
  params: z.strictObject({
    metric: token(), dimension: token(), grain: z.enum(GRAINS).default('all'), period_start: isoDate.optional(), scale: z.enum(['ratio', 'difference']).default('ratio'),
    flag: z.enum(['adjusted', 'unadjusted']).default('adjusted'),
  }),
  async build(gen, p, scope) {
    if (scope !== undefined && involvesOrg(p.dimension)) throw new HttpError(403, 'not allowed: comparisons between organizations', { reason: 'forbidden' });
    const m = await requireMetric(gen, p.metric);
    if (m.kind !== 'proportion' && m.kind !== 'rate') {
      throw badRequest(`parameter 'metric': '${m.id}' is a ${m.kind}; disparity statistics exist for proportions and rates only`, { parameter: 'metric' });
    }
    if (!m.disparities) throw badRequest(`parameter 'metric': '${m.id}' is a step of the funnel; it carries no disparity statistics`, { parameter: 'metric' });
    await checkFilter(gen, { metric: m.id, dimension: p.dimension, grain: p.grain });
    if (p.dimension === 'all' || p.dimension.startsWith('domain')) throw badRequest(`parameter 'dimension' must be a population dimension or target_org_id (domain cuts compare different needs, not groups of people)`, { parameter: 'dimension' });
    const period = await periodFor(gen, m.id, p.grain, p.period_start);
    const d = await disparities(gen, { metric: m.id, dimension: p.dimension, grain: p.grain, period_start: period });
    const rows = forestRows(d.rows, p.scale, p.flag);
    const kind = valueKind(m);
    const when = p.grain === 'all' ? 'whole span' : periodLabel(p.grain, period ?? '');
    const flagged = rows.filter((r) => r.flagged).map((r) => r.group);
    return {
      title: `${m.title} by ${dimensionLabel(p.dimension).toLowerCase()}`,
      spec: forestSpec(rows, {
        title: `${m.title} by ${dimensionLabel(p.dimension).toLowerCase()}`,
        subtitle: `${p.scale === 'ratio' ? 'Rate ratio' : 'Difference'} against the reference group (${d.reference_label ?? 'none'}), ${when}. ${m.direction === 'higher_better' ? 'Higher is better.' : 'Lower is better.'}`,
        scale: p.scale,
        valueFormat: preciseFormat(kind),
        flag: p.flag,
        description: `Forest plot of ${rows.length} groups against ${d.reference_label ?? 'no reference'}; flagged${p.flag === 'unadjusted' ? ' by the AHRQ rule alone' : ''}: ${flagged.length ? flagged.join(', ') : 'none'}.`,
      }),
      table: {
        columns: [{ key: 'group', title: 'Group' }, { key: 'group_value', title: 'Code' }, { key: 'value', title: valueTitle(m), format: fmtOf(m) }, { key: 'estimate', title: p.scale === 'ratio' ? 'Rate ratio' : 'Difference', format: 'decimal' },
          { key: 'low', title: '95% CI low', format: 'decimal' }, { key: 'high', title: '95% CI high', format: 'decimal' }, { key: 'p_value', title: 'p', format: 'decimal' }, { key: 'q_value', title: 'q (BH)', format: 'decimal' },
          { key: 'flagged', title: p.flag === 'unadjusted' ? 'Flagged (AHRQ rule alone)' : 'Disparity (AHRQ rule and q < 0.05)', format: 'boolean' },
          { key: 'flagged_unadjusted', title: 'AHRQ rule alone', format: 'boolean' }, { key: 'unreliable', title: UNRELIABLE_COLUMN, format: 'boolean' }, { key: 'status', title: 'Status' }],
        rows: rows as unknown as Array<Record<string, unknown>>,
      },
      notes: [],
      empty: d.has_statistics ? undefined : 'No comparison statistics are published for this view in this run (for example when the reference group is withheld); the table lists the groups.',
      nameParts: [m.id, p.dimension, p.grain, period ?? ''].filter(Boolean),
    };
  },
};

const quarantine: ChartDef<z.ZodType<Record<string, never>>> = {
  id: 'quarantine',
  title: 'Share of rows quarantined per file',
  params: z.strictObject({}),
  async build(gen) {
    const files = await loadReport(gen);
    if (!files) throw notAvailable('the load report');
    const reasons = (f: (typeof files)[number]) => f.top_reasons.map((r) => `${r.rule}${r.column ? ` (${r.column})` : ''} ×${r.count}`).join(', ');
    const n = (x: number) => x.toLocaleString('en-US');
    const pct = (x: number) => `${(x * 100).toLocaleString('en-US', { maximumFractionDigits: x < 0.001 ? 3 : 2 })}%`;
    // A share of the rows read, on an axis of at least 0-5%, so 12 bad rows of 20,013 look like
    // the 0.06% they are. A file rejected whole has no rows read: no bar, a label that says so.
    const share = (f: (typeof files)[number]) => (!f.rejected && f.rows_read > 0 ? f.rows_quarantined / f.rows_read : 0);
    const bars = files.map((f) => ({
      label: f.file,
      series: 'Share quarantined',
      value: share(f),
      text: f.rejected ? 'rejected whole: not loaded' : `${pct(share(f))} (${n(f.rows_quarantined)} of ${n(f.rows_read)})${f.top_reasons[0] ? `: ${f.top_reasons[0].rule}` : ''}`,
      note: f.rejected ? f.message : reasons(f) || null,
      extra: { rows_read: f.rows_read, rows_quarantined: f.rows_quarantined },
    }));
    const read = files.reduce((t, f) => t + f.rows_read, 0);
    const quarantined = files.reduce((t, f) => t + f.rows_quarantined, 0);
    return {
      title: 'Share of rows quarantined per file',
      spec: barSpec(bars, {
        title: 'Share of rows read that were quarantined, per file',
        subtitle: 'The run that produced the published data; labels: share (quarantined of read) and the commonest reason.',
        xTitle: 'Share of rows quarantined',
        format: '.2%',
        domainMax: Math.max(0.05, ...bars.map((b) => b.value)),
        tooltip: [{ field: 'rows_quarantined', title: 'Rows quarantined', format: ',d' }, { field: 'rows_read', title: 'Rows read', format: ',d' }],
        description: `${files.length} files; ${n(quarantined)} of ${n(read)} rows read quarantined (${read ? pct(quarantined / read) : '0%'}); ${files.filter((f) => f.rejected).length} rejected whole.`,
      }),
      table: {
        columns: [{ key: 'file', title: 'File' }, { key: 'entity', title: 'Entity' }, { key: 'rows_read', title: 'Read', format: 'number' }, { key: 'rows_loaded', title: 'Loaded', format: 'number' },
          { key: 'rows_quarantined', title: 'Quarantined', format: 'number' }, { key: 'share', title: 'Share quarantined', format: 'percent' }, { key: 'rejected', title: 'Rejected whole', format: 'boolean' }, { key: 'reasons', title: 'Top reasons' }, { key: 'message', title: 'Message' }],
        rows: files.map((f) => ({ ...f, share: f.rejected ? null : share(f), reasons: reasons(f) })),
      },
      notes: [],
      nameParts: [],
    };
  },
};

const freshnessChart: ChartDef<z.ZodType<Record<string, never>>> = {
  id: 'freshness',
  title: 'Freshness',
  params: z.strictObject({}),
  async build(gen) {
    const rows = await freshness(gen);
    if (!rows) throw notAvailable('entity freshness');
    const bars = rows.filter((r) => r.days_behind_as_of !== null).map((r) => ({ label: r.entity, series: 'Days behind as-of', value: r.days_behind_as_of as number, text: `${r.days_behind_as_of} day${r.days_behind_as_of === 1 ? "" : "s"} (latest ${r.latest_date})`, note: `latest ${r.latest_date}` }));
    return {
      title: 'Freshness of each extract',
      spec: barSpec(bars, { title: 'Days from each extract\'s latest event to the as-of date', subtitle: `As of ${gen.asOf}. Long bars: an extract that stopped arriving.`, xTitle: 'Days', description: bars.map((b) => `${b.label}: ${b.value} days`).join('; ') }),
      table: {
        columns: [{ key: 'entity', title: 'Entity' }, { key: 'rows_loaded', title: 'Rows', format: 'number' }, { key: 'latest_date', title: 'Latest event', format: 'date' }, { key: 'days_behind_as_of', title: 'Days behind as-of', format: 'number' }],
        rows,
      },
      notes: [],
      nameParts: [],
    };
  },
};

export const CHARTS = [
  trend, sparkline, spc, funnelChart, km, scorecard, heatmapChart('gap-heatmap'), heatmapChart('demand-capacity', 'demand_capacity_ratio'), gapMap, phq9, prepostChart, forest, quarantine, freshnessChart,
  eventStudyChart, evaluationEffect, evaluationBalance, evaluationPhq9, evaluationPhq9Balance,
] as unknown as Array<ChartDef<z.ZodType<Record<string, unknown>>>>;

export const CHART_IDS = CHARTS.map((c) => c.id);

export function findChart(id: string) {
  return CHARTS.find((c) => c.id === id);
}

/** A chart's parameters, validated (strict: an unknown parameter is a 400). */
export function chartParams(id: string, query: unknown): Record<string, unknown> {
  const def = findChart(id);
  if (!def) throw badRequest(`unknown chart '${id}'; charts: ${CHART_IDS.join(', ')}`, { parameter: 'chart' });
  return parseParams(def.params, query) as Record<string, unknown>;
}

/** Build a chart (cached per generation, parameters and scope). */
export function buildChart(gen: Generation, id: string, query: unknown, scope?: string): Promise<ChartResult> {
  const def = findChart(id)!;
  const params = chartParams(id, query);
  const key = `chart:${id}:${JSON.stringify(Object.entries(params).sort())}${scope === undefined ? '' : `@org:${scope}`}`;
  return gen.memo(key, async () => {
    const r = await def.build(gen, params, scope);
    if (!r.empty && r.table.rows.length === 0) r.empty = 'No figures are published for this view in this run.';
    const withheld = await partnerWithheldMetrics(gen);
    const metric = typeof params.metric === 'string' ? params.metric : typeof params.measure === 'string' ? params.measure : undefined;
    if (metric !== undefined && withheld.has(metric)) r.notes.push(PARTNER_CHART_NOTE);
    return r;
  }, (r) => JSON.stringify(r.spec).length * 2);
}

export type { Row };
