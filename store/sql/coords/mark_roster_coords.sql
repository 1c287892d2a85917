-- The roster decides for the devices it ties to units; devices it does not
-- know keep what they have.
UPDATE devices SET coords = CASE WHEN id = ANY(%(gcj02)s) THEN 'gcj02' ELSE 'wgs84' END
WHERE unit_id IS NOT NULL
