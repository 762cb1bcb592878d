-- demand_capacity_ratio, finished rows: positive needs / (monthly capacity of the directory
-- programs serving the domain in the county x months in the period), per domain x county
-- (the person's county) and, summing needs and capacity, per domain, per county and overall.
-- Months are counted like member-months within the screening span (int_periods.months).
-- A row for every group with a positive need in the period or a serving program; capacity
-- unknown for any serving program -> denominator and value empty, note 'capacity unknown';
-- no serving program -> denominator 0, value empty, note 'no provider'.
WITH periods AS (
  SELECT grain, period_start, period_end, calendar_start, months
  FROM int_periods
  WHERE span_entity = 'screenings'
),
need_months AS (
  SELECT n.domain, pa.county_fips, date_trunc('month', n.screened_on)::DATE AS month_start, count(*) AS needs
  FROM int_positive_needs n
  JOIN int_person_attributes pa USING (person_id)
  GROUP BY n.domain, pa.county_fips, month_start
),
needs AS (
  SELECT p.grain, p.period_start, GROUPING(n.domain, n.county_fips) AS level,
    n.domain, n.county_fips, sum(n.needs) AS needs
  FROM need_months n
  JOIN periods p ON n.month_start BETWEEN p.calendar_start AND p.period_end
  GROUP BY GROUPING SETS (
    (p.grain, p.period_start), (p.grain, p.period_start, n.domain),
    (p.grain, p.period_start, n.county_fips), (p.grain, p.period_start, n.domain, n.county_fips))
),
capacity AS (
  SELECT GROUPING(domain, county_fips) AS level, domain, county_fips,
    count(*) AS programs,
    count(*) FILTER (WHERE monthly_capacity IS NULL) AS unknown_capacity,
    sum(monthly_capacity) AS monthly_capacity
  FROM stg_services
  GROUP BY GROUPING SETS ((), (domain), (county_fips), (domain, county_fips))
  -- the empty grouping set yields a row even without services
  HAVING count(*) > 0
),
capacity_periods AS (
  SELECT p.grain, p.period_start, p.months, c.*
  FROM capacity c CROSS JOIN periods p
),
cells AS (
  SELECT
    coalesce(n.grain, c.grain) AS grain,
    coalesce(n.period_start, c.period_start) AS period_start,
    coalesce(n.level, c.level) AS level,
    coalesce(n.domain, c.domain) AS domain,
    coalesce(n.county_fips, c.county_fips) AS county_fips,
    coalesce(n.needs, 0) AS needs,
    coalesce(c.programs, 0) AS programs,
    c.unknown_capacity,
    c.monthly_capacity,
    c.months
  FROM needs n
  FULL JOIN capacity_periods c
    ON n.grain = c.grain AND n.period_start = c.period_start AND n.level = c.level
    -- NULL = not grouped at this level (values are never empty); an equality, not IS NOT
    -- DISTINCT FROM, because PostgreSQL runs a FULL JOIN on hashable or sortable conditions only
    AND coalesce(n.domain, '') = coalesce(c.domain, '') AND coalesce(n.county_fips, '') = coalesce(c.county_fips, '')
)
SELECT
  c.grain AS period_grain,
  c.period_start,
  p.period_end,
  CASE c.level WHEN 3 THEN 'all' WHEN 1 THEN 'domain' WHEN 2 THEN 'county_fips' ELSE 'domain*county_fips' END AS dimension,
  CASE c.level WHEN 3 THEN 'all' WHEN 1 THEN c.domain WHEN 2 THEN c.county_fips ELSE c.domain || '*' || c.county_fips END AS group_value,
  c.needs::DOUBLE AS numerator,
  CASE
    WHEN c.programs = 0 THEN 0
    WHEN c.unknown_capacity > 0 THEN NULL
    ELSE c.monthly_capacity * p.months
  END::DOUBLE AS denominator,
  CASE
    WHEN c.programs > 0 AND c.unknown_capacity = 0 AND c.monthly_capacity > 0 THEN c.needs / (c.monthly_capacity * p.months)
  END::DOUBLE AS value,
  CASE
    WHEN c.programs = 0 THEN 'no provider'
    WHEN c.unknown_capacity > 0 THEN 'capacity unknown'
    WHEN c.monthly_capacity = 0 THEN 'zero capacity'
  END AS note
FROM cells c
JOIN periods p ON p.grain = c.grain AND p.period_start = c.period_start
