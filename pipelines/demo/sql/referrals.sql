-- referrals.sql: closed-loop referrals, current state as of the end date.
--
-- Two sources, as on real platforms: referrals that follow a positive
-- screen (most), and referrals made by care managers and partners for a
-- need the person has, without a screening row behind them.

-- One row per positive screening row (screening x domain).
CREATE TABLE positive_need AS
SELECT p, k, m, d, screened_on FROM screening_row WHERE result = 'positive';

CREATE TABLE referral_draft AS
WITH need AS (
  SELECT
    n.*,
    n.k * 100 + n.d AS nk,
    -- the person's first positive screen for this domain, or a repeat
    row_number() OVER (PARTITION BY n.p, n.d ORDER BY n.k) AS nth,
    pe.rural, pe.uninsured
  FROM positive_need n JOIN person pe USING (p)
),
referred AS (
  -- repeat positives are referred less often (often already referred);
  -- planted: positive screens of uninsured people and in rural counties
  -- (fewer partners within reach) are referred less often
  SELECT *
  FROM need
  WHERE u2(p, nk, 301) < refer_share(d)
                         * CASE WHEN nth = 1 THEN 1 ELSE 0.45 END
                         * CASE WHEN uninsured THEN 0.8 ELSE 1 END
                         * CASE WHEN rural THEN 0.8 ELSE 1 END
),
timed AS (
  -- days from screen to referral: 4% dated before the screen (they must not
  -- count as follow-up), most the same day or within a week, 8% after 30
  -- days; planted: rural referrals come later (fewer same-day, x1.6 waits)
  SELECT
    r.*,
    CASE
      WHEN r.u_when < 0.04 THEN -(1 + floor(r.u_days * 45)::INTEGER)
      WHEN r.u_when < CASE WHEN r.rural THEN 0.3 ELSE 0.44 END THEN 0
      WHEN r.u_when < 0.72 THEN 1 + floor(r.u_days * 7 * CASE WHEN r.rural THEN 1.6 ELSE 1 END)::INTEGER
      WHEN r.u_when < 0.92 THEN 8 + floor(r.u_days * 23 * CASE WHEN r.rural THEN 1.6 ELSE 1 END)::INTEGER
      ELSE 31 + floor(r.u_days * 60)::INTEGER
    END AS delay,
    -- 45% of referred needs go to a second partner, 18% to a third
    1 + (u2(r.p, r.nk, 304) < 0.45)::INTEGER + (u2(r.p, r.nk, 305) < 0.18)::INTEGER AS partners
  FROM (SELECT *, u2(p, nk, 302) AS u_when, u2(p, nk, 303) AS u_days FROM referred) r
),
from_screen AS (
  SELECT
    t.p, t.d, t.nk * 4 + c.c AS rk, 'screen' AS origin,
    -- further partners: the same day or after a first answer, within 3 weeks
    t.screened_on + t.delay + CASE WHEN c.c = 0 THEN 0 ELSE floor(u2(t.p, t.nk * 4 + c.c, 306) * 21)::INTEGER END AS referred_on
  FROM timed t, range(3) c(c)
  WHERE c.c < t.partners
),
care_managed AS (
  -- needy people also get referrals from care managers and partners, at any
  -- time while enrolled, for one of their needs (fewer in rural counties)
  SELECT
    pe.p, pe.needs, x.i AS j,
    greatest(window_start(), pe.enrolled_from) AS lo,
    least(window_end(), coalesce(pe.enrolled_through, window_end())) AS hi
  FROM (SELECT *, poisson_e(lam, e, u) AS n
        FROM (SELECT *, exp(-lam) AS e FROM
               (SELECT *, CASE WHEN rural THEN 1.2 ELSE 1.6 END AS lam, u1(p, 310) AS u FROM person WHERE needy))) pe
  JOIN expand x ON x.n = pe.n
),
from_care AS (
  SELECT
    c.p,
    list_filter(range(1, 13), d -> has_need(c.needs, d))[
      1 + floor(u2(c.p, c.j, 311) * bit_count(c.needs))::INTEGER] AS d,
    100000 + c.j AS rk, 'care' AS origin,
    c.lo + floor(u2(c.p, c.j, 312) * (c.hi - c.lo + 1))::INTEGER AS referred_on
  FROM care_managed c
  WHERE c.lo <= c.hi
)
SELECT * FROM from_screen WHERE referred_on BETWEEN window_start() AND window_end()
UNION ALL
SELECT * FROM from_care;

-- The lifecycle of each referral. Every milestone is drawn as if the
-- future were known, then anything after the end date is blanked: recent
-- referrals are naturally still open, and no date passes the end date.
CREATE TABLE referral AS
WITH candidates AS (
  -- the partner: one of the directory programs serving the person's county
  -- for the domain, by organization weight; where none does (planted gaps),
  -- an out-of-area program of the domain (see ref_target)
  SELECT
    r.*,
    pe.rural, pe.limited_english, pe.uninsured, pe.black, pe.clinic,
    tg.*,
    1 + (r.u_pick >= tg.c_1)::INTEGER + (r.u_pick >= tg.c_2)::INTEGER + (r.u_pick >= tg.c_3)::INTEGER AS pick
  FROM (SELECT *, u2(p, rk, 401) AS u_pick FROM referral_draft) r
  JOIN person pe USING (p)
  JOIN ref_target tg ON tg.ci = pe.ci AND tg.d = r.d
),
targeted AS (
  SELECT
    c.p, c.d, c.rk, c.origin, c.referred_on, c.rural, c.limited_english, c.uninsured, c.black, c.clinic, c.out_of_area,
    CASE c.pick WHEN 1 THEN c.org_1 WHEN 2 THEN c.org_2 WHEN 3 THEN c.org_3 ELSE c.org_4 END AS target_org_id,
    CASE c.pick WHEN 1 THEN c.program_1 WHEN 2 THEN c.program_2 WHEN 3 THEN c.program_3 ELSE c.program_4 END AS program_id
  FROM candidates c
),
drawn AS (
  SELECT
    t.p, t.d, t.rk, t.origin, t.referred_on, t.rural, t.out_of_area,
    t.target_org_id,
    -- the directory program is often, not always, on the referral
    CASE WHEN u2(t.p, t.rk, 402) < 0.85 THEN t.program_id END AS target_program_id,
    -- who referred: the clinic for screen-driven ones; care-managed ones come
    -- from the clinic's care managers or from another partner
    CASE WHEN t.origin = 'screen' OR u2(t.p, t.rk, 403) < 0.6 THEN t.clinic
         ELSE printf('ORG-%02d', 1 + floor(u2(t.p, t.rk, 404) * 15)::INTEGER) END AS source_org_id,
    o.no_capacity_share,
    -- planted: limited English, rural, uninsured and out-of-area referrals are accepted less often
    u2(t.p, t.rk, 410) < least(0.97, 0.8 * o.accept_factor * domain_accept(t.d)
                                    * CASE WHEN t.limited_english THEN 0.62 ELSE 1 END
                                    * CASE WHEN t.rural THEN 0.8 ELSE 1 END
                                    * CASE WHEN t.uninsured THEN 0.7 ELSE 1 END
                                    * CASE WHEN t.out_of_area THEN 0.35 ELSE 1 END) AS accepts,
    -- planted: every step takes longer in rural counties (acceptance: 16 days on average, not 2.5)
    t.referred_on + exp_days(CASE WHEN t.rural THEN 16 ELSE 2.5 END, u2(t.p, t.rk, 411)) AS accept_at,
    u2(t.p, t.rk, 412) < 0.9 AS served,
    exp_days(CASE WHEN t.rural THEN 14 ELSE 5 END, u2(t.p, t.rk, 413)) AS serve_wait,
    -- planted: accepted referrals of Black and limited-English people are closed less often
    u2(t.p, t.rk, 414) < 0.8 * CASE WHEN t.black THEN 0.68 ELSE 1 END
                            * CASE WHEN t.limited_english THEN 0.72 ELSE 1 END AS closes,
    exp_days(CASE WHEN t.rural THEN 50 ELSE 28 END, u2(t.p, t.rk, 415)) AS close_wait,
    u2(t.p, t.rk, 416) AS u_outcome,
    u2(t.p, t.rk, 417) < 0.02 AS accepted_date_missing,
    -- not accepted: 1 = never answered (pending), 2 = rejected, 3 = cancelled;
    -- planted: a partner that cannot talk with the client mostly never answers
    1 + (u2(t.p, t.rk, 420) >= CASE WHEN t.out_of_area THEN 0.1 WHEN t.limited_english THEN 0.65 ELSE o.not_accepted_1 END)::INTEGER
      + (u2(t.p, t.rk, 420) >= CASE WHEN t.out_of_area THEN 0.95 WHEN t.limited_english THEN 0.9 ELSE o.not_accepted_2 END)::INTEGER
      AS not_accepted_kind,
    t.referred_on + exp_days(CASE WHEN t.rural THEN 8 ELSE 4 END, u2(t.p, t.rk, 421)) AS reject_at,
    t.referred_on + 5 + exp_days(25, u2(t.p, t.rk, 422)) AS cancel_at
  FROM targeted t
  JOIN ref_org o ON o.org_id = t.target_org_id
),
milestones AS (
  SELECT
    dr.*,
    CASE WHEN dr.served THEN dr.accept_at + dr.serve_wait END AS serve_at,
    CASE WHEN dr.closes THEN dr.accept_at + CASE WHEN dr.served THEN dr.serve_wait ELSE 0 END + dr.close_wait END AS close_at,
    CASE WHEN dr.served THEN
           CASE WHEN dr.u_outcome < 0.88 THEN 'need_met' WHEN dr.u_outcome < 0.94 THEN 'need_not_met'
                WHEN dr.u_outcome < 0.97 THEN 'client_declined' ELSE 'other' END
         ELSE
           CASE WHEN dr.u_outcome < 0.5 THEN 'unable_to_contact' WHEN dr.u_outcome < 0.8 THEN 'client_declined'
                WHEN dr.u_outcome < 0.95 THEN 'need_not_met' ELSE 'other' END
    END AS accepted_outcome,
    CASE WHEN dr.out_of_area THEN
           CASE WHEN dr.u_outcome < 0.85 THEN 'ineligible' WHEN dr.u_outcome < 0.95 THEN 'no_capacity' ELSE 'other' END
         WHEN dr.u_outcome < dr.no_capacity_share THEN 'no_capacity'
         WHEN dr.u_outcome < dr.no_capacity_share + (1 - dr.no_capacity_share) * 0.5 THEN 'ineligible'
         WHEN dr.u_outcome < dr.no_capacity_share + (1 - dr.no_capacity_share) * 0.85 THEN 'unable_to_contact'
         ELSE 'other' END AS rejected_outcome,
    CASE WHEN dr.u_outcome < 0.6 THEN 'client_declined' WHEN dr.u_outcome < 0.9 THEN 'unable_to_contact' ELSE 'other' END AS cancelled_outcome
  FROM drawn dr
),
as_of_end AS (
  -- what the platform shows on the end date
  SELECT
    ms.*,
    ms.accepts AND ms.accept_at <= window_end() AS is_accepted,
    ms.accepts AND ms.accept_at <= window_end() AND ms.serve_at <= window_end() AS is_served,
    CASE
      WHEN ms.accepts AND ms.accept_at <= window_end() AND ms.close_at <= window_end() THEN ms.close_at
      WHEN NOT ms.accepts AND ms.not_accepted_kind = 2 AND ms.reject_at <= window_end() THEN ms.reject_at
      WHEN NOT ms.accepts AND ms.not_accepted_kind = 3 AND ms.cancel_at <= window_end() THEN ms.cancel_at
    END AS closed_on,
    CASE
      WHEN ms.accepts AND ms.accept_at <= window_end() AND ms.close_at <= window_end() THEN ms.accepted_outcome
      WHEN NOT ms.accepts AND ms.not_accepted_kind = 2 AND ms.reject_at <= window_end() THEN ms.rejected_outcome
      WHEN NOT ms.accepts AND ms.not_accepted_kind = 3 AND ms.cancel_at <= window_end() THEN ms.cancelled_outcome
    END AS outcome
  FROM milestones ms
)
SELECT
  a.p, a.d, a.rk, a.origin, a.out_of_area,
  -- the id carries the referral's draw key rk: unique per person, not chronological
  -- (a per-person running number would need a window over a million rows)
  printf('R%07d-%06d', a.p, a.rk) AS referral_id,
  a.referred_on,
  a.source_org_id,
  a.target_org_id,
  a.target_program_id,
  CASE
    WHEN a.is_accepted AND a.closed_on IS NOT NULL THEN CASE WHEN a.outcome = 'client_declined' THEN 'cancelled' ELSE 'completed' END
    WHEN a.is_served THEN 'in_progress'
    WHEN a.is_accepted THEN 'accepted'
    WHEN a.closed_on IS NOT NULL THEN CASE WHEN a.not_accepted_kind = 2 THEN 'rejected' ELSE 'cancelled' END
    ELSE 'pending'
  END AS status,
  -- 2% of accepted referrals carry the status but no acceptance date
  CASE WHEN a.is_accepted AND NOT a.accepted_date_missing THEN a.accept_at END AS accepted_on,
  CASE WHEN a.is_served THEN a.serve_at END AS service_started_on,
  a.closed_on,
  a.outcome
FROM as_of_end a;

-- Per person: when a referral first met a need (any, and housing), for the outcome files.
CREATE TABLE person_outcome AS
SELECT
  p,
  min(closed_on) FILTER (WHERE outcome = 'need_met') AS met_on,
  min(closed_on) FILTER (WHERE outcome = 'need_met' AND d = 2) AS housing_met_on,
  min(referred_on) AS first_ref_on
FROM referral
GROUP BY p;

CREATE VIEW referrals_out AS
SELECT
  referral_id,
  pid(p) AS person_id,
  domain_name(d) AS need_domain,
  referred_on::VARCHAR AS referred_on,
  source_org_id,
  target_org_id,
  target_program_id AS program_id,
  status,
  accepted_on::VARCHAR AS accepted_on,
  service_started_on::VARCHAR AS service_started_on,
  closed_on::VARCHAR AS closed_on,
  outcome,
  p::BIGINT AS s1, rk::BIGINT AS s2, 0::BIGINT AS s3
FROM referral;
