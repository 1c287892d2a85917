-- {role} is a psycopg.sql.Identifier from store.roles.ROLES; {password} a
-- literal SCRAM verifier made client-side, so the clear text never reaches
-- the server's statement log.
ALTER ROLE {role} PASSWORD {password}
