-- {name} and {owner} are psycopg.sql.Identifier.
CREATE DATABASE {name} OWNER {owner}
