-- Event study and difference-in-differences of ED visits and inpatient admissions around a
-- person's first referral (issue 22; design in models/evaluation/README.md). Person-level
-- work stays here, in the warehouse; what leaves is one row per outcome x relative month
-- (estimate and variance) and the covariance blocks the tests need, plus the event sums the
-- small-cell rule checks. {{as_of}} is the run's as-of date. Months are integers
-- (year * 12 + month - 1); relative month e of cohort g is calendar month g + e.

-- The data window in whole months: from the first whole month that has both encounters and
-- referrals to the last whole month on or before the as-of date.
CREATE OR REPLACE TEMP TABLE _ev_bounds AS
WITH starts AS (
  SELECT greatest((SELECT min(start_date) FROM stg_encounters), (SELECT min(referred_on) FROM stg_referrals)) AS d
)
SELECT
  year(d) * 12 + month(d) - 1 + CASE WHEN day(d) = 1 THEN 0 ELSE 1 END AS first_m,
  year({{as_of}}) * 12 + month({{as_of}}) - 1 - CASE WHEN {{as_of}} = last_day({{as_of}}) THEN 0 ELSE 1 END AS last_m
FROM starts;

-- Covered runs (_eval_runs, covered_runs.sql) as whole months fully covered.
CREATE OR REPLACE TEMP TABLE _ev_cov AS
SELECT person_id,
  year(run_from) * 12 + month(run_from) - 1 + CASE WHEN day(run_from) = 1 THEN 0 ELSE 1 END AS m_from,
  year(run_through) * 12 + month(run_through) - 1 - CASE WHEN run_through = last_day(run_through) THEN 0 ELSE 1 END AS m_to
FROM _eval_runs;

-- The first referral: its month, and its domain (the earliest referral; on a day with several,
-- the smallest referral_id), which decides the person's stack when referred.
CREATE OR REPLACE TEMP TABLE _ev_first AS
SELECT person_id, year(min(referred_on)) * 12 + month(min(referred_on)) - 1 AS ref_m,
  arg_min(need_domain, strftime(referred_on, '%Y%m%d') || referral_id) AS ref_domain
FROM stg_referrals WHERE referred_on <= {{as_of}} GROUP BY person_id;

-- Stacks: cohort g = the calendar month of a first referral, from the data's 7th whole
-- month (six whole months before it) to the 7th-last (months +1..+6 observed), and a
-- selection: domain '*' (any domain) or one need domain d. Referred: first referral in month
-- g (in stack (g, d): in domain d), with a positive screening (any domain) in month g or
-- before. Comparison: a positive screening in month g or before (in stack (g, d): in domain
-- d, the domain of the referred people's referrals) and not referred by the end of month g+1
-- (the month after is checked per relative month below); a person positive in several
-- domains is in the comparison of each. Everyone covered every day of months g-6..g+6
-- (months +7..+12 count while the person stays covered). first_pos = the month of the
-- person's first positive screening (any domain).
CREATE OR REPLACE TEMP TABLE _ev_stack AS
WITH cohorts AS (
  SELECT g, least(g + 12, b.last_m) AS hi FROM _ev_bounds b, LATERAL (SELECT unnest(range(b.first_m + 6, b.last_m - 5)) AS g)
),
pos AS (
  SELECT person_id, domain, min(year(screened_on) * 12 + month(screened_on) - 1) AS m
  FROM stg_screenings WHERE result = 'positive' AND screened_on <= {{as_of}} GROUP BY ALL
),
first_pos AS (
  SELECT person_id, min(m) AS m FROM pos GROUP BY ALL
),
treated AS (
  SELECT c.g, c.hi, f.ref_domain AS domain, f.person_id
  FROM cohorts c JOIN _ev_first f ON f.ref_m = c.g JOIN first_pos a ON a.person_id = f.person_id AND a.m <= c.g
),
comparison AS (
  SELECT c.g, c.hi, p.domain, p.person_id
  FROM cohorts c JOIN pos p ON p.m <= c.g LEFT JOIN _ev_first f ON f.person_id = p.person_id
  WHERE f.ref_m IS NULL OR f.ref_m > c.g + 1
),
cand AS (
  SELECT * FROM treated
  UNION ALL SELECT * FROM comparison
  UNION ALL SELECT g, hi, '*', person_id FROM treated
  UNION ALL SELECT DISTINCT g, hi, '*', person_id FROM comparison
)
SELECT c.g, c.domain, least(c.hi, v.m_to) AS hi, c.person_id, f.ref_m, coalesce(f.ref_m = c.g, false) AS treated, a.m AS first_pos
FROM cand c
LEFT JOIN _ev_first f USING (person_id)
JOIN first_pos a USING (person_id)
JOIN _ev_cov v ON v.person_id = c.person_id AND v.m_from <= c.g - 6 AND v.m_to >= c.g + 6;

-- Events per person and calendar month.
CREATE OR REPLACE TEMP TABLE _ev_y AS
SELECT e.person_id, year(e.start_date) * 12 + month(e.start_date) - 1 AS m,
  count(*) FILTER (WHERE e.encounter_type = 'ed') AS ed,
  count(*) FILTER (WHERE e.encounter_type = 'inpatient') AS inpatient
FROM stg_encounters e
WHERE e.start_date <= {{as_of}} AND e.person_id IN (SELECT person_id FROM _ev_stack)
GROUP BY ALL;

-- The panel: stack x person x relative month -6..+12 (while observed), one row per outcome.
-- base = the person's mean over months -6..-2 (month -1 is left out of the baseline:
-- referrals follow crises, so that month is where the spike before a referral falls).
CREATE OR REPLACE TEMP TABLE _ev_panel AS
WITH months AS (
  SELECT s.g, s.domain, s.person_id, s.treated, s.ref_m, r.e, coalesce(y.ed, 0) AS ed, coalesce(y.inpatient, 0) AS inpatient
  FROM _ev_stack s
  JOIN (SELECT unnest(range(-6, 13)) AS e) r ON s.g + r.e <= s.hi
  LEFT JOIN _ev_y y ON y.person_id = s.person_id AND y.m = s.g + r.e
),
long AS (
  SELECT g, domain, person_id, treated, ref_m, e, 'ed_visits' AS outcome, ed AS y FROM months
  UNION ALL
  SELECT g, domain, person_id, treated, ref_m, e, 'inpatient_admits', inpatient FROM months
)
SELECT *, y - avg(y) FILTER (WHERE e BETWEEN -6 AND -2) OVER (PARTITION BY outcome, g, domain, person_id) AS d
FROM long;

-- Per stack and person, fixed from the pre-period and the month of the referral: ED visits
-- and admissions in months -6..-2, age on the first day of month g, sex, payer on that day
-- (the latest-starting span covering it), county, rurality and the months from the first
-- positive screening to g. The weights use age band x Medicaid (README: why not the rest);
-- the balance reports them all.
CREATE OR REPLACE TEMP TABLE _ev_person AS
WITH pre AS (
  SELECT g, domain, person_id, sum(y) FILTER (WHERE outcome = 'ed_visits') AS pre_ed, sum(y) FILTER (WHERE outcome = 'inpatient_admits') AS pre_ip
  FROM _ev_panel WHERE e BETWEEN -6 AND -2 GROUP BY g, domain, person_id
),
payer AS (
  SELECT s.g, s.person_id, arg_max(c.payer, c.coverage_from) AS payer
  FROM (SELECT DISTINCT g, person_id FROM _ev_stack) s JOIN stg_coverage c ON c.person_id = s.person_id
    AND c.coverage_from <= make_date((s.g // 12)::INTEGER, (s.g % 12 + 1)::INTEGER, 1)
    AND coalesce(c.coverage_through, {{as_of}}) >= make_date((s.g // 12)::INTEGER, (s.g % 12 + 1)::INTEGER, 1)
  GROUP BY s.g, s.person_id
)
SELECT s.g, s.domain, s.person_id, s.treated, s.ref_m, pre.pre_ed, pre.pre_ip, s.g - s.first_pos AS screen_lag,
  date_diff('year', pe.birth_date, make_date((s.g // 12)::INTEGER, (s.g % 12 + 1)::INTEGER, 1))
    - CASE WHEN strftime(make_date((s.g // 12)::INTEGER, (s.g % 12 + 1)::INTEGER, 1), '%m%d') < strftime(pe.birth_date, '%m%d') THEN 1 ELSE 0 END AS age,
  coalesce(pe.sex = 'female', false) AS female,
  py.payer,
  coalesce(py.payer = 'medicaid', false) AS medicaid,
  pe.county_fips,
  coalesce(pe.rurality = 'rural', false) AS rural
FROM _ev_stack s
JOIN pre USING (g, domain, person_id)
LEFT JOIN stg_people pe ON pe.person_id = s.person_id
LEFT JOIN payer py ON py.g = s.g AND py.person_id = s.person_id;

CREATE OR REPLACE TEMP TABLE _ev_rows AS
SELECT p.outcome, p.g, p.domain, p.person_id, p.treated, p.e, p.y, p.d,
  CASE WHEN q.age IS NULL THEN 9 WHEN q.age < 18 THEN 0 WHEN q.age < 65 THEN 1 ELSE 2 END * 10 + q.medicaid::INTEGER AS stratum,
  -- a comparison person counts at month e only while not referred by the end of month e + 1
  -- (one month of anticipation: the crisis that leads to a referral starts before it)
  p.treated OR p.ref_m IS NULL OR p.ref_m > p.g + p.e + 1 AS usable
FROM _ev_panel p JOIN _ev_person q USING (g, domain, person_id);

-- Cells (outcome, e, g, domain, stratum) with at least two treated and two comparison people
-- (a mean of one has no spread to estimate its variance from). A selection (sel) is 'any'
-- (the stacks of domain '*') or one domain; a cell's weight is its share of the selection's
-- treated people in month e. base_t, base_c: the baseline events (months -6..-2) of the
-- cell's people, for the small-cell rule of month e's estimate.
CREATE OR REPLACE TEMP TABLE _ev_cells AS
WITH c AS (
  SELECT CASE WHEN domain = '*' THEN 'any' ELSE domain END AS sel, outcome, e, g, domain, stratum,
    count(*) FILTER (WHERE treated) AS n_t, avg(d) FILTER (WHERE treated) AS m_t,
    count(*) FILTER (WHERE NOT treated) AS n_c, avg(d) FILTER (WHERE NOT treated) AS m_c,
    sum(y) FILTER (WHERE treated) AS events_t, sum(y) FILTER (WHERE NOT treated) AS events_c,
    round(5 * sum(y - d) FILTER (WHERE treated)) AS base_t, round(5 * sum(y - d) FILTER (WHERE NOT treated)) AS base_c
  FROM _ev_rows WHERE usable GROUP BY ALL
)
SELECT *, sum(n_t) OVER (PARTITION BY sel, outcome, e) AS n_e FROM c WHERE n_t >= 2 AND n_c >= 2;

-- Each person's influence on ATT(e), summed over the stacks the person is in (a comparison
-- person can be in several): treated k_t (d - m_t) / N_e, comparison -k_c (n_t / n_c)(d - m_c) / N_e,
-- with k = sqrt(n / (n - 1)) so that a cell's share is the unbiased variance of its means.
-- ATT(e) is linear in these; its cluster-robust (by person) variance is the sum of squares.
CREATE OR REPLACE TEMP TABLE _ev_psi AS
SELECT c.sel, r.outcome, r.e, r.person_id,
  sum(CASE WHEN r.treated THEN sqrt(c.n_t / (c.n_t - 1.0)) * (r.d - c.m_t) / c.n_e
           ELSE -sqrt(c.n_c / (c.n_c - 1.0)) * (c.n_t::DOUBLE / c.n_c) * (r.d - c.m_c) / c.n_e END) AS psi
FROM _ev_rows r JOIN _ev_cells c USING (outcome, e, g, domain, stratum)
WHERE r.usable
GROUP BY ALL;
