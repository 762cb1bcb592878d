-- PHQ-9s that can start an index episode (mirrors HEDIS DRR-E): total >= 10, person aged 12+
-- that day, by the as-of date; one per person-day: on a day with several PHQ-9s the highest
-- total is the day's score (ties: the smallest assessment_id). next_on = the person's first
-- candidate more than 365 days later, the next index if this one is an index
-- (int_phq9_episodes follows the chain).
-- A separate model because DuckDB 1.5 crashes on an ASOF join inside a recursive CTE.
WITH candidates AS (
  SELECT a.person_id, a.assessed_on,
    {{arg_min(a.assessment_id, -a.total_score, a.assessment_id)}} AS assessment_id,
    max(a.total_score) AS total_score
  FROM stg_phq9 a
  JOIN int_person_attributes pa USING (person_id)
  WHERE a.assessed_on <= {{as_of}}
    AND a.total_score >= 10
    AND (year(a.assessed_on) * 10000 + month(a.assessed_on) * 100 + day(a.assessed_on)) - pa.birth_key >= 120000
  GROUP BY a.person_id, a.assessed_on
)
SELECT c.person_id, c.assessed_on, c.assessment_id, c.total_score, n.assessed_on AS next_on
FROM candidates c
{{asof_left_join(candidates c, candidates n, c.person_id = n.person_id AND c.assessed_on + 366 <= n.assessed_on)}}
