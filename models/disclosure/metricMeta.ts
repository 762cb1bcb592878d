// What disparity statistics and disclosure control need to know about a metric, read from
// the catalog (models/metrics/catalog.ts) in one place, so tests can also describe
// synthetic metrics without building full catalog entries.
//
// Catalog field -> meta:
//   id, kind, direction                      -> the same
//   kind 'rate' with interval 'none'         -> dollarNumerator (paid_pmpm: numerator = dollars)
//   isAdditiveOverTime(metric, dimension)    -> additiveOverTime(dimension)  (relation (c))
//   groupsSumToAll(metric, dimension)        -> groupsSumToAll(dimension)    (relations (a), (b);
//                                               decided by countedUnit: referral / positive_need
//                                               units partition by domain and target_org_id)
import { groupsSumToAll, isAdditiveOverTime, type Metric } from '../metrics/catalog.ts';
import { POPULATION_DIMENSIONS } from '../metrics/dimensions.ts';

export type MetricKind = 'proportion' | 'rate' | 'duration' | 'count' | 'mean' | 'ratio';
export type Direction = 'higher_better' | 'lower_better';

export interface MetricMeta {
  id: string;
  kind: MetricKind;
  direction: Direction;
  /** The numerator is a sum of dollars, not a count of events (paid_pmpm). */
  dollarNumerator: boolean;
  /** Months add up to quarters, quarters to years, years to the whole span, in this dimension. */
  additiveOverTime(dimension: string): boolean;
  /** Each counted unit is in exactly one group of this one-way dimension. */
  groupsSumToAll(dimension: string): boolean;
  /** Person-time in whole windows of this many days, one per person (pre/post referral). */
  wholeWindowDays?: number;
}

/** A catalog entry or an already-built meta (tests). */
export type MetricInput = Metric | MetricMeta;

function isCatalogEntry(m: MetricInput): m is Metric {
  return 'countedUnit' in m;
}

export function metricMeta(m: MetricInput): MetricMeta {
  if (!isCatalogEntry(m)) return m;
  return {
    id: m.id,
    // a cumulative incidence publishes events and cases like a duration (issue 15)
    kind: m.kind === 'incidence' ? 'duration' : m.kind,
    direction: m.direction,
    dollarNumerator: m.kind === 'rate' && m.interval === 'none',
    additiveOverTime: (dimension) => isAdditiveOverTime(m, dimension),
    // The catalog answers for the metric's own dimensions; a configured two-way cut's
    // parts are always among them.
    groupsSumToAll: (dimension) => groupsSumToAll(m, dimension),
    wholeWindowDays: m.wholeWindowDays,
  };
}

export function metricMetaMap(metrics: readonly MetricInput[]): Map<string, MetricMeta> {
  const out = new Map<string, MetricMeta>();
  for (const m of metrics) out.set(m.id, metricMeta(m));
  return out;
}

/** The one-way dimensions disclosure control knows how to relate (besides `all`). */
export const KNOWN_ONE_WAY_DIMENSIONS: readonly string[] = [...POPULATION_DIMENSIONS, 'domain', 'target_org_id'];
