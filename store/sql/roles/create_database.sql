-- {name} is a psycopg.sql.Identifier.
CREATE DATABASE {name}
