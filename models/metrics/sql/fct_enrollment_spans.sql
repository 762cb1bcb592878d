-- Member-months without person x month rows: one row per person enrolled on some day of the
-- utilization span (earliest encounter to the as-of date). anchor_date = first enrolled day
-- in the span, to_month = month of the last (enrolled_through or the as-of date, if
-- earlier). first_mm / last_mm = the member-months of the first and the last month (days
-- enrolled / days in the month; last_mm is 0 when both are the same month); every month in
-- between is a whole member-month. facts.ts sums them over each period in closed form.
WITH spans AS (
  SELECT pa.person_id, greatest(pa.enrolled_from, s.span_start) AS first_day, pa.enrolled_until AS last_day
  FROM int_person_attributes pa, int_spans s
  WHERE s.span_entity = 'encounters' AND greatest(pa.enrolled_from, s.span_start) <= pa.enrolled_until
)
SELECT
  person_id,
  first_day AS anchor_date,
  date_trunc('month', last_day)::DATE AS to_month,
  -- DECIMAL, not DOUBLE: sums of decimals are exact, so they do not depend on the order
  -- DuckDB's threads add rows in, and a rerun gives the same figures to the last digit
  ((date_diff('day', first_day, least(last_day, last_day(first_day))) + 1) / day(last_day(first_day))::DOUBLE)::DECIMAL(18, 12) AS first_mm,
  CASE WHEN date_trunc('month', last_day) > date_trunc('month', first_day)
    THEN (day(last_day) / day(last_day(last_day))::DOUBLE)::DECIMAL(18, 12) ELSE 0 END AS last_mm
FROM spans
