-- The partition name is composed with psycopg.sql.Identifier from a name read
-- from pg_inherits, never from user input.
DROP TABLE {partition}
