-- The login roles the programs connect as (roles are cluster-wide: several
-- databases, migrated at once, may race to create them; the loser's
-- duplicate is not an error). No password here: `dispatchmap db upgrade`
-- sets one when the settings give it, else local trust auth applies.
DO $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['dm_ingest', 'dm_dispatcher', 'dm_dashboard'] LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = name) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE '
                               'NOREPLICATION', name);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;
            END;
        END IF;
    END LOOP;
END $$
