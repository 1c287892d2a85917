INSERT INTO shown_sets (incident_id, incident_version, shown_to, user_id, session_sha256,
                        shown_at, ranked, excluded, shortfall)
VALUES (%(incident_id)s, %(incident_version)s, %(shown_to)s, %(user_id)s, %(session)s,
        %(shown_at)s, %(ranked)s::jsonb, %(excluded)s::jsonb, %(shortfall)s)
RETURNING id
