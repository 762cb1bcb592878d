-- Member-months without person x month rows: one row per coverage segment (int_coverage: one
-- payer, one program, overlapping spans merged) reaching into the utilization span (earliest
-- encounter to the as-of date), so a person's member-months fall under the payer and program
-- they had on each day. anchor_date = the segment's first day in the span, to_month = the
-- month of its last. first_mm / last_mm = the member-months of the first and the last month
-- (days covered / days in the month; last_mm is 0 when both are the same month); every month
-- in between is a whole member-month. facts.ts sums them over each period in closed form.
WITH segments AS (
  SELECT c.person_id, greatest(c.segment_from, s.span_start) AS first_day, c.segment_through AS last_day, c.payer, c.program_id
  FROM int_coverage c, int_spans s
  WHERE s.span_entity = 'encounters' AND c.segment_through >= s.span_start
)
SELECT
  person_id,
  first_day AS anchor_date,
  date_trunc('month', last_day)::DATE AS to_month,
  -- DECIMAL, not DOUBLE: sums of decimals are exact, so they do not depend on the order
  -- DuckDB's threads add rows in, and a rerun gives the same figures to the last digit
  ((date_diff('day', first_day, least(last_day, last_day(first_day))) + 1) / day(last_day(first_day))::DOUBLE)::DECIMAL(18, 12) AS first_mm,
  CASE WHEN date_trunc('month', last_day) > date_trunc('month', first_day)
    THEN (day(last_day) / day(last_day(last_day))::DOUBLE)::DECIMAL(18, 12) ELSE 0 END AS last_mm,
  payer,
  program_id
FROM segments
