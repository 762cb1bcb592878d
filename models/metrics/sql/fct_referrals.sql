-- One row per referral made by the as-of date, anchored on referred_on; milestones as of
-- that date (int_referral_milestones).
WITH enrollment_domains AS (
  SELECT DISTINCT domain FROM stg_enrollments
),
enrolled AS (
  SELECT person_id, domain, enrolled_on
  FROM stg_enrollments
  WHERE status IN ('enrolled', 'ended') AND enrolled_on IS NOT NULL AND enrolled_on <= {{as_of}}
),
referrals AS (
  SELECT r.*, e.enrolled_on AS first_enrolled_on
  FROM int_referral_milestones r
  -- the first same-person, same-domain enrollment on or after the referral
  {{asof_left_join(int_referral_milestones r, enrolled e, r.person_id = e.person_id AND r.domain = e.domain AND r.referred_on <= e.enrolled_on)}}
)
SELECT
  person_id,
  referred_on AS anchor_date,
  domain,
  target_org_id,
  -- acceptance within 14 days: accepted_on (any status), else a first service or a need_met
  -- closing, on days 0..14; measurable when day 14 <= as-of. A status without a date is not placed.
  (referred_on + 14 <= {{as_of}})::INTEGER AS acceptance_den,
  (referred_on + 14 <= {{as_of}}
    AND coalesce(coalesce(accepted_on, least(service_started_on, CASE WHEN outcome = 'need_met' THEN closed_on END)) <= referred_on + 14, false))::INTEGER AS acceptance_num,
  -- closed loop: closed on days 0..60; measurable when day 60 <= as-of
  (referred_on + 60 <= {{as_of}})::INTEGER AS closed_60d_den,
  (referred_on + 60 <= {{as_of}} AND is_closed AND closed_on <= referred_on + 60)::INTEGER AS closed_60d_num,
  -- need met within 90 days, over referrals whose 90 days have passed
  (referred_on + 90 <= {{as_of}})::INTEGER AS need_met_den,
  (referred_on + 90 <= {{as_of}} AND is_closed AND closed_on <= referred_on + 90 AND outcome = 'need_met')::INTEGER AS need_met_num,
  -- capacity rejections among referrals closed within 90 days without the need met
  (referred_on + 90 <= {{as_of}} AND is_closed AND closed_on <= referred_on + 90 AND outcome <> 'need_met')::INTEGER AS capacity_den,
  (referred_on + 90 <= {{as_of}} AND is_closed AND closed_on <= referred_on + 90 AND outcome = 'no_capacity')::INTEGER AS capacity_num,
  -- enrollment: days 0..90, only domains the enrollments extract covers
  (referred_on + 90 <= {{as_of}} AND domain IN (SELECT domain FROM enrollment_domains))::INTEGER AS enrollment_90d_den,
  (referred_on + 90 <= {{as_of}} AND domain IN (SELECT domain FROM enrollment_domains)
    AND coalesce(first_enrolled_on <= referred_on + 90, false))::INTEGER AS enrollment_90d_num,
  -- still open at the as-of date and made more than 30 days before it
  (NOT is_closed AND date_diff('day', referred_on, {{as_of}}) > 30)::INTEGER AS stale_open,
  -- Kaplan-Meier: closing within 180 days; open ones censored at the as-of date, and at day
  -- 180 those still open then
  least(date_diff('day', referred_on, coalesce(closed_on, {{as_of}})), 180) AS close_days,
  (is_closed AND closed_on <= referred_on + 180)::INTEGER AS close_event,
  -- Aalen-Johansen over days 0..90: first service (event), closing without a recorded
  -- service (competing event), or neither yet (censored at the as-of date or day 90)
  least(date_diff('day', referred_on, coalesce(service_started_on, closed_on, {{as_of}})), 90) AS service_days,
  coalesce(service_started_on <= referred_on + 90, false)::INTEGER AS service_event,
  (service_started_on IS NULL AND is_closed AND closed_on <= referred_on + 90)::INTEGER AS closed_unserved_event
FROM referrals
