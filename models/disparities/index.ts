// Disparity statistics (metrics.md, "Disparities"): comparisons with each dimension's
// reference group in the results table, and summary measures in disparity_summary.
export { computeComparisons, familyQValues, DEFAULT_FAMILY_DIMENSIONS, MIN_FAVOURABLE_DENOMINATOR, type ComputeComparisonsOptions, type ComputeComparisonsResult } from './computeComparisons.ts';
export { compareGroups, ahrqFlag, RATE_SCALE, type ComparisonInput, type ComparisonStats, type ComparisonKind } from './compare.ts';
export { compareAll, compareBatch, VALUE_FIELDS, type ComparisonBatch, type ComparisonResults } from './comparisonBatch.ts';
export { buildDisparitySummary, type SummaryOptions } from './summaries.ts';
