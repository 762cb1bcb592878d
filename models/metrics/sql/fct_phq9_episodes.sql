-- One row per PHQ-9 index episode, anchored on the index date. In the denominators (mirrors
-- HEDIS DRR-E) when measurable (day 240 <= as-of) and the person was continuously enrolled
-- from the index date to day 240 (at most one gap of at most 45 days), was not in hospice
-- then and did not die by day 240 (int_enrollment_windows). Episodes without a follow-up stay
-- in every denominator (and out of the mean).
WITH episodes AS (
  SELECT e.*,
    e.index_on + 240 <= {{as_of}} AND coalesce(w.continuously_enrolled AND NOT w.hospice AND NOT w.died, false) AS counted
  FROM int_phq9_episodes e
  LEFT JOIN int_enrollment_windows w ON w.person_id = e.person_id AND w.window_kind = 'phq9_episode' AND w.window_from = e.index_on
)
SELECT
  person_id,
  index_on AS anchor_date,
  counted::INTEGER AS episode_den,
  (counted AND follow_up_on IS NOT NULL)::INTEGER AS follow_up_num,
  (counted AND coalesce(follow_up_score <= 0.5 * index_score, false))::INTEGER AS response_num,
  (counted AND coalesce(follow_up_score < 5, false))::INTEGER AS remission_num,
  (counted AND follow_up_on IS NOT NULL)::INTEGER AS change_n,
  CASE WHEN counted THEN follow_up_score - index_score END AS change,
  CASE WHEN counted THEN (follow_up_score - index_score) * (follow_up_score - index_score) END AS change_sq
FROM episodes
