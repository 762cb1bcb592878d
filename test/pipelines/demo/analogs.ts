/**
 * Raw-data versions of the catalog metrics (shared/spec/metrics.md) and the
 * AHRQ flag rule, simple enough to trust, for judging the demo's planted
 * structure without the project's metric code. Tables: person, screening,
 * referral, encounter (typed, planted bad rows removed; see generate.test.ts).
 */
import { DEMO_DEFAULTS } from '../../../pipelines/demo/generate.ts';

/** Standard normal upper tail, via erfc (Abramowitz-Stegun 7.1.26, error < 1.5e-7). */
function normalSf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erfc = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-x * x);
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}

export interface Group {
  group: string;
  num: number;
  den: number;
}

export interface Comparison {
  value: number;
  reference: number;
  p: number;
  /** Relative difference on the adverse scale (positive = group worse). */
  worse: number;
  flagged: boolean;
}

export function compare(g: Group, r: Group, kind: 'proportion' | 'rate', higherIsBetter: boolean): Comparison {
  const value = g.num / g.den;
  const reference = r.num / r.den;
  let p: number;
  if (kind === 'proportion') {
    const pooled = (g.num + r.num) / (g.den + r.den);
    const se = Math.sqrt(pooled * (1 - pooled) * (1 / g.den + 1 / r.den));
    p = 2 * normalSf(Math.abs(value - reference) / se);
  } else {
    const z = Math.log(value / reference) / Math.sqrt(1 / g.num + 1 / r.num);
    p = 2 * normalSf(Math.abs(z));
  }
  const adverse = (x: number) => (kind === 'proportion' && higherIsBetter ? 1 - x : x);
  const worse = (adverse(value) - adverse(reference)) / adverse(reference);
  return { value, reference, p, worse, flagged: p < 0.05 && worse >= 0.1 };
}

// Raw-data versions of the catalog metrics (metrics.md), as units with a
// numerator (hit or events) and a denominator (1 or person-time), each
// carrying the person (and partner) so they can be cut by any dimension.
export interface Analog {
  kind: 'proportion' | 'rate';
  higherIsBetter: boolean;
  sql: string; // columns: person_id, target_org_id, num, den
}

export const E = `DATE '${DEMO_DEFAULTS.endDate}'`;
export const ANALOGS: Record<string, Analog> = {
  referral_acceptance_rate: {
    kind: 'proportion',
    higherIsBetter: true,
    sql: `SELECT person_id, target_org_id, (accepted_on IS NOT NULL OR status IN ('accepted', 'in_progress', 'completed'))::INT AS num, 1 AS den
          FROM referral WHERE referred_on <= ${E} - 14`,
  },
  closed_loop_rate: {
    kind: 'proportion',
    higherIsBetter: true,
    sql: `SELECT person_id, target_org_id, (closed_on IS NOT NULL AND outcome IS NOT NULL AND closed_on - referred_on <= 60)::INT AS num, 1 AS den
          FROM referral WHERE referred_on <= ${E} - 60`,
  },
  need_met_rate: {
    kind: 'proportion',
    higherIsBetter: true,
    sql: `SELECT person_id, target_org_id, (outcome = 'need_met')::INT AS num, 1 AS den FROM referral WHERE closed_on IS NOT NULL AND outcome IS NOT NULL`,
  },
  capacity_rejection_share: {
    kind: 'proportion',
    higherIsBetter: false,
    sql: `SELECT person_id, target_org_id, (outcome = 'no_capacity')::INT AS num, 1 AS den FROM referral
          WHERE closed_on IS NOT NULL AND outcome IS NOT NULL AND outcome <> 'need_met'`,
  },
  connected_60d_rate: {
    kind: 'proportion',
    higherIsBetter: true,
    sql: `WITH core AS (SELECT * FROM screening WHERE result = 'positive'
                         AND domain IN ('food', 'housing_instability', 'transportation', 'utilities', 'interpersonal_safety')),
          anchor AS (SELECT person_id, min(screened_on) AS a FROM core GROUP BY person_id)
          SELECT an.person_id, NULL AS target_org_id,
                 EXISTS (SELECT 1 FROM core c JOIN referral r ON r.person_id = c.person_id AND r.need_domain = c.domain
                         WHERE c.person_id = an.person_id AND c.screened_on = an.a
                           AND (r.accepted_on BETWEEN an.a AND an.a + 60 OR r.service_started_on BETWEEN an.a AND an.a + 60))::INT AS num,
                 1 AS den
          FROM anchor an WHERE an.a + 60 <= ${E}`,
  },
  screening_rate: {
    kind: 'proportion',
    higherIsBetter: true,
    sql: `SELECT pe.person_id, NULL AS target_org_id,
                 EXISTS (SELECT 1 FROM screening s WHERE s.person_id = pe.person_id)::INT AS num, 1 AS den
          FROM person pe
          WHERE pe.enrolled_from <= ${E} AND coalesce(pe.enrolled_through, ${E}) >= (SELECT min(screened_on) FROM screening)`,
  },
  screen_positive_rate: {
    kind: 'proportion',
    higherIsBetter: false,
    sql: `SELECT person_id, NULL AS target_org_id, max((result = 'positive')::INT) AS num, 1 AS den FROM screening GROUP BY person_id`,
  },
  need_referral_rate: {
    kind: 'proportion',
    higherIsBetter: true,
    sql: `SELECT s.person_id, NULL AS target_org_id,
                 EXISTS (SELECT 1 FROM referral r WHERE r.person_id = s.person_id AND r.need_domain = s.domain
                         AND r.referred_on BETWEEN s.screened_on AND s.screened_on + 30)::INT AS num, 1 AS den
          FROM screening s WHERE s.result = 'positive' AND s.screened_on + 30 <= ${E}`,
  },
  unmet_need_rate: {
    kind: 'proportion',
    higherIsBetter: false,
    sql: `SELECT s.person_id, NULL AS target_org_id,
                 (NOT EXISTS (SELECT 1 FROM referral r WHERE r.person_id = s.person_id AND r.need_domain = s.domain
                              AND r.referred_on BETWEEN s.screened_on AND s.screened_on + 90 AND r.outcome = 'need_met'))::INT AS num,
                 1 AS den
          FROM screening s WHERE s.result = 'positive' AND s.screened_on + 90 <= ${E}`,
  },
  ed_visits_per_1000_mm: {
    kind: 'rate',
    higherIsBetter: false,
    sql: `SELECT pe.person_id, NULL AS target_org_id,
                 (SELECT count(*) FROM encounter en WHERE en.person_id = pe.person_id AND en.encounter_type = 'ed'
                    AND en.start_date BETWEEN greatest(pe.enrolled_from, sp.s) AND coalesce(pe.enrolled_through, ${E})) AS num,
                 (coalesce(pe.enrolled_through, ${E}) - greatest(pe.enrolled_from, sp.s) + 1) / (365.25 / 12) AS den
          FROM person pe, (SELECT min(start_date) AS s FROM encounter) sp
          WHERE coalesce(pe.enrolled_through, ${E}) >= greatest(pe.enrolled_from, sp.s)`,
  },
  inpatient_admits_per_1000_mm: {
    kind: 'rate',
    higherIsBetter: false,
    sql: `SELECT pe.person_id, NULL AS target_org_id,
                 (SELECT count(*) FROM encounter en WHERE en.person_id = pe.person_id AND en.encounter_type = 'inpatient'
                    AND en.start_date BETWEEN greatest(pe.enrolled_from, sp.s) AND coalesce(pe.enrolled_through, ${E})) AS num,
                 (coalesce(pe.enrolled_through, ${E}) - greatest(pe.enrolled_from, sp.s) + 1) / (365.25 / 12) AS den
          FROM person pe, (SELECT min(start_date) AS s FROM encounter) sp
          WHERE coalesce(pe.enrolled_through, ${E}) >= greatest(pe.enrolled_from, sp.s)`,
  },
};

export async function byGroup(
  query: (sql: string) => Promise<Array<Record<string, unknown>>>,
  metric: string,
  dimension: string,
): Promise<Group[]> {
  const a = ANALOGS[metric];
  if (!a) throw new Error(`no analog for ${metric}`);
  const dim = dimension === 'target_org_id' ? 'u.target_org_id' : `pe.${dimension}`;
  const r = await query(`
    SELECT ${dim} AS grp, sum(u.num)::DOUBLE AS num, sum(u.den)::DOUBLE AS den
    FROM (${a.sql}) u JOIN person pe USING (person_id)
    GROUP BY ALL ORDER BY den DESC, grp`);
  return r.map((x) => ({ group: String(x['grp']), num: Number(x['num']), den: Number(x['den']) }));
}

