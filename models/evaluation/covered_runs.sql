-- Covered runs, shared by the event study and the PHQ-9 comparison: a person's coverage
-- spans merged whatever the payer (overlapping or adjacent spans are one run), clipped to
-- the as-of date. {{as_of}} is the run's as-of date.
CREATE OR REPLACE TEMP TABLE _eval_runs AS
WITH s AS (
  SELECT person_id, coverage_from AS f, least(coalesce(coverage_through, {{as_of}}), {{as_of}}) AS t
  FROM stg_coverage WHERE coverage_from <= {{as_of}}
),
m AS (
  SELECT *, max(t) OVER (PARTITION BY person_id ORDER BY f, t ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_t FROM s
),
r AS (
  SELECT *, sum(CASE WHEN prev_t IS NULL OR prev_t < f - 1 THEN 1 ELSE 0 END)
    OVER (PARTITION BY person_id ORDER BY f, t ROWS UNBOUNDED PRECEDING) AS run_no
  FROM m
)
SELECT person_id, min(f) AS run_from, max(t) AS run_through FROM r GROUP BY person_id, run_no;
