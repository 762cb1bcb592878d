-- The span each family of metrics observes: from the earliest date of the entity it counts
-- to the as-of date (metrics.md, "Span"). No row for an entity without rows by the as-of date.
SELECT span_entity, span_start, {{as_of}} AS span_end
FROM (
  SELECT 'screenings' AS span_entity, min(screened_on) AS span_start FROM stg_screenings WHERE screened_on <= {{as_of}}
  UNION ALL
  SELECT 'referrals', min(referred_on) FROM stg_referrals WHERE referred_on <= {{as_of}}
  UNION ALL
  SELECT 'phq9', min(assessed_on) FROM stg_phq9 WHERE assessed_on <= {{as_of}}
  UNION ALL
  SELECT 'encounters', min(start_date) FROM stg_encounters WHERE start_date <= {{as_of}}
) AS spans
WHERE span_start IS NOT NULL
