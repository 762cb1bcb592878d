-- People enrolled on some day of a period who were screened in it (screening_rate's and
-- sdoh_screening_rate's numerators), each counted once per period under the payer and
-- program of their last enrolled day in it, as in fct_enrolled_people. One template, two
-- facts (facts.ts): the screenings placeholder is every screening (any domain, any result) or only
-- complete adult ones. The screening itself need not fall on an enrolled day.
-- A row pairs a month with a screening and a coverage segment of the same person; it counts
-- in period p when the month is the person's first with a screening in p (prev_month), the
-- segment overlaps p (from_month, to_month) and is the person's last in p (next_month).
--   prev_month: the previous month with a screening, coarsened to the latest period start it
--     precedes: the span's first month if it lies in an earlier year, else the year's start if
--     in an earlier quarter, else the quarter's start (never before the span's first month,
--     which is grain all's start). For every period p containing this month, prev_month < p's
--     start is unchanged, and the month-level aggregation keeps few distinct keys.
--   from_month, to_month: the months of the segment's first (in the span) and last day; both
--     this month when the segment covers some day of it (every period containing the month
--     then qualifies), again for fewer distinct keys.
--   next_month: the month of the next segment's start, coarsened like prev_month the other
--     way: the next month if later in this quarter, the next quarter if later in this year,
--     else the next year. A pair whose next segment starts by the end of this month never
--     counts (it is not the last segment in any period containing the month): left out.
WITH screenings AS (
  {{screenings}}
),
screened_months AS (
  SELECT person_id, date_trunc('month', screened_on)::DATE AS month_start, min(screened_on) AS first_on
  FROM screenings
  WHERE screened_on <= {{as_of}}
  GROUP BY person_id, month_start
),
months AS (
  SELECT *, lag(month_start) OVER (PARTITION BY person_id ORDER BY month_start) AS prev FROM screened_months
),
pairs AS (
  SELECT
    m.person_id, m.month_start, m.first_on, m.prev,
    date_trunc('month', greatest(c.segment_from, s.span_start))::DATE AS from_month,
    date_trunc('month', c.segment_through)::DATE AS to_month,
    date_trunc('month', c.next_from)::DATE AS next_month,
    c.payer, c.program_id,
    date_trunc('month', s.span_start)::DATE AS span_month
  FROM months m
  JOIN int_coverage c USING (person_id)
  CROSS JOIN int_spans s
  WHERE s.span_entity = 'screenings'
    AND c.segment_through >= s.span_start
    AND (c.next_from IS NULL OR date_trunc('month', c.next_from) > m.month_start)
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
  CASE
    WHEN next_month IS NULL THEN NULL
    WHEN next_month < date_trunc('quarter', month_start) + INTERVAL '3 months' THEN (month_start + INTERVAL '1 month')::DATE
    WHEN next_month < date_trunc('year', month_start) + INTERVAL '12 months' THEN (date_trunc('quarter', month_start) + INTERVAL '3 months')::DATE
    ELSE (date_trunc('year', month_start) + INTERVAL '12 months')::DATE
  END AS next_month,
  payer,
  program_id,
  1 AS screened
FROM pairs
