-- random.sql: deterministic pseudo-randomness and the small helpers every
-- other file uses. No random()/setseed(): their streams depend on how
-- DuckDB splits work between threads. Every draw here is a pure function
-- of (seed, salt, keys), so the same options give byte-identical files.
--
-- DuckDB's multi-argument hash(a, b, c) combines its arguments almost
-- linearly (hash(s, 1, i) and hash(s, 2, i) correlate at -0.99), so we
-- chain single-value hashes instead, xor-ing in one key per step: each step
-- is a full 64-bit avalanche. Each call site uses its own salt (a 3-digit
-- number, grouped by file: 1xx people, 2xx screenings, 3xx-4xx referrals,
-- 5xx enrollments, 6xx PHQ-9, 7xx encounters).

CREATE MACRO salt_key(salt) AS hash(xor(hash({{seed}}::UBIGINT), salt::UBIGINT));
CREATE MACRO mix1(a, salt) AS hash(xor(a::UBIGINT, salt_key(salt)));
CREATE MACRO mix2(a, b, salt) AS hash(xor(mix1(a, salt), b::UBIGINT));
CREATE MACRO mix3(a, b, c, salt) AS hash(xor(mix2(a, b, salt), c::UBIGINT));

-- Uniform in [0, 1): the top 53 bits of the hash as a double.
CREATE MACRO u1(a, salt) AS (mix1(a, salt) >> 11)::DOUBLE / 9007199254740992.0;
CREATE MACRO u2(a, b, salt) AS (mix2(a, b, salt) >> 11)::DOUBLE / 9007199254740992.0;
CREATE MACRO u3(a, b, c, salt) AS (mix3(a, b, c, salt) >> 11)::DOUBLE / 9007199254740992.0;

-- Approximately standard normal: Irwin-Hall sum of four uniforms, rescaled.
CREATE MACRO normal4(a, b, salt) AS
  (u3(a, b, 1, salt) + u3(a, b, 2, salt) + u3(a, b, 3, salt) + u3(a, b, 4, salt) - 2.0) * sqrt(3.0);

-- 1-based index of the category u falls in; cum holds the cumulative upper
-- bounds of every category but the last (see cumulative() in referenceSql.ts).
CREATE MACRO pick_index(cum, u) AS 1 + len(list_filter(cum, c -> c <= u));

-- Whole days from an exponential waiting time with the given mean.
CREATE MACRO exp_days(mean, u) AS floor(-ln(1.0 - u) * mean)::INTEGER;

-- Poisson(lam) by inverse CDF; lam stays below ~1.5 here, so 7+ is negligible and capped at 7.
CREATE MACRO poisson(lam, u) AS CASE
  WHEN u < exp(-lam) THEN 0
  WHEN u < exp(-lam) * (1 + lam) THEN 1
  WHEN u < exp(-lam) * (1 + lam + lam * lam / 2) THEN 2
  WHEN u < exp(-lam) * (1 + lam + lam * lam / 2 + lam * lam * lam / 6) THEN 3
  WHEN u < exp(-lam) * (1 + lam + lam * lam / 2 + lam * lam * lam / 6 + lam * lam * lam * lam / 24) THEN 4
  WHEN u < exp(-lam) * (1 + lam + lam * lam / 2 + lam * lam * lam / 6 + lam * lam * lam * lam / 24 + lam * lam * lam * lam * lam / 120) THEN 5
  WHEN u < exp(-lam) * (1 + lam + lam * lam / 2 + lam * lam * lam / 6 + lam * lam * lam * lam / 24 + lam * lam * lam * lam * lam / 120 + lam * lam * lam * lam * lam * lam / 720) THEN 6
  ELSE 7 END;

-- Identifiers: a letter, the zero-padded person number, then a sequence.
CREATE MACRO pid(p) AS 'P' || lpad(p::VARCHAR, 7, '0');

-- The demo window: {{months}} months ending on {{end_date}}.
CREATE MACRO window_start() AS DATE '{{start_date}}';
CREATE MACRO window_end() AS DATE '{{end_date}}';
CREATE MACRO month_start(m) AS (DATE '{{start_date}}' + to_months(m::INTEGER))::DATE;
CREATE MACRO month_end(m) AS (DATE '{{start_date}}' + to_months(m::INTEGER + 1))::DATE - 1;
