-- sns_e_intervention_rate (mirrors the intervention rates of HEDIS SNS-E), member-based per
-- domain: one row per person x SNS-E domain (food, housing_instability, transportation) x
-- month with a positive screen in it. anchor_date = the month's first positive screen, which
-- is the person's first in the domain in every period the row counts in (prev_month, coarsened
-- as in fct_screened_people: the row counts in period p when prev_month is before p's start).
--   intervention_den: the 30-day window has elapsed; the person was continuously enrolled over
--     the calendar year of the screen (to the as-of date), at most one gap of at most 45 days;
--     and neither had a hospice encounter that year nor died by its end (int_enrollment_windows);
--   intervention_num: and a referral of the person in the domain made on days 0..30 after the
--     screen that is not cancelled: a cancelled referral (FHIR Task cancelled: withdrawn by the
--     requester) is no intervention; a rejected one is (the referral is the intervention,
--     whatever the partner answered).
WITH positives AS (
  SELECT person_id, domain, date_trunc('month', screened_on)::DATE AS month_start, min(screened_on) AS first_on
  FROM int_positive_needs
  WHERE domain IN ('food', 'housing_instability', 'transportation')
  GROUP BY person_id, domain, month_start
),
months AS (
  SELECT *, lag(month_start) OVER (PARTITION BY person_id, domain ORDER BY month_start) AS prev FROM positives
),
intervened AS (
  SELECT DISTINCT m.person_id, m.domain, m.month_start
  FROM months m
  JOIN int_referral_milestones r ON r.person_id = m.person_id AND r.domain = m.domain
  WHERE r.referred_on BETWEEN m.first_on AND m.first_on + 30 AND r.status <> 'cancelled'
),
judged AS (
  SELECT m.*, date_trunc('month', s.span_start)::DATE AS span_month,
    m.first_on + 30 <= {{as_of}} AND coalesce(w.continuously_enrolled AND NOT w.hospice AND NOT w.died, false) AS counted,
    i.person_id IS NOT NULL AS intervened
  FROM months m
  CROSS JOIN int_spans s
  LEFT JOIN int_enrollment_windows w
    ON w.person_id = m.person_id AND w.window_kind = 'year' AND w.window_from = make_date(year(m.first_on), 1, 1)
  LEFT JOIN intervened i ON i.person_id = m.person_id AND i.domain = m.domain AND i.month_start = m.month_start
  WHERE s.span_entity = 'screenings'
)
SELECT
  person_id,
  first_on AS anchor_date,
  domain,
  CASE
    WHEN prev IS NULL THEN NULL
    WHEN prev < date_trunc('year', month_start) THEN span_month
    WHEN prev < date_trunc('quarter', month_start) THEN greatest(date_trunc('year', month_start)::DATE, span_month)
    ELSE greatest(date_trunc('quarter', month_start)::DATE, span_month)
  END AS prev_month,
  counted::INTEGER AS intervention_den,
  (counted AND intervened)::INTEGER AS intervention_num
FROM judged
