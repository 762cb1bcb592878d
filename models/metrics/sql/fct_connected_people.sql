-- connected_60d_rate (mirrors MIPS #498): one row per adult with a positive screen in a core
-- domain made at 18 or older, anchored on their earliest such screening date; their needs are the core domains
-- positive on that date. Connected: a referral of theirs in one of those domains (made at
-- any time) accepted or first served on days 0..60 after the anchor (dates by the as-of
-- date; a status without a date does not count). Measurable when day 60 <= as-of.
WITH core AS (
  SELECT n.person_id, n.domain, n.screened_on
  FROM int_positive_needs n
  JOIN int_person_attributes pa USING (person_id)
  WHERE n.domain IN ({{core_domains}})
    AND (year(n.screened_on) * 10000 + month(n.screened_on) * 100 + day(n.screened_on)) - pa.birth_key >= 180000
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
