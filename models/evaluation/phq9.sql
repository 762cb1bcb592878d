-- PHQ-9 comparison (issue 22): the change in PHQ-9 score from an elevated index score to the
-- follow-up, referred against not-yet-referred people, weighted like the event study (design
-- in models/evaluation/README.md). One row per person: each person's first index episode
-- only, so people are independent and the interval is person-level without clustering.
-- {{as_of}} is the run's as-of date.

-- Index: the person's first PHQ-9 with total >= 10 at age 12 or more (the index episode of
-- metrics.md's PHQ-9 measures, HEDIS DRR-E); on a day with several, the highest total.
-- Follow-up: the last PHQ-9 on days 120..240 after the index (latest; ties: the larger
-- assessment_id), by the as-of date: the window of phq9_mean_change.
CREATE OR REPLACE TEMP TABLE _ph_episode AS
WITH elevated AS (
  SELECT a.person_id, a.assessed_on, a.total_score
  FROM stg_phq9 a JOIN stg_people pe USING (person_id)
  WHERE a.assessed_on <= {{as_of}} AND a.total_score >= 10
    AND date_diff('year', pe.birth_date, a.assessed_on)
      - CASE WHEN strftime(a.assessed_on, '%m%d') < strftime(pe.birth_date, '%m%d') THEN 1 ELSE 0 END >= 12
),
idx AS (
  SELECT person_id, min(assessed_on) AS index_on FROM elevated GROUP BY person_id
),
scored AS (
  SELECT i.person_id, i.index_on, max(e.total_score) AS index_score
  FROM idx i JOIN elevated e ON e.person_id = i.person_id AND e.assessed_on = i.index_on
  GROUP BY ALL
),
follow AS (
  SELECT s.person_id, a.assessed_on AS follow_up_on, a.total_score AS follow_up_score,
    row_number() OVER (PARTITION BY s.person_id ORDER BY a.assessed_on DESC, a.assessment_id DESC) AS k
  FROM scored s JOIN stg_phq9 a ON a.person_id = s.person_id
    AND a.assessed_on BETWEEN s.index_on + 120 AND least(s.index_on + 240, {{as_of}})
)
SELECT s.person_id, s.index_on, s.index_score, f.follow_up_on, f.follow_up_score
FROM scored s JOIN follow f ON f.person_id = s.person_id AND f.k = 1;

-- Who is in: a positive screening (any domain) by 30 days after the index; covered every day
-- from the index to the follow-up (within one covered run of _eval_runs, covered_runs.sql).
-- Referred: first referral (any domain) within 30 days either side of the index.
-- Comparison: not referred by the follow-up (referred later, or never). Left out: first referral more than 30 days before the
-- index (already referred when the episode began) or between day 31 and the follow-up.
-- Selections (sel): 'any' = all of them; a need domain d = the referred people whose first
-- referral (the earliest; on a day with several, the smallest referral_id) is in d, against the
-- comparison people with a positive screening in d by 30 days after the index. Within a
-- selection each person is in once.
CREATE OR REPLACE TEMP TABLE _ph_person AS
WITH first_ref AS (
  SELECT person_id, min(referred_on) AS ref_on, arg_min(need_domain, strftime(referred_on, '%Y%m%d') || referral_id) AS ref_domain
  FROM stg_referrals WHERE referred_on <= {{as_of}} GROUP BY person_id
),
payer AS (
  SELECT ep.person_id, arg_max(c.payer, c.coverage_from) AS payer
  FROM _ph_episode ep JOIN stg_coverage c ON c.person_id = ep.person_id
    AND c.coverage_from <= ep.index_on AND coalesce(c.coverage_through, {{as_of}}) >= ep.index_on
  GROUP BY ep.person_id
),
p AS (
  SELECT ep.*, fr.ref_on, fr.ref_domain,
    fr.ref_on IS NOT NULL AND fr.ref_on BETWEEN ep.index_on - 30 AND ep.index_on + 30 AS treated,
    date_diff('year', pe.birth_date, ep.index_on)
      - CASE WHEN strftime(ep.index_on, '%m%d') < strftime(pe.birth_date, '%m%d') THEN 1 ELSE 0 END AS age,
    coalesce(pe.sex = 'female', false) AS female,
    coalesce(py.payer = 'medicaid', false) AS medicaid
  FROM _ph_episode ep
  JOIN stg_people pe USING (person_id)
  LEFT JOIN first_ref fr USING (person_id)
  LEFT JOIN payer py USING (person_id)
  WHERE EXISTS (SELECT 1 FROM stg_screenings s WHERE s.person_id = ep.person_id AND s.result = 'positive'
                  AND s.screened_on <= least(ep.index_on + 30, {{as_of}}))
    AND EXISTS (SELECT 1 FROM _eval_runs v WHERE v.person_id = ep.person_id AND v.run_from <= ep.index_on AND v.run_through >= ep.follow_up_on)
),
b AS (
  SELECT *, follow_up_score - index_score AS change,
    CASE WHEN age < 18 THEN 0 WHEN age < 65 THEN 1 ELSE 2 END * 10 + medicaid::INTEGER AS stratum
  FROM p
  WHERE treated OR ref_on IS NULL OR ref_on > follow_up_on
),
pos AS (
  SELECT DISTINCT b.person_id, s.domain FROM b JOIN stg_screenings s ON s.person_id = b.person_id AND s.result = 'positive'
    AND s.screened_on <= least(b.index_on + 30, {{as_of}})
  WHERE NOT b.treated
)
SELECT 'any' AS sel, * FROM b
UNION ALL SELECT b.ref_domain AS sel, * FROM b WHERE b.treated
UNION ALL SELECT pos.domain AS sel, b.* FROM b JOIN pos USING (person_id);

-- Cells (selection x age band x Medicaid at the index) with at least two referred and two
-- comparison people; the comparison people are weighted to the referred people's mix (n_t / n_c).
CREATE OR REPLACE TEMP TABLE _ph_cells AS
WITH c AS (
  SELECT sel, stratum,
    count(*) FILTER (WHERE treated) AS n_t, avg(change) FILTER (WHERE treated) AS m_t, var_samp(change) FILTER (WHERE treated) AS v_t,
    count(*) FILTER (WHERE NOT treated) AS n_c, avg(change) FILTER (WHERE NOT treated) AS m_c, var_samp(change) FILTER (WHERE NOT treated) AS v_c
  FROM _ph_person GROUP BY sel, stratum
)
SELECT *, sum(n_t) OVER (PARTITION BY sel) AS n FROM c WHERE n_t >= 2 AND n_c >= 2;
