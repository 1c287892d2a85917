-- Two ingest workers meeting a new day at once both tried to create its
-- partition; the loser's batch failed with "relation already exists". Take a
-- transaction-scoped advisory lock before looking.
CREATE OR REPLACE FUNCTION ensure_position_partitions(from_day date, to_day date)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    day date := from_day;
    made integer := 0;
    part text;
BEGIN
    PERFORM pg_advisory_xact_lock(4242002);
    WHILE day <= to_day LOOP
        part := format('positions_%s', to_char(day, 'YYYYMMDD'));
        IF to_regclass(part) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE %I PARTITION OF positions FOR VALUES FROM (%L) TO (%L)',
                part, day::timestamp AT TIME ZONE 'UTC', (day + 1)::timestamp AT TIME ZONE 'UTC');
            made := made + 1;
        END IF;
        day := day + 1;
    END LOOP;
    RETURN made;
END $$;
