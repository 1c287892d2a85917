-- PostGIS and pgRouting are not trusted extensions: a superuser creates them
-- when the private cluster is set up; the owner's migrations then find them.
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS pgrouting
