-- HEDIS continuous enrollment and the HEDIS exclusions, per person and window: each calendar
-- year of the screening span (to the as-of date) for every person with coverage (SNS-E's
-- measurement period), and
-- each PHQ-9 index episode from its index date to day 240, the end of its follow-up window
-- (DRR-E).
--   gaps: stretches of the window without coverage (one before the first covered day, one
--     after the last, one between covered runs); gap_days: the window's uncovered days.
--   continuously_enrolled: at most one gap, of at most 45 days (HEDIS's allowable gap); a gap
--     at either edge of the window counts like any other.
--   hospice: a hospice encounter on a day of the window; died: a death date by its last day.
WITH years AS (
  SELECT y::INTEGER AS y
  FROM generate_series(coalesce((SELECT year(span_start) FROM int_spans WHERE span_entity = 'screenings'), year({{as_of}})), year({{as_of}})) AS g(y)
),
windows AS (
  SELECT c.person_id, 'year' AS window_kind, make_date(y.y, 1, 1) AS window_from, least(make_date(y.y, 12, 31), {{as_of}}) AS window_to
  FROM (SELECT DISTINCT person_id FROM int_coverage) c CROSS JOIN years y
  UNION ALL
  SELECT person_id, 'phq9_episode', index_on, index_on + 240 FROM int_phq9_episodes
),
runs AS (
  SELECT DISTINCT person_id, run_from, run_through FROM int_coverage
),
covered AS (
  SELECT w.person_id, w.window_kind, w.window_from,
    count(*) AS runs,
    sum(least(r.run_through, w.window_to) - greatest(r.run_from, w.window_from) + 1) AS covered_days,
    min(r.run_from) <= w.window_from AS from_first_day,
    max(r.run_through) >= w.window_to AS to_last_day
  FROM windows w
  JOIN runs r ON r.person_id = w.person_id AND r.run_from <= w.window_to AND r.run_through >= w.window_from
  GROUP BY w.person_id, w.window_kind, w.window_from, w.window_to
),
hospice AS (
  SELECT DISTINCT w.person_id, w.window_kind, w.window_from
  FROM windows w
  JOIN stg_encounters e ON e.person_id = w.person_id AND e.encounter_type = 'hospice' AND e.start_date <= {{as_of}}
    AND e.start_date <= w.window_to AND coalesce(e.end_date, e.start_date) >= w.window_from
),
judged AS (
  SELECT w.person_id, w.window_kind, w.window_from, w.window_to,
    coalesce(c.covered_days, 0) AS covered_days,
    (w.window_to - w.window_from + 1) - coalesce(c.covered_days, 0) AS gap_days,
    CASE WHEN c.runs IS NULL THEN 1 ELSE c.runs - 1 + (NOT c.from_first_day)::INTEGER + (NOT c.to_last_day)::INTEGER END AS gaps,
    h.person_id IS NOT NULL AS hospice
  FROM windows w
  LEFT JOIN covered c USING (person_id, window_kind, window_from)
  LEFT JOIN hospice h USING (person_id, window_kind, window_from)
)
SELECT
  j.*,
  j.gaps = 0 OR (j.gaps = 1 AND j.gap_days <= 45) AS continuously_enrolled,
  coalesce(pa.death_date <= j.window_to, false) AS died
FROM judged j
LEFT JOIN int_person_attributes pa USING (person_id)
