-- One row per PHQ-9 index episode, anchored on the index date. Measurable when day 240 <=
-- as-of; episodes without a follow-up stay in every denominator (and out of the mean).
SELECT
  person_id,
  index_on AS anchor_date,
  (index_on + 240 <= {{as_of}})::INTEGER AS episode_den,
  (index_on + 240 <= {{as_of}} AND follow_up_on IS NOT NULL)::INTEGER AS follow_up_num,
  (index_on + 240 <= {{as_of}} AND coalesce(follow_up_score <= 0.5 * index_score, false))::INTEGER AS response_num,
  (index_on + 240 <= {{as_of}} AND coalesce(follow_up_score < 5, false))::INTEGER AS remission_num,
  (index_on + 240 <= {{as_of}} AND follow_up_on IS NOT NULL)::INTEGER AS change_n,
  CASE WHEN index_on + 240 <= {{as_of}} THEN follow_up_score - index_score END AS change,
  CASE WHEN index_on + 240 <= {{as_of}} THEN (follow_up_score - index_score) * (follow_up_score - index_score) END AS change_sq
FROM int_phq9_episodes
