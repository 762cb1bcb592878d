-- screen_positive_rate and sdoh_positive_rate: one row per person x month with a screening
-- row (the screenings placeholder: every row, declined included, for screen_positive_rate; answered rows
-- of the core domains on adults' screenings for sdoh_positive_rate). One template, four facts
-- (facts.ts): per any domain, for the all row and population cuts (placeholder per empty),
-- and per domain, for the domain cut (per = ', domain': everything below is then within one
-- domain). anchor_date = the first screening of the month: the person's first in every period
-- this row is counted in.
--   prev_month: the previous month with a screening, coarsened as in fct_screened_people
--     (the row counts in period p when prev_month is before p's start).
--   positive_until: when the person next screens positive (in the domain, for the domain
--     cut), from this month on, coarsened to the first day of the smallest calendar period
--     beyond which it lies: this month, the next month (later in this quarter), the next
--     quarter (later in this year) or the next year. For every period p containing this month,
--     positive_until <= p's end is unchanged.
WITH screened_months AS (
  SELECT person_id{{per}}, date_trunc('month', screened_on)::DATE AS month_start,
    min(screened_on) AS first_on, bool_or(result = 'positive') AS any_positive
  FROM ({{screenings}}) AS screenings
  WHERE screened_on <= {{as_of}}
  GROUP BY person_id{{per}}, month_start
),
rows AS (
  SELECT person_id{{per}}, month_start, first_on,
    lag(month_start) OVER (PARTITION BY person_id{{per}} ORDER BY month_start) AS prev,
    min(CASE WHEN any_positive THEN month_start END) OVER (
      PARTITION BY person_id{{per}} ORDER BY month_start ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING
    ) AS next_positive
  FROM screened_months
)
SELECT
  r.person_id{{per_r}},
  r.first_on AS anchor_date,
  CASE
    WHEN r.prev IS NULL THEN NULL
    WHEN r.prev < date_trunc('year', r.month_start) THEN date_trunc('month', s.span_start)::DATE
    WHEN r.prev < date_trunc('quarter', r.month_start) THEN greatest(date_trunc('year', r.month_start)::DATE, date_trunc('month', s.span_start)::DATE)
    ELSE greatest(date_trunc('quarter', r.month_start)::DATE, date_trunc('month', s.span_start)::DATE)
  END AS prev_month,
  CASE
    WHEN r.next_positive IS NULL THEN NULL
    WHEN r.next_positive = r.month_start THEN r.month_start
    WHEN r.next_positive < date_trunc('quarter', r.month_start) + INTERVAL '3 months' THEN (r.month_start + INTERVAL '1 month')::DATE
    WHEN r.next_positive < date_trunc('year', r.month_start) + INTERVAL '12 months' THEN (date_trunc('quarter', r.month_start) + INTERVAL '3 months')::DATE
    ELSE (date_trunc('year', r.month_start) + INTERVAL '12 months')::DATE
  END AS positive_until,
  1 AS screened,
  1 AS screened_positive
FROM rows r
CROSS JOIN int_spans s
WHERE s.span_entity = 'screenings'
