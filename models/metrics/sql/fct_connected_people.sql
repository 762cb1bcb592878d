-- connected_60d_rate (mirrors CMS #498): one row per person with a positive screen in a core
-- domain, anchored on their earliest such screening date; their needs are the core domains
-- positive on that date. Connected: a referral of theirs in one of those domains (made at
-- any time) accepted or first served on days 0..60 after the anchor (dates by the as-of
-- date; a status without a date does not count). Measurable when day 60 <= as-of.
WITH core AS (
  SELECT person_id, domain, screened_on
  FROM int_positive_needs
  WHERE domain IN ({{core_domains}})
),
anchors AS (
  SELECT person_id, min(screened_on) AS anchor_date FROM core GROUP BY person_id
),
needs AS (
  SELECT DISTINCT c.person_id, c.domain, a.anchor_date
  FROM core c JOIN anchors a ON a.person_id = c.person_id AND a.anchor_date = c.screened_on
),
connected AS (
  SELECT DISTINCT n.person_id
  FROM needs n
  JOIN int_referral_milestones r ON r.person_id = n.person_id AND r.domain = n.domain
  WHERE r.accepted_on BETWEEN n.anchor_date AND n.anchor_date + 60
     OR r.service_started_on BETWEEN n.anchor_date AND n.anchor_date + 60
)
SELECT
  a.person_id,
  a.anchor_date,
  (a.anchor_date + 60 <= {{as_of}})::INTEGER AS connected_60d_den,
  (a.anchor_date + 60 <= {{as_of}} AND c.person_id IS NOT NULL)::INTEGER AS connected_60d_num
FROM anchors a
LEFT JOIN connected c USING (person_id)
