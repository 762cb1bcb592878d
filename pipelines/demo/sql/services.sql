-- services.sql: the service directory, one row per program x county served.
-- The rows come from reference.ts (DIRECTORY, capacity from serviceRows()):
-- deliberate gaps (no provider), short and unknown capacity are listed there.
CREATE VIEW services_out AS
SELECT
  program_id,
  org_id,
  org_name,
  program_name,
  domain,
  county_fips,
  monthly_capacity::VARCHAR AS monthly_capacity,
  s1, s2, 0::BIGINT AS s3
FROM ref_service;
