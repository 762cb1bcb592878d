-- Utilization events: the encounters that start on a day the person is covered (by the as-of
-- date), one row each, under the payer and program of that day: ED visit, inpatient
-- admission, dollars paid (empty = 0; kept DECIMAL so sums are exact and a rerun agrees to the
-- last digit).
SELECT
  e.person_id,
  e.start_date AS anchor_date,
  (e.encounter_type = 'ed')::INTEGER AS ed_visits,
  (e.encounter_type = 'inpatient')::INTEGER AS inpatient_admits,
  coalesce(e.paid_amount, 0)::DECIMAL(18, 4) AS paid,
  c.payer,
  c.program_id
FROM stg_encounters e
JOIN int_coverage c ON c.person_id = e.person_id AND e.start_date BETWEEN c.segment_from AND c.segment_through
