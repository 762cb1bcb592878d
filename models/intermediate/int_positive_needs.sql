-- One row per positive need (positive screening row: screening_id x domain) screened by the
-- as-of date, with the first same-person, same-domain referral made on or after the
-- screening, the first such referral closed need_met (by the as-of date), and the earliest
-- need_met closing among all same-domain referrals made on or after the screening.
WITH needs AS (
  SELECT screening_id, domain, person_id, screened_on
  FROM stg_screenings
  WHERE result = 'positive' AND screened_on <= {{as_of}}
),
met AS (
  -- met_by: the earliest need_met closing of this referral or any referred later (the ASOF
  -- join below picks the first referral on or after the screening)
  SELECT person_id, domain, referred_on,
    min(closed_on) OVER (PARTITION BY person_id, domain ORDER BY referred_on DESC RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS met_by
  FROM int_referral_milestones WHERE outcome = 'need_met'
)
SELECT
  n.screening_id,
  n.domain,
  n.person_id,
  n.screened_on,
  r.referred_on AS first_referral_on,
  date_diff('day', n.screened_on, r.referred_on) AS days_to_first_referral,
  m.referred_on AS first_met_referral_on,
  m.met_by AS met_by
FROM needs n
{{asof_left_join(needs n, (SELECT person_id, domain, referred_on FROM int_referral_milestones) r,
  n.person_id = r.person_id AND n.domain = r.domain AND n.screened_on <= r.referred_on)}}
{{asof_left_join(needs n, met m,
  n.person_id = m.person_id AND n.domain = m.domain AND n.screened_on <= m.referred_on)}}
