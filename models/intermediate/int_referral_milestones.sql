-- Referrals made by the as-of date with their milestones as of that date: a milestone dated
-- after it has not happened yet (NULL). A referral is closed when closed_on (by the as-of
-- date) and outcome are set; status is used as given.
SELECT
  referral_id,
  person_id,
  need_domain AS domain,
  referred_on,
  source_org_id,
  target_org_id,
  program_id,
  status,
  CASE WHEN accepted_on <= {{as_of}} THEN accepted_on END AS accepted_on,
  CASE WHEN service_started_on <= {{as_of}} THEN service_started_on END AS service_started_on,
  CASE WHEN closed_on <= {{as_of}} AND outcome IS NOT NULL THEN closed_on END AS closed_on,
  CASE WHEN closed_on <= {{as_of}} THEN outcome END AS outcome,
  coalesce(closed_on <= {{as_of}} AND outcome IS NOT NULL, false) AS is_closed
FROM stg_referrals
WHERE referred_on <= {{as_of}}
