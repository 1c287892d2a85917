-- Every user with the start of their newest session (a session is only
-- opened by a successful login).
SELECT u.id, u.name, u.role, u.created_at, NOT u.disabled AS active,
       (SELECT max(s.created_at) FROM sessions s WHERE s.user_id = u.id) AS last_login_at
FROM users u
ORDER BY u.name
