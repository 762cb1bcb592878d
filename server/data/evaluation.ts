// The evaluation (issue 22, models/evaluation): the event study, the difference-in-
// differences estimate, cohort sizes, balance and the pre-trend test, read from the tables
// the publish wrote (already under the small-cell rule), never computed here.
import type { Generation } from '../generation.ts';
import { EVALUATION_LIMITS } from '../../models/evaluation/limits.ts';
import { notAvailable } from './gaps.ts';
import { badRequest } from '../http.ts';

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


/** Every domain together: the default selection. */
export const ANY_DOMAIN = 'any';

async function requireTables(gen: Generation): Promise<void> {
  if (!gen.hasTable('evaluation_summary') || !gen.hasTable('evaluation_event_study') || !gen.hasTable('evaluation_balance')) throw notAvailable('the evaluation');
}

/** Whether the tables carry a domain column (a generation published before the domain filter has only 'any'). */
const byDomain = (gen: Generation) => gen.hasColumns('evaluation_summary', 'domain');

/** The domain selections published: 'any' and the need domains of first referrals. */
export async function evaluationDomains(gen: Generation): Promise<string[]> {
  await requireTables(gen);
  if (!byDomain(gen)) return [ANY_DOMAIN];
  const phq9 = gen.hasColumns('evaluation_phq9', 'domain') ? ' UNION SELECT domain FROM evaluation_phq9' : '';
  return (await gen.query<{ domain: string }>(`SELECT DISTINCT domain FROM (SELECT domain FROM evaluation_summary${phq9}) ORDER BY domain = '${ANY_DOMAIN}' DESC, domain`)).map((r) => r.domain);
}

/** The selection asked for ('any' when none), checked against the published ones: a 400 names them. */
async function selection(gen: Generation, domain: string | undefined): Promise<string> {
  const d = domain ?? ANY_DOMAIN;
  const known = await evaluationDomains(gen);
  if (!known.includes(d)) {
    throw badRequest(`parameter 'domain': no evaluation is published for '${d}'; published: ${known.join(', ')}`, { parameter: 'domain' });
  }
  return d;
}

export async function evaluationSummary(gen: Generation, domain?: string): Promise<EvaluationSummaryRow[]> {
  const d = await selection(gen, domain);
  return gen.query<EvaluationSummaryRow>(`SELECT outcome, status, note, att_per_1000, ci_low, ci_high, p_value, pretrend_chi2, pretrend_df, pretrend_p,
    treated_people, comparison_people, cohorts, first_cohort, last_cohort FROM evaluation_summary ${byDomain(gen) ? 'WHERE domain = ?' : ''} ORDER BY outcome`, byDomain(gen) ? [d] : undefined);
}

export async function eventStudyMonths(gen: Generation, outcome?: EvaluationOutcome, domain?: string): Promise<EventStudyMonth[]> {
  const d = await selection(gen, domain);
  const where = [...(outcome ? ['outcome = ?'] : []), ...(byDomain(gen) ? ['domain = ?'] : [])];
  const params = [...(outcome ? [outcome] : []), ...(byDomain(gen) ? [d] : [])];
  return gen.query<EventStudyMonth>(`SELECT outcome, rel_month, estimate_per_1000, ci_low, ci_high, period FROM evaluation_event_study
    ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY outcome, rel_month`, params.length ? params : undefined);
}

export async function balanceRows(gen: Generation, domain?: string): Promise<BalanceRow[]> {
  const d = await selection(gen, domain);
  return byDomain(gen)
    ? gen.query<BalanceRow>('SELECT covariate, smd_before, smd_after FROM evaluation_balance WHERE domain = ?', [d])
    : gen.query<BalanceRow>('SELECT covariate, smd_before, smd_after FROM evaluation_balance');
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

/**
 * The PHQ-9 comparison of a domain selection ('any' when none; one row), or null in a
 * generation published before it existed or with no PHQ-9 comparison for that domain.
 */
export async function phq9Comparison(gen: Generation, domain?: string): Promise<Phq9ComparisonRow | null> {
  if (!gen.hasTable('evaluation_phq9')) return null;
  const cols = 'status, note, change_difference, ci_low, ci_high, p_value, treated_people, comparison_people';
  if (!gen.hasColumns('evaluation_phq9', 'domain')) return domain && domain !== ANY_DOMAIN ? null : (await gen.query<Phq9ComparisonRow>(`SELECT ${cols} FROM evaluation_phq9`))[0] ?? null;
  return (await gen.query<Phq9ComparisonRow>(`SELECT ${cols} FROM evaluation_phq9 WHERE domain = ?`, [domain ?? ANY_DOMAIN]))[0] ?? null;
}

export async function phq9BalanceRows(gen: Generation, domain?: string): Promise<BalanceRow[]> {
  await requirePhq9Tables(gen);
  if (!gen.hasColumns('evaluation_phq9_balance', 'domain')) return domain && domain !== ANY_DOMAIN ? [] : gen.query<BalanceRow>('SELECT covariate, smd_before, smd_after FROM evaluation_phq9_balance');
  return gen.query<BalanceRow>('SELECT covariate, smd_before, smd_after FROM evaluation_phq9_balance WHERE domain = ?', [domain ?? ANY_DOMAIN]);
}

/** Everything the Evaluation page shows, for GET /api/evaluation. */
export async function evaluation(gen: Generation, domain?: string) {
  const phq9 = await phq9Comparison(gen, await selection(gen, domain));
  return {
    domain: await selection(gen, domain), domains: await evaluationDomains(gen),
    summary: await evaluationSummary(gen, domain), event_study: await eventStudyMonths(gen, undefined, domain), balance: await balanceRows(gen, domain),
    phq9, phq9_balance: phq9 ? await phq9BalanceRows(gen, domain) : [], limits: EVALUATION_LIMITS,
  };
}
