-- The partitions of positions with their names, oldest first by name.
SELECT c.relname
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'positions'::regclass
ORDER BY c.relname
