-- The ALTER ... OWNER statements that give the owner the tables, views and
-- functions of schema public it does not own yet (a demo database made before
-- it had an owner role), leaving extension members and the serial sequences
-- (they follow their table) alone. Names are quoted by format(), whose
-- placeholders are doubled for psycopg.
SELECT format('ALTER TABLE %%s OWNER TO %%I', c.oid::regclass, %(owner)s::text)
FROM pg_class c
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
  AND c.relowner <> to_regrole(%(owner)s::text)
  AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype = 'e')
UNION ALL
SELECT format('ALTER FUNCTION %%s OWNER TO %%I', p.oid::regprocedure, %(owner)s::text)
FROM pg_proc p
WHERE p.pronamespace = 'public'::regnamespace AND p.proowner <> to_regrole(%(owner)s::text)
  AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                  AND d.objid = p.oid AND d.deptype = 'e')
