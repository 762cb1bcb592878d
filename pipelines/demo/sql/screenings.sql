-- screenings.sql: social-need screenings, one row per screening x domain asked.
--
-- screen_event: at most one screening per person-month, only on enrolled
-- days. The monthly chance rises linearly from 2% to 8% over the window
-- (programs scale screening up, as SDOH-1 adoption did); disengaged people
-- (32%) are screened a fifth as often, so some are never screened.
--
-- Drawn per person and 12-month block rather than per person-month (a
-- tenth of the work): the number of screenings in a block is Poisson with
-- mean = the block's monthly chances summed, each falls in a month by the
-- inverse of the rising (linear) density, and two in one month count once.
CREATE MACRO screen_chance_slope() AS 0.06 / greatest({{months}} - 1, 1);
CREATE MACRO screen_chance(m) AS 0.02 + screen_chance_slope() * m;

CREATE TABLE screen_block AS
SELECT m // 12 AS b, min(m) AS m0, max(m) AS m1, sum(screen_chance(m)) AS chances
FROM window_month
GROUP BY m // 12;

CREATE TABLE screen_event AS
WITH person_block AS (
  SELECT
    pe.p, sb.b, sb.m0, sb.m1, sb.chances,
    sb.chances * CASE WHEN pe.engaged THEN 1 ELSE 0.2 END AS lam,
    u2(pe.p, sb.b, 201) AS u
  FROM person pe CROSS JOIN screen_block sb
),
drawn AS (
  SELECT pb.*, poisson_e(pb.lam, pb.e, pb.u) AS n
  FROM (SELECT *, exp(-lam) AS e FROM person_block) pb
),
placed AS (
  -- the month: solve F(m) = u x chances for the linear density a + slope x (t - 1/2),
  -- whose integral over month m is exactly screen_chance(m)
  SELECT DISTINCT
    d.p,
    least(d.m1, greatest(d.m0, floor(0.5 + (-0.02 + sqrt(0.0004 + 2 * screen_chance_slope()
      * (u3(d.p, d.b, x.i, 202) * d.chances + 0.02 * (d.m0 - 0.5) + screen_chance_slope() / 2 * (d.m0 - 0.5) ** 2)))
      / screen_chance_slope())))::INTEGER AS m
  FROM drawn d JOIN expand x ON x.n = d.n
),
enrolled_days AS (
  SELECT
    pl.p, pl.m, pe.instrument, pe.needs,
    greatest(wm.starts, pe.enrolled_from, pe.birth_date) AS lo,
    least(wm.ends, coalesce(pe.enrolled_through, window_end())) AS hi
  FROM placed pl JOIN person pe USING (p) JOIN window_month wm USING (m)
),
numbered AS (
  SELECT
    e.p,
    -- the screening's number: its month in the window (unique per person; no window function needed)
    e.m + 1 AS k,
    e.m,
    e.lo + floor(u2(e.p, e.m, 203) * (e.hi - e.lo + 1))::INTEGER AS screened_on,
    -- clinics mostly use their program's instrument; 1% of events leave it empty (default other)
    CASE WHEN u2(e.p, e.m, 204) < 0.01 THEN NULL
         WHEN u2(e.p, e.m, 205) < 0.9 THEN e.instrument
         ELSE ['ahc_hrsn', 'prapare', 'other'][1 + floor(u2(e.p, e.m, 206) * 3)::INTEGER] END AS instrument,
    -- 3.5% of screenings are declined as a whole (every domain 'declined')
    u2(e.p, e.m, 207) < 0.035 AS declined_all,
    e.needs
  FROM enrolled_days e
  WHERE e.lo <= e.hi
)
-- the event's texts, formatted once per screening rather than once per row
SELECT *, printf('S%07d-%03d', p, k) AS screening_id, pid(p) AS person_id, screened_on::VARCHAR AS screened_on_text
FROM numbered;

-- One row per domain asked: the instrument decides which domains are asked
-- (AHC and PRAPARE always ask the five core ones). A person's need shows as
-- positive 90% of the time once it has started; people without the need
-- screen positive 0.5% of the time (transient hardship). A view: cheaper to
-- compute twice (positive needs, the file) than to store 5+ million rows.
CREATE VIEW screening_row AS
SELECT
  e.p, e.k, e.m, e.screened_on, e.instrument, dm.d, e.screening_id, e.person_id, e.screened_on_text,
  CASE
    WHEN e.declined_all THEN 'declined'
    WHEN u3(e.p, e.m, dm.d, 211) < decline_share(dm.d) THEN 'declined'
    WHEN has_need(e.needs, dm.d) AND e.m >= need_onset(e.p, dm.d)
      THEN CASE WHEN u3(e.p, e.m, dm.d, 212) < 0.9 THEN 'positive' ELSE 'negative' END
    WHEN u3(e.p, e.m, dm.d, 213) < 0.005 THEN 'positive'
    ELSE 'negative'
  END AS result
FROM screen_event e, range(1, 13) dm(d)
WHERE u3(e.p, e.m, dm.d, 210) < ask_share(coalesce(e.instrument, 'other'), dm.d);

CREATE VIEW screenings_out AS
SELECT
  screening_id,
  person_id,
  screened_on_text AS screened_on,
  instrument,
  domain_name(d) AS domain,
  result,
  p::BIGINT AS s1, k::BIGINT AS s2, d::BIGINT AS s3
FROM screening_row;
