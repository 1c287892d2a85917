"""The data layer: every SQL statement the programs run.

Each statement is a file ``store/sql/<group>/<name>.sql`` run by exactly one
function ``<name>(conn, ...)`` of the module ``store/<group>.py``; nothing
outside this package holds SQL text or runs a statement by name
(``tests/unit/test_store_layout.py`` fails otherwise). The schema is
``store/schema/NNN_*.sql``, applied by :mod:`store.migrate`.
"""
