-- Calendar months, quarters and years overlapping each span, plus grain `all` (the span).
-- period_start is the calendar period's first day (the span's first day for `all`),
-- period_end its last day or the as-of date if earlier. calendar_start is the first day of
-- the first month the period covers (month-level facts join on it). months counts the
-- period's months like member-months: days within the span / days in the month, summed.
WITH months AS (
  SELECT span_entity, span_start,
    {{series(date_trunc('month', span_start), date_trunc('month', {{as_of}}), INTERVAL '1 month')}}::DATE AS month_start
  FROM int_spans
),
month_parts AS (
  SELECT span_entity, span_start, month_start,
    (date_diff('day', greatest(month_start, span_start), least(last_day(month_start), {{as_of}})) + 1)
      / day(last_day(month_start))::DOUBLE AS months
  FROM months
),
by_grain AS (
  SELECT span_entity, span_start, g.grain, months,
    CASE g.grain
      WHEN 'month' THEN month_start
      WHEN 'quarter' THEN date_trunc('quarter', month_start)::DATE
      WHEN 'year' THEN date_trunc('year', month_start)::DATE
      ELSE date_trunc('month', span_start)::DATE
    END AS calendar_start
  FROM month_parts CROSS JOIN (VALUES ('all'), ('year'), ('quarter'), ('month')) AS g(grain)
)
SELECT span_entity, grain,
  CASE WHEN grain = 'all' THEN span_start ELSE calendar_start END AS period_start,
  least(
    CASE grain
      WHEN 'month' THEN last_day(calendar_start)
      WHEN 'quarter' THEN (calendar_start + INTERVAL '3 months' - INTERVAL '1 day')::DATE
      WHEN 'year' THEN (calendar_start + INTERVAL '12 months' - INTERVAL '1 day')::DATE
      ELSE {{as_of}}
    END,
    {{as_of}}) AS period_end,
  calendar_start,
  sum(months) AS months
FROM by_grain
GROUP BY span_entity, grain, span_start, calendar_start
