-- screenings.sql: social-need screenings, one row per screening x domain asked.
--
-- screen_event: at most one screening per person-month, only on enrolled
-- days. The monthly chance rises linearly from 2% to 8% over the window
-- (programs scale screening up, as SDOH-1 adoption did); disengaged people
-- (32%) are screened a fifth as often, so some are never screened.
CREATE TABLE screen_event AS
WITH person_month AS (
  SELECT pe.p, wm.m, wm.starts, wm.ends, pe.enrolled_from, pe.enrolled_through, pe.birth_date, pe.instrument, pe.needs
  FROM person pe, window_month wm
  WHERE u2(pe.p, wm.m, 201) < (0.02 + 0.06 * wm.m / greatest({{months}} - 1, 1))
                              * CASE WHEN pe.engaged THEN 1 ELSE 0.2 END
),
enrolled_days AS (
  SELECT
    pm.*,
    greatest(pm.starts, pm.enrolled_from, pm.birth_date) AS lo,
    least(pm.ends, coalesce(pm.enrolled_through, window_end())) AS hi
  FROM person_month pm
)
SELECT
  e.p,
  row_number() OVER (PARTITION BY e.p ORDER BY e.m) AS k,
  pid(e.p) AS person_id,
  e.m,
  e.lo + floor(u2(e.p, e.m, 202) * (e.hi - e.lo + 1))::INTEGER AS screened_on,
  -- clinics mostly use their program's instrument; 1% of events leave it empty (default other)
  CASE WHEN u2(e.p, e.m, 203) < 0.01 THEN NULL
       WHEN u2(e.p, e.m, 204) < 0.9 THEN e.instrument
       ELSE ['ahc_hrsn', 'prapare', 'other'][1 + floor(u2(e.p, e.m, 205) * 3)::INTEGER] END AS instrument,
  -- 3.5% of screenings are declined as a whole (every domain 'declined')
  u2(e.p, e.m, 206) < 0.035 AS declined_all,
  e.needs
FROM enrolled_days e
WHERE e.lo <= e.hi;

-- One row per domain asked: the instrument decides which domains are asked
-- (AHC and PRAPARE always ask the five core ones). A person's need shows as
-- positive 90% of the time once it has started; people without the need
-- screen positive 0.5% of the time (transient hardship). A table, not a
-- view: referrals read it and the file is written from it.
CREATE TABLE screening_row AS
SELECT
  e.p, e.k, e.m, e.screened_on, e.instrument, dm.d,
  -- the event's texts, formatted once per screening rather than once per row
  e.screening_id, e.person_id, e.screened_on_text,
  CASE
    WHEN e.declined_all THEN 'declined'
    WHEN u3(e.p, e.m, dm.d, 211) < decline_share(dm.d) THEN 'declined'
    WHEN has_need(e.needs, dm.d) AND e.m >= need_onset(e.p, dm.d)
      THEN CASE WHEN u3(e.p, e.m, dm.d, 212) < 0.9 THEN 'positive' ELSE 'negative' END
    WHEN u3(e.p, e.m, dm.d, 213) < 0.005 THEN 'positive'
    ELSE 'negative'
  END AS result
FROM (SELECT *, printf('S%07d-%02d', p, k) AS screening_id, screened_on::VARCHAR AS screened_on_text FROM screen_event) e,
     range(1, 13) dm(d)
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
