-- DuckDB's meaning for the functions and the type name the model SQL uses that PostgreSQL
-- 15 lacks, created in the run's own schema (dropped with it; nothing is left in the
-- database). Plain SQL functions, IMMUTABLE, so the planner inlines them: they cost nothing
-- and leave expressions postgres_fdw may still push down to a shard. Not STRICT: a strict
-- function whose body is not strict is never inlined (NULL in gives NULL out all the same).
-- Each is checked against DuckDB on the same values (test/models/engines/compat.test.ts).

-- DuckDB's DOUBLE is PostgreSQL's double precision (float8).
CREATE DOMAIN double AS float8;

-- year/month/day of a date: BIGINT in DuckDB.
CREATE FUNCTION year(d date) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN extract(year FROM d)::bigint;
CREATE FUNCTION month(d date) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN extract(month FROM d)::bigint;
CREATE FUNCTION day(d date) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN extract(day FROM d)::bigint;

-- The last day of the month of a date.
CREATE FUNCTION last_day(d date) RETURNS date LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN (date_trunc('month', d::timestamp) + interval '1 month' - interval '1 day')::date;

-- The same of a timestamp (a date plus an interval is a timestamp in both engines).
CREATE FUNCTION year(t timestamp) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN extract(year FROM t)::bigint;
CREATE FUNCTION month(t timestamp) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN extract(month FROM t)::bigint;
CREATE FUNCTION day(t timestamp) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN extract(day FROM t)::bigint;
CREATE FUNCTION last_day(t timestamp) RETURNS date LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN (date_trunc('month', t) + interval '1 month' - interval '1 day')::date;

-- make_date of the BIGINTs year() gives (PostgreSQL's takes integers only).
CREATE FUNCTION make_date(y bigint, m bigint, d bigint) RETURNS date LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN make_date(y::integer, m::integer, d::integer);

-- any_value (PostgreSQL 16 has it, 15 not): some non-NULL value of the group.
CREATE FUNCTION closeloop_any_value(a anyelement, b anyelement) RETURNS anyelement LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS 'SELECT coalesce(a, b)';
CREATE AGGREGATE any_value(anyelement) (SFUNC = closeloop_any_value, STYPE = anyelement, COMBINEFUNC = closeloop_any_value, PARALLEL = SAFE);

-- date_diff(part, a, b): the number of part boundaries crossed from a to b (DuckDB: days
-- between the dates; months = 12 * years + months between their calendar months, whatever
-- the days). Another part is an error, never a silent NULL.
CREATE FUNCTION closeloop_unsupported(what text) RETURNS bigint LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RAISE EXCEPTION 'closeloop on PostgreSQL: % is not supported (models/engines/postgres/compat.sql)', what;
END $$;
CREATE FUNCTION date_diff(part text, a date, b date) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN CASE lower(part)
    WHEN 'day' THEN (b - a)::bigint
    WHEN 'month' THEN ((extract(year FROM b) - extract(year FROM a)) * 12 + extract(month FROM b) - extract(month FROM a))::bigint
    WHEN 'quarter' THEN ((extract(year FROM b) - extract(year FROM a)) * 4 + extract(quarter FROM b) - extract(quarter FROM a))::bigint
    WHEN 'year' THEN (extract(year FROM b) - extract(year FROM a))::bigint
    ELSE closeloop_unsupported('date_diff(''' || part || ''', ...)')
  END;
