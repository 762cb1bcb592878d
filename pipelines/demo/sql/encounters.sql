-- encounters.sql: health-care utilization (claims / EHR encounter headers).
--
-- Per person and quarter of the window (3-month periods; the last may be
-- shorter), the number of encounters is Poisson with mean = (sum of the
-- per-type rates per member-month) x enrolled member-months in the period
-- (enrolled days / 30.4375); each encounter then gets a type, in proportion
-- to the type rates, and a day on which the person is enrolled. Quarters,
-- not months: a third of the rows to draw, and rates change slowly enough.
--
-- Base rates per member-month: ED 0.048, inpatient 0.006, outpatient 0.06,
-- primary care 0.095, behavioural health 0.008 (0.45 for behavioural-health
-- patients), other 0.015.
-- ED multipliers: children 0.75, 18-25 1.2, 65+ 1.15; commercial 0.55,
-- uninsured 1.25, dual 1.3; planted: Black people 1.35 (documented
-- inequities), an active housing need 1.7 until a housing referral closes
-- need_met, and 0.65 after the person's first need_met closure (from the
-- next quarter on).
-- The evaluation's planted effect (issue 22): ED visits x0.6 (each kept with probability
-- 0.6) from the second calendar month after the person's first referral (at 20,000 people
-- the evaluation can only see an effect about this large: models/evaluation/README.md),
-- and a crisis before it: Poisson(0.25) extra ED visits on the 30 days before the first referral.
-- {{referral_effect}} = FALSE (the no-effect demo) keeps the crisis but turns off every
-- change referrals cause: the x0.6, the x0.65 after a need is met, and the end of the
-- housing excess at a housing need met.
CREATE TABLE encounter_period AS
SELECT (m // 3)::INTEGER AS q, min(m) AS first_month, min(starts) AS starts, max(ends) AS ends
FROM window_month
GROUP BY m // 3;

-- Encounter types by code (the code keeps the rows narrow until the file is written).
CREATE MACRO encounter_type_name(code) AS (['ed', 'inpatient', 'outpatient', 'primary_care', 'behavioral_health', 'other'])[code];

CREATE VIEW encounter_event AS
WITH patient AS (
  -- everything that does not change from quarter to quarter, once per person
  SELECT
    pe.p,
    pe.person_id,
    coalesce(pe.payer = 'uninsured', FALSE) AS uninsured,
    greatest(pe.enrolled_from, pe.birth_date) AS enrolled_lo,
    coalesce(pe.enrolled_through, window_end()) AS enrolled_hi,
    0.048
      * CASE WHEN pe.age < 18 THEN 0.75 WHEN pe.age < 26 THEN 1.2 WHEN pe.age >= 65 THEN 1.15 ELSE 1 END
      * CASE pe.payer WHEN 'commercial' THEN 0.55 WHEN 'uninsured' THEN 1.25 WHEN 'dual' THEN 1.3 ELSE 1 END
      * CASE WHEN pe.black THEN 1.35 ELSE 1 END AS ed_base,
    0.006 * CASE WHEN pe.age >= 65 THEN 2.5 WHEN pe.age < 18 THEN 0.4 ELSE 1 END
          * CASE WHEN pe.payer = 'dual' THEN 1.4 ELSE 1 END AS inpatient,
    0.06 * CASE WHEN pe.age >= 45 THEN 1.6 ELSE 1 END AS outpatient,
    0.095 AS primary_care,
    CASE WHEN pe.bh THEN 0.45 ELSE 0.008 END AS behavioral_health,
    0.015 AS other,
    -- the month a housing need starts (empty: none), and the dates that end the ED excess
    CASE WHEN has_need(pe.needs, 2) THEN need_onset(pe.p, 2) END AS housing_from_month,
    po.housing_met_on,
    po.met_on,
    po.first_ref_on
  FROM person pe LEFT JOIN person_outcome po USING (p)
),
rates AS (
  SELECT
    pt.p, pt.person_id, ep.q, pt.uninsured,
    greatest(ep.starts, pt.enrolled_lo) AS lo,
    least(ep.ends, pt.enrolled_hi) AS hi,
    pt.ed_base
      * CASE WHEN ep.first_month >= pt.housing_from_month
                  AND (NOT {{referral_effect}} OR pt.housing_met_on IS NULL OR pt.housing_met_on >= ep.starts) THEN 1.7 ELSE 1 END
      * CASE WHEN {{referral_effect}} AND pt.met_on < ep.starts THEN 0.65 ELSE 1 END AS ed,
    pt.inpatient, pt.outpatient, pt.primary_care, pt.behavioral_health, pt.other
  -- a plain cross join: a join condition on the dates becomes a sorting range join, slower here
  FROM patient pt CROSS JOIN encounter_period ep
),
totals AS (
  SELECT
    rt.p, rt.person_id, rt.q, rt.uninsured, rt.lo, rt.hi,
    -- expected encounters: rate x enrolled member-months (0 when not enrolled in the quarter)
    (rt.ed + rt.inpatient + rt.outpatient + rt.primary_care + rt.behavioral_health + rt.other)
      * greatest(rt.hi - rt.lo + 1, 0) / 30.4375 AS lam,
    -- cumulative type shares: ed, + inpatient, + outpatient, + primary care, + behavioural health
    rt.ed / (rt.ed + rt.inpatient + rt.outpatient + rt.primary_care + rt.behavioral_health + rt.other) AS c1,
    (rt.ed + rt.inpatient) / (rt.ed + rt.inpatient + rt.outpatient + rt.primary_care + rt.behavioral_health + rt.other) AS c2,
    (rt.ed + rt.inpatient + rt.outpatient) / (rt.ed + rt.inpatient + rt.outpatient + rt.primary_care + rt.behavioral_health + rt.other) AS c3,
    (rt.ed + rt.inpatient + rt.outpatient + rt.primary_care)
      / (rt.ed + rt.inpatient + rt.outpatient + rt.primary_care + rt.behavioral_health + rt.other) AS c4,
    (rt.ed + rt.inpatient + rt.outpatient + rt.primary_care + rt.behavioral_health)
      / (rt.ed + rt.inpatient + rt.outpatient + rt.primary_care + rt.behavioral_health + rt.other) AS c5
  FROM rates rt
),
drawn AS (
  SELECT t.*, exp(-t.lam) AS e, u2(t.p, t.q, 701) AS u FROM totals t
),
counted AS (
  SELECT d.p, d.person_id, d.q, d.uninsured, d.lo, d.hi, d.c1, d.c2, d.c3, d.c4, d.c5,
         poisson_e(d.lam, d.e, d.u) AS n
  FROM drawn d
),
typed AS (
  -- one row per encounter (the join to expand drops quarters without any);
  -- one hash gives its day, its type and whether an admission came through the ED
  SELECT
    e.p, e.person_id, e.q, e.i, e.uninsured,
    e.lo + floor(bits_u(e.h, 0) * (e.hi - e.lo + 1))::INTEGER AS start_date,
    1 + (bits_u(e.h, 21) >= e.c1)::INTEGER + (bits_u(e.h, 21) >= e.c2)::INTEGER + (bits_u(e.h, 21) >= e.c3)::INTEGER
      + (bits_u(e.h, 21) >= e.c4)::INTEGER + (bits_u(e.h, 21) >= e.c5)::INTEGER AS type_code,
    bits_u(e.h, 42) < 0.5 AS via_ed
  FROM (SELECT c.*, x.i, mix3(c.p, c.q, x.i, 702) AS h FROM counted c JOIN expand x ON x.n = c.n) e
),
crisis AS (
  -- the crisis before a first referral: extra ED visits (i = 90 + k keeps their ids apart)
  SELECT c.p, c.person_id, ep.q, 90 + c.k AS i, 0 AS j, c.d AS start_date, c.uninsured, 1 AS type_code
  FROM (
    SELECT pt.*, x.i AS k, pt.first_ref_on - 1 - floor(u3(pt.p, x.i, 0, 722) * 30)::INTEGER AS d
    FROM patient pt JOIN expand x ON x.n = poisson_e(0.25, exp(-0.25), u2(pt.p, 0, 721))
    WHERE pt.first_ref_on IS NOT NULL
  ) c
  JOIN encounter_period ep ON c.d BETWEEN ep.starts AND ep.ends
  WHERE c.d BETWEEN c.enrolled_lo AND c.enrolled_hi
)
-- half of the admissions came through the ED: an ED row on the same day (j = 1)
SELECT v.p, v.person_id, v.q, v.i, v.j, v.start_date, v.uninsured, v.type_code FROM (
  SELECT
    t.p, t.person_id, t.q, t.i, x.i AS j, t.start_date, t.uninsured,
    CASE WHEN x.i = 1 THEN 1 ELSE t.type_code END AS type_code, pt.first_ref_on
  FROM typed t JOIN expand x ON x.n = CASE WHEN t.type_code = 2 AND t.via_ed THEN 2 ELSE 1 END
  LEFT JOIN patient pt ON pt.p = t.p
) v
WHERE NOT coalesce({{referral_effect}} AND v.type_code = 1
  AND v.start_date >= (date_trunc('month', v.first_ref_on) + INTERVAL 2 MONTH)::DATE
  AND u3(v.p, v.q, v.i * 2 + v.j, 720) < 0.4, false)
UNION ALL
SELECT c.p, c.person_id, c.q, c.i, c.j, c.start_date, c.uninsured, c.type_code FROM crisis c;

CREATE VIEW encounters_out AS
WITH drawn AS (
  -- two hashes per row, split into bit fields (plenty of precision here)
  SELECT ev.*, mix3(ev.p, ev.q, ev.i * 2 + ev.j, 710) AS h, mix3(ev.p, ev.q, ev.i * 2 + ev.j, 711) AS h_price
  FROM encounter_event ev
),
priced AS (
  SELECT
    dr.*,
    -- discharge after an exponential stay for admissions (empty while still
    -- in hospital on the end date); most other encounters end the same day
    CASE
      WHEN dr.type_code = 2 THEN dr.start_date + 1 + exp_days(3.5, bits_u(dr.h, 0))
      WHEN bits_u(dr.h, 21) < 0.8 THEN dr.start_date
      WHEN dr.type_code = 1 AND bits_u(dr.h, 21) < 0.9 THEN dr.start_date + 1
    END AS end_at,
    -- log-normal paid amounts around a typical price per type; empty for most
    -- uninsured people's encounters (no claim) and 3% of the others
    CASE WHEN bits_u(dr.h, 42) < CASE WHEN dr.uninsured THEN 0.7 ELSE 0.03 END THEN NULL
         ELSE round(exp(ln(([780, 11500, 420, 135, 160, 90])[dr.type_code]) + 0.7 * normal_bits(dr.h_price)), 2)::DECIMAL(12, 2)
    END AS paid_amount
  FROM drawn dr
)
-- Dates and amounts stay typed (the CSV writer formats them as YYYY-MM-DD
-- and 123.45): cheaper to sort and write than text for this largest file.
SELECT
  printf('V%07d-%02d-%02d', p, q + 1, i * 10 + j) AS encounter_id,
  person_id,
  encounter_type_name(type_code) AS encounter_type,
  start_date,
  CASE WHEN end_at <= window_end() THEN end_at END AS end_date,
  paid_amount,
  p::BIGINT AS s1, q::BIGINT AS s2, (i * 2 + j)::BIGINT AS s3
FROM priced;
