// The catalog: complete, validated, consistent with its SQL, and rendered as the dictionary.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ENTITIES } from '../../../models/contracts/index.ts';
import { exec, openDatabase, rows } from '../../../models/duckdb.ts';
import { buildIntermediate } from '../../../models/intermediate/index.ts';
import { modelVars, readSqlFile, renderSql } from '../../../models/intermediate/sql.ts';
import { groupingMask, groupingSets } from '../../../models/metrics/aggregate.ts';
import {
  METRICS, MetricSchema, factsInUse, groupsSumToAll, isAdditiveOverTime, metricById, metricDictionaryMarkdown,
} from '../../../models/metrics/catalog.ts';
import { resolveTwoWayCuts } from '../../../models/metrics/engine.ts';
import { factById, factSqlSource } from '../../../models/metrics/facts.ts';
import { stagingDDL } from '../../../models/staging/tables.ts';

const SPEC_METRICS = {
  // share_served_*: issue 15 (days_to_service as a cumulative incidence, read at days 30, 60, 90)
  access: [
    'screening_rate', 'sdoh_screening_rate', 'screen_positive_rate', 'sdoh_positive_rate', 'need_referral_rate', 'sns_e_intervention_rate',
    'days_to_referral', 'days_to_service', 'share_served_30d', 'share_served_60d', 'share_served_90d', 'connected_60d_rate', 'enrollment_after_referral_rate',
  ],
  closed_loop: ['referral_acceptance_rate', 'closed_loop_rate', 'need_met_rate', 'days_to_close', 'stale_open_referrals',
    // the funnel (issue 15): people, one cohort, each step a share of the step before
    'funnel_positive_share', 'funnel_referred_share', 'funnel_accepted_share', 'funnel_served_share', 'funnel_met_share'],
  service_gaps: ['positive_needs', 'unmet_need_rate', 'capacity_rejection_share', 'demand_capacity_ratio'],
  outcomes: [
    'phq9_follow_up_rate', 'phq9_response_rate', 'phq9_remission_rate', 'phq9_mean_change', 'ed_visits_per_1000_mm',
    'inpatient_admits_per_1000_mm', 'paid_pmpm', 'ed_visits_pre_referral_per_1000_mm', 'ed_visits_post_referral_per_1000_mm',
    'inpatient_pre_referral_per_1000_mm', 'inpatient_post_referral_per_1000_mm',
  ],
};

describe('catalog', () => {
  it('declares every metric of metrics.md once, in its group (and the mirrors of issue 17)', () => {
    for (const [group, ids] of Object.entries(SPEC_METRICS)) {
      expect(METRICS.filter((m) => m.group === group).map((m) => m.id)).toEqual(ids);
    }
    expect(METRICS).toHaveLength(Object.values(SPEC_METRICS).flat().length);
    expect(metricById('closed_loop_rate').windows).toEqual([60]);
    expect(() => metricById('nope')).toThrow(/unknown metric nope/);
  });

  it('issue 15: every metric knows when its figures are final; the closed-loop metrics have fixed windows', () => {
    const maturity = Object.fromEntries(METRICS.map((m) => [m.id, m.maturityDays]));
    expect(maturity).toMatchObject({
      referral_acceptance_rate: 14, closed_loop_rate: 60, need_met_rate: 90, capacity_rejection_share: 90, unmet_need_rate: 90,
      days_to_close: 180, days_to_service: 90, share_served_30d: 30, share_served_60d: 60, share_served_90d: 90,
      phq9_remission_rate: 240, ed_visits_pre_referral_per_1000_mm: 180, screening_rate: 0, ed_visits_per_1000_mm: 0,
    });
    // the longest forward window, except PHQ-9's 365-day look-back for a new index episode and
    // the snapshot (its 30 days are an age at the as-of date, not a window still to elapse)
    for (const m of METRICS) if (!m.id.startsWith('phq9') && !m.snapshot) expect(m.maturityDays, m.id).toBe(Math.max(0, ...m.windows));
    for (const id of ['referral_acceptance_rate', 'need_met_rate', 'capacity_rejection_share', 'unmet_need_rate']) {
      expect(metricById(id).definition, id).toMatch(/(within |days 0-)(14|90)/);
      expect(metricById(id).definition, id).toMatch(/fixed window/i);
    }
    expect(metricById('days_to_service')).toMatchObject({ kind: 'duration', interval: 'aalen_johansen' });
    expect(metricById('days_to_service').definition).toMatch(/competing event/);
    expect(metricById('share_served_60d')).toMatchObject({ kind: 'incidence', interval: 'aalen_johansen', direction: 'higher_better' });
  });

  it('states kinds, directions, anchors and the choices the spec leaves open', () => {
    expect(metricById('screen_positive_rate').direction).toBe('lower_better');
    expect(metricById('unmet_need_rate').direction).toBe('lower_better');
    expect(metricById('days_to_close').kind).toBe('duration');
    expect(metricById('stale_open_referrals')).toMatchObject({ kind: 'count', snapshot: true, ageAt: 'as_of' });
    expect(metricById('ed_visits_per_1000_mm')).toMatchObject({ kind: 'rate', scale: 1000, interval: 'poisson_exact', ageAt: 'period_end' });
    expect(metricById('paid_pmpm')).toMatchObject({ kind: 'rate', scale: 1, interval: 'none' });
    expect(metricById('paid_pmpm').definition).toMatch(/no Poisson interval/);
    expect(metricById('screen_positive_rate').definition).toMatch(/closeloop's choice/);
    const mirrored = ['sdoh_screening_rate', 'sdoh_positive_rate', 'sns_e_intervention_rate', 'connected_60d_rate', 'phq9_follow_up_rate', 'phq9_response_rate', 'phq9_remission_rate'];
    expect(METRICS.filter((m) => m.mirrors).map((m) => m.id)).toEqual(mirrored);
    for (const id of mirrored) {
      expect(metricById(id).definition, id).toMatch(/Mirrors .*not certified/);
      expect(metricById(id).fidelity?.differs.length, id).toBeGreaterThan(0);
    }
    // the broader metrics say which metric mirrors the measure instead of claiming it
    expect(metricById('screening_rate').definition).toMatch(/Broader than CMS SDOH-1, which sdoh_screening_rate mirrors/);
    expect(metricById('screen_positive_rate').definition).toMatch(/Broader than CMS SDOH-2, which sdoh_positive_rate mirrors/);
    expect(metricById('need_referral_rate').definition).toMatch(/broader than HEDIS SNS-E, which sns_e_intervention_rate mirrors/);
    // phq9_mean_change says what selecting on a high score builds in, and whom it covers
    expect(metricById('phq9_mean_change').definition).toMatch(/completers only/);
    expect(metricById('phq9_mean_change').definition).toMatch(/regression to the mean/);
  });

  it('requires a fidelity statement exactly where a metric mirrors a measure', () => {
    const base = { ...metricById('closed_loop_rate') } as z.input<typeof MetricSchema>;
    expect(MetricSchema.safeParse({ ...base, mirrors: 'HEDIS XYZ' }).error?.message).toMatch(/says how faithfully/);
    const drr = { ...metricById('phq9_follow_up_rate') } as z.input<typeof MetricSchema>;
    expect(MetricSchema.safeParse({ ...drr, fidelity: undefined }).error?.message).toMatch(/says how faithfully/);
  });

  it('marks "people in the period" metrics as not additive over time, and age_band at period end as an exception', () => {
    expect(metricById('screening_rate').additiveOverTime).toBe(false);
    expect(metricById('screen_positive_rate').additiveOverTime).toBe(false);
    expect(metricById('connected_60d_rate').additiveOverTime).toBe(true);
    expect(metricById('need_referral_rate').additiveOverTime).toBe(true);
    expect(isAdditiveOverTime(metricById('ed_visits_per_1000_mm'), 'payer')).toBe(true);
    expect(isAdditiveOverTime(metricById('ed_visits_per_1000_mm'), 'age_band')).toBe(false);
    expect(isAdditiveOverTime(metricById('ed_visits_per_1000_mm'), 'sex*age_band')).toBe(false);
    expect(isAdditiveOverTime(metricById('need_referral_rate'), 'age_band')).toBe(true);
    expect(isAdditiveOverTime(metricById('stale_open_referrals'), 'all')).toBe(false);
  });

  it('gives referral metrics partner and domain cuts, need metrics domain cuts, service gaps the domain x county cell', () => {
    expect(metricById('closed_loop_rate').dimensions).toEqual(expect.arrayContaining(['target_org_id', 'domain', 'race_ethnicity*payer']));
    expect(metricById('need_referral_rate').dimensions).toContain('domain');
    expect(metricById('need_referral_rate').dimensions).not.toContain('target_org_id');
    expect(metricById('phq9_follow_up_rate').dimensions).not.toContain('domain');
    for (const id of SPEC_METRICS.service_gaps) expect(metricById(id).dimensions, id).toContain('domain*county_fips');
    expect(groupsSumToAll(metricById('closed_loop_rate'), 'target_org_id')).toBe(true);
    expect(groupsSumToAll(metricById('unmet_need_rate'), 'domain')).toBe(true);
    expect(groupsSumToAll(metricById('screen_positive_rate'), 'domain')).toBe(false);
    expect(groupsSumToAll(metricById('closed_loop_rate'), 'race_ethnicity*payer')).toBe(false);
    // a person x domain unit is in one domain; payer and program partition every metric (one coverage per unit)
    expect(groupsSumToAll(metricById('sns_e_intervention_rate'), 'domain')).toBe(true);
    for (const m of METRICS.filter((x) => x.dimensions.includes('payer'))) {
      expect(groupsSumToAll(m, 'payer'), m.id).toBe(true);
      expect(groupsSumToAll(m, 'program_id'), m.id).toBe(true);
    }
  });

  it('rejects entries that do not fit (zod)', () => {
    const base = { ...metricById('closed_loop_rate') } as z.input<typeof MetricSchema>;
    const bad = (patch: Partial<z.input<typeof MetricSchema>>) => MetricSchema.safeParse({ ...base, ...patch });
    expect(bad({}).success).toBe(true);
    expect(bad({ sql: { parts: [{ fact: 'fct_nope', numerator: 'x' }] } }).error?.message).toMatch(/unknown fact fct_nope/);
    expect(bad({ sql: { parts: [{ fact: 'fct_referrals', numerator: 'nope', denominator: 'closed_60d_den' }] } }).error?.message).toMatch(/no measure nope/);
    expect(bad({ dimensions: ['all', 'shoe_size'] }).error?.message).toMatch(/unknown dimension shoe_size/);
    expect(bad({ dimensions: ['all', 'race_ethnicity', 'race_ethnicity*payer'] }).error?.message).toMatch(/needs both one-way cuts/);
    expect(bad({ interval: 't' }).error?.message).toMatch(/interval wilson/);
    expect(bad({ span: 'screenings' }).error?.message).toMatch(/observes the referrals span/);
    expect(bad({ snapshot: true }).error?.message).toMatch(/snapshot/);
    expect(bad({ direction: 'sideways' as 'higher_better' }).success).toBe(false);
    // a fact without target_org_id cannot be cut by partner
    expect(MetricSchema.safeParse({ ...metricById('phq9_follow_up_rate'), dimensions: ['all', 'target_org_id'] }).error?.message)
      .toMatch(/does not carry target_org_id/);
  });

  it('renders the metric dictionary: a section per group, every metric with its figures, no certification claim', () => {
    const md = metricDictionaryMarkdown();
    for (const title of ['## Access', '## Closed loop', '## Service gaps', '## Outcomes']) expect(md).toContain(title);
    expect(md.indexOf('## Access')).toBeLessThan(md.indexOf('## Closed loop'));
    for (const m of METRICS) {
      expect(md).toContain(`(\`${m.id}\`)`);
      expect(md).toContain(m.numerator);
      expect(md).toContain(m.denominator);
    }
    expect(md).toMatch(/closeloop's own implementation, not certified/);
    // every mention of certification is a denial
    expect(md.match(/certified/g)?.length).toBe(md.match(/not certified/g)?.length);
    expect(md).toContain('- **Windows (days):** 60');
    expect(md).toContain('- **Direction:** lower is better');
  });

  it('renders the fidelity table: every mirrored metric, every difference with its reason', () => {
    const md = metricDictionaryMarkdown();
    const table = md.slice(md.indexOf('## Fidelity to the measures mirrored'));
    expect(table).toContain('| metric | measure | what matches | what differs | why |');
    for (const m of METRICS.filter((x) => x.fidelity)) {
      expect(table, m.id).toContain(`\`${m.id}\``);
      for (const d of m.fidelity!.differs) {
        expect(table, m.id).toContain(`| ${d.what} | ${d.why} |`);
      }
    }
    // the three DRR-E rates share one block of rows
    expect(table).toContain('| `phq9_follow_up_rate`, `phq9_response_rate`, `phq9_remission_rate` | HEDIS DRR-E');
    expect(table).not.toContain('phq9_mean_change');
  });
});

describe('facts', () => {
  it('each fact SQL yields person_id, anchor_date, its keys, fact dimensions and the measure columns its metrics name', async () => {
    const db = await openDatabase(':memory:', { threads: 1 });
    try {
      for (const e of ENTITIES) await exec(db.conn, stagingDDL(e));
      await buildIntermediate(db.conn, { asOf: '2024-06-30', restrictedZip3: ['036'] });
      for (const id of factsInUse()) {
        const { file, vars } = factSqlSource(id);
        const sql = renderSql(readSqlFile(new URL(`../../../models/metrics/sql/${file}.sql`, import.meta.url)), { ...modelVars('2024-06-30'), ...vars });
        const cols = (await rows<{ column_name: string }>(db.conn, `DESCRIBE ${sql}`)).map((r) => r.column_name);
        const fact = factById(id);
        expect(cols, id).toEqual(expect.arrayContaining(['person_id', 'anchor_date', ...fact.keys, ...fact.dimensions]));
        for (const m of METRICS) {
          if (!('parts' in m.sql)) continue;
          for (const p of m.sql.parts.filter((x) => x.fact === id)) {
            for (const c of [p.time, p.event]) if (c) expect(cols, `${m.id}: ${c}`).toContain(c);
          }
        }
      }
    } finally {
      db.close();
    }
  });
});

describe('aggregation SQL', () => {
  it('tells grouping sets apart by GROUPING() bitmask (first column most significant)', () => {
    const cols = ['race_ethnicity', 'payer', 'domain'];
    expect(groupingMask(cols, [])).toBe(0b111);
    expect(groupingMask(cols, ['race_ethnicity'])).toBe(0b011);
    expect(groupingMask(cols, ['race_ethnicity', 'payer'])).toBe(0b001);
    expect(groupingMask(cols, ['domain'])).toBe(0b110);
    const sets = groupingSets(['all', 'age_band', 'race_ethnicity*payer'], 'period_end');
    expect(sets.map((s) => s.columns)).toEqual([[], ['birth_canon'], ['race_ethnicity', 'payer']]);
    expect(sets[2]?.groupValue).toBe(`a.race_ethnicity || '*' || a.payer`);
    expect(sets[1]?.groupValue).toContain('p.period_end');
  });

  it('resolves two-way cuts: race_ethnicity*payer always, others checked', () => {
    expect(resolveTwoWayCuts()).toEqual(['race_ethnicity*payer']);
    expect(resolveTwoWayCuts(['sex*age_band', 'race_ethnicity*payer'])).toEqual(['race_ethnicity*payer', 'sex*age_band']);
    expect(() => resolveTwoWayCuts(['sex'])).toThrow(/two different dimensions/);
    expect(() => resolveTwoWayCuts(['sex*sex'])).toThrow(/two different dimensions/);
    expect(() => resolveTwoWayCuts(['sex*shoe_size'])).toThrow(/two different dimensions/);
  });
});
