// SQL for one aggregation: a fact, aggregated once over all its metrics' dimensions.
//
// Step 1 (month level): fact rows x person attributes, GROUP BY GROUPING SETS over
// (month, keys) x every dimension. Each grouping set is one dimension; GROUPING() tells
// them apart. Step 2 (rollup): the month-level rows join the periods of the fact's span
// they belong to (fact.periodJoin) and are summed into period x dimension x group. Rolling
// up from months costs a few thousand rows instead of unpivoting every fact row into four
// grains.
//
// Payer and program_id change over time (coverage): a fact with coverage 'row' carries them
// (person-time split by the coverage of each day, people in a period under their last
// enrolled day in it); for the others they are the person's coverage on the metric's age date
// (the anchor, or the as-of date), `unknown` when the person was not covered that day, added
// to the fact table once (withCoverageSql) rather than joined in every aggregation (a join
// inside the GROUPING SETS query cost DuckDB several times the aggregation itself).
//
// Ages: with ageAt 'anchor' or 'as_of' the age band is fixed per fact row. With
// 'period_end' it depends on the period, so step 1 keeps a coarse birth key instead: the
// smallest threshold key (period_end key - 18/26/45/65 years) at or above the person's
// birth key. Every band boundary at every period end is one of those thresholds, so the
// band computed from it in step 2 is exact, and there are only ~4 x (periods) of them.
import { AGE_BAND_THRESHOLDS, ageBandSql, dateKeySql, dimensionParts, isPopulationDimension } from './dimensions.ts';
import { sqlString } from '../duckdb.ts';
import { DUCKDB, type Dialect } from '../engines/dialect.ts';
import type { FactDef } from './facts.ts';

export type AgeAt = 'anchor' | 'period_end' | 'as_of';

export interface AggregationSpec {
  /** Name of the rolled-up table (the month-level table is `${name}_month`). */
  name: string;
  fact: FactDef;
  ageAt: AgeAt;
  /** Grain `all` only. */
  snapshot: boolean;
  /** 'all', one-way and two-way dimensions. */
  dimensions: readonly string[];
  measures: readonly string[];
  /** Kaplan-Meier / Aalen-Johansen: group by time too, count events (and competing events) and censored cases. */
  duration?: { time: string; event: string; competing?: string };
  /** Only fact rows where one of these measures is non-zero (count metrics: other rows add nothing). */
  nonZero?: readonly string[];
}

interface GroupingSet {
  dimension: string;
  columns: string[];
  /** Group value in step 2, over month-level row `a` and period `p`. */
  groupValue: string;
}

/** Sentinel birth key above every threshold: younger than every band boundary (0-17). */
const YOUNGEST = 99999999;

function oneWay(dimension: string, ageAt: AgeAt): { column: string; groupValue: string } {
  if (dimension === 'age_band' && ageAt === 'period_end') {
    return { column: 'birth_canon', groupValue: ageBandSql(dateKeySql('p.period_end'), 'a.birth_canon') };
  }
  return { column: dimension, groupValue: `a.${dimension}` };
}

export function groupingSets(dimensions: readonly string[], ageAt: AgeAt): GroupingSet[] {
  return dimensions.map((dimension) => {
    const parts = dimensionParts(dimension).map((d) => oneWay(d, ageAt));
    return {
      dimension,
      columns: parts.map((p) => p.column),
      groupValue: parts.length === 0 ? `'all'` : parts.map((p) => p.groupValue).join(` || '*' || `),
    };
  });
}

/** Value of GROUPING(columns...) for a set: bit i (first column = most significant) is 1 when column i is not grouped. */
export function groupingMask(columns: readonly string[], set: readonly string[]): number {
  return columns.reduce((mask, c, i) => (set.includes(c) ? mask : mask | (1 << (columns.length - 1 - i))), 0);
}

function ageColumnSql(ageAt: AgeAt, asOfSql: string): string {
  if (ageAt === 'period_end') return `coalesce(pa.t, ${YOUNGEST}) AS birth_canon`;
  const date = ageAt === 'anchor' ? 'f.anchor_date' : asOfSql;
  return `${ageBandSql(dateKeySql(date), 'pa.birth_key')} AS age_band`;
}

/** Population dimensions that change over time: from coverage, not from the people row. */
export const COVERAGE_DIMENSIONS: readonly string[] = ['payer', 'program_id'];

/** The date a fact with coverage 'as_of_date' takes payer and program on, for an age basis. */
export type CoverageBasis = 'anchor' | 'as_of';

/** Whether an aggregation takes payer or program from coverage on a date, and on which. */
export function coverageBasis(spec: AggregationSpec): CoverageBasis | null {
  const columns = groupingSets(spec.dimensions, spec.ageAt).flatMap((s) => s.columns);
  if (spec.fact.coverage !== 'as_of_date' || !columns.some((c) => COVERAGE_DIMENSIONS.includes(c))) return null;
  if (spec.ageAt === 'period_end') {
    throw new Error(`${spec.name}: fact ${spec.fact.id} takes payer and program from coverage on a date; ages at the period's end need a fact with coverage 'row'`);
  }
  return spec.ageAt;
}

/** A fact's SELECT with the person's payer and program on each basis date (`_payer_anchor`, ...; unknown when not covered). */
export function withCoverageSql(factSql: string, bases: readonly CoverageBasis[], asOfSql: string): string {
  if (bases.length === 0) return factSql;
  const date = (b: CoverageBasis) => (b === 'anchor' ? 'f.anchor_date' : asOfSql);
  const cols = bases.flatMap((b) => COVERAGE_DIMENSIONS.map((c) => `coalesce(c_${b}.${c}, 'unknown') AS _${c}_${b}`));
  const joins = bases.map((b) => `LEFT JOIN int_coverage c_${b} ON c_${b}.person_id = f.person_id AND ${date(b)} BETWEEN c_${b}.segment_from AND c_${b}.segment_through`);
  return `SELECT f.*, ${cols.join(', ')}\nFROM (\n${factSql}\n) f\n${joins.join('\n')}`;
}

/** Step 1 as a SELECT (the engine makes it the table `${spec.name}_month`). */
export function monthLevelSql(spec: AggregationSpec, asOfSql: string, dialect: Dialect = DUCKDB): string {
  const { fact } = spec;
  const sets = groupingSets(spec.dimensions, spec.ageAt);
  const columns = [...new Set(sets.flatMap((s) => s.columns))];
  const fixed = ['month_start', ...fact.keys, ...(spec.duration ? ['time'] : [])];
  const needsAge = columns.includes('age_band') || columns.includes('birth_canon');
  const basis = coverageBasis(spec);
  const select = [
    // the fact's own columns: month, keys, measure inputs, fact dimensions (and, for
    // coverage 'row', payer and program_id)
    dialect.starExcept('f', ['person_id']),
    ...(spec.duration ? [`f.${spec.duration.time} AS time`, `f.${spec.duration.event} AS event`, `${spec.duration.competing ? `f.${spec.duration.competing}` : '0'} AS competing`] : []),
    ...columns.filter((c) => isPopulationDimension(c) && c !== 'age_band' && !COVERAGE_DIMENSIONS.includes(c)).map((c) => `pa.${c}`),
    ...(basis ? columns.filter((c) => COVERAGE_DIMENSIONS.includes(c)).map((c) => `f._${c}_${basis} AS ${c}`) : []),
    ...(needsAge ? [ageColumnSql(spec.ageAt, asOfSql)] : []),
  ];
  const measures = spec.duration
    ? ['sum(event) AS events', 'sum(competing) AS competing', 'count(*) - sum(event) - sum(competing) AS censored']
    : spec.measures.flatMap((m) => {
        const measure = fact.measures[m];
        if (!measure) throw new Error(`fact ${fact.id} has no measure ${m}`);
        return measure.month ? [`${measure.month} AS ${m}`] : [];
      });
  const thresholds = spec.ageAt === 'period_end' && needsAge
    ? `,
th AS (
  SELECT DISTINCT ${dateKeySql('period_end')} - k AS t
  FROM int_periods, (VALUES ${AGE_BAND_THRESHOLDS.map((y) => `(${y * 10000})`).join(', ')}) AS v(k)
  WHERE span_entity = '${fact.span}'
)`
    : '';
  return `WITH f AS (
  SELECT f.*, date_trunc('month', f.anchor_date)::DATE AS month_start
  FROM ${fact.id} f
  JOIN int_spans s ON s.span_entity = '${fact.span}' AND f.anchor_date BETWEEN s.span_start AND s.span_end${
    spec.nonZero ? `\n  WHERE ${spec.nonZero.map((m) => `f.${m} <> 0`).join(' OR ')}` : ''}
)${thresholds},
x AS (
  SELECT ${select.join(', ')}
  FROM f
  JOIN ${thresholds ? `(SELECT pa.*, th.t FROM int_person_attributes pa ${dialect.asofLeftJoin('int_person_attributes pa', 'th', 'pa.birth_key <= th.t')})` : 'int_person_attributes'} pa USING (person_id)
)
SELECT ${[...fixed, columns.length > 0 ? `GROUPING(${columns.join(', ')}) AS gmask` : '0 AS gmask', ...columns, ...measures].join(', ')}
FROM x
GROUP BY GROUPING SETS (${sets.map((s) => `(${[...fixed, ...s.columns].join(', ')})`).join(', ')})`;
}

/** Step 2 as a SELECT: month-level rows into the periods they belong to. */
export function rollupSelectSql(spec: AggregationSpec, dialect: Dialect = DUCKDB): string {
  const { fact } = spec;
  const sets = groupingSets(spec.dimensions, spec.ageAt);
  const columns = [...new Set(sets.flatMap((s) => s.columns))];
  const byMask = (pick: (s: GroupingSet) => string) =>
    `CASE a.gmask ${sets.map((s) => `WHEN ${groupingMask(columns, s.columns)} THEN ${pick(s)}`).join(' ')} END`;
  const measures = spec.duration
    ? ['a.time', 'sum(a.events) AS events', 'sum(a.competing) AS competing', 'sum(a.censored) AS censored']
    : spec.measures.map((m) => `${fact.measures[m]?.rollup} AS ${m}`);
  return `SELECT p.grain AS period_grain, p.period_start, p.period_end,
  ${byMask((s) => `'${s.dimension}'`)} AS dimension,
  ${byMask((s) => s.groupValue)} AS group_value,
  ${measures.join(',\n  ')}
FROM ${spec.name}_month a
JOIN int_periods p ON p.span_entity = '${fact.span}'${spec.snapshot ? ` AND p.grain = 'all'` : ''} AND ${fact.periodJoin}
${dialect.groupByAll(spec.duration ? 6 : 5 /* the columns before the sums */)}`;
}

/**
 * Kaplan-Meier input per period x group of the given dimensions: (time:events:censored)
 * triples, by time, in one string; with a competing event, (time:events:censored:competing).
 */
export function survivalSql(spec: AggregationSpec, dimensions: readonly string[], dialect: Dialect = DUCKDB): string {
  const competing = spec.duration?.competing ? ` || ':' || competing` : '';
  return `WITH r AS (
${rollupSelectSql(spec, dialect)}
)
SELECT period_grain, period_start, period_end, dimension, group_value,
  sum(events) AS events, sum(events + censored + competing) AS cases,
  string_agg(time || ':' || events || ':' || censored${competing}, ',' ORDER BY time) AS survival
FROM r
WHERE dimension IN (${dimensions.map(sqlString).join(', ')})
GROUP BY period_grain, period_start, period_end, dimension, group_value`;
}
