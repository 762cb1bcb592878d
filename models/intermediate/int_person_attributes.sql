-- One row per person: the population dimensions (metrics.md), the birth date as a yyyymmdd
-- key for whole-year ages, and the enrollment span cut at the as-of date.
SELECT
  person_id,
  birth_date,
  year(birth_date) * 10000 + month(birth_date) * 100 + day(birth_date) AS birth_key,
  race_ethnicity,
  preferred_language,
  CASE preferred_language WHEN 'unknown' THEN 'unknown' WHEN 'en' THEN 'no' ELSE 'yes' END AS limited_english,
  sex,
  payer,
  rurality,
  coalesce(county_fips, 'unknown') AS county_fips,
  CASE
    WHEN zip IS NULL OR zip = '' THEN 'unknown'
    WHEN left(zip, 3) IN (SELECT zip3 FROM ref_restricted_zip3) THEN '000'
    ELSE left(zip, 3)
  END AS zip3,
  coalesce(program_id, 'unknown') AS program_id,
  enrolled_from,
  -- last enrolled day that counts: enrolled_through, still enrolled = the as-of date
  least(coalesce(enrolled_through, {{as_of}}), {{as_of}}) AS enrolled_until
FROM stg_people
