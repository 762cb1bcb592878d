-- One row per positive need, anchored on screened_on.
--   referral_30d: referred (same person and domain) on days 0..30; measurable when day 30 <= as-of.
--   unmet_90d: no same-domain referral made on or after the screening and closed need_met
--     on days 0..90 after it; measurable when day 90 <= as-of.
--   referral_days / referral_event: time to the first referral for Kaplan-Meier, censored
--     at day 30 or at the as-of date, whichever comes first.
SELECT
  person_id,
  screened_on AS anchor_date,
  domain,
  1 AS positive_need,
  (screened_on + 30 <= {{as_of}})::INTEGER AS referral_30d_den,
  (screened_on + 30 <= {{as_of}} AND coalesce(days_to_first_referral <= 30, false))::INTEGER AS referral_30d_num,
  (screened_on + 90 <= {{as_of}})::INTEGER AS unmet_90d_den,
  (screened_on + 90 <= {{as_of}} AND NOT coalesce(met_by <= screened_on + 90, false))::INTEGER AS unmet_90d_num,
  least(coalesce(days_to_first_referral, 30), 30, date_diff('day', screened_on, {{as_of}})) AS referral_days,
  coalesce(days_to_first_referral <= 30, false)::INTEGER AS referral_event
FROM int_positive_needs
