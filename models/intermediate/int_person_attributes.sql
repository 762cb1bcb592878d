-- One row per person: the population dimensions that do not change over time (metrics.md),
-- the birth date as a yyyymmdd key for whole-year ages, and the death date. Payer and program
-- change over time: they come from coverage (int_coverage) as of a date.
SELECT
  person_id,
  birth_date,
  year(birth_date) * 10000 + month(birth_date) * 100 + day(birth_date) AS birth_key,
  death_date,
  race_ethnicity,
  preferred_language,
  CASE preferred_language WHEN 'unknown' THEN 'unknown' WHEN 'en' THEN 'no' ELSE 'yes' END AS limited_english,
  sex,
  rurality,
  coalesce(county_fips, 'unknown') AS county_fips,
  CASE
    WHEN zip IS NULL OR zip = '' THEN 'unknown'
    WHEN left(zip, 3) IN (SELECT zip3 FROM ref_restricted_zip3) THEN '000'
    ELSE left(zip, 3)
  END AS zip3
FROM stg_people
