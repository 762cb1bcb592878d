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
] as const;

export type ResultColumn = (typeof RESULT_COLUMNS)[number]['name'];

export const PERIOD_GRAINS = ['all', 'year', 'quarter', 'month'] as const;
export type PeriodGrain = (typeof PERIOD_GRAINS)[number];

/** Excel's hard limit on rows in one sheet (header included). */
export const XLSX_MAX_ROWS = 1_048_576;
