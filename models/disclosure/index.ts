// Disclosure control (metrics.md, "Disclosure control"): suppression once over the whole
// results table, the other published aggregates, and the independent audit.
export { finaliseResults, type FinaliseOptions, type FinaliseResult } from './finalise.ts';
export { suppress, checkThreshold, MIN_THRESHOLD, type SuppressOptions, type SuppressResult } from './suppress.ts';
export { suppressOtherTables, suppressGapTable, suppressPrePost, type OtherTablesResult } from './otherTables.ts';
export { publishKmCurves, chooseCurves, commonGrid, meetsRule, publishedPoints, type Days, type KmCurve } from './kmGrid.ts';
export { auditResults, auditCsv, unneutralise, type AuditRow, type AuditReport, type AuditViolation, type AuditOptions } from './audit.ts';
export { solveSuppression, isSmallCount, isSmallWithheld, type Relations, type SuppressionInput } from './suppressionCore.ts';
export { metricMeta, metricMetaMap, type MetricMeta, type MetricInput } from './metricMeta.ts';
