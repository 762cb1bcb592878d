-- The referral funnel in one unit and one cohort (issue 15): one row per person screened,
-- anchored on their first screening. Each stage is nested in the one before and judged by a
-- fixed day after that first screening, so early and recent cohorts are measured alike:
--   screened   the cohort, once day 90 after the first screening has passed (measurable)
--   positive   a domain screened positive at that first screening
--   referred   a referral for one of those domains made on days 0..30 after it
--   accepted   one of those referrals accepted by day 90 (accepted_on, a first service, or a
--              need_met closing: each shows acceptance)
--   served     one of them first served by day 90, or closed need_met by then (a met need was served)
--   met        one of them closed need_met by day 90
WITH first_screen AS (
  SELECT person_id, min(screened_on) AS anchor_date
  FROM stg_screenings
  WHERE screened_on <= {{as_of}}
  GROUP BY person_id
),
positive AS (
  SELECT DISTINCT s.person_id, s.domain
  FROM stg_screenings s
  JOIN first_screen f ON f.person_id = s.person_id AND s.screened_on = f.anchor_date
  WHERE s.result = 'positive'
),
referred AS (
  SELECT r.person_id,
    bool_or(coalesce(r.accepted_on <= f.anchor_date + 90 OR r.service_started_on <= f.anchor_date + 90
      OR (r.outcome = 'need_met' AND r.closed_on <= f.anchor_date + 90), false)) AS accepted,
    bool_or(coalesce(r.service_started_on <= f.anchor_date + 90 OR (r.outcome = 'need_met' AND r.closed_on <= f.anchor_date + 90), false)) AS served,
    bool_or(coalesce(r.outcome = 'need_met' AND r.closed_on <= f.anchor_date + 90, false)) AS met
  FROM int_referral_milestones r
  JOIN first_screen f ON f.person_id = r.person_id
  JOIN positive p ON p.person_id = r.person_id AND p.domain = r.domain
  WHERE r.referred_on BETWEEN f.anchor_date AND f.anchor_date + 30
  GROUP BY r.person_id
),
cohort AS (
  SELECT f.person_id, f.anchor_date, f.anchor_date + 90 <= {{as_of}} AS measurable,
    f.person_id IN (SELECT person_id FROM positive) AS is_positive,
    r.person_id IS NOT NULL AS is_referred, coalesce(r.accepted, false) AS accepted, coalesce(r.served, false) AS served, coalesce(r.met, false) AS met
  FROM first_screen f
  LEFT JOIN referred r USING (person_id)
)
SELECT
  person_id,
  anchor_date,
  measurable::INTEGER AS funnel_screened,
  (measurable AND is_positive)::INTEGER AS funnel_positive,
  (measurable AND is_referred)::INTEGER AS funnel_referred,
  (measurable AND accepted)::INTEGER AS funnel_accepted,
  (measurable AND served)::INTEGER AS funnel_served,
  (measurable AND met)::INTEGER AS funnel_met
FROM cohort
