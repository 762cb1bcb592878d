-- Coverage as of the as-of date, one row per segment: a maximal stretch of consecutive days
-- on which the person is covered by one payer and attributed to one program. Spans are
-- clipped to the as-of date (an open span runs to it); overlapping and adjacent spans are
-- merged, so no day is ever counted twice. run_from..run_through is the covered run
-- (consecutive covered days, whatever the payer) the segment lies in; next_from is the
-- first day of the person's next segment (NULL for the last).
-- Two spans that disagree on a day are quarantined at load (coverage_conflict); should a
-- warehouse hold such a pair anyway, the span that starts later decides that day.
-- Only the people whose spans overlap (tangled) are cut into pieces at every span boundary;
-- the others' spans are the pieces already.
WITH spans AS (
  SELECT person_id, coverage_from AS f, least(coalesce(coverage_through, {{as_of}}), {{as_of}}) AS t,
    payer, coalesce(program_id, 'unknown') AS program_id
  FROM stg_coverage
  WHERE coverage_from <= {{as_of}}
),
flagged AS (
  SELECT *, max(t) OVER (PARTITION BY person_id ORDER BY f ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) >= f AS overlapped
  FROM spans
),
tangled AS (
  SELECT DISTINCT person_id FROM flagged WHERE overlapped
),
plain AS (
  SELECT s.person_id, s.f, s.t, s.payer, s.program_id FROM spans s WHERE NOT EXISTS (SELECT 1 FROM tangled g WHERE g.person_id = s.person_id)
),
bounds AS (
  SELECT DISTINCT person_id, d FROM (
    SELECT person_id, f AS d FROM spans WHERE person_id IN (SELECT person_id FROM tangled)
    UNION ALL SELECT person_id, t + 1 FROM spans WHERE person_id IN (SELECT person_id FROM tangled)) AS b
),
pieces AS (
  SELECT person_id, d AS f, lead(d) OVER (PARTITION BY person_id ORDER BY d) - 1 AS t FROM bounds
),
covered AS (
  SELECT * FROM plain
  UNION ALL
  SELECT p.person_id, p.f, p.t, {{arg_max(s.payer, s.f)}} AS payer, {{arg_max(s.program_id, s.f)}} AS program_id
  FROM pieces p JOIN spans s ON s.person_id = p.person_id AND s.f <= p.f AND s.t >= p.t
  GROUP BY p.person_id, p.f, p.t
),
marked AS (
  SELECT *,
    coalesce(lag(t) OVER w <> f - 1, true) AS starts_run,
    coalesce(lag(t) OVER w <> f - 1 OR lag(payer) OVER w <> payer OR lag(program_id) OVER w <> program_id, true) AS starts_segment
  FROM covered
  WINDOW w AS (PARTITION BY person_id ORDER BY f)
),
numbered AS (
  SELECT *, sum(starts_run::INTEGER) OVER w AS run_no, sum(starts_segment::INTEGER) OVER w AS segment_no
  FROM marked
  WINDOW w AS (PARTITION BY person_id ORDER BY f ROWS UNBOUNDED PRECEDING)
),
segments AS (
  SELECT person_id, run_no, min(f) AS segment_from, max(t) AS segment_through, any_value(payer) AS payer, any_value(program_id) AS program_id
  FROM numbered
  GROUP BY person_id, run_no, segment_no
)
SELECT
  person_id,
  segment_from,
  segment_through,
  payer,
  program_id,
  min(segment_from) OVER (PARTITION BY person_id, run_no) AS run_from,
  max(segment_through) OVER (PARTITION BY person_id, run_no) AS run_through,
  lead(segment_from) OVER (PARTITION BY person_id ORDER BY segment_from) AS next_from
FROM segments
