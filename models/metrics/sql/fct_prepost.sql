-- Pre/post first referral: one row per person whose first referral (by the as-of date) has
-- its 180-day windows before (days -180..-1) and after (days 1..180) within one covered run
-- (int_coverage: every day covered, by the as-of date), starting on or after the first
-- encounter date (the utilization span), anchored on the first referral, under the payer and
-- program of that day (the windows are one person's: they are not split between payers).
-- Member-months of each window are counted month by month (days in the month / days of the
-- month).
WITH first_referrals AS (
  SELECT person_id, min(referred_on) AS first_on FROM int_referral_milestones GROUP BY person_id
),
eligible AS (
  SELECT f.person_id, f.first_on, c.payer, c.program_id
  FROM first_referrals f
  {{asof_join(first_referrals f, int_coverage c, f.person_id = c.person_id AND f.first_on >= c.segment_from)}}
  CROSS JOIN int_spans s
  WHERE s.span_entity = 'encounters'
    AND f.first_on <= c.segment_through
    AND c.run_from <= f.first_on - 180
    AND c.run_through >= f.first_on + 180
    AND f.first_on - 180 >= s.span_start
),
windows AS (
  SELECT person_id, first_on, 'pre' AS side, first_on - 180 AS window_from, first_on - 1 AS window_to FROM eligible
  UNION ALL
  SELECT person_id, first_on, 'post', first_on + 1, first_on + 180 FROM eligible
),
window_months AS (
  -- DECIMAL terms: exact, order-independent sums (reruns agree to the last digit)
  SELECT person_id, side, sum((
    (date_diff('day', greatest(window_from, month_start), least(window_to, last_day(month_start))) + 1)
      / day(last_day(month_start))::DOUBLE)::DECIMAL(18, 12)) AS member_months
  FROM (
    SELECT *, {{series(date_trunc('month', window_from), date_trunc('month', window_to), INTERVAL '1 month')}}::DATE AS month_start
    FROM windows
  ) AS w
  GROUP BY person_id, side
),
window_events AS (
  SELECT w.person_id, w.side,
    count(*) FILTER (WHERE e.encounter_type = 'ed') AS ed,
    count(*) FILTER (WHERE e.encounter_type = 'inpatient') AS inpatient
  FROM windows w
  JOIN stg_encounters e ON e.person_id = w.person_id AND e.start_date BETWEEN w.window_from AND w.window_to
  GROUP BY w.person_id, w.side
)
SELECT
  el.person_id,
  el.first_on AS anchor_date,
  1 AS people,
  pre.member_months AS pre_member_months,
  post.member_months AS post_member_months,
  coalesce(epre.ed, 0) AS ed_pre,
  coalesce(epost.ed, 0) AS ed_post,
  coalesce(epre.inpatient, 0) AS inpatient_pre,
  coalesce(epost.inpatient, 0) AS inpatient_post,
  el.payer,
  el.program_id
FROM eligible el
JOIN window_months pre ON pre.person_id = el.person_id AND pre.side = 'pre'
JOIN window_months post ON post.person_id = el.person_id AND post.side = 'post'
LEFT JOIN window_events epre ON epre.person_id = el.person_id AND epre.side = 'pre'
LEFT JOIN window_events epost ON epost.person_id = el.person_id AND epost.side = 'post'
