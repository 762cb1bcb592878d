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
