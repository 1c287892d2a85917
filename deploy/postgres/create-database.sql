-- The station's database, run once by psql as the postgres superuser
-- (deploy/README.md, step "database"); running it again changes nothing.
-- The owner is not a superuser: it owns the tables, runs `dispatchmap db
-- upgrade` (CREATEROLE: the upgrade creates the program roles dm_ingest,
-- dm_dispatcher, dm_dashboard) and the daily jobs. Its password is set by
-- /etc/dispatchmap/owner-password.sql, written by deploy/make_env.py.
\set ON_ERROR_STOP on
SELECT 'CREATE ROLE dispatchmap_owner LOGIN NOSUPERUSER NOCREATEDB CREATEROLE'
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dispatchmap_owner') \gexec
SELECT 'CREATE DATABASE dispatchmap OWNER dispatchmap_owner'
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'dispatchmap') \gexec
\connect dispatchmap
-- PostGIS and pgRouting are not trusted extensions: only a superuser creates them.
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS pgrouting;
