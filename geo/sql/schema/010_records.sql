-- Records that can be trusted: the event log and the audit log become hash
-- chains. Each row carries chain_seq (its place in the chain, given under a
-- lock, so it follows commit order where bigserial ids may not) and
-- chain_hash = sha256(previous row's chain_hash || the row's content), both
-- set by a trigger no program can skip. log_chain_heads holds each chain's
-- last seq and hash; its row lock serialises appends. `dispatchmap audit
-- verify` recomputes every link. Programs only INSERT and SELECT (see
-- geo/sql/queries/grant_program_roles.sql); TRUNCATE is refused to all.

CREATE TABLE log_chain_heads (
    log   text PRIMARY KEY CHECK (log IN ('events', 'audit_log')),
    seq   bigint NOT NULL CHECK (seq >= 0),
    hash  bytea NOT NULL
);

ALTER TABLE events ADD COLUMN chain_seq bigint, ADD COLUMN chain_hash bytea;
ALTER TABLE audit_log ADD COLUMN chain_seq bigint, ADD COLUMN chain_hash bytea;

-- What a link hashes: the row's columns as record text. TimeZone and
-- DateStyle are pinned because timestamptz text follows the session's; a
-- geometry prints as hex EWKB (exact), jsonb in its canonical form. A column
-- added to the table later is not covered until a new content function is.
CREATE FUNCTION events_chain_content(e events) RETURNS bytea
LANGUAGE sql STABLE SET TimeZone = 'UTC' SET DateStyle = 'ISO, YMD'
SET extra_float_digits = 1 AS $$
    SELECT convert_to(row(e.chain_seq, e.id, e.at, e.kind, e.actor, e.incident_id,
                          e.unit_id, e.order_id, e.geom, e.data)::text, 'UTF8')
$$;

CREATE FUNCTION audit_log_chain_content(a audit_log) RETURNS bytea
LANGUAGE sql STABLE SET TimeZone = 'UTC' SET DateStyle = 'ISO, YMD'
SET extra_float_digits = 1 AS $$
    SELECT convert_to(row(a.chain_seq, a.id, a.at, a.actor, a.action, a.ok, a.ip,
                          a.detail)::text, 'UTF8')
$$;

-- The hash the first row chains to.
CREATE FUNCTION log_chain_genesis() RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT decode(repeat('00', 32), 'hex')
$$;

-- SECURITY DEFINER: the program roles have no right on log_chain_heads. The
-- head row stays locked until the inserting transaction ends, so concurrent
-- appends queue and each sees the previous one's hash.
CREATE FUNCTION events_chain() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
DECLARE
    last_seq bigint;
    prev bytea;
BEGIN
    SELECT seq, hash INTO last_seq, prev FROM log_chain_heads
    WHERE log = 'events' FOR UPDATE;
    NEW.chain_seq := last_seq + 1;
    NEW.chain_hash := sha256(prev || events_chain_content(NEW));
    UPDATE log_chain_heads SET seq = NEW.chain_seq, hash = NEW.chain_hash WHERE log = 'events';
    RETURN NEW;
END $$;

CREATE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
DECLARE
    last_seq bigint;
    prev bytea;
BEGIN
    SELECT seq, hash INTO last_seq, prev FROM log_chain_heads
    WHERE log = 'audit_log' FOR UPDATE;
    NEW.chain_seq := last_seq + 1;
    NEW.chain_hash := sha256(prev || audit_log_chain_content(NEW));
    UPDATE log_chain_heads SET seq = NEW.chain_seq, hash = NEW.chain_hash
    WHERE log = 'audit_log';
    RETURN NEW;
END $$;

-- Chain the rows already there, in id order (the append-only trigger is off
-- for this one update of the new columns).
ALTER TABLE events DISABLE TRIGGER events_append_only;
DO $$
DECLARE
    r events;
    prev bytea := log_chain_genesis();
    n bigint := 0;
BEGIN
    FOR r IN SELECT * FROM events ORDER BY id LOOP
        n := n + 1;
        r.chain_seq := n;
        prev := sha256(prev || events_chain_content(r));
        UPDATE events SET chain_seq = n, chain_hash = prev WHERE id = r.id;
    END LOOP;
    INSERT INTO log_chain_heads (log, seq, hash) VALUES ('events', n, prev);
END $$;
ALTER TABLE events ENABLE TRIGGER events_append_only;

ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only;
DO $$
DECLARE
    r audit_log;
    prev bytea := log_chain_genesis();
    n bigint := 0;
BEGIN
    FOR r IN SELECT * FROM audit_log ORDER BY id LOOP
        n := n + 1;
        r.chain_seq := n;
        prev := sha256(prev || audit_log_chain_content(r));
        UPDATE audit_log SET chain_seq = n, chain_hash = prev WHERE id = r.id;
    END LOOP;
    INSERT INTO log_chain_heads (log, seq, hash) VALUES ('audit_log', n, prev);
END $$;
ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only;

ALTER TABLE events ALTER COLUMN chain_seq SET NOT NULL, ALTER COLUMN chain_hash SET NOT NULL,
    ADD CONSTRAINT events_chain_seq_key UNIQUE (chain_seq);
ALTER TABLE audit_log ALTER COLUMN chain_seq SET NOT NULL,
    ALTER COLUMN chain_hash SET NOT NULL, ADD CONSTRAINT audit_log_chain_seq_key UNIQUE (chain_seq);

-- Named to fire after any other BEFORE INSERT trigger (they fire by name),
-- so what is hashed is what is stored.
CREATE TRIGGER zz_events_chain BEFORE INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION events_chain();
CREATE TRIGGER zz_audit_log_chain BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_chain();

-- TRUNCATE skips row triggers; refuse it for everybody, owner included.
CREATE FUNCTION log_truncate_refused() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: TRUNCATE refused', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION log_truncate_refused();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION log_truncate_refused();

-- The ingest role may not create tables; day partitions are made by this
-- function as its owner. A span cap keeps one call from creating thousands.
CREATE OR REPLACE FUNCTION ensure_position_partitions(from_day date, to_day date)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    day date := from_day;
    made integer := 0;
    part text;
BEGIN
    IF to_day - from_day > 400 THEN
        RAISE EXCEPTION 'ensure_position_partitions: % to % spans more than 400 days',
            from_day, to_day USING ERRCODE = 'invalid_parameter_value';
    END IF;
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
REVOKE EXECUTE ON FUNCTION ensure_position_partitions(date, date) FROM PUBLIC;
