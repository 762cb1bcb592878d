-- screening_rate's numerator: one row per person x month with a screening (any domain, any
-- result), counted once per period (prev_month, see below) and only in periods in which the
-- person was enrolled on some day. The screening itself need not fall on an enrolled day.
--   prev_month: the previous month with a screening, coarsened to the latest period start
--     it precedes: the span's first month if it lies in an earlier year, else the year's
--     start if in an earlier quarter, else the quarter's start (never before the span's
--     first month, which is grain all's start). For every period p containing this month,
--     prev_month < p's start is unchanged, and the month-level aggregation keeps few
--     distinct keys.
--   from_month, to_month: the months of the first and last enrolled day in the span; both
--     this month when the person is enrolled on some day of it (then every period
--     containing it qualifies), again for fewer distinct keys.
WITH screened_months AS (
  SELECT person_id, date_trunc('month', screened_on)::DATE AS month_start, min(screened_on) AS first_on
  FROM stg_screenings
  WHERE screened_on <= {{as_of}}
  GROUP BY person_id, month_start
),
rows AS (
  SELECT
    sm.person_id,
    sm.month_start,
    sm.first_on,
    lag(sm.month_start) OVER (PARTITION BY sm.person_id ORDER BY sm.month_start) AS prev,
    date_trunc('month', greatest(pa.enrolled_from, s.span_start))::DATE AS from_month,
    date_trunc('month', pa.enrolled_until)::DATE AS to_month,
    date_trunc('month', s.span_start)::DATE AS span_month
  FROM screened_months sm
  JOIN int_person_attributes pa USING (person_id)
  CROSS JOIN int_spans s
  WHERE s.span_entity = 'screenings'
    AND greatest(pa.enrolled_from, s.span_start) <= pa.enrolled_until
)
SELECT
  person_id,
  first_on AS anchor_date,
  CASE
    WHEN prev IS NULL THEN NULL
    WHEN prev < date_trunc('year', month_start) THEN span_month
    WHEN prev < date_trunc('quarter', month_start) THEN greatest(date_trunc('year', month_start)::DATE, span_month)
    ELSE greatest(date_trunc('quarter', month_start)::DATE, span_month)
  END AS prev_month,
  CASE WHEN month_start BETWEEN from_month AND to_month THEN month_start ELSE from_month END AS from_month,
  CASE WHEN month_start BETWEEN from_month AND to_month THEN month_start ELSE to_month END AS to_month,
  1 AS screened
FROM rows
