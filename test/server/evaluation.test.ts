// The evaluation's API and chart downloads (issue 22) against the hand-built published
// generation (test/helpers/publishedFixture: ED published, admissions withheld).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../server/app.ts';
import { addTestUser, getAs, type TestUser } from '../helpers/auth.ts';
import { publishedFixture, type PublishedFixture } from '../helpers/publishedFixture.ts';

let fx: PublishedFixture;
let app: App;
let evaluator: TestUser;
let admin: TestUser;

beforeAll(async () => {
  fx = await publishedFixture();
  app = createApp({ root: fx.root, log: () => undefined });
  evaluator = await addTestUser(fx.root, 'evaluator');
  admin = await addTestUser(fx.root, 'admin');
});
afterAll(() => {
  app.close();
  fx.cleanup();
});

describe('GET /api/evaluation and the evaluation charts', () => {
  it('answers ?domain= with that domain\'s tables (first referrals in it against people screened positive in it), and names the published domains for an unknown one', async () => {
    const any = await getAs(app, evaluator, '/api/evaluation');
    expect(any.body).toMatchObject({ domain: 'any', domains: ['any', 'food'] });
    const r = await getAs(app, evaluator, '/api/evaluation?domain=food');
    expect(r.status, r.text).toBe(200);
    expect(r.body.domain).toBe('food');
    expect(r.body.summary).toHaveLength(2);
    expect(r.body.summary[0]).toMatchObject({ outcome: 'ed_visits', status: 'published', att_per_1000: -18.3, ci_low: -35.9, ci_high: -0.7, treated_people: 1210, comparison_people: 402 });
    expect(r.body.event_study.map((m: { rel_month: number }) => m.rel_month)).toEqual([-6, -5, -4, -3, -2, -1, 0, 1]);
    expect(r.body.balance).toEqual([{ covariate: 'Months from first positive screening', smd_before: -1.31, smd_after: -1.14 }]);
    expect(r.body.phq9).toMatchObject({ status: 'withheld', change_difference: null, treated_people: null });
    expect(r.body.phq9_balance).toEqual([]);
    const phq9 = await getAs(app, evaluator, '/api/charts/evaluation-phq9.csv?domain=food');
    expect(phq9.status, phq9.text).toBe(200);
    expect(phq9.text).toContain('withheld');
    expect(phq9.text).not.toContain('-2.4');
    const bad = await getAs(app, evaluator, '/api/evaluation?domain=education');
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('published: any, food');
    const csv = await getAs(app, evaluator, '/api/charts/event-study.csv?outcome=ed_visits&domain=food');
    expect(csv.status, csv.text).toBe(200);
    expect(csv.text.trim().split(/\r?\n/)).toHaveLength(1 + 8);
    const effect = await getAs(app, evaluator, '/api/charts/evaluation-effect.csv?domain=food');
    expect(effect.text).toContain('-18.3');
    expect(effect.text).not.toContain('-24.7');
    const bal = await getAs(app, evaluator, '/api/charts/evaluation-balance.csv?domain=food');
    expect(bal.text.trim().split(/\r?\n/)).toEqual(['covariate,smd_before,smd_after', 'Months from first positive screening,-1.31,-1.14']);
    // a domain the page offers but the run did not publish: the chart says so instead of failing
    const none = await getAs(app, evaluator, '/api/charts/event-study.json?outcome=ed_visits&domain=education');
    expect(none.status, none.text).toBe(200);
    expect(JSON.stringify(none.body)).toContain('No evaluation is published for first referrals in education');
  });

  it('returns the published summary, event study, balance and limits as they are in the file', async () => {
    const r = await getAs(app, evaluator, '/api/evaluation');
    expect(r.status, r.text).toBe(200);
    expect(r.body.summary[0]).toMatchObject({ outcome: 'ed_visits', status: 'published', att_per_1000: -24.7, ci_low: -33.2, ci_high: -16.2, treated_people: 3590, comparison_people: 1212, pretrend_p: 0.656 });
    expect(r.body.summary[1]).toMatchObject({ outcome: 'inpatient_admits', status: 'withheld', att_per_1000: null });
    expect(r.body.event_study).toHaveLength(19);
    expect(r.body.event_study[0]).toMatchObject({ outcome: 'ed_visits', rel_month: -6, estimate_per_1000: 1.5, period: 'baseline' });
    expect(r.body.balance.map((b: { covariate: string }) => b.covariate)).toEqual(['ED visits per month, months -6..-2', 'Age (years)', 'Medicaid']);
    expect((await getAs(app, admin, '/api/evaluation')).status).toBe(403);
  });

  it('returns the PHQ-9 comparison and its balance as they are in the file, and the PHQ-9 chart\'s CSV has them', async () => {
    const r = await getAs(app, evaluator, '/api/evaluation');
    expect(r.body.phq9).toEqual({ status: 'published', note: '', change_difference: -2.4, ci_low: -4.1, ci_high: -0.7, p_value: 0.00612, treated_people: 64, comparison_people: 212 });
    expect(r.body.phq9_balance).toEqual([
      { covariate: 'Index PHQ-9 score', smd_before: 0.21, smd_after: 0.18 }, { covariate: 'Age (years)', smd_before: -0.12, smd_after: 0.02 },
    ]);
    expect(r.body.limits.join(' ')).toMatch(/first elevated PHQ-9 \(10 or more/);
    const csv = await getAs(app, evaluator, '/api/charts/evaluation-phq9.csv');
    expect(csv.status, csv.text).toBe(200);
    const [head, row] = csv.text.trim().split(/\r?\n/);
    expect(head).toBe('status,change_difference,ci_low,ci_high,p_value,treated_people,comparison_people,note');
    expect(row).toBe('published,-2.4,-4.1,-0.7,0.00612,64,212,');
    const bal = await getAs(app, evaluator, '/api/charts/evaluation-phq9-balance.csv');
    expect(bal.status, bal.text).toBe(200);
    expect(bal.text.trim().split(/\r?\n/)).toEqual(['covariate,smd_before,smd_after', 'Index PHQ-9 score,0.21,0.18', 'Age (years),-0.12,0.02']);
  });

  it('the effect chart\'s CSV has the estimates, cohort sizes and the pre-trend test; the withheld outcome says why', async () => {
    const csv = await getAs(app, evaluator, '/api/charts/evaluation-effect.csv');
    expect(csv.status, csv.text).toBe(200);
    const [head, ed, ip] = csv.text.trim().split(/\r?\n/);
    expect(head).toBe('outcome_label,status,att_per_1000,ci_low,ci_high,p_value,pretrend_chi2,pretrend_df,pretrend_p,treated_people,comparison_people,cohorts,first_cohort,last_cohort,note');
    expect(ed).toBe('ED visits,published,-24.7,-33.2,-16.2,0,2.44,4,0.656,3590,1212,12,2025-05,2026-04,');
    expect(ip).toMatch(/^Inpatient admissions,withheld,,,,,,,,3590,1212,12,2025-05,2026-04,A month's events/);
    const chart = await getAs(app, evaluator, '/api/charts/event-study.json?outcome=inpatient_admits');
    expect(chart.status).toBe(200);
    expect(chart.body.empty).toMatch(/withheld by the small-cell rule/);
  });
});
