SELECT id, incident_id, incident_version, shown_to, user_id, session_sha256, shown_at, ranked,
       excluded, shortfall
FROM shown_sets WHERE id = %s
