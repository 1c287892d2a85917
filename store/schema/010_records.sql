-- Records that can be trusted: the event log and the audit log become hash
-- chains. Each row carries chain_seq (its place in the chain, given under a
-- lock, so it follows commit order where bigserial ids may not) and
-- chain_hash = sha256(previous row's chain_hash || the row's content), both
-- set at commit by a trigger no program can skip. log_chain_heads holds each
-- chain's last seq and hash; its row lock serialises appends. `dispatchmap
-- audit verify` recomputes every link. Programs only INSERT and SELECT (see
-- geo/sql/queries/grant_program_roles.sql); TRUNCATE is refused to all.

CREATE TABLE log_chain_heads (
    log   text PRIMARY KEY CHECK (log IN ('events', 'audit_log')),
    seq   bigint NOT NULL CHECK (seq >= 0),
    hash  bytea NOT NULL
);

ALTER TABLE events ADD COLUMN chain_seq bigint, ADD COLUMN chain_hash bytea;
ALTER TABLE audit_log ADD COLUMN chain_seq bigint, ADD COLUMN chain_hash bytea;

-- What a link hashes: the row's columns as record text, the time as epoch
-- seconds (exact to the microsecond; timestamptz text would follow the
-- session's TimeZone and DateStyle). A geometry prints as hex EWKB (exact),
-- jsonb in its canonical form. A column added to the table later is not
-- covered until a new content function is.
CREATE FUNCTION events_chain_content(e events) RETURNS bytea
LANGUAGE sql STABLE AS $$
    SELECT convert_to(row(e.chain_seq, e.id, extract(epoch FROM e.at), e.kind, e.actor,
                          e.incident_id, e.unit_id, e.order_id, e.geom, e.data)::text, 'UTF8')
$$;

CREATE FUNCTION audit_log_chain_content(a audit_log) RETURNS bytea
LANGUAGE sql STABLE AS $$
    SELECT convert_to(row(a.chain_seq, a.id, extract(epoch FROM a.at), a.actor, a.action,
                          a.ok, a.ip, a.detail)::text, 'UTF8')
$$;

-- The hash the first row chains to.
CREATE FUNCTION log_chain_genesis() RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT decode(repeat('00', 32), 'hex')
$$;

-- The link is made at commit (a deferred constraint trigger, which no
-- program can skip, only fire earlier): the head row's lock is then the
-- transaction's last, held for the commit alone. Taken at INSERT time, it
-- would be held while the transaction goes on to lock units, orders or
-- incidents that another event writer holds while waiting for the head: a
-- deadlock. Both heads are locked, always in the same order: one
-- transaction appending to events then audit_log and another appending the
-- other way round would otherwise deadlock at commit. SECURITY DEFINER: the
-- program roles have no right on log_chain_heads nor UPDATE on the logs.
CREATE FUNCTION events_chain() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
DECLARE
    last_seq bigint;
    prev bytea;
    r events := NEW;
BEGIN
    PERFORM FROM log_chain_heads ORDER BY log FOR UPDATE;  -- both heads: see above
    SELECT seq, hash INTO last_seq, prev FROM log_chain_heads WHERE log = 'events';
    r.chain_seq := last_seq + 1;
    r.chain_hash := sha256(prev || events_chain_content(r));
    UPDATE events SET chain_seq = r.chain_seq, chain_hash = r.chain_hash WHERE id = r.id;
    UPDATE log_chain_heads SET seq = r.chain_seq, hash = r.chain_hash WHERE log = 'events';
    RETURN NULL;
END $$;

CREATE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
DECLARE
    last_seq bigint;
    prev bytea;
    r audit_log := NEW;
BEGIN
    PERFORM FROM log_chain_heads ORDER BY log FOR UPDATE;  -- both heads: see above
    SELECT seq, hash INTO last_seq, prev FROM log_chain_heads WHERE log = 'audit_log';
    r.chain_seq := last_seq + 1;
    r.chain_hash := sha256(prev || audit_log_chain_content(r));
    UPDATE audit_log SET chain_seq = r.chain_seq, chain_hash = r.chain_hash WHERE id = r.id;
    UPDATE log_chain_heads SET seq = r.chain_seq, hash = r.chain_hash WHERE log = 'audit_log';
    RETURN NULL;
END $$;

-- Append-only still, but for that one update: from inside a trigger, of a
-- row not chained yet, changing the chain columns only.
CREATE OR REPLACE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND pg_trigger_depth() > 1 AND OLD.chain_seq IS NULL
       AND to_jsonb(NEW) - 'chain_seq' - 'chain_hash'
           = to_jsonb(OLD) - 'chain_seq' - 'chain_hash' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
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

-- chain_seq stays nullable: a row has none until its transaction commits
-- (`audit verify` reports a committed row without one).
ALTER TABLE events ADD CONSTRAINT events_chain_seq_key UNIQUE (chain_seq);
ALTER TABLE audit_log ADD CONSTRAINT audit_log_chain_seq_key UNIQUE (chain_seq);

CREATE CONSTRAINT TRIGGER zz_events_chain AFTER INSERT ON events
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION events_chain();
CREATE CONSTRAINT TRIGGER zz_audit_log_chain AFTER INSERT ON audit_log
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_log_chain();

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
