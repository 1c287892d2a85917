-- {name} and {owner} are psycopg.sql.Identifier.
ALTER DATABASE {name} OWNER TO {owner}
