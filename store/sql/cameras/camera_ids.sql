-- Every camera's id, in id order.
SELECT id FROM cameras ORDER BY id
