// The evaluation (issue 22, models/evaluation): the event study, the difference-in-
// differences estimate, cohort sizes, balance and the pre-trend test, read from the tables
// the publish wrote (already under the small-cell rule), never computed here.
import type { Generation } from '../generation.ts';
import { EVALUATION_LIMITS } from '../../models/evaluation/limits.ts';
import { notAvailable } from './gaps.ts';

export const EVALUATION_OUTCOMES = { ed_visits: 'ED visits', inpatient_admits: 'Inpatient admissions' } as const;
export type EvaluationOutcome = keyof typeof EVALUATION_OUTCOMES;

export interface EvaluationSummaryRow {
  outcome: EvaluationOutcome;
  status: 'published' | 'withheld' | 'not_estimable';
  note: string;
  att_per_1000: number | null;
  ci_low: number | null;
  ci_high: number | null;
  p_value: number | null;
  pretrend_chi2: number | null;
  pretrend_df: number | null;
  pretrend_p: number | null;
  treated_people: number | null;
  comparison_people: number | null;
  cohorts: number;
  first_cohort: string | null;
  last_cohort: string | null;
}

export interface EventStudyMonth { outcome: EvaluationOutcome; rel_month: number; estimate_per_1000: number; ci_low: number; ci_high: number; period: string }
export interface BalanceRow { covariate: string; smd_before: number | null; smd_after: number | null }


async function requireTables(gen: Generation): Promise<void> {
  if (!gen.hasTable('evaluation_summary') || !gen.hasTable('evaluation_event_study') || !gen.hasTable('evaluation_balance')) throw notAvailable('the evaluation');
}

export async function evaluationSummary(gen: Generation): Promise<EvaluationSummaryRow[]> {
  await requireTables(gen);
  return gen.query<EvaluationSummaryRow>(`SELECT outcome, status, note, att_per_1000, ci_low, ci_high, p_value, pretrend_chi2, pretrend_df, pretrend_p,
    treated_people, comparison_people, cohorts, first_cohort, last_cohort FROM evaluation_summary ORDER BY outcome`);
}

export async function eventStudyMonths(gen: Generation, outcome?: EvaluationOutcome): Promise<EventStudyMonth[]> {
  await requireTables(gen);
  return gen.query<EventStudyMonth>(`SELECT outcome, rel_month, estimate_per_1000, ci_low, ci_high, period FROM evaluation_event_study
    ${outcome ? 'WHERE outcome = ?' : ''} ORDER BY outcome, rel_month`, outcome ? [outcome] : undefined);
}

export async function balanceRows(gen: Generation): Promise<BalanceRow[]> {
  await requireTables(gen);
  return gen.query<BalanceRow>('SELECT covariate, smd_before, smd_after FROM evaluation_balance');
}

export interface Phq9ComparisonRow {
  status: 'published' | 'withheld' | 'not_estimable';
  note: string;
  /** mean change in PHQ-9 points (follow-up - index), referred minus comparison */
  change_difference: number | null;
  ci_low: number | null;
  ci_high: number | null;
  p_value: number | null;
  treated_people: number | null;
  comparison_people: number | null;
}

async function requirePhq9Tables(gen: Generation): Promise<void> {
  if (!gen.hasTable('evaluation_phq9') || !gen.hasTable('evaluation_phq9_balance')) throw notAvailable('the PHQ-9 comparison');
}

/** The PHQ-9 comparison (one row), or null in a generation published before it existed. */
export async function phq9Comparison(gen: Generation): Promise<Phq9ComparisonRow | null> {
  if (!gen.hasTable('evaluation_phq9')) return null;
  return (await gen.query<Phq9ComparisonRow>('SELECT status, note, change_difference, ci_low, ci_high, p_value, treated_people, comparison_people FROM evaluation_phq9'))[0] ?? null;
}

export async function phq9BalanceRows(gen: Generation): Promise<BalanceRow[]> {
  await requirePhq9Tables(gen);
  return gen.query<BalanceRow>('SELECT covariate, smd_before, smd_after FROM evaluation_phq9_balance');
}

/** Everything the Evaluation page shows, for GET /api/evaluation. */
export async function evaluation(gen: Generation) {
  const phq9 = await phq9Comparison(gen);
  return {
    summary: await evaluationSummary(gen), event_study: await eventStudyMonths(gen), balance: await balanceRows(gen),
    phq9, phq9_balance: phq9 ? await phq9BalanceRows(gen) : [], limits: EVALUATION_LIMITS,
  };
}
