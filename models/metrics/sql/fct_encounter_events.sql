-- Utilization events: the encounters that start on a day the person is enrolled (by the
-- as-of date), one row each: ED visit, inpatient admission, dollars paid (empty = 0; kept
-- DECIMAL so sums are exact and a rerun agrees to the last digit).
SELECT
  e.person_id,
  e.start_date AS anchor_date,
  (e.encounter_type = 'ed')::INTEGER AS ed_visits,
  (e.encounter_type = 'inpatient')::INTEGER AS inpatient_admits,
  coalesce(e.paid_amount, 0)::DECIMAL(18, 4) AS paid
FROM stg_encounters e
JOIN int_person_attributes pa USING (person_id)
WHERE e.start_date BETWEEN pa.enrolled_from AND pa.enrolled_until
