INSERT INTO incidents (external_id, type, priority, reported_at, created_at, created_by, source,
                       notes, geom)
VALUES (%(external_id)s, %(type)s, %(priority)s, %(reported_at)s, %(now)s, %(actor)s,
        %(source)s, %(notes)s, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326))
ON CONFLICT (external_id) DO NOTHING
RETURNING id
