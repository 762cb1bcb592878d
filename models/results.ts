// The long metric results table (outputs.md): a stable interface that spreadsheets,
// R, BI tools and partner scripts depend on. Change it only additively.
export const RESULT_COLUMNS = [
  { name: 'metric_id', type: 'VARCHAR' },
  { name: 'period_grain', type: 'VARCHAR' },
  { name: 'period_start', type: 'DATE' },
  { name: 'period_end', type: 'DATE' },
  { name: 'dimension', type: 'VARCHAR' },
  { name: 'group_value', type: 'VARCHAR' },
  { name: 'numerator', type: 'DOUBLE' },
  { name: 'denominator', type: 'DOUBLE' },
  { name: 'value', type: 'DOUBLE' },
  { name: 'ci_low', type: 'DOUBLE' },
  { name: 'ci_high', type: 'DOUBLE' },
  { name: 'suppressed', type: 'BOOLEAN' },
  { name: 'reference_group', type: 'VARCHAR' },
  { name: 'rate_difference', type: 'DOUBLE' },
  { name: 'rd_ci_low', type: 'DOUBLE' },
  { name: 'rd_ci_high', type: 'DOUBLE' },
  { name: 'rate_ratio', type: 'DOUBLE' },
  { name: 'rr_ci_low', type: 'DOUBLE' },
  { name: 'rr_ci_high', type: 'DOUBLE' },
  { name: 'p_value', type: 'DOUBLE' },
  { name: 'q_value', type: 'DOUBLE' },
  { name: 'disparity_flag', type: 'BOOLEAN' },
  { name: 'run_id', type: 'VARCHAR' },
  { name: 'as_of', type: 'DATE' },
  { name: 'note', type: 'VARCHAR' },
  // Added by issue 15 (outputs.md allows columns after these):
  /** final | provisional | partial: see PERIOD_STATUSES */
  { name: 'period_status', type: 'VARCHAR' },
  /** NCHS reliability: relative standard error above 30% or fewer than 20 events; empty when withheld or not assessed */
  { name: 'unreliable', type: 'BOOLEAN' },
  /** the AHRQ rule alone (p < 0.05 and 10% worse), without the q < 0.05 that disparity_flag also asks */
  { name: 'disparity_flag_unadjusted', type: 'BOOLEAN' },
] as const;

/**
 * final: every unit of the period has had the metric's longest window (calendar end +
 * maturityDays <= as-of), so the figure will not change; provisional: not yet; partial: the
 * period began before the metric's data did (the first months of an extract), so it is
 * never compared with a full period.
 */
export const PERIOD_STATUSES = ['final', 'provisional', 'partial'] as const;
export type PeriodStatus = (typeof PERIOD_STATUSES)[number];

export type ResultColumn = (typeof RESULT_COLUMNS)[number]['name'];

export const PERIOD_GRAINS = ['all', 'year', 'quarter', 'month'] as const;
export type PeriodGrain = (typeof PERIOD_GRAINS)[number];

/** Excel's hard limit on rows in one sheet (header included). */
export const XLSX_MAX_ROWS = 1_048_576;
