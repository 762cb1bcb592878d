-- phq9.sql: repeated PHQ-9 administrations for behavioural-health patients
-- and for people screened positive for a social need who are at risk of
-- depression.
--
-- Who: the behavioural-health patients (person.bh), and people aged 12+ with
-- a positive social-need screening drawn at risk of depression (25%, 50%
-- with a mental-health need; integrated care gives them a PHQ-9 when a
-- social-need screen is positive). The index visit is the person's first
-- positive screening plus 0..14 days (the same visit or the behavioural-health
-- visit it leads to), so it falls near the referral that screen brings, or
-- near the time a person screened positive and was not referred; people
-- never screened positive (behavioural-health patients only) get an index
-- anywhere in the window. Follow-ups on a typical schedule: ~4 weeks (60%),
-- ~2-3 months (45%), 130-229 days (72%: the 120-240 day window of the
-- response/remission measures), ~10-12 months (30%). Scores improve over ~150
-- days by 30% of the index score (usual care), or by 62% once a referral of
-- theirs closed need_met (planted); plus noise (+-1.5 points, then the
-- binomial spread of the items). The usual-care 30% does not depend on social
-- needs: people without a real need are over-represented among those never
-- referred, and a need-dependent natural course would confound the evaluation's
-- PHQ-9 comparison (pipelines/demo/README.md). {{referral_effect}} = FALSE (the
-- no-effect demo) turns the 62% off. Draws here use salts 6xx only, so the
-- other files do not change with this one.
CREATE TABLE phq9 AS
WITH first_positive AS (
  SELECT p, min(screened_on) AS pos_on FROM positive_need GROUP BY p
),
patient AS (
  SELECT
    pe.p, po.met_on, fp.pos_on,
    greatest(window_start(), pe.enrolled_from, (pe.birth_date + to_years(12))::DATE) AS lo,
    least(window_end() - 20, coalesce(pe.enrolled_through, window_end())) AS hi,
    pe.enrolled_through
  FROM person pe LEFT JOIN person_outcome po USING (p) LEFT JOIN first_positive fp USING (p)
  WHERE pe.bh
     OR (fp.pos_on IS NOT NULL AND u1(pe.p, 620) < CASE WHEN has_need(pe.needs, 11) THEN 0.5 ELSE 0.25 END)
),
indexed AS (
  SELECT
    pt.*,
    CASE WHEN pt.pos_on IS NULL THEN pt.lo + floor(u1(pt.p, 601) * (pt.hi - pt.lo + 1))::INTEGER
         ELSE pt.pos_on + floor(u1(pt.p, 611) * 15)::INTEGER END AS index_on,
    -- index score: mostly moderate to severe (mean ~13)
    2 + round(22 * (u1(pt.p, 602) + u1(pt.p, 603) + u1(pt.p, 604)) / 3)::INTEGER AS s0
  FROM patient pt
),
schedule(v, base, spread, share) AS (
  VALUES (0, 0, 1, 1.0), (1, 21, 14, 0.6), (2, 60, 40, 0.45), (3, 130, 100, 0.72), (4, 300, 70, 0.3)
),
visit AS (
  SELECT
    i.*, s.v,
    i.index_on + s.base + floor(u2(i.p, s.v, 606) * s.spread)::INTEGER AS assessed_on
  FROM indexed i, schedule s
  WHERE i.index_on BETWEEN i.lo AND i.hi AND u2(i.p, s.v, 605) < s.share
),
scored AS (
  SELECT
    vi.p, vi.v, vi.assessed_on,
    -- expected severity on this day, as a share of the maximum score
    least(1.0, greatest(0.0,
      vi.s0 * (1 - CASE WHEN {{referral_effect}} AND vi.met_on <= vi.assessed_on THEN 0.62 ELSE 0.3 END
                   * least(1.0, (vi.assessed_on - vi.index_on) / 150.0))
      + (u2(vi.p, vi.v, 607) - 0.5) * 3) / 27.0) AS severity,
    -- 12% of administrations record only the total
    u2(vi.p, vi.v, 610) < 0.12 AS total_only
  FROM visit vi
  WHERE vi.assessed_on <= window_end()
    AND (vi.enrolled_through IS NULL OR vi.assessed_on <= vi.enrolled_through)
),
itemised AS (
  -- each item 0..3 is binomial(3, severity), item 9 (self-harm) a third as
  -- likely; the total is their sum, so items and total always agree
  SELECT
    sc.*,
    list_transform(range(1, 10), i -> list_sum(list_transform(range(3), k ->
      (u3(sc.p, sc.v * 100 + i * 10 + k, 0, 608)
         < CASE WHEN i = 9 THEN sc.severity / 3 ELSE least(1.0, sc.severity * 26.0 / 24.0) END)::INTEGER))) AS items
  FROM scored sc
)
SELECT it.p, it.v, it.assessed_on, list_sum(it.items)::INTEGER AS total, it.total_only, it.items
FROM itemised it;

CREATE VIEW phq9_out AS
SELECT
  printf('A%07d-%02d', p, v + 1) AS assessment_id,
  pid(p) AS person_id,
  assessed_on::VARCHAR AS assessed_on,
  total::VARCHAR AS total_score,
  CASE WHEN NOT total_only THEN items[1]::VARCHAR END AS item_1,
  CASE WHEN NOT total_only THEN items[2]::VARCHAR END AS item_2,
  CASE WHEN NOT total_only THEN items[3]::VARCHAR END AS item_3,
  CASE WHEN NOT total_only THEN items[4]::VARCHAR END AS item_4,
  CASE WHEN NOT total_only THEN items[5]::VARCHAR END AS item_5,
  CASE WHEN NOT total_only THEN items[6]::VARCHAR END AS item_6,
  CASE WHEN NOT total_only THEN items[7]::VARCHAR END AS item_7,
  CASE WHEN NOT total_only THEN items[8]::VARCHAR END AS item_8,
  CASE WHEN NOT total_only THEN items[9]::VARCHAR END AS item_9,
  p::BIGINT AS s1, v::BIGINT AS s2, 0::BIGINT AS s3
FROM phq9;
