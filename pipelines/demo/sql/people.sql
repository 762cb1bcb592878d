-- people.sql: the member roster, one row per person, plus hidden traits the
-- later files draw on (true county, social needs, engagement, behavioural
-- health). Recorded attributes carry realistic gaps (unknown / empty);
-- hidden ones are always known, so a planted effect follows the person's
-- real circumstances, not what the roster happens to record.
CREATE MACRO need_bit(p, primary_need, d) AS
  CASE WHEN d = primary_need OR u2(p, d, 123) < need_share(d) THEN (1::BIGINT << d) ELSE 0::BIGINT END;

-- Needs are a bitmask: bit d set = the person has a need in domain d.
CREATE MACRO has_need(needs, d) AS (needs >> d) & 1 = 1;
-- When a need starts: 70% already at the window start, the rest in a month of the window.
CREATE MACRO need_onset(p, d) AS CASE WHEN u2(p, d, 125) < 0.7 THEN 0 ELSE floor(u2(p, d, 126) * {{months}})::INTEGER END;

-- Person numbers 1..N as a table first: range() is a single-threaded source,
-- a table scan is parallel.
CREATE TABLE person_number AS SELECT range::INTEGER AS p FROM range(1, {{people}} + 1);

CREATE TABLE person AS
WITH draw AS (
  -- the person's uniform draws, computed once (a macro argument is repeated in every branch of a CASE)
  SELECT
    p,
    u1(p, 101) AS u_county, u1(p, 102) AS u_band, u1(p, 103) AS u_age, u1(p, 104) AS u_sex,
    u1(p, 105) AS u_race_missing, u1(p, 106) AS u_race, u1(p, 108) AS u_language, u1(p, 109) AS u_payer
  FROM person_number
),
base AS (
  SELECT *, pick_county(u_county) AS ci, pick_age_band(u_band) AS band FROM draw
),
demo AS (
  SELECT
    b.*, county_fips(b.ci) AS fips, county_rural(b.ci) AS rural, county_program(b.ci) AS county_program,
    age_lo()[b.band] + floor(b.u_age * (age_hi()[b.band] - age_lo()[b.band] + 1))::INTEGER AS age,
    -- sex is drawn on its own and nothing anywhere depends on it: the planted NULL group
    pick_sex(b.u_sex) AS sex,
    CASE WHEN b.u_race_missing < 0.005 THEN NULL ELSE pick_race(b.ci, b.u_race) END AS race_ethnicity
  FROM base b
),
roster AS (
  SELECT
    d.p, d.ci, d.fips, d.rural, d.county_program, d.age, d.sex, d.race_ethnicity,
    (window_end() - to_years(d.age))::DATE - floor(u1(d.p, 107) * 365)::INTEGER AS birth_date,
    -- language depends on race/ethnicity (Spanish among Hispanic people, Vietnamese/Chinese among Asian people, ...)
    pick_language(d.race_ethnicity, d.u_language) AS preferred_language,
    -- payer depends on age: Medicaid for most children, Medicare/dual for most elders
    pick_payer(d.age, d.u_payer) AS payer,
    CASE WHEN u1(d.p, 110) < 0.012 THEN NULL ELSE county_zip(d.ci, u1(d.p, 111)) END AS zip,
    CASE WHEN u1(d.p, 112) < 0.01 THEN NULL ELSE d.fips END AS county_fips,
    u1(d.p, 113) AS u_rurality,
    -- attribution: mostly the program covering the county, some elsewhere, a few unattributed
    CASE WHEN u1(d.p, 114) < 0.02 THEN NULL
         WHEN u1(d.p, 115) < 0.08 THEN 'ACO-0' || (1 + floor(u1(d.p, 116) * program_count())::INTEGER)
         ELSE d.county_program END AS program_id,
    u1(d.p, 117) AS u_churn
  FROM demo d
),
enrolled AS (
  SELECT
    r.*,
    CASE WHEN r.county_fips IS NULL THEN (CASE WHEN r.u_rurality < 0.6 THEN 'unknown' END)
         WHEN r.u_rurality < 0.012 THEN 'unknown'
         WHEN r.u_rurality < 0.016 THEN NULL
         WHEN r.rural THEN 'rural' ELSE 'urban' END AS rurality,
    -- churn: 70% enrolled all window, 12% join midway, 11% leave midway, 7% both (Medicaid churn)
    CASE WHEN r.u_churn < 0.70 OR (r.u_churn >= 0.82 AND r.u_churn < 0.93)
           THEN window_start() - (30 + floor(u1(r.p, 118) * 1800)::INTEGER)
         WHEN r.u_churn < 0.82
           THEN window_start() + floor(u1(r.p, 118) * (window_end() - window_start() - 30))::INTEGER
         ELSE window_start() + floor(u1(r.p, 118) * (window_end() - window_start() - 120))::INTEGER
    END AS span_from
  FROM roster r
),
spans AS (
  SELECT
    e.*,
    greatest(e.span_from, e.birth_date) AS enrolled_from,
    CASE WHEN e.u_churn < 0.82 THEN NULL
         WHEN e.u_churn < 0.93
           THEN window_start() + 30 + floor(u1(e.p, 119) * (window_end() - window_start() - 60))::INTEGER
         ELSE least(window_end() - 1,
                    greatest(e.span_from, e.birth_date) + 60
                      + floor(u1(e.p, 119) * greatest(window_end() - greatest(e.span_from, e.birth_date) - 60, 0))::INTEGER)
    END AS through_raw
  FROM enrolled e
),
traits AS (
  SELECT
    s.p,
    pid(s.p) AS person_id,
    s.birth_date,
    s.age,
    s.sex,
    s.race_ethnicity,
    s.preferred_language,
    s.zip,
    s.county_fips,
    s.rurality,
    s.payer,
    s.program_id,
    s.enrolled_from,
    -- a span never ends before it starts (babies born late in the window stay enrolled)
    CASE WHEN s.through_raw >= s.enrolled_from THEN s.through_raw END AS enrolled_through,
    -- hidden traits
    s.ci,
    s.rural,
    coalesce(s.preferred_language NOT IN ('en', 'unknown'), FALSE) AS limited_english,
    coalesce(s.payer = 'uninsured', FALSE) AS uninsured,
    coalesce(s.race_ethnicity = 'black', FALSE) AS black,
    g.clinic,
    coalesce(g.instrument, 'ahc_hrsn') AS instrument,
    -- social need: by payer, a little more in rural counties and among groups
    -- with documented higher need (realism; not one of the planted disparities)
    u1(s.p, 120) < needy_base(s.payer)
        * CASE WHEN s.rural THEN 1.12 ELSE 1 END
        * CASE s.race_ethnicity WHEN 'black' THEN 1.1 WHEN 'hispanic_latino' THEN 1.1
                                WHEN 'american_indian_alaska_native' THEN 1.2 ELSE 1 END AS needy,
    pick_primary_need(s.u_primary) AS primary_need,
    u1(s.p, 122) < 0.68 AS engaged
  FROM (SELECT *, u1(p, 121) AS u_primary FROM spans) s
  LEFT JOIN ref_program g ON g.program_id = s.program_id
),
with_needs AS (
  SELECT
    t.*,
    -- needs as a bitmask (bit d = domain d): every needy person has a primary
    -- core need, plus each other domain with its own share
    CASE WHEN NOT t.needy THEN 0::BIGINT ELSE
        need_bit(t.p, t.primary_need, 1) + need_bit(t.p, t.primary_need, 2) + need_bit(t.p, t.primary_need, 3)
      + need_bit(t.p, t.primary_need, 4) + need_bit(t.p, t.primary_need, 5) + need_bit(t.p, t.primary_need, 6)
      + need_bit(t.p, t.primary_need, 7) + need_bit(t.p, t.primary_need, 8) + need_bit(t.p, t.primary_need, 9)
      + need_bit(t.p, t.primary_need, 10) + need_bit(t.p, t.primary_need, 11) + need_bit(t.p, t.primary_need, 12)
    END AS needs
  FROM traits t
)
SELECT
  w.*,
  -- behavioural-health patients (the PHQ-9 population): aged 12+, more often with a mental-health need
  w.age >= 12 AND u1(w.p, 124) < 0.05
    * CASE WHEN has_need(w.needs, 11) THEN 3 ELSE 1 END
    * CASE WHEN w.needy THEN 1.3 ELSE 1 END AS bh
FROM with_needs w;

-- Churn in coverage (Medicaid members leave and come back, and change plans): 9% of people
-- leave for 15-45 days (60%) or 46-180 days and come back, 40% of them with another payer;
-- 6% of the others change payer on a day of their span. Only Medicaid, commercial, Medicare
-- and dual coverage changes (Medicaid <-> commercial, Medicare <-> dual): uninsured people stay
-- uninsured, so the planted payer effects keep their groups. Events are still drawn over the
-- whole span (enrolled_from..enrolled_through): people see clinics while uncovered too, and the
-- metrics must not count those days as enrolled.
CREATE TABLE churn AS
WITH d AS (
  SELECT p, person_id, payer, program_id, enrolled_from, enrolled_through,
    coalesce(enrolled_through, window_end()) AS last_day, greatest(enrolled_from, window_start()) AS lo,
    u1(p, 130) AS u_gap, u1(p, 131) AS u_gap_len, u1(p, 132) AS u_gap_at, u1(p, 133) AS u_change, u1(p, 134) AS u_change_at
  FROM person
),
gapped AS (
  SELECT *,
    CASE WHEN u_gap < 0.09 THEN
      CASE WHEN u_gap_len < 0.6 THEN 15 + floor(u_gap_len / 0.6 * 31) ELSE 46 + floor((u_gap_len - 0.6) / 0.4 * 135) END
    END::INTEGER AS gap_len
  FROM d
),
placed AS (
  -- the gap starts at least 30 days into the span's part in the window and ends at least 30 days before its end
  SELECT *,
    CASE WHEN gap_len IS NOT NULL AND last_day - lo >= gap_len + 90
      THEN lo + 30 + floor(u_gap_at * (last_day - lo - gap_len - 60))::INTEGER END AS gap_from
  FROM gapped
)
SELECT
  p, person_id, payer, program_id, enrolled_from, enrolled_through,
  gap_from,
  gap_from + gap_len - 1 AS gap_to,
  CASE WHEN payer IN ('medicaid', 'commercial', 'medicare', 'dual') THEN
    CASE WHEN gap_from IS NOT NULL THEN CASE WHEN u_change < 0.4 THEN gap_from + gap_len END
         WHEN u_change < 0.06 AND last_day - lo >= 60 THEN lo + 30 + floor(u_change_at * (last_day - lo - 30))::INTEGER END
  END AS change_on,
  CASE payer WHEN 'medicaid' THEN 'commercial' WHEN 'commercial' THEN 'medicaid' WHEN 'medicare' THEN 'dual' WHEN 'dual' THEN 'medicare' END AS new_payer
FROM placed;

-- One row per coverage span: before a gap or a payer change (or the whole span), then after it.
CREATE TABLE coverage_span AS
SELECT p, person_id, 1 AS seg, enrolled_from AS coverage_from,
  CASE WHEN gap_from IS NOT NULL THEN gap_from - 1 WHEN change_on IS NOT NULL THEN change_on - 1 ELSE enrolled_through END AS coverage_through,
  payer, program_id
FROM churn
UNION ALL
SELECT p, person_id, 2, gap_to + 1, enrolled_through, CASE WHEN change_on IS NOT NULL THEN new_payer ELSE payer END, program_id
FROM churn WHERE gap_from IS NOT NULL
UNION ALL
SELECT p, person_id, 2, change_on, enrolled_through, new_payer, program_id
FROM churn WHERE gap_from IS NULL AND change_on IS NOT NULL;

-- The roster holds each person's current span: the last coverage span, with its payer.
CREATE VIEW people_out AS
SELECT
  pe.person_id,
  pe.birth_date::VARCHAR AS birth_date,
  pe.sex,
  pe.race_ethnicity,
  pe.preferred_language,
  pe.zip,
  pe.county_fips,
  pe.rurality,
  cs.payer,
  pe.program_id,
  cs.coverage_from::VARCHAR AS enrolled_from,
  cs.coverage_through::VARCHAR AS enrolled_through,
  pe.p::BIGINT AS s1, 0::BIGINT AS s2, 0::BIGINT AS s3
FROM person pe
JOIN (SELECT * FROM coverage_span QUALIFY row_number() OVER (PARTITION BY p ORDER BY seg DESC) = 1) cs USING (p);

CREATE VIEW coverage_out AS
SELECT
  person_id,
  coverage_from::VARCHAR AS coverage_from,
  coverage_through::VARCHAR AS coverage_through,
  payer,
  program_id,
  CASE payer WHEN 'medicaid' THEN 'NC-MEDICAID' WHEN 'commercial' THEN 'COMMERCIAL-PPO' WHEN 'medicare' THEN 'MEDICARE-FFS' WHEN 'dual' THEN 'DUAL-DSNP' END AS plan_id,
  p::BIGINT AS s1, seg::BIGINT AS s2, 0::BIGINT AS s3
FROM coverage_span;
