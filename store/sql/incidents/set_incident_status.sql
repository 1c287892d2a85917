-- Moves an incident's status forward only (open < dispatched < onscene < cleared < closed).
UPDATE incidents SET status = %(status)s
WHERE id = %(id)s
  AND array_position(ARRAY['open','dispatched','onscene','cleared','closed'], status)
      < array_position(ARRAY['open','dispatched','onscene','cleared','closed'], %(status)s)
RETURNING id
