-- screening_rate's denominator: one row per person enrolled on some day of the screening
-- span. anchor_date = first enrolled day within the span; to_month = month of the last
-- enrolled day (the as-of date at the latest). The person is enrolled on some day of a
-- period when the first day is on or before its end and the last on or after its start.
SELECT
  pa.person_id,
  greatest(pa.enrolled_from, s.span_start) AS anchor_date,
  date_trunc('month', pa.enrolled_until)::DATE AS to_month,
  1 AS enrolled
FROM int_person_attributes pa, int_spans s
WHERE s.span_entity = 'screenings'
  AND greatest(pa.enrolled_from, s.span_start) <= pa.enrolled_until
