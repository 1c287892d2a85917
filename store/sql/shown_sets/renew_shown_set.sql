-- The same list, still on screen at %(shown_at)s: a copy with the new time.
INSERT INTO shown_sets (incident_id, incident_version, shown_to, user_id, session_sha256,
                        shown_at, ranked, excluded, shortfall)
SELECT incident_id, incident_version, shown_to, user_id, session_sha256, %(shown_at)s, ranked,
       excluded, shortfall
FROM shown_sets WHERE id = %(id)s
RETURNING id
