-- People enrolled on some day of a period (screening_rate's and sdoh_screening_rate's
-- denominators), each counted once per period, under the payer and program of their last
-- enrolled day in it (the period's end when still enrolled then). One row per coverage
-- segment (int_coverage) reaching into the screening span:
--   anchor_date: the segment's first day in the span; to_month: the month of its last day;
--   next_month: the month the person's next segment starts (NULL: none by the as-of date).
--   The row counts in period p when the segment overlaps p and the next one starts after p's
--   end: for a person enrolled in p, exactly one segment does.
--   adult_on: the day the person turns 18 (the day after 28 February for a 29 February
--   birthday, as whole-year ages on yyyymmdd keys have it), coarsened to the last day of its
--   month (or itself, in the as-of date's month; 1900-01-01 when before the span): for every
--   period end (a month's last day, or the as-of date) adult_on <= the end is unchanged, and
--   the month-level aggregation keeps few distinct keys.
WITH adults AS (
  SELECT person_id,
    CASE WHEN day(birth_date + INTERVAL '18 years') <> day(birth_date) THEN birth_date + INTERVAL '18 years' + INTERVAL '1 day'
         ELSE birth_date + INTERVAL '18 years' END::DATE AS adult_on
  FROM int_person_attributes
)
SELECT
  c.person_id,
  greatest(c.segment_from, s.span_start) AS anchor_date,
  date_trunc('month', c.segment_through)::DATE AS to_month,
  date_trunc('month', c.next_from)::DATE AS next_month,
  CASE
    WHEN a.adult_on <= s.span_start THEN DATE '1900-01-01'
    WHEN a.adult_on > {{as_of}} THEN DATE '9999-12-31'
    WHEN date_trunc('month', a.adult_on) = date_trunc('month', {{as_of}}) THEN a.adult_on
    ELSE last_day(a.adult_on)
  END AS adult_on,
  c.payer,
  c.program_id,
  1 AS enrolled
FROM int_coverage c
JOIN adults a USING (person_id)
CROSS JOIN int_spans s
WHERE s.span_entity = 'screenings' AND c.segment_through >= s.span_start
