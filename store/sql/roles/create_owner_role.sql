-- The owner of a private (demo) database: not a superuser; CREATEROLE so its
-- `db upgrade` can create the program roles. {owner} is a psycopg.sql.Identifier.
CREATE ROLE {owner} LOGIN NOSUPERUSER NOCREATEDB CREATEROLE
