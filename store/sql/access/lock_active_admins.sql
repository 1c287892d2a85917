-- Locks the active admins' rows so two admins demoting each other at once
-- cannot both see the other one left.
SELECT name FROM users WHERE role = 'admin' AND NOT disabled ORDER BY id FOR UPDATE
