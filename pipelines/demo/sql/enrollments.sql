-- enrollments.sql: benefit applications and enrollment spans.
--
-- Most follow a referral in a domain with a benefit program (food -> SNAP,
-- or WIC for children under 5; utilities -> LIHEAP; housing -> housing
-- voucher; transportation -> transportation voucher; financial strain ->
-- TANF, or SSI from 65). A referral that met the need leads to an
-- application far more often (the partner helped apply). Some people apply
-- on their own (SNAP for a food need, Medicaid when uninsured).
CREATE TABLE enrollment_draft AS
WITH from_referral AS (
  SELECT
    r.p, r.d, r.rk, r.referral_id, pe.age,
    r.referred_on + floor(u2(r.p, r.rk, 502) * 21)::INTEGER AS applied_at
  FROM referral r JOIN person pe USING (p)
  WHERE benefit(r.d) IS NOT NULL
    AND u2(r.p, r.rk, 501) < CASE WHEN r.outcome = 'need_met' THEN 0.6 ELSE 0.22 END
),
on_their_own AS (
  SELECT
    pe.p,
    CASE WHEN pe.uninsured THEN 12 ELSE 1 END AS d,
    900000 AS rk,
    NULL::VARCHAR AS referral_id,
    pe.age,
    greatest(window_start(), pe.enrolled_from)
      + floor(u1(pe.p, 504) * greatest(window_end() - greatest(window_start(), pe.enrolled_from), 0))::INTEGER AS applied_at
  FROM person pe
  WHERE (pe.uninsured AND u1(pe.p, 503) < 0.15) OR (has_need(pe.needs, 1) AND u1(pe.p, 503) < 0.1)
)
SELECT
  a.*,
  CASE WHEN a.d = 12 THEN 'medicaid'
       WHEN a.d = 1 AND a.age < 5 THEN 'wic'
       WHEN a.d = 7 AND a.age >= 65 THEN 'ssi'
       ELSE benefit(a.d) END AS program,
  -- 70% approved after 1-8 weeks; 15% of those spans end within a year
  u2(a.p, a.rk, 510) < 0.7 AS approved,
  a.applied_at + 7 + exp_days(14, u2(a.p, a.rk, 511)) AS enroll_at,
  u2(a.p, a.rk, 512) < 0.15 AS ends,
  60 + floor(u2(a.p, a.rk, 513) * 300)::INTEGER AS span_days,
  -- the source knows the referral behind 65% of applications
  u2(a.p, a.rk, 514) < 0.65 AS links_referral,
  -- 4% of enrollment spans come without an application date (legacy records)
  u2(a.p, a.rk, 515) < 0.04 AS no_applied_on
FROM (SELECT * FROM from_referral UNION ALL SELECT * FROM on_their_own) a
WHERE a.applied_at <= window_end();

-- Current state on the end date: a decision or an end after it has not happened yet.
CREATE TABLE enrollment AS
WITH state AS (
  SELECT
    e.*,
    e.approved AND e.enroll_at <= window_end() AS is_enrolled,
    e.approved AND e.ends AND e.enroll_at + e.span_days <= window_end() AS is_ended,
    NOT e.approved AND e.enroll_at <= window_end() AS is_denied
  FROM enrollment_draft e
)
SELECT
  s.p, s.d, s.rk, s.program,
  row_number() OVER (PARTITION BY s.p ORDER BY s.applied_at, s.rk, s.d) AS seq,
  CASE WHEN s.links_referral THEN s.referral_id END AS referral_id,
  CASE WHEN s.no_applied_on AND s.is_enrolled THEN NULL ELSE s.applied_at END AS applied_on,
  CASE WHEN s.is_enrolled THEN s.enroll_at END AS enrolled_on,
  CASE WHEN s.is_ended THEN s.enroll_at + s.span_days END AS ended_on,
  CASE WHEN s.is_ended THEN 'ended' WHEN s.is_enrolled THEN 'enrolled' WHEN s.is_denied THEN 'denied' ELSE 'applied' END AS status
FROM state s;

CREATE VIEW enrollments_out AS
SELECT
  printf('E%07d-%02d', p, seq) AS enrollment_id,
  pid(p) AS person_id,
  program,
  domain_name(d) AS domain,
  referral_id,
  applied_on::VARCHAR AS applied_on,
  enrolled_on::VARCHAR AS enrolled_on,
  ended_on::VARCHAR AS ended_on,
  status,
  p::BIGINT AS s1, seq::BIGINT AS s2, 0::BIGINT AS s3
FROM enrollment;
