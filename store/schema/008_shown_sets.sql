-- What the server showed: each suggestion set the desk (or the CLI) drew for
-- an incident is kept here, and a dispatch names the set and the unit. Rank,
-- ETA and the logged ``suggestions_shown`` come from this copy, never from
-- the browser. Incidents get a version, so a set drawn before the incident
-- changed can be told from a current one.

-- Bumped by the trigger below whenever what suggestions depend on changes:
-- the type (which unit kinds may go), the priority, the place, or the status
-- leaving the dispatchable states (cleared, closed). Going to 'dispatched' or
-- 'onscene' does not bump it: sending a second unit from the same list is
-- ordinary work, not a stale screen. A trigger, not the callers, so that no
-- writer (desk, 110 feed, a future edit form) can forget it.
ALTER TABLE incidents ADD COLUMN version integer NOT NULL DEFAULT 1;

CREATE FUNCTION incidents_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.type IS DISTINCT FROM OLD.type
       OR NEW.priority IS DISTINCT FROM OLD.priority
       OR NOT ST_Equals(NEW.geom, OLD.geom)
       OR (NEW.status IN ('cleared', 'closed') AND NEW.status IS DISTINCT FROM OLD.status)
    THEN
        NEW.version := OLD.version + 1;
    ELSE
        NEW.version := OLD.version;  -- only the trigger moves it
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER incidents_version BEFORE UPDATE ON incidents
    FOR EACH ROW EXECUTE FUNCTION incidents_version();

CREATE TABLE shown_sets (
    id                bigserial PRIMARY KEY,
    incident_id       bigint NOT NULL REFERENCES incidents (id),
    incident_version  integer NOT NULL,     -- incidents.version when it was drawn
    shown_to          text NOT NULL,        -- the actor: 'desk:<user>', 'cli', ...
    user_id           bigint REFERENCES users (id),  -- NULL off the web (the CLI)
    -- SHA-256 of the session token (as in ``sessions``); NULL off the web. No
    -- foreign key: a set outlives nothing it needs from the session row.
    session_sha256    text,
    shown_at          timestamptz NOT NULL,
    ranked            jsonb NOT NULL,       -- geo.dispatch.Suggestion fields, best first
    excluded          jsonb NOT NULL,       -- [{unit_id, reason}] of units that could have gone
    shortfall         text
);
CREATE INDEX shown_sets_incident_idx ON shown_sets (incident_id, shown_at);
CREATE INDEX shown_sets_shown_at_idx ON shown_sets (shown_at);
