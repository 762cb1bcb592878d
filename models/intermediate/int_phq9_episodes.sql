-- PHQ-9 index episodes (mirrors HEDIS DRR-E): a candidate PHQ-9 (int_phq9_candidates) with
-- no index episode in the preceding 365 days. A person's first candidate is an index; the
-- next index is the first candidate more than 365 days after it, and so on.
-- Follow-up: the last PHQ-9 (any score) on days 120..240 after the index date (latest
-- assessed_on; ties: the larger assessment_id), by the as-of date.
WITH RECURSIVE
chain(person_id, index_on) AS (
  SELECT person_id, min(assessed_on) FROM int_phq9_candidates GROUP BY person_id
  UNION ALL
  SELECT c.person_id, c.next_on
  FROM chain ch JOIN int_phq9_candidates c ON c.person_id = ch.person_id AND c.assessed_on = ch.index_on
  WHERE c.next_on IS NOT NULL
),
assessments AS (
  SELECT assessment_id, person_id, assessed_on, total_score FROM stg_phq9 WHERE assessed_on <= {{as_of}}
)
SELECT
  ch.person_id,
  ch.index_on,
  c.assessment_id AS index_assessment_id,
  c.total_score AS index_score,
  max(f.assessed_on) AS follow_up_on,
  {{arg_max(f.total_score, f.assessed_on, f.assessment_id)}} AS follow_up_score
FROM chain ch
JOIN int_phq9_candidates c ON c.person_id = ch.person_id AND c.assessed_on = ch.index_on
LEFT JOIN assessments f
  ON f.person_id = ch.person_id AND f.assessed_on BETWEEN ch.index_on + 120 AND ch.index_on + 240
GROUP BY ch.person_id, ch.index_on, c.assessment_id, c.total_score
