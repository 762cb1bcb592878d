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

-- Where one row needs several low-precision draws, one hash is split into
-- bit fields instead of hashing again: bits_u(h, shift) is uniform in [0, 1)
-- with 21 bits of precision (shift 0, 21 or 42).
CREATE MACRO bits_u(h, shift) AS ((h >> shift) & 2097151)::DOUBLE / 2097152.0;

-- Approximately standard normal from one hash: Irwin-Hall sum of four
-- 16-bit uniforms, rescaled to unit variance.
CREATE MACRO normal_bits(h) AS
  ((h & 65535) + ((h >> 16) & 65535) + ((h >> 32) & 65535) + ((h >> 48) & 65535)) / 65536.0 * sqrt(3.0) - 2.0 * sqrt(3.0);

-- Whole days from an exponential waiting time with the given mean.
CREATE MACRO exp_days(mean, u) AS floor(-ln(1.0 - u) * mean)::INTEGER;

-- Poisson(lam) by inverse CDF; lam stays below ~2.5 here, so 10+ is
-- negligible and capped at 9. Bound k is P(X <= k) = e * sum_{j<=k} lam^j / j!
-- with e = exp(-lam), in Horner form. Pass columns, not expressions: a macro
-- argument is repeated in every WHEN, so u = u2(...) or e = exp(...) would be
-- recomputed up to ten times per row.
CREATE MACRO poisson_e(lam, e, u) AS CASE
  WHEN u < e THEN 0
  WHEN u < e * (1 + lam) THEN 1
  WHEN u < e * (1 + lam * (1 + lam / 2)) THEN 2
  WHEN u < e * (1 + lam * (1 + lam / 2 * (1 + lam / 3))) THEN 3
  WHEN u < e * (1 + lam * (1 + lam / 2 * (1 + lam / 3 * (1 + lam / 4)))) THEN 4
  WHEN u < e * (1 + lam * (1 + lam / 2 * (1 + lam / 3 * (1 + lam / 4 * (1 + lam / 5))))) THEN 5
  WHEN u < e * (1 + lam * (1 + lam / 2 * (1 + lam / 3 * (1 + lam / 4 * (1 + lam / 5 * (1 + lam / 6)))))) THEN 6
  WHEN u < e * (1 + lam * (1 + lam / 2 * (1 + lam / 3 * (1 + lam / 4 * (1 + lam / 5 * (1 + lam / 6 * (1 + lam / 7))))))) THEN 7
  WHEN u < e * (1 + lam * (1 + lam / 2 * (1 + lam / 3 * (1 + lam / 4 * (1 + lam / 5 * (1 + lam / 6 * (1 + lam / 7 * (1 + lam / 8)))))))) THEN 8
  ELSE 9 END;

-- Identifiers: a letter, the zero-padded person number, then a sequence
-- (printf is markedly faster than || with lpad on millions of rows).
CREATE MACRO pid(p) AS printf('P%07d', p);

-- The demo window: {{months}} months ending on {{end_date}}.
CREATE MACRO window_start() AS DATE '{{start_date}}';
CREATE MACRO window_end() AS DATE '{{end_date}}';
CREATE MACRO month_start(m) AS (DATE '{{start_date}}' + to_months(m::INTEGER))::DATE;
CREATE MACRO month_end(m) AS (DATE '{{start_date}}' + to_months(m::INTEGER + 1))::DATE - 1;

-- The months of the window, to join instead of computing dates per row.
CREATE TABLE window_month AS
SELECT m::INTEGER AS m, month_start(m) AS starts, month_end(m) AS ends, month_end(m) - month_start(m) + 1 AS days
FROM range({{months}}) r(m);

-- Row expansion by an equality join: (n, i) for i in 0..n-1. Joining a count
-- column n to this tiny table replaces unnest(range(n)), which is several
-- times slower on tens of millions of rows (and rows with n = 0 simply drop).
CREATE TABLE expand AS
SELECT n::INTEGER AS n, i::INTEGER AS i FROM range(1, 10) a(n), range(9) b(i) WHERE i < n;
